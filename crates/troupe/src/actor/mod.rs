//! Struct actors: the [`Actor`] trait with its lifecycle hooks, and one
//! [`Handler`] impl per message type.

mod actor_ref;
mod children;
mod context;
mod dispatch;
mod run;
mod spawn;

use std::fmt;
use std::future::Future;

pub use actor_ref::ActorRef;
pub use children::ChildSpawnBuilder;
pub use context::ActorContext;
pub use dispatch::Handlers;
pub use spawn::{Spawn, SpawnBuilder};

pub(crate) use children::ActorStart;
pub(crate) use dispatch::dispatcher;
pub(crate) use run::{prepare_keyed, spawn_keyed, start_in};

use crate::core::link::Exit;
use crate::core::monitor::Down;
use crate::core::restart::ChildExited;
use crate::error::{BoxError, HandlerResult};
use crate::exit::{ExitReason, StopReason};
use crate::message::Message;

/// A struct actor: private state plus lifecycle hooks.
///
/// Every hook has a default. Messages are handled by one [`Handler`] impl
/// per message type.
///
/// Failure semantics, an asymmetry taken from Tokio Actors: a
/// fire-and-forget message whose handler returns an error or panics goes to
/// [`Actor::handle_failure`] and the actor goes on; a request whose handler
/// fails answers the requester with [`RequestError::Failed`](crate::RequestError::Failed) and stops the
/// actor with [`ExitReason::Failed`] (its supervisor, if any, decides what
/// next). Erlang's `gen_server` does not share the first half: a crash in
/// `handle_cast` ends the process just as one in `handle_call` does. A
/// handler that wants OTP's behaviour stops the actor itself
/// ([`ContextCore::stop_with`](crate::ContextCore::stop_with)).
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
    /// [`ExitReason::StartFailed`]. A kill meanwhile drops it at its current
    /// await point; a graceful stop or a shutdown waits for it (see
    /// [`SpawnBuilder`]).
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
    /// reason, except a kill (tier 3), which bypasses every hook. A panic
    /// here is a crash in OTP's `terminate`: the exit reason becomes
    /// [`ExitReason::Failed`] (`on_stopped panicked: ..`), which the
    /// supervisor, monitors and link partners see.
    fn on_stopped(
        &mut self,
        ctx: &mut ActorContext<Self>,
        reason: &ExitReason,
    ) -> impl Future<Output = ()> + Send {
        let _ = (ctx, reason);
        async {}
    }

    /// Runs in a supervisor actor when one of its children exited by itself
    /// (it ended, failed or was killed without the supervisor asking; not
    /// when the supervisor stopped it: `stop_child`, a sibling's group
    /// restart, its own shutdown). It runs in the supervisor's own loop,
    /// between two messages, once the supervisor has acted on the exit:
    /// [`ChildExited::decision`] says what it did, and
    /// [`ctx.children()`](ActorContext::children) already shows it (a
    /// restarted child runs again). With
    /// [`RestartDecision::GaveUp`](crate::supervision::RestartDecision::GaveUp)
    /// the children are stopped and the supervisor exits right after the
    /// hook. A panic in the hook is logged at error level and the supervisor
    /// goes on (the child's exit was already handled); the default does
    /// nothing.
    ///
    /// [`ChildExited::decision`]: crate::supervision::ChildExited::decision
    ///
    /// ```
    /// use troupe::prelude::*;
    /// use troupe::supervision::{ChildExited, RestartDecision};
    ///
    /// struct Worker;
    /// impl Actor for Worker {}
    ///
    /// struct Sup;
    /// impl Actor for Sup {
    ///     async fn on_child_stopped(&mut self, ctx: &mut ActorContext<Self>, child: ChildExited) {
    ///         if child.decision == RestartDecision::Restarted {
    ///             println!("{} restarted: {:?}", child.name, ctx.children());
    ///         }
    ///     }
    /// }
    /// ```
    fn on_child_stopped(
        &mut self,
        ctx: &mut ActorContext<Self>,
        child: ChildExited,
    ) -> impl Future<Output = ()> + Send {
        let _ = (ctx, child);
        async {}
    }

    /// Runs when a process this actor monitors exited
    /// ([`ContextCore::monitor`](crate::ContextCore::monitor)): once per
    /// monitor, between two messages, in the order the signals came (after
    /// what the watched process sent before it exited). An error or panic
    /// is a failure like a fire-and-forget message's: it goes to
    /// [`Actor::handle_failure`] and the actor goes on. The default does
    /// nothing.
    ///
    /// A hook rather than a `Handler<Down>`: every actor can monitor
    /// without declaring anything, and the `Down` cannot be sent to it by
    /// anyone but a monitor.
    fn on_down(
        &mut self,
        ctx: &mut ActorContext<Self>,
        down: Down,
    ) -> impl Future<Output = HandlerResult> + Send {
        let _ = (ctx, down);
        async { Ok(()) }
    }

    /// Runs, in an actor that traps exits
    /// ([`ContextCore::trap_exit`](crate::ContextCore::trap_exit)), when a
    /// link partner exited (normally too): the actor goes on. Without
    /// trapping, an abnormal exit of a partner makes the actor exit with
    /// the same reason instead, and this hook is not called. Failures are
    /// handled as in [`Actor::on_down`]; the default does nothing.
    fn on_link_exit(
        &mut self,
        ctx: &mut ActorContext<Self>,
        exit: Exit,
    ) -> impl Future<Output = HandlerResult> + Send {
        let _ = (ctx, exit);
        async { Ok(()) }
    }

    /// Declares the messages that reach this actor by address alone
    /// (`send_to`, `request_to`, and later the network): write
    /// `troupe::handles!(A, B);` in the `Actor` impl. A message sent
    /// through a typed [`ActorRef`] needs no declaration; one that arrives
    /// by address and is not declared becomes a dead letter (a request
    /// resolves with [`RequestError::Unhandled`](crate::RequestError::Unhandled)).
    fn handlers(handlers: &mut Handlers<Self>) {
        let _ = handlers;
    }

    /// Runs when the handler of a fire-and-forget message returned an error
    /// or panicked. The actor then goes on with the next message (the rule
    /// of Tokio Actors; in Erlang a crash in `handle_cast` would end the
    /// process: call [`ContextCore::stop_with`](crate::ContextCore::stop_with)
    /// here for that). The default logs the failure at warn level.
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

