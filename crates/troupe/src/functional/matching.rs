//! What `msg!` expands to: matching envelopes (owned, or borrowed in
//! routers) against message types inferred from patterns.
//!
//! On an owned envelope, a plain pattern matches a regular message only and
//! `(Pattern, token)` a request: a request no arm takes with its token is
//! unhandled (the requester learns it with `RequestError::Unhandled`), never
//! silently dropped.
//!
//! Each arm is tried in turn on a *slot* that holds the envelope. An arm
//! first checks the type and the shape of the message by reference; only
//! then is the message taken out and matched by value with the arm's
//! pattern and guard, as `match` does (a guard sees the bindings with their
//! own types). A guard that says no puts the message back into the same
//! envelope (sender, trace id, send time and token intact), and the next
//! arms see it as if nothing happened.

use crate::core::current::unhandled;
use crate::envelope::{Envelope, Hollow};
use crate::message::{Message, Requested};
use crate::request::ResponseToken;

/// An envelope `msg!` can match: owned (takes the message out) or borrowed
/// (gives references, e.g. in routers).
#[doc(hidden)]
pub trait MatchEnvelope: Sized {
    /// Where the envelope waits while the arms are tried.
    type Slot: Slot<Envelope = Self>;
    /// Puts the envelope in a slot.
    fn into_slot(self) -> Self::Slot;
}

/// The envelope of a `msg!` while its arms are tried.
#[doc(hidden)]
pub trait Slot: Sized {
    /// The matched envelope (owned or borrowed).
    type Envelope;
    /// The envelope, for the fallback arm.
    fn into_envelope(self) -> Self::Envelope;
    /// A guarded fallback (`other if .. =>`): the envelope if `guard`
    /// accepts it; else it stays for the next arms.
    fn try_fallback(
        &mut self,
        guard: impl FnOnce(&Self::Envelope) -> bool,
    ) -> Option<Self::Envelope>;
    /// The `_` arm: drops the envelope (a request among them resolves with
    /// `RequestError::Dropped`).
    fn ignore(self);
    /// No arm matched and there is no fallback: a dead letter, and
    /// `RequestError::Unhandled` for a request.
    fn unhandled(self);
}

/// Implemented by `()` alone: the response type of a message that an arm
/// without a token may match in an owned envelope.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "msg!: this arm matches a request (answered with `{Self}`) without its token",
    label = "a request type, matched without its token",
    note = "match a request with its response token: `(Request {{ .. }}, token) => ..`, and answer it with `ctx.respond(token, ..)`"
)]
pub trait NoResponse {}

impl NoResponse for () {}

/// A regular arm for messages of type `M`.
#[doc(hidden)]
pub trait TakeRegular<M: Message>: Slot {
    /// What the arm's pattern is matched against: `M`, or `&M` in a
    /// borrowed envelope.
    type Msg;
    /// `B` (the arm's bindings) if the envelope holds an `M` that `peek`
    /// accepts by reference and `take` by value; else the envelope stays,
    /// intact, for the next arms.
    fn try_take<B>(
        &mut self,
        peek: impl FnOnce(&M) -> bool,
        take: impl FnOnce(Self::Msg) -> Result<B, Self::Msg>,
    ) -> Option<B>;
}

/// A request arm for messages of type `M`.
#[doc(hidden)]
pub trait TakeRequest<M: Message>: Slot {
    /// What the arm's pattern is matched against: `M`, or `&M`.
    type Msg;
    /// What the arm's token pattern is matched against.
    type Token;
    /// [`TakeRegular::try_take`] for a request and its token.
    #[allow(clippy::type_complexity)]
    fn try_take_request<B>(
        &mut self,
        peek: impl FnOnce(&M) -> bool,
        take: impl FnOnce(Self::Msg, Self::Token) -> Result<B, (Self::Msg, Self::Token)>,
    ) -> Option<B>;
}

/// The slot of an owned envelope: empty only while an arm holds the
/// message.
#[doc(hidden)]
#[derive(Debug)]
pub struct Owned(Option<Envelope>);

impl MatchEnvelope for Envelope {
    type Slot = Owned;
    fn into_slot(self) -> Owned {
        Owned(Some(self))
    }
}

impl Slot for Owned {
    type Envelope = Envelope;

    fn into_envelope(self) -> Envelope {
        match self.0 {
            Some(env) => env,
            // Every arm puts the envelope back before the next one runs.
            None => unreachable!("msg!: the envelope was put back"),
        }
    }

