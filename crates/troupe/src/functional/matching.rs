//! What `msg!` expands to: matching envelopes (owned, or borrowed in
//! routers) against message types inferred from patterns.
//!
//! On an owned envelope, a plain pattern matches a regular message only and
//! `(Pattern, token)` a request: a request no arm takes with its token is
//! unhandled (the requester learns it with `RequestError::Unhandled`), never
//! silently dropped.

use crate::core::current::unhandled;
use crate::envelope::Envelope;
use crate::message::Message;
use crate::request::ResponseToken;

/// An envelope `msg!` can match: owned (takes the message out) or borrowed
/// (gives references, e.g. in routers).
#[doc(hidden)]
pub trait MatchEnvelope: Sized {
    /// What a regular arm binds.
    type Msg<M: Message>;
    /// What a request arm binds as its token.
    type Token<M: Message>;

    /// Whether a regular `M` is inside and `f` accepts it.
    fn peek<M: Message>(&self, f: impl FnOnce(&M) -> bool) -> bool;
    /// Takes the regular `M` out (after a successful peek).
    fn take<M: Message>(self, f: impl FnOnce(&M) -> bool) -> Self::Msg<M>;
    /// Whether a request `M` is inside and `f` accepts it.
    fn peek_request<M: Message>(&self, f: impl FnOnce(&M) -> bool) -> bool;
    /// Takes the request `M` and its token out (after a successful peek).
    fn take_request<M: Message>(self, f: impl FnOnce(&M) -> bool)
        -> (Self::Msg<M>, Self::Token<M>);
    /// The `_` arm: drops the envelope (a request among them resolves with
    /// `RequestError::Dropped`).
    fn ignore(self);
    /// No arm matched and there is no fallback: a dead letter, and
    /// `RequestError::Unhandled` for a request.
    fn unhandled(self);
}

impl MatchEnvelope for Envelope {
    type Msg<M: Message> = M;
    type Token<M: Message> = ResponseToken<M::Response>;

    fn peek<M: Message>(&self, f: impl FnOnce(&M) -> bool) -> bool {
        self.message::<M>().is_some_and(f)
    }

    fn take<M: Message>(self, _f: impl FnOnce(&M) -> bool) -> M {
        match self.downcast::<M>() {
            Ok(m) => m,
            Err(_) => unreachable!("msg!: peeked before taking"),
        }
    }

    fn peek_request<M: Message>(&self, f: impl FnOnce(&M) -> bool) -> bool {
        self.request_ref::<M>().is_some_and(|(m, _)| f(m))
    }

    fn take_request<M: Message>(
        self,
        _f: impl FnOnce(&M) -> bool,
    ) -> (M, ResponseToken<M::Response>) {
        match self.downcast_request::<M>() {
            Ok(r) => r,
            Err(_) => unreachable!("msg!: peeked before taking"),
        }
    }

    fn ignore(self) {}

    fn unhandled(self) {
        unhandled(self);
    }
}

/// Borrowed envelopes are matched by type in routers and route filters: a
/// plain pattern matches both a regular message and a request of its type
/// (so `GetValue => true` routes `GetValue` requests too).
impl<'a> MatchEnvelope for &'a Envelope {
    type Msg<M: Message> = &'a M;
    type Token<M: Message> = &'a ResponseToken<M::Response>;

    fn peek<M: Message>(&self, f: impl FnOnce(&M) -> bool) -> bool {
        any_kind::<M>(self).is_some_and(f)
    }

    fn take<M: Message>(self, _f: impl FnOnce(&M) -> bool) -> &'a M {
        match any_kind::<M>(self) {
            Some(m) => m,
            None => unreachable!("msg!: peeked before taking"),
        }
    }

    fn peek_request<M: Message>(&self, f: impl FnOnce(&M) -> bool) -> bool {
        self.request_ref::<M>().is_some_and(|(m, _)| f(m))
    }

    fn take_request<M: Message>(
        self,
        _f: impl FnOnce(&M) -> bool,
    ) -> (&'a M, &'a ResponseToken<M::Response>) {
        match self.request_ref::<M>() {
            Some(r) => r,
            None => unreachable!("msg!: peeked before taking"),
        }
    }

    fn ignore(self) {}

    fn unhandled(self) {}
}

fn any_kind<M: Message>(env: &Envelope) -> Option<&M> {
    env.message::<M>()
        .or_else(|| env.request_ref::<M>().map(|(m, _)| m))
}
