//! The builders returned by `schedule`.

use std::future::{ready, IntoFuture, Ready};
use std::time::Duration;

use tokio::time::Instant;

use super::{MissPolicy, Plan, Source, TimerError, TimerId, TimerSet};

/// Roughly 30 years: where a deadline that cannot be represented goes (as
/// Tokio does for its own far-future sleeps).
const FAR_FUTURE: Duration = Duration::from_secs(86_400 * 365 * 30);

/// A deadline `delay` from now, saturating to the far future.
pub(super) fn deadline_after(from: Instant, delay: Duration) -> Instant {
    from.checked_add(delay)
        .or_else(|| from.checked_add(FAR_FUTURE))
        .unwrap_or(from)
}

/// What to schedule; pick when with [`at`](Self::at), [`after`](Self::after)
/// or [`every`](Self::every). Returned by
/// [`Attach::schedule`](crate::Attach::schedule).
#[must_use = "a schedule builder does nothing until `.at`, `.after` or `.every`, then `.await`"]
pub struct ScheduleBuilder<'a> {
    timers: &'a mut TimerSet,
    source: Source,
}

impl<'a> ScheduleBuilder<'a> {
    pub(super) fn new(timers: &'a mut TimerSet, source: Source) -> Self {
        Self { timers, source }
    }

    /// Once, at `instant` (a [`tokio::time::Instant`] or a
    /// [`std::time::Instant`]). An instant in the past fires at once.
    pub fn at(self, instant: impl Into<Instant>) -> OneShotBuilder<'a> {
        OneShotBuilder {
            timers: self.timers,
            source: self.source,
            at: instant.into(),
        }
    }

    /// Once, after `delay` from now. A zero delay fires at once; a delay too
    /// large to represent never fires.
    pub fn after(self, delay: Duration) -> OneShotBuilder<'a> {
        let at = deadline_after(Instant::now(), delay);
        OneShotBuilder {
            timers: self.timers,
            source: self.source,
            at,
        }
    }

    /// Every `interval`, on the grid `now + k * interval` (`k = 1, 2, …`),
    /// with the [`MissPolicy::Skip`] policy unless
    /// [`on_miss`](RecurringBuilder::on_miss) says otherwise. A zero interval
    /// fails with [`TimerError::ZeroInterval`] when started.
    pub fn every(self, interval: Duration) -> RecurringBuilder<'a> {
        RecurringBuilder {
            timers: self.timers,
            source: self.source,
            interval,
            policy: MissPolicy::default(),
            first: None,
        }
    }
}

/// A one-shot timer, ready to start: `.await` it (it resolves at once) or
/// call [`start`](Self::start).
#[must_use = "a timer does nothing until awaited or started"]
pub struct OneShotBuilder<'a> {
    timers: &'a mut TimerSet,
    source: Source,
    at: Instant,
}

impl OneShotBuilder<'_> {
    /// Starts the timer now and returns its id.
    pub fn start(self) -> Result<TimerId, TimerError> {
        self.timers.start_one_shot(self.source, self.at)
    }
}

impl IntoFuture for OneShotBuilder<'_> {
    type Output = Result<TimerId, TimerError>;
    type IntoFuture = Ready<Self::Output>;

    /// Starts the timer; the future is ready at once.
    fn into_future(self) -> Self::IntoFuture {
        ready(self.start())
    }
}

/// A recurring timer, ready to start: choose a policy with
/// [`on_miss`](Self::on_miss), then `.await` it (it resolves at once) or
/// call [`start`](Self::start).
#[must_use = "a timer does nothing until awaited or started"]
pub struct RecurringBuilder<'a> {
    timers: &'a mut TimerSet,
    source: Source,
    interval: Duration,
    policy: MissPolicy,
    /// The first tick, when it is not one interval from now.
    first: Option<Instant>,
}

impl RecurringBuilder<'_> {
    /// What to do with ticks that could not be delivered on time (default
    /// [`MissPolicy::Skip`]).
    pub fn on_miss(mut self, policy: MissPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// The first tick comes after `delay` instead of one interval from
    /// now (elfo's `Interval::start_after`); the next ones on the grid
    /// `first + k * interval`. A zero delay ticks at once; a delay too large
    /// to represent never ticks.
    ///
    /// [`set_timer_period`](crate::ContextCore::set_timer_period) before
    /// the first tick changes the interval, not the first tick.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tokio::time::Instant;
    /// use troupe::prelude::*;
    ///
    /// #[derive(Clone)]
    /// #[message]
    /// struct Poll;
    ///
    /// struct Poller { t0: Instant, at: Vec<u128> }
    ///
    /// impl Actor for Poller {
    ///     async fn pre_start(&mut self, ctx: &mut ActorContext<Self>) -> HandlerResult {
    ///         ctx.schedule(Poll)
    ///             .every(Duration::from_millis(100))
    ///             .starting_after(Duration::from_millis(15))
    ///             .await?;
    ///         Ok(())
    ///     }
    /// }
    ///
    /// impl Handler<Poll> for Poller {
    ///     async fn handle(&mut self, _: Poll, ctx: &mut ActorContext<Self>) -> HandlerResult {
    ///         self.at.push(self.t0.elapsed().as_millis());
    ///         if self.at.len() == 3 {
    ///             assert_eq!(self.at, [15, 115, 215]);
    ///             ctx.stop();
    ///         }
    ///         Ok(())
    ///     }
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let poller = Poller { t0: Instant::now(), at: vec![] }.spawn().await?;
    /// assert_eq!(poller.wait_for_exit().await, ExitReason::Normal);
    /// # Ok(()) }
    /// ```
    pub fn starting_after(mut self, delay: Duration) -> Self {
        self.first = Some(deadline_after(Instant::now(), delay));
        self
    }

    /// The first tick comes at `instant` (at once if it has passed), the
    /// next ones on the grid `instant + k * interval`; elfo's
    /// `Interval::start_at`. As [`starting_after`](Self::starting_after).
    pub fn starting_at(mut self, instant: impl Into<Instant>) -> Self {
        self.first = Some(instant.into());
        self
    }

    /// Starts the timer now and returns its id; fails with
    /// [`TimerError::ZeroInterval`] for a zero interval.
    pub fn start(self) -> Result<TimerId, TimerError> {
        let plan = Plan {
            first: self
                .first
                .unwrap_or_else(|| deadline_after(Instant::now(), self.interval)),
            delayed: self.first.is_some(),
            period: self.interval,
            policy: self.policy,
        };
        self.timers.start_recurring(self.source, plan)
    }
}

impl IntoFuture for RecurringBuilder<'_> {
    type Output = Result<TimerId, TimerError>;
    type IntoFuture = Ready<Self::Output>;

    /// Starts the timer; the future is ready at once.
    fn into_future(self) -> Self::IntoFuture {
        ready(self.start())
    }
}

impl std::fmt::Debug for ScheduleBuilder<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScheduleBuilder").finish_non_exhaustive()
    }
}

impl std::fmt::Debug for OneShotBuilder<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OneShotBuilder").finish_non_exhaustive()
    }
}

impl std::fmt::Debug for RecurringBuilder<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecurringBuilder").finish_non_exhaustive()
    }
}
