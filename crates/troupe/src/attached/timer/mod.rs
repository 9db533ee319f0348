//! Timers: messages an actor schedules to itself, once or on a period,
//! with an explicit policy for ticks that come late.
//!
//! ```
//! use std::time::Duration;
//! use troupe::prelude::*;
//! use troupe::MissPolicy;
//!
//! #[derive(Clone)]
//! #[message]
//! struct Tick;
//!
//! #[derive(Default)]
//! struct Metronome { ticks: u32 }
//!
//! impl Actor for Metronome {
//!     async fn pre_start(&mut self, ctx: &mut ActorContext<Self>) -> HandlerResult {
//!         ctx.schedule(Tick)
//!             .every(Duration::from_millis(5))
//!             .on_miss(MissPolicy::Skip)
//!             .await?;
//!         assert_eq!(ctx.active_timer_count(), 1);
//!         Ok(())
//!     }
//! }
//!
//! impl Handler<Tick> for Metronome {
//!     async fn handle(&mut self, _: Tick, ctx: &mut ActorContext<Self>) -> HandlerResult {
//!         self.ticks += 1;
//!         println!("tick {}", self.ticks);
//!         if self.ticks == 3 {
//!             assert_eq!(ctx.cancel_all_timers(), 1);
//!             ctx.stop();
//!         }
//!         Ok(())
//!     }
//! }
//!
//! # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let metronome = Metronome::default().spawn().await?;
//! assert_eq!(metronome.wait_for_exit().await, ExitReason::Normal);
//! # Ok(()) }
//! ```
//!
//! # Scheduling
//! [`Attach::schedule`](crate::Attach::schedule) takes the message (cloned for every tick, hence
//! `M: Clone`; `M: Sync` leaves the framework free to share one timer
//! driver between tasks, and every ordinary message is `Sync`) and returns a
//! [`ScheduleBuilder`]:
//! - `.at(instant)`: once, at that instant. An instant in the past fires at
//!   once.
//! - `.after(delay)`: once, after the delay (a delay too large to represent
//!   never fires).
//! - `.every(interval)`: on the grid `start + k * interval` for `k = 1, 2, …`,
//!   where `start` is the moment of scheduling; `.on_miss(policy)` picks the
//!   [`MissPolicy`] (default [`MissPolicy::Skip`]). A zero interval is refused
//!   with [`TimerError::ZeroInterval`]. `.starting_after(delay)` (or
//!   `.starting_at(instant)`) puts the first tick apart from the period:
//!   the grid is then `first + k * interval`, `k = 0, 1, …` (elfo's
//!   `Interval::start_after`).
//!
//! The builder is finished by `.await` (it resolves at once: nothing waits,
//! the `await` keeps the call chain readable in handlers) or by
//! [`start`](OneShotBuilder::start) from non-async code; both give a
//! [`TimerId`].
//!
//! # Delivery and late ticks
//! Every timer is its own small Tokio task that puts the message in the
//! actor's mailbox, where it waits its turn like any message (it is sent by
//! the actor to itself: [`ActorContext::sender`](crate::ActorContext::sender) is the actor's own address).
//! A tick is *late* when the timer could not deliver it on time: the mailbox
//! was full and the tick waited for space (the default
//! [`OverflowPolicy::Wait`](crate::OverflowPolicy)), or the timer task itself
//! woke late (a busy runtime). What happens to the ticks missed meanwhile is
//! the policy's:
//! - [`MissPolicy::Skip`]: the late tick is delivered (waiting for space);
//!   then the timer jumps to the first grid instant strictly after the
//!   delivery. Missed grid instants send nothing; the grid never moves.
//! - [`MissPolicy::CatchUp`]: the timer never waits for space: at each wake
//!   it sends the grid ticks that are due (the missed ones included) at once
//!   with a non-blocking delivery, at most
//!   [`CATCH_UP_MAX_TICKS`](crate::defaults::CATCH_UP_MAX_TICKS) (1024) of
//!   them. A tick that does not fit stops the burst. The ticks of the wake
//!   that were not sent (the one that did not fit, the rest of the burst,
//!   and those due beyond the bound) are dropped: all counted
//!   ([`ContextCore::dropped_timer_ticks`](crate::ContextCore::dropped_timer_ticks), and the metric
//!   `troupe_timer_ticks_dropped_total` with metrics on) but reported *once* per wake, as
//!   one dead letter with [`DeadLetterReason::Overflow`](crate::DeadLetterReason)
//!   and one `tracing` debug event carrying the count (so
//!   [`ActorSystem::dead_letter_count`](crate::ActorSystem::dead_letter_count)
//!   grows by one per such wake, not per tick). The grid never moves: the
//!   next wake is at the first grid instant after the ticks of this one.
//!   After each wake the timer task yields to the runtime, so even an
//!   interval far shorter than the runtime's timer resolution (a 1 ns timer
//!   has about a million ticks due at each 1 ms wake) costs bounded work
//!   per wake and never keeps the actor (its requests, its stop) or other
//!   tasks from running. Prefer `Skip` for very short intervals all the
//!   same: a `CatchUp` timer that is always behind delivers the bound and
//!   drops the rest at every wake.
//! - [`MissPolicy::Delay`]: the late tick is delivered (waiting for space);
//!   the next one comes one interval after that delivery: the grid moves by
//!   the delay. (Each tick is scheduled from the previous delivery, so in real
//!   time `Delay` also accumulates the timer's wake-up latency; `Skip` does
//!   not.)
//!
//! Under a fail-fast mailbox a tick that finds the mailbox full is dropped,
//! counted and reported the same way; under a lossy mailbox the mailbox drops
//! (and reports) as it does for any sender. A one-shot timer waits for space.
//!
//! # Ids, cancellation, lifetime
//! - A recurring timer is *active* until cancelled. A one-shot timer is
//!   active until it fires: at its instant it stops being active and its
//!   message is sent (if the mailbox is full it waits for space like any
//!   sent message; cancelling it then has no effect and returns `false`).
//! - [`ContextCore::cancel_timer`](crate::ContextCore::cancel_timer) stops a timer and says whether it was
//!   active; [`ContextCore::cancel_all_timers`](crate::ContextCore::cancel_all_timers) stops them all and says how
//!   many were; [`ContextCore::active_timer_count`](crate::ContextCore::active_timer_count) counts them. A tick
//!   already in the mailbox stays there and is handled.
//! - Timers belong to one *incarnation* of the actor: when its run loop ends
//!   (stop, failure, kill), every timer task is aborted, and a message still
//!   waiting for mailbox space is discarded with it. A supervisor's restart
//!   starts a new incarnation with no timers: the new incarnation's own code
//!   (typically `pre_start`) schedules them again.
//!
//! - Every tick carries the trace id of the scope that scheduled the timer
//!   (the envelope being handled then), a one-shot timer's and a recurring
//!   one's alike: what a tick causes is traced back to what set the timer.
//!   (elfo starts a new trace at each tick of an `Interval`.)
//!
//! # Steering a recurring timer
//! From inside the actor, by its [`TimerId`] (elfo's `Interval` handle):
//! - [`ContextCore::set_timer_period`](crate::ContextCore::set_timer_period):
//!   the next tick comes the new period after the *last* tick (after the
//!   start if none came yet), or at once if that instant has already passed
//!   (one tick, not one for each instant of the new grid that passed); then
//!   every new period. The origin is the last tick, not the call, as in
//!   elfo: a period read from a reloaded configuration keeps the timer's
//!   phase. A first tick set by `starting_after` stays where it is.
//! - [`Attach::set_timer_message`](crate::Attach::set_timer_message): the
//!   next ticks send the new message. It must be of the timer's message
//!   type: another one is refused with [`TimerError::WrongMessage`] (the
//!   [`TimerId`] does not carry the type, so the check is at run time).
//! - Neither changes the [`MissPolicy`]. A timer that is not active (cancelled,
//!   ended, of another incarnation) gives [`TimerError::NotActive`]; a
//!   one-shot timer, [`TimerError::OneShot`].
//!
//! Memory: one timer is one Tokio task (so a tick waiting for space never
//! holds up another timer). A recurring timer costs about 1.2 KiB of heap
//! in all: its task (an 848-byte future), the boxed message, its steering
//! (about 110 bytes) and bookkeeping; `tests/timer_memory.rs` measures
//! 1241 bytes in a release build. An actor without timers pays one null
//! pointer.
//!
//! # Every kind of actor
//! Timers are written once, over the process core: [`Attach::schedule`](crate::Attach::schedule)
//! works on a struct actor's `ActorContext` (ticks go to its
//! `Handler<M>`, checked at compile time) and on a functional actor's
//! `Context` (ticks arrive through `recv`), and both contexts dereference
//! to [`ContextCore`](crate::ContextCore) for cancelling and counting.

