//! The `msg!` macro (issue 4).
use proc_macro::TokenStream;

pub(crate) fn expand(input: TokenStream) -> TokenStream {
    let _ = input;
    quote::quote!(compile_error!("msg! is not implemented yet")).into()
}
