//! The `msg!` macro: `match` over the message types inside an envelope.
//!
//! Each arm's pattern names its type (a struct, tuple struct, unit struct or
//! enum variant pattern); the type is inferred from the pattern itself, so
//! that enum variants and destructuring work as in `match`. `(Pat, token)`
//! matches a request and binds its response token. `_` or a lowercase
//! binding is the fallback and receives the envelope.

use proc_macro::TokenStream;
use proc_macro2::TokenStream as TokenStream2;
use quote::quote;
use syn::spanned::Spanned;
use syn::visit_mut::{self, VisitMut};
use syn::{parse_macro_input, ExprMatch, Pat};

/// Replaces bindings by `_`, so that the peek closures bind nothing (and
/// warn about nothing).
struct Unbind;

impl VisitMut for Unbind {
    fn visit_field_pat_mut(&mut self, fp: &mut syn::FieldPat) {
        if fp.colon_token.is_none() {
            fp.colon_token = Some(Default::default());
        }
        visit_mut::visit_field_pat_mut(self, fp);
    }

    fn visit_pat_mut(&mut self, pat: &mut Pat) {
        if let Pat::Ident(id) = pat {
            if let Some((_, sub)) = id.subpat.take() {
                *pat = *sub;
                return self.visit_pat_mut(pat);
            }
            if is_binding(pat) {
                *pat = Pat::Wild(syn::PatWild {
                    attrs: Vec::new(),
                    underscore_token: Default::default(),
                });
                return;
            }
        }
        visit_mut::visit_pat_mut(self, pat);
    }
}

fn unbound(pat: &Pat) -> Pat {
    let mut pat = pat.clone();
    Unbind.visit_pat_mut(&mut pat);
    pat
}

enum ArmKind {
    Regular(Pat),
    Request(Pat, Pat),
    Fallback(Option<Pat>),
}

fn is_binding(pat: &Pat) -> bool {
    match pat {
        Pat::Wild(_) => true,
        Pat::Ident(id) => {
            id.subpat.is_none()
                && id
                    .ident
                    .to_string()
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_lowercase() || c == '_')
        }
        _ => false,
    }
}

fn classify(pat: &Pat) -> syn::Result<Vec<ArmKind>> {
    if is_binding(pat) {
        let bind = match pat {
            Pat::Wild(_) => None,
            other => Some(other.clone()),
        };
        return Ok(vec![ArmKind::Fallback(bind)]);
    }
    match pat {
        Pat::Tuple(t) if t.elems.len() == 2 => {
            let msg = t.elems[0].clone();
            let token = t.elems[1].clone();
            Ok(vec![ArmKind::Request(msg, token)])
        }
        Pat::Tuple(t) => Err(syn::Error::new(
            t.span(),
            "msg!: a request pattern is `(RequestType, token)`",
        )),
        Pat::Or(or) => {
            let mut out = Vec::new();
            for case in &or.cases {
                if is_binding(case) {
                    return Err(syn::Error::new(
                        case.span(),
                        "msg!: a fallback cannot be an alternative",
                    ));
                }
                out.extend(classify(case)?);
            }
            Ok(out)
        }
        other => Ok(vec![ArmKind::Regular(other.clone())]),
    }
}

pub(crate) fn expand(input: TokenStream) -> TokenStream {
    let m = parse_macro_input!(input as ExprMatch);
    match expand_match(m) {
        Ok(ts) => ts.into(),
        Err(e) => e.to_compile_error().into(),
    }
}

fn expand_match(m: ExprMatch) -> syn::Result<TokenStream2> {
    let scrutinee = &m.expr;
    let p = quote!(::troupe::__private);
    let mut branches = Vec::new();
    let mut fallback: Option<TokenStream2> = None;
    for arm in &m.arms {
        if let Some((_, guard)) = &arm.guard {
            return Err(syn::Error::new(
                guard.span(),
                "msg!: guards are not supported; match inside the arm instead",
            ));
        }
        if fallback.is_some() {
            return Err(syn::Error::new(
                arm.pat.span(),
                "msg!: this arm is unreachable: it follows the fallback arm",
            ));
        }
        let body = &arm.body;
        for kind in classify(&arm.pat)? {
            match kind {
                ArmKind::Regular(pat) => {
                    let probe = unbound(&pat);
                    branches.push(quote! {
                        if #p::MatchEnvelope::peek(&__troupe_env, |__m| ::core::matches!(__m, #probe)) {
                            match #p::MatchEnvelope::take(__troupe_env, |__m| ::core::matches!(__m, #probe)) {
                                #pat => { #body }
                                #[allow(unreachable_patterns)]
                                _ => ::core::unreachable!("msg!: the pattern matched when peeked"),
                            }
                        }
                    })
                }
                ArmKind::Request(pat, token) => {
                    let probe = unbound(&pat);
                    branches.push(quote! {
                        if #p::MatchEnvelope::peek_request(&__troupe_env, |__m| ::core::matches!(__m, #probe)) {
                            let (__troupe_msg, #token) = #p::MatchEnvelope::take_request(
                                __troupe_env,
                                |__m| ::core::matches!(__m, #probe),
                            );
                            match __troupe_msg {
                                #pat => { #body }
                                #[allow(unreachable_patterns)]
                                _ => ::core::unreachable!("msg!: the pattern matched when peeked"),
                            }
                        }
                    })
                }
                ArmKind::Fallback(bind) => {
                    fallback = Some(match bind {
                        Some(b) => quote!({ let #b = __troupe_env; #body }),
                        None => quote!({ #p::MatchEnvelope::ignore(__troupe_env); #body }),
                    });
                }
            }
        }
    }
    let fallback =
        fallback.unwrap_or_else(|| quote!({ #p::MatchEnvelope::unhandled(__troupe_env) }));
    Ok(quote! {
        {
            let __troupe_env = #scrutinee;
            #( #branches else )* #fallback
        }
    })
}
