//! What a running struct actor sees: [`ActorContext`].

use std::cell::Cell;
use std::marker::PhantomData;
use std::sync::Arc;

use crate::actor::Actor;
use crate::actor_ref::ActorRef;
use crate::addr::{ActorMeta, Addr};
use crate::envelope::TraceId;
use crate::process::Shared;
use crate::status::Lifecycle;
use crate::stream::Streams;
use crate::system::ActorSystem;
use crate::timer::Timers;

/// The process and trace a piece of code runs in (a task-local of every
/// process's task).
pub(crate) struct Current {
    pub(crate) addr: Addr,
    pub(crate) trace_id: Cell<TraceId>,
    pub(crate) system: ActorSystem,
}

tokio::task_local! {
    pub(crate) static CURRENT: Current;
}

impl Current {
    pub(crate) fn new(shared: &Shared, trace_id: TraceId) -> Self {
        Self {
            addr: shared.addr,
            trace_id: Cell::new(trace_id),
            system: shared.system.clone(),
        }
    }
}

/// The sender address and trace id for a message sent now: the running
/// process's address and the trace of the envelope it handles, or the null
/// address and a new trace outside processes.
pub(crate) fn current() -> (Addr, TraceId) {
    CURRENT
        .try_with(|c| (c.addr, c.trace_id.get()))
        .unwrap_or_else(|_| (Addr::NULL, TraceId::generate()))
}

/// Sets the trace id of the envelope being handled.
pub(crate) fn set_current_trace(trace_id: TraceId) {
    let _ = CURRENT.try_with(|c| c.trace_id.set(trace_id));
}

/// Reports an envelope that the running process does not handle: a dead
/// letter of its system, and `RequestError::Unhandled` for a request.
pub(crate) fn unhandled(env: crate::envelope::Envelope) {
    let name = env.message_name();
    let _ = CURRENT.try_with(|c| {
        c.system.dead_letter(
            c.addr,
            &env,
            crate::dead_letter::DeadLetterReason::Unhandled,
        )
    });
    env.fail(crate::request::RequestError::Unhandled(name));
}

/// What a struct actor sees while it runs: its identity, the envelope being
/// handled, its system, and the means to stop itself.
pub struct ActorContext<A: Actor> {
    pub(crate) shared: Arc<Shared>,
    pub(crate) sender: Addr,
    pub(crate) trace_id: TraceId,
    pub(crate) stop_requested: bool,
    /// This incarnation's timers and streams (see `timer/`, `stream.rs`).
    pub(crate) timers: Timers,
    pub(crate) streams: Streams,
    /// Its children, if it is a supervisor (see `supervision::actor`).
    pub(crate) supervision: Option<Box<crate::supervision::Engine>>,
    _actor: PhantomData<fn() -> A>,
}

impl<A: Actor> ActorContext<A> {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        Self {
            timers: Timers::default(),
            streams: Streams::default(),
            shared,
            sender: Addr::NULL,
            trace_id: TraceId::generate(),
            stop_requested: false,
            supervision: None,
            _actor: PhantomData,
        }
    }

    /// Aborts this incarnation's timers and streams (its run loop ended).
    pub(crate) fn end_attached(&mut self) {
        self.timers.abort_all();
        self.streams.abort_all();
    }

    /// A typed handle to this actor.
    pub fn self_handle(&self) -> ActorRef<A> {
        ActorRef::from_shared(self.shared.clone())
    }

    /// This actor's address (its id).
    pub fn addr(&self) -> Addr {
        self.shared.addr
    }

    /// This actor's id; the same as [`ActorContext::addr`].
    pub fn actor_id(&self) -> Addr {
        self.shared.addr
    }

    /// The name this actor is registered under, if any.
    pub fn actor_name(&self) -> Option<&str> {
        self.shared.name.as_deref()
    }

    /// This actor's group and key.
    pub fn meta(&self) -> &ActorMeta {
        &self.shared.meta
    }

    /// The sender of the message being handled ([`Addr::NULL`] if it came
    /// from outside any actor).
    pub fn sender(&self) -> Addr {
        self.sender
    }

    /// The trace id of the message being handled.
    pub fn trace_id(&self) -> TraceId {
        self.trace_id
    }

    /// The system this actor belongs to.
    pub fn system(&self) -> &ActorSystem {
        &self.shared.system
    }

    /// Where this actor is in its life.
    pub fn status(&self) -> Lifecycle {
        self.shared.lifecycle()
    }

    /// Stops this actor once the current handler returns, with
    /// [`ExitReason::Normal`](crate::ExitReason::Normal); `on_stopped` runs, `pre_stop` does not (an
    /// actor does not veto itself).
    pub fn stop(&mut self) {
        self.stop_requested = true;
    }
}
