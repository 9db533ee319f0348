//! Messages: types with a stable name, optionally requests with a response type.

use std::any::Any;

use crate::request::{RequestError, ResponseToken};

/// A message that actors can exchange.
///
/// Implement it with the [`message`](crate::message) attribute:
/// `#[message]` for a fire-and-forget message, `#[message(ret = T)]` for a
/// request whose response has type `T`. Any message can be sent as a request
/// (`ActorRef::send`); a plain message then answers `()` once handled.
///
/// ```
/// use troupe::prelude::*;
///
/// #[message]
/// struct Increment { delta: u32 }
///
/// #[message(ret = u32)]
/// struct GetValue;
///
/// assert_eq!(<GetValue as Message>::NAME, "troupe::GetValue");
/// ```
pub trait Message: Send + 'static {
    /// The stable name of the message: `crate::Type` unless set with
    /// `#[message(name = "...")]`. Used in logs, dead letters and, later,
    /// to decode messages that come from another node.
    const NAME: &'static str;
    /// The type a handler answers a request of this message with.
    type Response: Send + 'static;
}

/// A type-erased message, as carried by an [`Envelope`](crate::Envelope).
pub(crate) trait AnyMessage: Any + Send {
    /// The message's stable name.
    fn name(&self) -> &'static str;
    /// Whether it carries a response token.
    fn is_request(&self) -> bool;
    /// Resolves the request (if it is one) with `err`.
    fn fail(self: Box<Self>, err: RequestError);
}

impl<M: Message> AnyMessage for M {
    fn name(&self) -> &'static str {
        M::NAME
    }
    fn is_request(&self) -> bool {
        false
    }
    fn fail(self: Box<Self>, _err: RequestError) {}
}

/// A request: the message and the token that answers it.
pub(crate) struct Requested<M: Message> {
    pub(crate) msg: M,
    pub(crate) token: ResponseToken<M::Response>,
}

impl<M: Message> AnyMessage for Requested<M> {
    fn name(&self) -> &'static str {
        M::NAME
    }
    fn is_request(&self) -> bool {
        true
    }
    fn fail(self: Box<Self>, err: RequestError) {
        self.token.fail(err);
    }
}