    fn try_fallback(&mut self, guard: impl FnOnce(&Envelope) -> bool) -> Option<Envelope> {
        let env = self.0.take()?;
        if guard(&env) {
            Some(env)
        } else {
            self.0 = Some(env);
            None
        }
    }

    fn ignore(self) {}

    fn unhandled(self) {
        if let Some(env) = self.0 {
            unhandled(env);
        }
    }
}

impl Owned {
    /// Takes the `T` inside if `peek` accepts it, and gives it to `take`;
    /// puts it back if `take` turns it down.
    fn take_if<T, B>(
        &mut self,
        peek: impl FnOnce(&Envelope) -> bool,
        take: impl FnOnce(T) -> Result<B, T>,
    ) -> Option<B>
    where
        T: crate::payload::Erasable,
    {
        if !self.0.as_ref().is_some_and(peek) {
            return None;
        }
        let env = self.0.take()?;
        let (value, hollow): (T, Hollow) = match env.hollow::<T>() {
            Ok(parts) => parts,
            Err(env) => {
                self.0 = Some(env);
                return None;
            }
        };
        match take(value) {
            Ok(bindings) => Some(bindings),
            Err(value) => {
                self.0 = Some(hollow.refill(value));
                None
            }
        }
    }
}

impl<M: Message> TakeRegular<M> for Owned
where
    M::Response: NoResponse,
{
    type Msg = M;

    fn try_take<B>(
        &mut self,
        peek: impl FnOnce(&M) -> bool,
        take: impl FnOnce(M) -> Result<B, M>,
    ) -> Option<B> {
        self.take_if::<M, B>(|env| env.message::<M>().is_some_and(peek), take)
    }
}

impl<M: Message> TakeRequest<M> for Owned {
    type Msg = M;
    type Token = ResponseToken<M::Response>;

    fn try_take_request<B>(
        &mut self,
        peek: impl FnOnce(&M) -> bool,
        take: impl FnOnce(M, Self::Token) -> Result<B, (M, Self::Token)>,
    ) -> Option<B> {
        self.take_if::<Requested<M>, B>(
            |env| env.request_ref::<M>().is_some_and(|(m, _)| peek(m)),
            |Requested { msg, token }| {
                take(msg, token).map_err(|(msg, token)| Requested { msg, token })
            },
        )
    }
}

/// The slot of a borrowed envelope (routers and route filters): a plain
/// pattern matches both a regular message and a request of its type (so
/// `GetValue => true` routes `GetValue` requests too).
#[doc(hidden)]
#[derive(Debug)]
pub struct Borrowed<'a>(&'a Envelope);

impl<'a> MatchEnvelope for &'a Envelope {
    type Slot = Borrowed<'a>;
    fn into_slot(self) -> Borrowed<'a> {
        Borrowed(self)
    }
}

impl<'a> Slot for Borrowed<'a> {
    type Envelope = &'a Envelope;

    fn into_envelope(self) -> &'a Envelope {
        self.0
    }

    fn try_fallback(&mut self, guard: impl FnOnce(&&'a Envelope) -> bool) -> Option<&'a Envelope> {
        guard(&self.0).then_some(self.0)
    }

    fn ignore(self) {}

    fn unhandled(self) {}
}

impl<'a, M: Message> TakeRegular<M> for Borrowed<'a> {
    type Msg = &'a M;

    fn try_take<B>(
        &mut self,
        peek: impl FnOnce(&M) -> bool,
        take: impl FnOnce(&'a M) -> Result<B, &'a M>,
    ) -> Option<B> {
        let m = any_kind::<M>(self.0).filter(|m| peek(m))?;
        take(m).ok()
    }
}

impl<'a, M: Message> TakeRequest<M> for Borrowed<'a> {
    type Msg = &'a M;
    type Token = &'a ResponseToken<M::Response>;

    fn try_take_request<B>(
        &mut self,
        peek: impl FnOnce(&M) -> bool,
        take: impl FnOnce(&'a M, Self::Token) -> Result<B, (&'a M, Self::Token)>,
    ) -> Option<B> {
        let (m, token) = self.0.request_ref::<M>().filter(|(m, _)| peek(m))?;
        take(m, token).ok()
    }
}

fn any_kind<M: Message>(env: &Envelope) -> Option<&M> {
    env.message::<M>()
        .or_else(|| env.request_ref::<M>().map(|(m, _)| m))
}
