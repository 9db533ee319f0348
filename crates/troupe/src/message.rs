//! Messages: types with a stable name, optionally requests with a response type.

use crate::request::ResponseToken;

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

/// A request: the message and the token that answers it.
pub(crate) struct Requested<M: Message> {
    pub(crate) msg: M,
    pub(crate) token: ResponseToken<M::Response>,
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

impl<T> std::fmt::Debug for CloneProbe<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CloneProbe").finish_non_exhaustive()
    }
}