impl Failure {
    /// The failure as its `Display` writes it, built in one allocation
    /// of its exact size when the cause is a panic (`format!` would grow
    /// it several times).
    pub(crate) fn text(&self) -> String {
        match &self.cause {
            FailureCause::Panic(p) => [self.message, ": panic: ", p].concat(),
            FailureCause::Error(e) => {
                crate::exit::with_detail(self.message, &format_args!("error: {e}"))
            }
        }
    }
}

/// The reason of an actor that stops because of `failure`:
/// [`ExitReason::Failed`] with the failure's text, as an Erlang process
/// whose `handle_cast` crashed exits with the crash as its reason.
///
/// ```
/// use troupe::{Actor, ActorContext, Failure};
///
/// struct Strict;
///
/// impl Actor for Strict {
///     // A failed fire-and-forget message stops this actor (by default an
///     // actor goes on); its supervisor decides what next.
///     async fn handle_failure(&mut self, ctx: &mut ActorContext<Self>, failure: Failure) {
///         ctx.stop_with(failure.into());
///     }
/// }
/// ```
impl From<Failure> for ExitReason {
    fn from(failure: Failure) -> Self {
        ExitReason::Failed(failure.text())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A failure becomes the reason `Failed` with the text its `Display`
    /// writes, whatever its cause, and however long that text is.
    #[test]
    fn a_failure_stops_with_its_own_text() {
        let long = "x".repeat(300);
        let failures = [
            FailureCause::Panic("boom".into()),
            FailureCause::Panic(String::new()),
            FailureCause::Panic(long.clone()),
            FailureCause::Error("no value".into()),
            FailureCause::Error(long.into()),
        ];
        for cause in failures {
            let failure = Failure {
                message: "app::Work",
                cause,
            };
            let shown = failure.to_string();
            assert_eq!(ExitReason::from(failure), ExitReason::Failed(shown));
        }
    }

    #[test]
    fn the_text_of_a_panic_is_built_at_its_exact_size() {
        let failure = Failure {
            message: "app::Work",
            cause: FailureCause::Panic("boom".into()),
        };
        let text = failure.text();
        assert_eq!(text, "app::Work: panic: boom");
        assert_eq!(text.capacity(), text.len());
    }
}