mod builder;
mod steer;
mod task;

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use super::context::ContextCore;
use super::{Attached, Live};
use crate::addr::Addr;
use crate::core::process::Shared;
use crate::envelope::{Dispatcher, Envelope, TraceId};
use crate::message::Message;

pub use builder::{OneShotBuilder, RecurringBuilder, ScheduleBuilder};
pub(crate) use steer::MessageType;
use steer::Steer;

/// Identifies one timer of an actor; returned when it is scheduled.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TimerId(u64);

impl TimerId {
    fn next() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        TimerId(NEXT.fetch_add(1, Ordering::Relaxed))
    }

    /// The raw value (unique within this OS process).
    pub fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Debug for TimerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TimerId({})", self.0)
    }
}

impl fmt::Display for TimerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "timer-{}", self.0)
    }
}

/// What a recurring timer does with ticks it could not deliver on time.
/// See the [module docs](self) for the exact semantics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum MissPolicy {
    /// Deliver the late tick, then jump to the next instant of the original
    /// grid (`start + k * interval`); missed ticks are not sent. The default.
    #[default]
    Skip,
    /// Send the missed ticks at once without waiting for mailbox space, at
    /// most [`CATCH_UP_MAX_TICKS`](crate::defaults::CATCH_UP_MAX_TICKS) per
    /// wake; ticks that do not fit or exceed the bound are dropped, counted
    /// and reported in one dead letter per wake. The grid never moves.
    CatchUp,
    /// Deliver the late tick, then restart the interval from that delivery.
    Delay,
}

