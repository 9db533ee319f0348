//! [`ContextCore`]: what every running process sees, whatever its
//! front-end. Struct actors' [`ActorContext`](crate::ActorContext) and
//! functional actors' [`Context`](crate::Context) both dereference to it,
//! so identity, trace, timers, streams and children are written once.

use std::fmt;
use std::ops::DerefMut;
use std::sync::Arc;

use super::stream::Streams;
use super::timer::Timers;
use crate::addr::{ActorMeta, Addr};
use crate::core::process::Shared;
use crate::core::restart::Engine;
use crate::core::run_loop::Incarnation;
use crate::core::system::ActorSystem;
use crate::envelope::TraceId;
use crate::status::Lifecycle;

/// What every running process sees: its identity, the trace of the
/// envelope it handles, its system, and the timers, streams and children
/// of its current incarnation.
///
/// Both contexts dereference to it, so its methods are called on either
/// (`ctx.addr()`, `ctx.cancel_timer(id)`, ...).
pub struct ContextCore {
    pub(crate) shared: Arc<Shared>,
    pub(crate) trace_id: TraceId,
    /// This incarnation's timers and streams (see `attached/`); dropped,
    /// so aborted, with the context.
    pub(crate) timers: Timers,
    pub(crate) streams: Streams,
    /// Its children, if it is a supervisor.
    pub(crate) supervisor: Option<Box<Engine>>,
}

impl ContextCore {
    pub(crate) fn new(shared: Arc<Shared>, trace_id: TraceId) -> Self {
        Self {
            shared,
            trace_id,
            timers: Timers::default(),
            streams: Streams::default(),
            supervisor: None,
        }
    }

    /// Aborts this incarnation's timers and streams (its run ended).
    pub(crate) fn end_attached(&mut self) {
        self.timers.abort_all();
        self.streams.abort_all();
    }

    /// This process's address (its id).
    pub fn addr(&self) -> Addr {
        self.shared.addr
    }

    /// The name this process is registered under, if any.
    pub fn actor_name(&self) -> Option<&str> {
        self.shared.name.as_deref()
    }

    /// This process's group and key.
    pub fn meta(&self) -> &ActorMeta {
        &self.shared.meta
    }

    /// This process's key within its group (its name, or `_`, for a
    /// struct actor).
    pub fn key(&self) -> &str {
        &self.shared.meta.key
    }

    /// The trace id of the envelope being handled (the last one received).
    pub fn trace_id(&self) -> TraceId {
        self.trace_id
    }

    /// The system this process belongs to.
    pub fn system(&self) -> &ActorSystem {
        &self.shared.system
    }

    /// Where this process is in its life.
    pub fn status(&self) -> Lifecycle {
        self.shared.lifecycle()
    }

    /// Whether this process is a supervisor.
    pub fn is_supervisor(&self) -> bool {
        self.supervisor.is_some()
    }
}

impl Incarnation for ContextCore {
    fn core(&mut self) -> (&Arc<Shared>, &mut Option<Box<Engine>>) {
        (&self.shared, &mut self.supervisor)
    }

    fn set_trace(&mut self, trace_id: TraceId) {
        self.trace_id = trace_id;
    }

    fn end_attached(&mut self) {
        ContextCore::end_attached(self);
    }
}

/// Both front-ends' contexts run in the loop through their core.
impl<C: DerefMut<Target = ContextCore> + Send> Incarnation for C {
    fn core(&mut self) -> (&Arc<Shared>, &mut Option<Box<Engine>>) {
        Incarnation::core(&mut **self)
    }

    fn set_trace(&mut self, trace_id: TraceId) {
        (**self).set_trace(trace_id);
    }

    fn end_attached(&mut self) {
        ContextCore::end_attached(self);
    }
}

impl fmt::Debug for ContextCore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ContextCore")
            .field("addr", &self.shared.addr)
            .field("meta", &self.shared.meta)
            .finish()
    }
}
