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

pub(crate) mod context;
pub mod stream;
pub mod timer;

use std::ops::DerefMut;
use std::time::Duration;

use futures_core::Stream;

pub use context::ContextCore;

use crate::core::process::Shared;
use crate::envelope::{Dispatcher, Envelope};
use crate::error::{BoxError, SendError};
use crate::message::Message;
use stream::{StreamEvent, StreamId, StreamItem};
use timer::{RecurringBuilder, ScheduleBuilder};

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

/// Timers and streams, for every kind of actor: implemented by both
/// contexts (in the prelude).
///
/// ```
/// use std::time::Duration;
/// use troupe::prelude::*;
/// use troupe::MissPolicy;
///
/// #[derive(Clone)]
/// #[message]
/// struct Tick;
///
/// struct A;
/// impl Actor for A {}
/// impl Handler<Tick> for A {
///     async fn handle(&mut self, _: Tick, _: &mut ActorContext<Self>) -> HandlerResult { Ok(()) }
/// }
///
/// async fn demo(ctx: &mut ActorContext<A>) -> HandlerResult {
///     ctx.schedule(Tick).after(Duration::from_secs(1)).await?;
///     ctx.schedule(Tick).every(Duration::from_millis(100)).await?;
///     let id = ctx
///         .schedule(Tick)
///         .every(Duration::from_millis(100))
///         .on_miss(MissPolicy::CatchUp)
///         .await?;
///     assert_eq!(ctx.active_timer_count(), 3);
///     assert!(ctx.cancel_timer(id));
///     Ok(())
/// }
/// # let _ = demo;
/// ```
pub trait Attach: DerefMut<Target = ContextCore> + Sized {
    /// Schedules `msg` to this actor: once (`.at`, `.after`) or on a period
    /// (`.every`, with `.on_miss`); finish with `.await` (or `.start()`) to
    /// get the [`TimerId`](timer::TimerId). See the [timer docs](timer)
    /// for the exact semantics.
    fn schedule<M>(&mut self, msg: M) -> ScheduleBuilder<'_>
    where
        M: Message + Clone + Sync,
        Self: Accepts<M>,
    {
        let dispatcher = <Self as Accepts<M>>::dispatcher();
        let core: &mut ContextCore = self;
        core.timers.schedule(&core.shared, msg, dispatcher)
    }

    /// Schedules the messages `factory` builds, a new one for each tick:
    /// for message types that are not `Clone` (or whose contents change
    /// from tick to tick). Pick when as with [`schedule`](Self::schedule).
    ///
    /// A factory that panics ends its timer (logged at error level, counted
    /// in `troupe_timer_failures_total`): it is a failure of that timer,
    /// not of the actor, which goes on.
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use troupe::prelude::*;
    ///
    /// // Not `Clone`: each tick carries its own instant.
    /// #[message]
    /// struct Sample { taken: Instant }
    ///
    /// #[derive(Default)]
    /// struct Sampler { samples: u32 }
    ///
    /// impl Actor for Sampler {
    ///     async fn pre_start(&mut self, ctx: &mut ActorContext<Self>) -> HandlerResult {
    ///         ctx.schedule_with(|| Sample { taken: Instant::now() })
    ///             .every(Duration::from_millis(5))
    ///             .await?;
    ///         Ok(())
    ///     }
    /// }
    ///
    /// impl Handler<Sample> for Sampler {
    ///     async fn handle(&mut self, msg: Sample, ctx: &mut ActorContext<Self>) -> HandlerResult {
    ///         assert!(msg.taken <= Instant::now());
    ///         self.samples += 1;
    ///         if self.samples == 3 {
    ///             ctx.stop();
    ///         }
    ///         Ok(())
    ///     }
    /// }
    ///
    /// # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let sampler = Sampler::default().spawn().await?;
    /// assert_eq!(sampler.wait_for_exit().await, ExitReason::Normal);
    /// # Ok(()) }
    /// ```
    fn schedule_with<M, F>(&mut self, factory: F) -> ScheduleBuilder<'_>
    where
        M: Message,
        F: Fn() -> M + Send + Sync + 'static,
        Self: Accepts<M>,
    {
        let dispatcher = <Self as Accepts<M>>::dispatcher();
        let core: &mut ContextCore = self;
        core.timers
            .schedule_factory(&core.shared, factory, dispatcher)
    }