/// A timer could not be scheduled, or steered.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TimerError {
    /// A recurring timer needs a non-zero interval.
    #[error("a recurring timer needs a non-zero interval")]
    ZeroInterval,
    /// There is no Tokio runtime to run the timer on.
    #[error("no Tokio runtime is available to run the timer")]
    NoRuntime,
    /// No active timer of this incarnation has this id: it was cancelled,
    /// it ended (a fired one-shot timer, a factory that panicked), or it
    /// belongs to another incarnation or another actor.
    #[error("{0} is not an active timer of this actor")]
    NotActive(TimerId),
    /// Only recurring timers are steered; this one fires once.
    #[error("{0} is a one-shot timer: only recurring timers can be steered")]
    OneShot(TimerId),
    /// A timer's new message must be of the type it sends.
    #[error("{timer} sends `{expected}`, not `{found}`")]
    WrongMessage {
        /// The timer.
        timer: TimerId,
        /// The type of the messages it sends.
        expected: &'static str,
        /// The type of the message it was given.
        found: &'static str,
    },
}

/// Builds the envelope of one tick, in the timer's trace; `Err` carries
/// the panic of a user's factory (the timer then ends: see
/// [`Attach::schedule_with`](crate::Attach::schedule_with)).
pub(crate) type MakeEnvelope = Box<dyn Fn(TraceId) -> Result<Envelope, String> + Send + Sync>;

