//! The process a piece of code runs in: a task-local of every process's
//! task, which gives what it sends a sender address and a trace.

use std::cell::Cell;

use super::dead_letter::DeadLetterReason;
use super::process::Shared;
use super::system::ActorSystem;
use crate::addr::Addr;
use crate::envelope::{Envelope, TraceId};
use crate::request::RequestError;

/// The process and trace a piece of code runs in.
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
pub(crate) fn unhandled(env: Envelope) {
    let name = env.message_name();
    let _ = CURRENT.try_with(|c| {
        c.system
            .dead_letter(c.addr, &env, DeadLetterReason::Unhandled)
    });
    env.fail(RequestError::Unhandled(name));
}
