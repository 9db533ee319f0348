//! Typed recipients: a handle typed by the message it takes instead of the
//! actor behind it.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use super::current::current;
use super::delivery::{self, Deliver};
use super::instruments::Series;
use crate::addr::Addr;
use crate::catch::BoxFuture;
use crate::envelope::{Dispatcher, Envelope};
use crate::error::SendError;
use crate::exit::ExitReason;
use crate::message::Message;
use crate::request::RequestError;

/// Anything that takes envelopes, behind a pointer: the object-safe face
/// of [`Deliver`], for targets whose type a [`Recipient`] forgets.
pub(crate) trait Target: Send + Sync + 'static {
    fn deliver_boxed(&self, env: Envelope) -> BoxFuture<'_, Result<(), SendError<Envelope>>>;
    fn try_deliver(&self, env: Envelope) -> Result<(), SendError<Envelope>>;
    fn process(&self) -> Option<Addr>;
    /// The deadline of [`Recipient::send`].
    fn request_timeout(&self) -> Option<Duration>;
    /// Whether messages can still reach it.
    fn is_alive(&self) -> bool;
    /// For `Debug`: what it is.
    fn describe(&self) -> String;
    /// How the process it is ended, if it is one and has.
    fn exit_reason(&self) -> Option<ExitReason> {
        None
    }
    /// See [`Deliver::request_series`].
    fn request_series(&self, env: &Envelope) -> Option<Cow<'_, Series>> {
        let _ = env;
        None
    }
}

impl Deliver for dyn Target {
    // For a process, the future is boxed only when its mailbox is full:
    // the usual send goes through `try_deliver` first. (A group's router
    // is not tried twice: a multicast may have reached some routes.)
    async fn deliver(&self, env: Envelope) -> Result<(), SendError<Envelope>> {
        if Target::process(self).is_none() {
            return self.deliver_boxed(env).await;
        }
        match Target::try_deliver(self, env) {
            Err(SendError::Full(env)) => self.deliver_boxed(env).await,
            other => other,
        }
    }

    fn try_deliver(&self, env: Envelope) -> Result<(), SendError<Envelope>> {
        Target::try_deliver(self, env)
    }

    fn process(&self) -> Option<Addr> {
        Target::process(self)
    }

    fn exit_reason(&self) -> Option<ExitReason> {
        Target::exit_reason(self)
    }

    fn request_series(&self, env: &Envelope) -> Option<Cow<'_, Series>> {
        Target::request_series(self, env)
    }
}

/// A cloneable handle to anything that takes `M`: an actor whatever its
/// type, or a group. A component that needs "somewhere to send `M`" takes
/// a `Recipient<M>` and works with every actor that handles it (actix's
/// and kameo's `Recipient`, ractor's derived references).
///
/// Made with [`ActorRef::recipient`](crate::ActorRef::recipient) (or
/// `From`) for an actor `A: Handler<M>`, and with
/// [`GroupRef::recipient`](crate::GroupRef::recipient) for a group. It
/// sends on the same delivery path as the handle it came from: the same
/// backpressure, errors and request deadline (the actor's configured
/// request timeout; 5 s for a group).
///
/// ```
/// use troupe::prelude::*;
///
/// #[message]
/// struct Ping;
///
/// #[derive(Default)]
/// struct Left(u32);
/// impl Actor for Left {}
/// impl Handler<Ping> for Left {
///     async fn handle(&mut self, _: Ping, _: &mut ActorContext<Self>) -> HandlerResult {
///         self.0 += 1;
///         Ok(())
///     }
/// }
///
/// #[derive(Default)]
/// struct Right;
/// impl Actor for Right {}
/// impl Handler<Ping> for Right {
///     async fn handle(&mut self, _: Ping, _: &mut ActorContext<Self>) -> HandlerResult {
///         Ok(())
///     }
/// }
///
/// # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let left = Left::default().spawn().await?;
/// let right = Right.spawn().await?;
/// let all: Vec<Recipient<Ping>> = vec![left.recipient(), right.into()];
/// for r in &all {
///     r.notify(Ping).await?;
/// }
/// # Ok(()) }
/// ```
pub struct Recipient<M> {
    target: Arc<dyn Target>,
    dispatcher: Option<Dispatcher>,
    _message: PhantomData<fn(M)>,
}

