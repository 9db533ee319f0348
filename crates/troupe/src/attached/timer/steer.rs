//! Steering a running recurring timer from its actor: a new period, a new
//! message. The actor leaves the change in the timer's [`Steer`] and wakes
//! its task, which applies it before its next tick.

use std::any::{type_name, TypeId};
use std::task::{Context, Waker};
use std::time::Duration;

use parking_lot::Mutex;
use tokio::time::Instant;

use super::{MakeEnvelope, TimerError, TimerId};
use crate::attached::context::ContextCore;

/// The type of the messages a timer sends, which a new message must have:
/// its `TypeId` and name, behind one function pointer (a timer keeps it as
/// long as it runs).
#[derive(Clone, Copy)]
pub(crate) struct MessageType(fn() -> (TypeId, &'static str));

impl MessageType {
    pub(crate) fn of<M: 'static>() -> Self {
        fn describe<M: 'static>() -> (TypeId, &'static str) {
            (TypeId::of::<M>(), type_name::<M>())
        }
        Self(describe::<M>)
    }

    fn id(self) -> TypeId {
        (self.0)().0
    }

    fn name(self) -> &'static str {
        (self.0)().1
    }
}

/// The steering of one recurring timer, shared by the actor (which leaves
/// changes) and the timer's task (which takes them).
pub(crate) struct Steer {
    sends: MessageType,
    pending: Mutex<Pending>,
}

/// Changes the task has not taken yet, and how to wake it.
#[derive(Default)]
struct Pending {
    /// A new period, and when it was asked for.
    period: Option<(Duration, Instant)>,
    make: Option<MakeEnvelope>,
    waker: Option<Waker>,
}

/// What changed since the task last looked.
pub(super) struct Changes {
    pub(super) period: Option<(Duration, Instant)>,
    pub(super) make: Option<MakeEnvelope>,
}

impl Steer {
    pub(super) fn new(sends: MessageType) -> Self {
        Self {
            sends,
            pending: Mutex::new(Pending::default()),
        }
    }

    /// Leaves a change (the last one of each kind wins) and wakes the task.
    fn change(&self, apply: impl FnOnce(&mut Pending)) {
        let waker = {
            let mut pending = self.pending.lock();
            apply(&mut pending);
            pending.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// The changes left since the last call, or `None` after registering
    /// the task to be woken by the next one.
    pub(super) fn poll_changes(&self, cx: &mut Context<'_>) -> Option<Changes> {
        let mut pending = self.pending.lock();
        if pending.period.is_some() || pending.make.is_some() {
            return Some(Changes {
                period: pending.period.take(),
                make: pending.make.take(),
            });
        }
        match &pending.waker {
            Some(w) if w.will_wake(cx.waker()) => {}
            _ => pending.waker = Some(cx.waker().clone()),
        }
        None
    }
}

/// Steering timers, for every kind of process (a new message is
/// [`Attach::set_timer_message`](crate::Attach::set_timer_message)).
impl ContextCore {
    /// Changes the period of a running recurring timer (elfo's
    /// `Interval::set_period`): its next tick comes `period` after its last
    /// one (after its start if it has not ticked yet), or at once if that
    /// instant has already passed; then every `period`, on the timer's
    /// [`MissPolicy`](super::MissPolicy), which does not change. A timer
    /// started with
    /// [`starting_after`](super::RecurringBuilder::starting_after) keeps
    /// the instant of its first tick; the new period counts from it.
    ///
    /// The last tick, not the moment of the call, is the origin: a timer is
    /// reconfigured without losing its phase, as elfo's is, and two calls
    /// before the next tick leave the last period.
    ///
    /// Fails with [`TimerError::NotActive`] for a timer that is not active
    /// (cancelled, ended, or of another incarnation), with
    /// [`TimerError::OneShot`] for a one-shot timer and with
    /// [`TimerError::ZeroInterval`] for a zero period.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tokio::time::Instant;
    /// use troupe::prelude::*;
    /// use troupe::TimerId;
    ///
    /// #[derive(Clone)]
    /// #[message]
    /// struct Tick;
    ///
    /// struct Metronome { t0: Instant, timer: Option<TimerId>, ticks: Vec<u64> }
    ///
    /// impl Actor for Metronome {
    ///     async fn pre_start(&mut self, ctx: &mut ActorContext<Self>) -> HandlerResult {
    ///         self.timer = Some(ctx.schedule(Tick).every(Duration::from_secs(10)).await?);
    ///         Ok(())
    ///     }
    /// }
    ///
    /// impl Handler<Tick> for Metronome {
    ///     async fn handle(&mut self, _: Tick, ctx: &mut ActorContext<Self>) -> HandlerResult {
    ///         self.ticks.push(self.t0.elapsed().as_secs());
    ///         if let (1, Some(timer)) = (self.ticks.len(), self.timer) {
    ///             // From the tick at 10 s on, every 3 s.
    ///             ctx.set_timer_period(timer, Duration::from_secs(3))?;
    ///         }
    ///         if self.ticks.len() == 3 {
    ///             assert_eq!(self.ticks, [10, 13, 16]);
    ///             ctx.stop();
    ///         }
    ///         Ok(())
    ///     }
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let metronome = Metronome { t0: Instant::now(), timer: None, ticks: vec![] };
    /// let metronome = metronome.spawn().await?;
    /// assert_eq!(metronome.wait_for_exit().await, ExitReason::Normal);
    /// # Ok(()) }
    /// ```
    pub fn set_timer_period(&self, id: TimerId, period: Duration) -> Result<(), TimerError> {
        if period.is_zero() {
            return Err(TimerError::ZeroInterval);
        }
        // The change counts from now, however late the timer's task sees it.
        let asked = Instant::now();
        self.timers
            .steer(id)?
            .change(|pending| pending.period = Some((period, asked)));
        Ok(())
    }
}

impl super::Timers {
    /// Replaces what a recurring timer sends, after checking that it sends
    /// messages of the same type (`M`).
    pub(crate) fn set_message<M: 'static>(
        &self,
        id: TimerId,
        make: MakeEnvelope,
    ) -> Result<(), TimerError> {
        let steer = self.steer(id)?;
        let found = MessageType::of::<M>();
        if steer.sends.id() != found.id() {
            return Err(TimerError::WrongMessage {
                timer: id,
                expected: steer.sends.name(),
                found: found.name(),
            });
        }
        steer.change(|pending| pending.make = Some(make));
        Ok(())
    }
}
