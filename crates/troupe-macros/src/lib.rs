//! Procedural macros of troupe. Use them through the `troupe` crate
//! (`troupe::message`, `troupe::msg!`), not directly.

use proc_macro::TokenStream;
use quote::quote;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{parse_macro_input, DeriveInput, LitStr, Token, Type};

mod msg;

enum MessageArg {
    Ret(Box<Type>),
    Name(LitStr),
}

impl Parse for MessageArg {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let key: syn::Ident = input.parse()?;
        input.parse::<Token![=]>()?;
        match key.to_string().as_str() {
            "ret" => Ok(MessageArg::Ret(Box::new(input.parse()?))),
            "name" => Ok(MessageArg::Name(input.parse()?)),
            other => Err(syn::Error::new(
                key.span(),
                format!("unknown #[message] argument `{other}`: expected `ret = Type` or `name = \"...\"`"),
            )),
        }
    }
}

/// Implements `troupe::Message` for a struct or enum.
///
/// `#[message]`, `#[message(ret = T)]`, `#[message(name = "proto::Name")]`,
/// or both arguments separated by a comma.
#[proc_macro_attribute]
pub fn message(attr: TokenStream, item: TokenStream) -> TokenStream {
    let args = parse_macro_input!(attr with Punctuated::<MessageArg, Token![,]>::parse_terminated);
    let input = parse_macro_input!(item as DeriveInput);
    let mut ret: Option<Type> = None;
    let mut name: Option<LitStr> = None;
    for arg in args {
        match arg {
            MessageArg::Ret(t) => ret = Some(*t),
            MessageArg::Name(n) => name = Some(n),
        }
    }
    let ident = &input.ident;
    let ret = ret.map(|t| quote!(#t)).unwrap_or_else(|| quote!(()));
    let name = match name {
        Some(n) => quote!(#n),
        None => {
            let ident_str = ident.to_string();
            quote!(::core::concat!(::core::env!("CARGO_PKG_NAME"), "::", #ident_str))
        }
    };
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let mut where_clause = where_clause
        .cloned()
        .unwrap_or_else(|| syn::parse_quote!(where));
    where_clause
        .predicates
        .push(syn::parse_quote!(Self: ::core::marker::Send + 'static));
    quote! {
        #input
        impl #impl_generics ::troupe::Message for #ident #ty_generics #where_clause {
            const NAME: &'static str = #name;
            type Response = #ret;

            fn __try_clone(&self) -> ::core::option::Option<Self> {
                #[allow(unused_imports)]
                use ::troupe::__private::{ViaClone as _, ViaNothing as _};
                (&&::troupe::__private::CloneProbe(self)).__troupe_clone()
            }
        }
    }
    .into()
}

/// Matches an envelope against message types; see `troupe::msg!`.
#[proc_macro]
pub fn msg(input: TokenStream) -> TokenStream {
    msg::expand(input)
}