impl<M: Message> Recipient<M> {
    /// A recipient over `target`; `dispatcher` is the handler a typed
    /// sender picks (`None`: the receiver looks it up).
    pub(crate) fn new(target: Arc<dyn Target>, dispatcher: Option<Dispatcher>) -> Self {
        Self {
            target,
            dispatcher,
            _message: PhantomData,
        }
    }

    fn envelope(&self, msg: M) -> Envelope {
        let (sender, trace) = current();
        let mut env = Envelope::new(msg, sender, trace);
        env.0.dispatcher = self.dispatcher;
        env
    }

    /// Sends a fire-and-forget message, waiting for mailbox space where the
    /// target's policy says so. Errors as the target's own handle.
    pub async fn notify(&self, msg: M) -> Result<(), SendError<M>> {
        let env = self.envelope(msg);
        Deliver::deliver(&*self.target, env)
            .await
            .map_err(|e| e.map(Envelope::into_sent))
    }

    /// Sends without waiting: [`SendError::Full`] if the mailbox is full.
    pub fn try_notify(&self, msg: M) -> Result<(), SendError<M>> {
        Target::try_deliver(&*self.target, self.envelope(msg))
            .map_err(|e| e.map(Envelope::into_sent))
    }

    /// Sends a request and waits for its response, within the target's
    /// request timeout.
    pub async fn send(&self, msg: M) -> Result<M::Response, RequestError> {
        let timeout = self.target.request_timeout();
        delivery::request(&*self.target, msg, self.dispatcher, timeout).await
    }

    /// Sends a request with an explicit deadline (`None`: wait forever).
    pub async fn send_timeout(
        &self,
        msg: M,
        timeout: Option<Duration>,
    ) -> Result<M::Response, RequestError> {
        delivery::request(&*self.target, msg, self.dispatcher, timeout).await
    }

    /// The address of the process behind it; `None` for a group.
    pub fn addr(&self) -> Option<Addr> {
        self.target.process()
    }

    /// Whether messages can still reach it (an actor that has not exited,
    /// a group still mounted).
    pub fn is_alive(&self) -> bool {
        self.target.is_alive()
    }
}

impl<M> Clone for Recipient<M> {
    fn clone(&self) -> Self {
        Self {
            target: self.target.clone(),
            dispatcher: self.dispatcher,
            _message: PhantomData,
        }
    }
}

impl<M> fmt::Debug for Recipient<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Recipient")
            .field("message", &std::any::type_name::<M>())
            .field("target", &self.target.describe())
            .finish()
    }
}

impl Target for super::process::Shared {
    fn deliver_boxed(&self, env: Envelope) -> BoxFuture<'_, Result<(), SendError<Envelope>>> {
        Box::pin(self.deliver(env))
    }

    fn try_deliver(&self, env: Envelope) -> Result<(), SendError<Envelope>> {
        super::process::Shared::try_deliver(self, env)
    }

    fn exit_reason(&self) -> Option<ExitReason> {
        super::process::Shared::exit_reason(self)
    }

    fn process(&self) -> Option<Addr> {
        Some(self.addr)
    }

    fn request_timeout(&self) -> Option<Duration> {
        super::process::Shared::request_timeout(self)
    }

    fn is_alive(&self) -> bool {
        super::process::Shared::is_alive(self)
    }

    fn describe(&self) -> String {
        format!("{} {}", self.meta, self.addr)
    }

    fn request_series(&self, env: &Envelope) -> Option<Cow<'_, Series>> {
        Deliver::request_series(self, env)
    }
}
