//! Struct actors: the [`Actor`] trait with its lifecycle hooks, and one
//! [`Handler`] impl per message type.

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;

use crate::context::ActorContext;
use crate::envelope::Dispatcher;
use crate::error::{BoxError, HandlerResult};
use crate::future_slot::{FutureSlot, Placed};
use crate::message::{Message, Requested};
use crate::payload::Payload;
use crate::process::{ExitReason, StopReason};
use crate::request::RequestError;

/// A struct actor: private state plus lifecycle hooks.
///
/// Every hook has a default. Messages are handled by one [`Handler`] impl
/// per message type.
///
/// Failure semantics (the seed's asymmetry, which Erlang's `gen_server`
/// shares): a fire-and-forget message whose handler returns an error or
/// panics goes to [`Actor::handle_failure`] and the actor goes on; a request
/// whose handler fails answers the requester with
/// [`RequestError::Failed`] and stops the actor with
/// [`ExitReason::Failed`] (its supervisor, if any, decides what next).
///
/// ```
/// use troupe::prelude::*;
///
/// #[message]
/// struct Increment(u64);
/// #[message(ret = u64)]
/// struct Get;
///
/// #[derive(Default)]
/// struct Counter { value: u64 }
///
/// impl Actor for Counter {}
///
/// impl Handler<Increment> for Counter {
///     async fn handle(&mut self, msg: Increment, _ctx: &mut ActorContext<Self>) -> HandlerResult {
///         self.value += msg.0;
///         Ok(())
///     }
/// }
///
/// impl Handler<Get> for Counter {
///     async fn handle(&mut self, _: Get, _ctx: &mut ActorContext<Self>) -> HandlerResult<u64> {
///         Ok(self.value)
///     }
/// }
///
/// # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let counter = Counter::default().spawn().await?;
/// counter.notify(Increment(2)).await?;
/// assert_eq!(counter.send(Get).await?, 2);
/// # Ok(()) }
/// ```
pub trait Actor: Send + Sized + 'static {
    /// Runs before the first message. An error (or panic) aborts the start:
    /// the spawner gets `SpawnError::StartFailed` and the actor exits with
    /// [`ExitReason::StartFailed`].
    fn pre_start(
        &mut self,
        ctx: &mut ActorContext<Self>,
    ) -> impl Future<Output = HandlerResult> + Send {
        let _ = ctx;
        async { Ok(()) }
    }

    /// Runs when a stop is requested. Return `false` to veto a graceful
    /// ([`StopReason::Graceful`]) stop; the veto is ignored for other tiers
    /// (the hook is then not called at all).
    fn pre_stop(
        &mut self,
        ctx: &mut ActorContext<Self>,
        reason: StopReason,
    ) -> impl Future<Output = bool> + Send {
        let _ = (ctx, reason);
        async { true }
    }

    /// Runs once after the actor stopped handling messages, whatever the
    /// reason, except a kill (tier 3), which bypasses every hook.
    fn on_stopped(
        &mut self,
        ctx: &mut ActorContext<Self>,
        reason: &ExitReason,
    ) -> impl Future<Output = ()> + Send {
        let _ = (ctx, reason);
        async {}
    }

    /// Runs when the handler of a fire-and-forget message returned an error
    /// or panicked. The actor then goes on with the next message. The default
    /// logs the failure at warn level.
    fn handle_failure(
        &mut self,
        ctx: &mut ActorContext<Self>,
        failure: Failure,
    ) -> impl Future<Output = ()> + Send {
        tracing::warn!(addr = %ctx.addr(), %failure, "message handler failed");
        async {}
    }
}

/// Handles one message type. An actor has one impl per message it accepts.
///
/// The response type is the message's [`Message::Response`] (`()` for a
/// plain `#[message]`).
pub trait Handler<M: Message>: Actor {
    /// Handles one message.
    fn handle(
        &mut self,
        msg: M,
        ctx: &mut ActorContext<Self>,
    ) -> impl Future<Output = HandlerResult<M::Response>> + Send;
}

/// What went wrong in a handler.
#[derive(Debug)]
pub enum FailureCause {
    /// The handler returned this error.
    Error(BoxError),
    /// The handler panicked with this message.
    Panic(String),
}

impl fmt::Display for FailureCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FailureCause::Error(e) => write!(f, "error: {e}"),
            FailureCause::Panic(p) => write!(f, "panic: {p}"),
        }
    }
}

/// A failed fire-and-forget message, as given to [`Actor::handle_failure`].
#[derive(Debug)]
pub struct Failure {
    /// The stable name of the message whose handler failed.
    pub message: &'static str,
    /// The error or panic.
    pub cause: FailureCause,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.message, self.cause)
    }
}

/// The result of dispatching one message.
pub(crate) enum Outcome {
    Done,
    NotifyFailed(BoxError),
    RequestFailed(String),
}

pub(crate) type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Runs the `Handler<M>` of `A` on an erased message.
pub(crate) type HandlerFn<A> = for<'a> fn(
    &'a mut A,
    &'a mut ActorContext<A>,
    Payload,
    &'a mut FutureSlot,
) -> Placed<'a, Outcome>;

struct Dispatch<A, M>(PhantomData<(A, M)>);

impl<A: Handler<M>, M: Message> Dispatch<A, M> {
    const FN: HandlerFn<A> = dispatch::<A, M>;
    const REF: &'static HandlerFn<A> = &Self::FN;
    const DYN: &'static (dyn Any + Send + Sync) = Self::REF;
    const THIN: Dispatcher = &Self::DYN;
}

/// The dispatcher an envelope for `A`'s `Handler<M>` carries: a `'static`
/// reference to a function pointer, checked by type when the actor runs it.
pub(crate) fn dispatcher<A: Handler<M>, M: Message>() -> Dispatcher {
    Dispatch::<A, M>::THIN
}

fn dispatch<'a, A: Handler<M>, M: Message>(
    actor: &'a mut A,
    ctx: &'a mut ActorContext<A>,
    payload: Payload,
    slot: &'a mut FutureSlot,
) -> Placed<'a, Outcome> {
    match payload.downcast::<M>() {
        Ok(msg) => slot.place(async move {
            match actor.handle(msg, ctx).await {
                Ok(_) => Outcome::Done,
                Err(e) => Outcome::NotifyFailed(e),
            }
        }),
        Err(payload) => match payload.downcast::<Requested<M>>() {
            Ok(Requested { msg, token }) => slot.place(async move {
                match actor.handle(msg, ctx).await {
                    Ok(response) => {
                        token.respond(response);
                        Outcome::Done
                    }
                    Err(e) => {
                        let e = e.to_string();
                        token.fail(RequestError::Failed(e.clone()));
                        Outcome::RequestFailed(e)
                    }
                }
            }),
            // Only envelopes built for `Handler<M>` carry this dispatcher.
            Err(_) => slot.place(async { Outcome::RequestFailed("mismatched dispatcher".into()) }),
        },
    }
}
