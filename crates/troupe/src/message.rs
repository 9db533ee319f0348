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

    /// A copy of the message if its type implements `Clone` (filled in by
    /// `#[message]`); used to multicast it to several actors.
    #[doc(hidden)]
    fn __try_clone(&self) -> Option<Self>
    where
        Self: Sized,
    {
        None
    }
}

/// A type-erased message, as carried by an [`Envelope`](crate::Envelope).
pub(crate) trait AnyMessage: Any + Send {
    /// The message's stable name.
    fn name(&self) -> &'static str;
    /// Whether it carries a response token.
    fn is_request(&self) -> bool;
    /// Resolves the request (if it is one) with `err`.
    fn fail(self: Box<Self>, err: RequestError);
    /// A copy, if the message can be cloned (requests cannot).
    fn try_clone(&self) -> Option<Box<dyn AnyMessage>>;
}

impl<M: Message> AnyMessage for M {
    fn name(&self) -> &'static str {
        M::NAME
    }
    fn is_request(&self) -> bool {
        false
    }
    fn fail(self: Box<Self>, _err: RequestError) {}
    fn try_clone(&self) -> Option<Box<dyn AnyMessage>> {
        self.__try_clone()
            .map(|m| Box::new(m) as Box<dyn AnyMessage>)
    }
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
    fn try_clone(&self) -> Option<Box<dyn AnyMessage>> {
        None
    }
}

/// Autoref specialisation used by `#[message]`: `(&&Probe(x)).__troupe_clone()`
/// clones when the type is `Clone` and answers `None` otherwise.
#[doc(hidden)]
pub struct CloneProbe<'a, T>(pub &'a T);

#[doc(hidden)]
pub trait ViaClone<T> {
    fn __troupe_clone(&self) -> Option<T>;
}

impl<T: Clone> ViaClone<T> for &CloneProbe<'_, T> {
    fn __troupe_clone(&self) -> Option<T> {
        Some(self.0.clone())
    }
}

#[doc(hidden)]
pub trait ViaNothing<T> {
    fn __troupe_clone(&self) -> Option<T>;
}

impl<T> ViaNothing<T> for CloneProbe<'_, T> {
    fn __troupe_clone(&self) -> Option<T> {
        None
    }
}