/// What a timer sends: how to build its envelopes, the type of its
/// messages (which a new message must have) and the trace they carry (the
/// one of the scope that scheduled it).
pub(crate) struct Source {
    make: MakeEnvelope,
    sends: MessageType,
    trace: TraceId,
}

/// Builds a tick's envelope by cloning `msg`.
pub(crate) fn cloning<M: Message + Clone + Sync>(
    addr: Addr,
    msg: M,
    dispatcher: Option<Dispatcher>,
) -> MakeEnvelope {
    Box::new(move |trace| {
        let mut env = Envelope::new(msg.clone(), addr, trace);
        env.0.dispatcher = dispatcher;
        Ok(env)
    })
}

/// The timers of one incarnation of a process (front-end agnostic).
///
/// Empty (one null pointer) until the first timer is scheduled. Dropping it
/// aborts every timer: it is owned by the incarnation's context, so timers
/// die with the incarnation whatever ends it.
#[derive(Default)]
pub(crate) struct Timers(Option<Box<TimerSet>>);

impl Timers {
    /// Schedules `msg` to the process `shared`, in the trace `trace`; its
    /// envelopes carry `dispatcher` (a struct actor's `Handler<M>`, or
    /// `None` for a functional actor).
    pub(crate) fn schedule<M: Message + Clone + Sync>(
        &mut self,
        shared: &Arc<Shared>,
        msg: M,
        dispatcher: Option<Dispatcher>,
        trace: TraceId,
    ) -> ScheduleBuilder<'_> {
        let make = cloning(shared.addr, msg, dispatcher);
        self.schedule_envelopes(shared, make, MessageType::of::<M>(), trace)
    }

    /// Schedules the messages `factory` builds, one per tick, to the
    /// process `shared`; a panic of the factory ends the timer.
    pub(crate) fn schedule_factory<M: Message>(
        &mut self,
        shared: &Arc<Shared>,
        factory: impl Fn() -> M + Send + Sync + 'static,
        dispatcher: Option<Dispatcher>,
        trace: TraceId,
    ) -> ScheduleBuilder<'_> {
        let addr = shared.addr;
        let make = Box::new(move |trace| {
            let msg = std::panic::catch_unwind(std::panic::AssertUnwindSafe(&factory))
                .map_err(|panic| crate::catch::panic_message(&*panic))?;
            let mut env = Envelope::new(msg, addr, trace);
            env.0.dispatcher = dispatcher;
            Ok(env)
        });
        self.schedule_envelopes(shared, make, MessageType::of::<M>(), trace)
    }

    /// Schedules envelopes built by `make` (of messages of type `sends`)
    /// to the process `shared`.
    fn schedule_envelopes(
        &mut self,
        shared: &Arc<Shared>,
        make: MakeEnvelope,
        sends: MessageType,
        trace: TraceId,
    ) -> ScheduleBuilder<'_> {
        let set = self.0.get_or_insert_with(|| {
            Box::new(TimerSet {
                target: Arc::downgrade(shared),
                addr: shared.addr,
                set: Attached::default(),
                dropped: Arc::new(AtomicU64::new(0)),
            })
        });
        ScheduleBuilder::new(set, Source { make, sends, trace })
    }

    /// The steering of an active recurring timer.
    fn steer(&self, id: TimerId) -> Result<&Steer, TimerError> {
        let steer = self
            .0
            .as_ref()
            .and_then(|t| t.set.active_extra(id.0))
            .ok_or(TimerError::NotActive(id))?;
        steer.as_deref().ok_or(TimerError::OneShot(id))
    }

    pub(crate) fn cancel(&mut self, id: TimerId) -> bool {
        self.0.as_mut().is_some_and(|t| t.set.cancel(id.0))
    }

    pub(crate) fn cancel_all(&mut self) -> usize {
        self.0.as_mut().map_or(0, |t| t.set.cancel_all())
    }

    pub(crate) fn active(&self) -> usize {
        self.0.as_ref().map_or(0, |t| t.set.active())
    }

    pub(crate) fn dropped_ticks(&self) -> u64 {
        self.0
            .as_ref()
            .map_or(0, |t| t.dropped.load(Ordering::Relaxed))
    }

    /// Aborts every timer: the incarnation ends.
    pub(crate) fn abort_all(&mut self) {
        if let Some(t) = &mut self.0 {
            t.set.abort_all();
        }
    }
}