    /// Every `interval`, the message `factory` builds: shorthand for
    /// `schedule_with(factory).every(interval)` (then `.on_miss` and
    /// `.await` as usual).
    fn every_with<M, F>(&mut self, interval: Duration, factory: F) -> RecurringBuilder<'_>
    where
        M: Message,
        F: Fn() -> M + Send + Sync + 'static,
        Self: Accepts<M>,
    {
        self.schedule_with(factory).every(interval)
    }

    /// Attaches a stream: each item arrives as a message, then its end as
    /// [`StreamEvent::Finished`]. The stream is polled only as fast as the
    /// mailbox takes its items. See the [stream docs](stream). The items
    /// must be messages; [`add_item_stream`](Self::add_item_stream) takes
    /// items of any type.
    fn add_stream<S>(&mut self, stream: S) -> StreamId
    where
        S: Stream + Send + 'static,
        S::Item: Message,
        Self: Accepts<S::Item> + Accepts<StreamEvent>,
    {
        let item = <Self as Accepts<S::Item>>::dispatcher();
        let event = <Self as Accepts<StreamEvent>>::dispatcher();
        let core: &mut ContextCore = self;
        core.streams.add(&core.shared, stream, item, event)
    }

    /// Attaches a stream of items of any type: each item `t` arrives as
    /// the message [`StreamItem(t)`](StreamItem) (a struct actor implements
    /// `Handler<StreamItem<T>>`), then its end as
    /// [`StreamEvent::Finished`]. For items that are messages themselves,
    /// [`add_stream`](Self::add_stream) delivers them as they are. See the
    /// [stream docs](stream).
    fn add_item_stream<S>(&mut self, stream: S) -> StreamId
    where
        S: Stream + Send + 'static,
        S::Item: Send + 'static,
        Self: Accepts<StreamItem<S::Item>> + Accepts<StreamEvent>,
    {
        let item = <Self as Accepts<StreamItem<S::Item>>>::dispatcher();
        let event = <Self as Accepts<StreamEvent>>::dispatcher();
        let core: &mut ContextCore = self;
        core.streams.add_items(&core.shared, stream, item, event)
    }

    /// Attaches a stream of results: `Ok(t)` arrives as the message `t`,
    /// `Err(e)` as [`StreamEvent::Error`] (the stream goes on), and its end
    /// as [`StreamEvent::Finished`].
    fn add_try_stream<S, T, E>(&mut self, stream: S) -> StreamId
    where
        S: Stream<Item = Result<T, E>> + Send + 'static,
        T: Message,
        E: Into<BoxError> + Send + 'static,
        Self: Accepts<T> + Accepts<StreamEvent>,
    {
        let item = <Self as Accepts<T>>::dispatcher();
        let event = <Self as Accepts<StreamEvent>>::dispatcher();
        let core: &mut ContextCore = self;
        core.streams.add_try(&core.shared, stream, item, event)
    }
}

impl<C: DerefMut<Target = ContextCore>> Attach for C {}

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

struct Entry {
    abort: AbortHandle,
    live: Live,
}

impl Entry {
    fn is_active(&self) -> bool {
        self.live.is_live() && !self.abort.is_finished()
    }
}

/// The attached tasks of one kind (timers or streams) of one incarnation,
/// by id.
#[derive(Default)]
pub(crate) struct Attached {
    entries: HashMap<u64, Entry>,
    /// Finished entries are pruned when the map reaches this size, which then
    /// doubles: pruning stays amortized O(1) per insert.
    prune_at: usize,
}

const MIN_PRUNE_AT: usize = 16;

impl Attached {
    pub(crate) fn insert(&mut self, id: u64, abort: AbortHandle, live: Live) {
        if self.entries.len() >= self.prune_at.max(MIN_PRUNE_AT) {
            self.entries.retain(|_, e| !e.abort.is_finished());
            self.prune_at = (self.entries.len() * 2).max(MIN_PRUNE_AT);
        }
        self.entries.insert(id, Entry { abort, live });
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

impl Drop for Attached {
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
