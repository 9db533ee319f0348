//! The `msg!` macro: `match` over the message types inside an envelope.
//!
//! Each arm's pattern names its type (a struct, tuple struct, unit struct or
//! enum variant pattern); the type is inferred from the pattern itself, so
//! that enum variants and destructuring work as in `match`. `(Pat, token)`
//! matches a request and binds its response token. `_` or a lowercase
//! binding is the fallback and receives the envelope. Arms take guards
//! (`Pat if cond =>`), `@` bindings (`m @ Msg { .. }`) and alternatives
//! (`A | B =>`).
//!
//! Each arm expands to an `if let` on a slot that holds the envelope
//! (`troupe::__private::Slot`): the type and shape are checked by
//! reference first; the message is then taken out and matched by value,
//! guard included, in a closure that returns the arm's bindings, or the
//! message, which goes back into its envelope for the next arms. The arm's
//! body runs in place (outside any closure), so `return`, `break`, `?` and
//! `.await` work in it as in `match`.

use proc_macro::TokenStream;
use proc_macro2::{Span, TokenStream as TokenStream2};
use quote::quote;
use syn::spanned::Spanned;
use syn::visit_mut::{self, VisitMut};
use syn::{parse_macro_input, Expr, ExprMatch, Ident, Pat};

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

/// One name a pattern binds, and whether the arm's body gets it `mut`.
struct Binding {
    ident: Ident,
    mutable: bool,
}

/// Collects the bindings of a pattern and strips their `mut` (the closure
/// that matches the pattern only hands them over; the body's `if let`
/// binds them `mut` again). `ref` bindings are refused: the message they
/// would borrow lives in that closure.
#[derive(Default)]
struct Bindings {
    found: Vec<Binding>,
    error: Option<syn::Error>,
}

impl VisitMut for Bindings {
    fn visit_pat_mut(&mut self, pat: &mut Pat) {
        let binds = is_binding(pat) || matches!(pat, Pat::Ident(id) if id.subpat.is_some());
        if let Pat::Ident(id) = pat {
            if binds {
                if let Some(r) = &id.by_ref {
                    self.error.get_or_insert_with(|| {
                        syn::Error::new(
                            r.span(),
                            "msg!: `ref` bindings are not supported: bind the value \
                             (a borrowed envelope binds references already)",
                        )
                    });
                }
                if !self.found.iter().any(|b| b.ident == id.ident) {
                    self.found.push(Binding {
                        ident: id.ident.clone(),
                        mutable: id.mutability.is_some(),
                    });
                }
                id.mutability = None;
            }
            if let Some((_, sub)) = &mut id.subpat {
                self.visit_pat_mut(sub);
            }
            return;
        }
        visit_mut::visit_pat_mut(self, pat);
    }
}