/// When a recurring timer ticks.
struct Plan {
    /// Its first tick.
    first: tokio::time::Instant,
    /// Whether the first tick was set apart from the period
    /// (`starting_after`): a new period then leaves it where it is.
    delayed: bool,
    period: Duration,
    policy: MissPolicy,
}

/// The timers themselves, once there is one.
pub(crate) struct TimerSet {
    target: Weak<Shared>,
    addr: Addr,
    /// A recurring timer keeps its steering; a one-shot timer none.
    set: Attached<Option<Arc<Steer>>>,
    dropped: Arc<AtomicU64>,
}

impl TimerSet {
    fn target(&self) -> task::Target {
        task::Target {
            shared: self.target.clone(),
            addr: self.addr,
            dropped: self.dropped.clone(),
        }
    }

    fn start_one_shot(
        &mut self,
        source: Source,
        at: tokio::time::Instant,
    ) -> Result<TimerId, TimerError> {
        let id = TimerId::next();
        let live = Live::new();
        let fut = task::one_shot(self.target(), source.make, at, source.trace, live.clone());
        let abort = super::spawn(&self.target, fut).ok_or(TimerError::NoRuntime)?;
        self.set.insert(id.0, abort, live, None);
        Ok(id)
    }

    fn start_recurring(&mut self, source: Source, plan: Plan) -> Result<TimerId, TimerError> {
        if plan.period.is_zero() {
            return Err(TimerError::ZeroInterval);
        }
        let id = TimerId::next();
        let live = Live::new();
        let steer = Arc::new(Steer::new(source.sends));
        let fut = task::recurring(
            self.target(),
            source.make,
            plan,
            source.trace,
            steer.clone(),
            live.clone(),
        );
        let abort = super::spawn(&self.target, fut).ok_or(TimerError::NoRuntime)?;
        self.set.insert(id.0, abort, live, Some(steer));
        Ok(id)
    }
}

/// Timers, for every kind of process (scheduling is [`Attach::schedule`](crate::Attach::schedule)).
impl ContextCore {
    /// Cancels a timer; returns whether it was active (a fired one-shot
    /// timer, or one of an earlier incarnation, is not). Ticks already in
    /// the mailbox are still handled.
    pub fn cancel_timer(&mut self, id: TimerId) -> bool {
        self.timers.cancel(id)
    }

    /// Cancels every active timer; returns how many there were.
    pub fn cancel_all_timers(&mut self) -> usize {
        self.timers.cancel_all()
    }

    /// How many timers are active: recurring ones not cancelled, one-shot
    /// ones not fired yet.
    pub fn active_timer_count(&self) -> usize {
        self.timers.active()
    }

    /// Ticks this incarnation's timers dropped because the mailbox was full
    /// and they could not wait (a [`MissPolicy::CatchUp`] burst, or a
    /// fail-fast mailbox), or because a `CatchUp` wake had more ticks due
    /// than [`CATCH_UP_MAX_TICKS`](crate::defaults::CATCH_UP_MAX_TICKS).
    /// The ticks one wake drops are reported as one dead letter.
    pub fn dropped_timer_ticks(&self) -> u64 {
        self.timers.dropped_ticks()
    }
}
