//! The process a piece of code runs in, which gives what it sends a sender
//! address and a trace: set for each poll of a process's task (and while
//! the task is dropped) by `launch.rs`.
//!
//! A scoped thread-local: a pointer to the task's [`Current`], set and
//! reset around each poll. Tokio's `task_local!` moved the value into a
//! thread-local and back at each poll instead, about 60 more instructions
//! per message (callgrind, `scripts/callgrind.sh pingpong`).

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

scoped_tls::scoped_thread_local!(pub(crate) static CURRENT: Current);

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
    if CURRENT.is_set() {
        CURRENT.with(|c| (c.addr, c.trace_id.get()))
    } else {
        (Addr::NULL, TraceId::generate())
    }
}

/// Runs `f` with the current process, if there is one.
pub(crate) fn with_current<R>(f: impl FnOnce(&Current) -> R) -> Option<R> {
    CURRENT.is_set().then(|| CURRENT.with(f))
}

/// Sets the trace id of the envelope being handled.
pub(crate) fn set_current_trace(trace_id: TraceId) {
    with_current(|c| c.trace_id.set(trace_id));
}

/// Reports an envelope that the running process does not handle: a dead
/// letter of its system, and `RequestError::Unhandled` for a request.
pub(crate) fn unhandled(env: Envelope) {
    let name = env.message_name();
    with_current(|c| {
        c.system
            .dead_letter(c.addr, &env, DeadLetterReason::Unhandled)
    });
    env.fail(RequestError::Unhandled(name));
}