/// The pattern to match in the closure, and the names it binds.
fn bindings_of(pats: &[&Pat]) -> syn::Result<(Vec<Pat>, Vec<Binding>)> {
    let mut v = Bindings::default();
    let mut out = Vec::new();
    for pat in pats {
        let mut pat = (*pat).clone();
        v.visit_pat_mut(&mut pat);
        out.push(pat);
    }
    match v.error {
        Some(e) => Err(e),
        None => Ok((out, v.found)),
    }
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

/// `if <guard>` for the closure's arm, or nothing.
fn guard_tokens(guard: Option<&Expr>) -> TokenStream2 {
    match guard {
        Some(g) => quote!(if #g),
        None => TokenStream2::new(),
    }
}

/// How the arm's body gets the bindings: `let (a, mut b,) = ..;` (a
/// binding only the guard uses is not reported unused, as in `match`).
fn body_pattern(bindings: &[Binding]) -> TokenStream2 {
    let binds = bindings.iter().map(|b| {
        let ident = &b.ident;
        if b.mutable {
            quote!(mut #ident)
        } else {
            quote!(#ident)
        }
    });
    quote! {
        #[allow(unused_variables, unused_mut)]
        let (#(#binds,)*) = __troupe_b;
    }
}

fn regular_arm(
    p: &TokenStream2,
    pat: &Pat,
    guard: Option<&Expr>,
    body: &Expr,
) -> syn::Result<TokenStream2> {
    let probe = unbound(pat);
    let (pats, bindings) = bindings_of(&[pat])?;
    let closure_pat = &pats[0];
    let idents = bindings.iter().map(|b| &b.ident);
    let guard = guard_tokens(guard);
    let some = body_pattern(&bindings);
    let take = quote! {
        #p::TakeRegular::try_take(
            &mut __troupe_slot,
            |__troupe_m| ::core::matches!(__troupe_m, #probe),
            |__troupe_m| match __troupe_m {
                #closure_pat #guard => ::core::result::Result::Ok((#(#idents,)*)),
                #[allow(unreachable_patterns)]
                __troupe_m => ::core::result::Result::Err(__troupe_m),
            },
        )
    };
    Ok(quote! {
        if let ::core::option::Option::Some(__troupe_b) = #take { #some #body }
    })
}

fn request_arm(
    p: &TokenStream2,
    pat: &Pat,
    token: &Pat,
    guard: Option<&Expr>,
    body: &Expr,
) -> syn::Result<TokenStream2> {
    let probe = unbound(pat);
    let (pats, bindings) = bindings_of(&[pat, token])?;
    let (closure_pat, closure_token) = (&pats[0], &pats[1]);
    let idents = bindings.iter().map(|b| &b.ident);
    let guard = guard_tokens(guard);
    let some = body_pattern(&bindings);
    let take = quote!(#p::TakeRequest::try_take_request);
    Ok(quote! {
        if let ::core::option::Option::Some(__troupe_b) = #take(
            &mut __troupe_slot,
            |__troupe_m| ::core::matches!(__troupe_m, #probe),
            |__troupe_m, __troupe_t| match (__troupe_m, __troupe_t) {
                (#closure_pat, #closure_token) #guard => {
                    ::core::result::Result::Ok((#(#idents,)*))
                }
                #[allow(unreachable_patterns)]
                __troupe_r => ::core::result::Result::Err(__troupe_r),
            },
        ) { #some #body }
    })
}

/// A guarded fallback: the envelope, if the guard accepts it.
fn guarded_fallback(
    p: &TokenStream2,
    bind: Option<&Pat>,
    guard: &Expr,
    body: &Expr,
) -> syn::Result<TokenStream2> {
    Ok(match bind {
        Some(b) => {
            let (pats, _) = bindings_of(&[b])?;
            let closure_bind = &pats[0];
            quote! {
                if let ::core::option::Option::Some(__troupe_b) = #p::Slot::try_fallback(
                    &mut __troupe_slot,
                    |#closure_bind| #guard,
                ) {
                    #[allow(unused_variables, unused_mut)]
                    let #b = __troupe_b;
                    #body
                }
            }
        }
        None => quote! {
            if let ::core::option::Option::Some(__troupe_e) = #p::Slot::try_fallback(
                &mut __troupe_slot,
                |_| #guard,
            ) {
                ::core::mem::drop(__troupe_e);
                #body
            }
        },
    })
}

fn expand_match(m: ExprMatch) -> syn::Result<TokenStream2> {
    let scrutinee = &m.expr;
    let p = quote!(::troupe::__private);
    let mut branches = Vec::new();
    let mut fallback: Option<TokenStream2> = None;
    for arm in &m.arms {
        if fallback.is_some() {
            return Err(syn::Error::new(
                arm.pat.span(),
                "msg!: this arm is unreachable: it follows the fallback arm",
            ));
        }
        let guard = arm.guard.as_ref().map(|(_, g)| &**g);
        let body = &arm.body;
        for kind in classify(&arm.pat)? {
            match kind {
                ArmKind::Regular(pat) => branches.push(regular_arm(&p, &pat, guard, body)?),
                ArmKind::Request(pat, token) => {
                    branches.push(request_arm(&p, &pat, &token, guard, body)?)
                }
                ArmKind::Fallback(bind) => match guard {
                    Some(g) => branches.push(guarded_fallback(&p, bind.as_ref(), g, body)?),
                    None => {
                        fallback = Some(match bind {
                            Some(b) => quote!({
                                let #b = #p::Slot::into_envelope(__troupe_slot);
                                #body
                            }),
                            None => quote!({ #p::Slot::ignore(__troupe_slot); #body }),
                        });
                    }
                },
            }
        }
    }
    let fallback = fallback.unwrap_or_else(|| quote!({ #p::Slot::unhandled(__troupe_slot) }));
    let slot = Ident::new("__troupe_slot", Span::call_site());
    Ok(quote! {
        {
            #[allow(unused_mut)]
            let mut #slot = #p::MatchEnvelope::into_slot(#scrutinee);
            #( #branches else )* #fallback
        }
    })
}
