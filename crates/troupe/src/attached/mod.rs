//! Sources attached to one incarnation of a process: its timers and
//! streams, written once over the process core, and the [`ContextCore`]
//! that holds them, which both front-ends' contexts dereference to.
//!
//! Each timer and each stream runs as its own small Tokio task that sends
//! envelopes into the process's mailbox. An [`Attached`] set keeps their
//! abort handles so that they can be cancelled one by one or all at once,
//! counted, and aborted when the incarnation ends (the set is owned by the
//! incarnation's context and aborts everything on drop, so a killed actor's
//! timers die with it too).

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};

use tokio::runtime::Handle;
use tokio::task::AbortHandle;
use tracing::Instrument;

mod attach;
pub(crate) mod context;
pub mod stream;
pub mod timer;

pub use attach::Attach;
pub use context::ContextCore;

use std::ops::DerefMut;

use crate::core::process::Shared;
use crate::envelope::{Dispatcher, Envelope};
use crate::error::SendError;
use crate::message::Message;

/// A context whose process accepts messages of type `M` from its own
/// timers and streams: a functional actor's [`Context`](crate::Context)
/// accepts every message; a struct actor's
/// [`ActorContext<A>`](crate::ActorContext) those `A` has a
/// [`Handler`](crate::Handler) for.
#[diagnostic::on_unimplemented(
    message = "this actor cannot receive `{M}` from its timers and streams",
    label = "the actor needs a `Handler<{M}>`"
)]
pub trait Accepts<M: Message>: DerefMut<Target = ContextCore> {
    /// How the receiver runs an `M` (a struct actor's `Handler<M>`), or
    /// `None` when it matches envelopes itself.
    #[doc(hidden)]
    fn dispatcher() -> Option<Dispatcher>;
}

/// Whether an attached task may still send messages. The task clears it when
/// it is done sending on its own (a one-shot timer fired, a stream ended),
/// *before* its last delivery, so that the actor never sees the message of a
/// task that still counts as active.
#[derive(Clone, Debug)]
pub(crate) struct Live(Arc<AtomicBool>);

impl Live {
    pub(crate) fn new() -> Self {
        Self(Arc::new(AtomicBool::new(true)))
    }

    pub(crate) fn is_live(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }

    /// Marks the task as done sending on its own.
    pub(crate) fn retire(&self) {
        self.0.store(false, Ordering::Release);
    }
}

struct Entry<X> {
    abort: AbortHandle,
    live: Live,
    /// What the kind keeps per task besides (a recurring timer's steering).
    extra: X,
}

impl<X> Entry<X> {
    fn is_active(&self) -> bool {
        self.live.is_live() && !self.abort.is_finished()
    }
}

/// The attached tasks of one kind (timers or streams) of one incarnation,
/// by id, each with what that kind keeps besides (`X`).
pub(crate) struct Attached<X = ()> {
    entries: HashMap<u64, Entry<X>>,
    /// Finished entries are pruned when the map reaches this size, which then
    /// doubles: pruning stays amortized O(1) per insert.
    prune_at: usize,
}

const MIN_PRUNE_AT: usize = 16;

impl<X> Default for Attached<X> {
    fn default() -> Self {
        Self {
            entries: HashMap::new(),
            prune_at: 0,
        }
    }
}

impl<X> Attached<X> {
    pub(crate) fn insert(&mut self, id: u64, abort: AbortHandle, live: Live, extra: X) {
        if self.entries.len() >= self.prune_at.max(MIN_PRUNE_AT) {
            self.entries.retain(|_, e| !e.abort.is_finished());
            self.prune_at = (self.entries.len() * 2).max(MIN_PRUNE_AT);
        }
        self.entries.insert(id, Entry { abort, live, extra });
    }

    /// What an active task keeps besides; `None` if it is not active.
    pub(crate) fn active_extra(&self, id: u64) -> Option<&X> {
        self.entries
            .get(&id)
            .filter(|e| e.is_active())
            .map(|e| &e.extra)
    }

    /// Cancels an active task. A retired task (it is delivering its last
    /// message on its own) is left alone. Returns whether it was active.
    pub(crate) fn cancel(&mut self, id: u64) -> bool {
        match self.entries.get(&id) {
            Some(e) if e.is_active() => {
                e.abort.abort();
                self.entries.remove(&id);
                true
            }
            Some(e) if e.abort.is_finished() => {
                self.entries.remove(&id);
                false
            }
            _ => false,
        }
    }

    /// Cancels every active task; returns how many there were.
    pub(crate) fn cancel_all(&mut self) -> usize {
        let mut cancelled = 0;
        self.entries.retain(|_, e| {
            if e.is_active() {
                e.abort.abort();
                cancelled += 1;
                false
            } else {
                !e.abort.is_finished()
            }
        });
        cancelled
    }

    /// How many tasks are active (not retired, not finished).
    pub(crate) fn active(&self) -> usize {
        self.entries.values().filter(|e| e.is_active()).count()
    }

    /// Aborts every task, retired or not: the incarnation ends.
    pub(crate) fn abort_all(&mut self) {
        for (_, e) in self.entries.drain() {
            e.abort.abort();
        }
    }
}

impl<X> Drop for Attached<X> {
    fn drop(&mut self) {
        self.abort_all();
    }
}

/// What became of an envelope an attached task sent.
pub(crate) enum Sent {
    /// It is in the mailbox (or a lossy mailbox dropped and reported it).
    Queued,
    /// The mailbox was full and the send could not wait (fail-fast policy,
    /// or a `try_deliver`): the envelope is handed back for reporting.
    Full(Envelope),
    /// The process is gone: the task has nothing left to do.
    Gone,
}

/// Delivers an envelope to the process, waiting for space under the `Wait`
/// policy (backpressure, as any sender).
pub(crate) async fn deliver(target: &Weak<Shared>, env: Envelope) -> Sent {
    let Some(shared) = target.upgrade() else {
        return Sent::Gone;
    };
    settle(shared.deliver(env).await)
}

/// Delivers an envelope without waiting.
pub(crate) fn try_deliver(shared: &Shared, env: Envelope) -> Sent {
    settle(shared.try_deliver(env))
}

pub(crate) fn settle(res: Result<(), SendError<Envelope>>) -> Sent {
    match res {
        Ok(()) => Sent::Queued,
        Err(SendError::Full(env)) => Sent::Full(env),
        // Direct deliveries are not routed: `NoRecipient` means gone too.
        Err(SendError::Closed(_) | SendError::NoRecipient(_)) => Sent::Gone,
    }
}

/// Spawns an attached task on the process's runtime (the current one inside
/// an actor), inside the current tracing span. `None` without a runtime.
pub(crate) fn spawn(
    shared: &Weak<Shared>,
    task: impl Future<Output = ()> + Send + 'static,
) -> Option<AbortHandle> {
    let handle = Handle::try_current().ok().or_else(|| {
        let shared = shared.upgrade()?;
        shared.system.runtime_for(&shared)
    })?;
    let join = handle.spawn(task.instrument(tracing::Span::current()));
    Some(join.abort_handle())
}
