//! The timer tasks: when to send, and what to do with late ticks.

use std::future::{poll_fn, Future};
use std::pin::pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::task::Poll;
use std::time::Duration;

use tokio::time::{sleep_until, Instant};

use super::builder::deadline_after;
use super::steer::Steer;
use super::{MakeEnvelope, MissPolicy, Plan};
use crate::addr::Addr;
use crate::attached::{self, Live, Sent};
use crate::core::dead_letter::DeadLetterReason;
use crate::core::process::Shared;
use crate::defaults::CATCH_UP_MAX_TICKS;
use crate::envelope::{Envelope, TraceId};

/// Where a timer sends, and where it counts what it drops.
pub(super) struct Target {
    pub(super) shared: Weak<Shared>,
    pub(super) addr: Addr,
    pub(super) dropped: Arc<AtomicU64>,
}

/// Why a timer ends early.
enum End {
    /// The process is gone.
    Gone,
    /// The factory of its messages panicked (the message of the panic).
    Failed(String),
}

/// The process is gone: the timer ends.
struct Gone;

impl From<Gone> for End {
    fn from(_: Gone) -> Self {
        End::Gone
    }
}

impl Target {
    /// Delivers a tick, waiting for space under the `Wait` policy.
    async fn send(&self, env: Envelope) -> Result<(), Gone> {
        let shared = self.shared.upgrade().ok_or(Gone)?;
        match attached::settle(shared.deliver(env).await) {
            Sent::Queued => Ok(()),
            Sent::Full(env) => {
                self.drop_ticks(&env, 1);
                Ok(())
            }
            Sent::Gone => Err(Gone),
        }
    }

    /// Sends the `due` ticks of one wake without waiting: at most
    /// [`CATCH_UP_MAX_TICKS`] of them are tried, and the first that does
    /// not fit stops the burst. Every tick not sent (the one that did not
    /// fit, the rest of the burst, the ticks beyond the bound) is dropped,
    /// in one report.
    fn burst(&self, make: &MakeEnvelope, trace: TraceId, due: u64) -> Result<(), End> {
        let shared = self.shared.upgrade().ok_or(End::Gone)?;
        let tried = due.min(CATCH_UP_MAX_TICKS);
        for sent in 0..tried {
            match attached::try_deliver(&shared, make(trace).map_err(End::Failed)?) {
                Sent::Queued => {}
                Sent::Full(env) => {
                    self.drop_ticks(&env, due - sent);
                    return Ok(());
                }
                Sent::Gone => return Err(End::Gone),
            }
        }
        if due > tried {
            self.drop_ticks(&make(trace).map_err(End::Failed)?, due - tried);
        }
        Ok(())
    }

    /// A timer whose factory panicked ends; the actor goes on. Logged at
    /// error level and counted (`troupe_timer_failures_total`).
    fn failed(&self, panic: &str) {
        metrics::counter!("troupe_timer_failures_total").increment(1);
        tracing::error!(addr = %self.addr, panic, "a timer's message factory panicked: the timer ends");
    }

    /// Counts `n` dropped ticks (all like `env`) and reports them once: one
    /// dead letter and one tracing event for the lot, whatever `n`.
    fn drop_ticks(&self, env: &Envelope, n: u64) {
        self.dropped.fetch_add(n, Ordering::Relaxed);
        tracing::debug!(
            addr = %self.addr,
            message = env.message_name(),
            dropped = n,
            "timer ticks dropped"
        );
        if let Some(shared) = self.shared.upgrade() {
            if let Some(m) = shared.instruments() {
                m.ticks_dropped(n);
            }
            shared
                .system
                .dead_letter_at(&shared, env, DeadLetterReason::Overflow);
        }
    }
}

/// A one-shot timer: sleeps until `at`, retires (it no longer counts as
/// active), then sends its message, waiting for space if needed.
pub(super) async fn one_shot(
    target: Target,
    make: MakeEnvelope,
    at: Instant,
    trace: TraceId,
    live: Live,
) {
    sleep_until(at).await;
    live.retire();
    match make(trace) {
        Ok(env) => {
            let _ = target.send(env).await;
        }
        Err(panic) => target.failed(&panic),
    }
}

/// A recurring timer on the grid `first + k * period`, `k >= 0`, whose
/// period and message the actor may change through `steer`.
///
/// (A plain function returning an `async move` block: the block keeps its
/// captures once, where an `async fn` would copy its arguments into locals
/// and keep both in the timer's future.)
#[allow(clippy::manual_async_fn)] // on purpose: see above
pub(super) fn recurring(
    target: Target,
    mut make: MakeEnvelope,
    mut plan: Plan,
    trace: TraceId,
    steer: Arc<Steer>,
    live: Live,
) -> impl Future<Output = ()> + Send {
    async move {
        let mut next = plan.first;
        loop {
            // Until the tick is due, take the actor's changes as they come
            // (the sleep lives in this block only, apart from the send).
            {
                let mut sleep = pin!(sleep_until(next));
                while let Some(changes) = poll_fn(|cx| match steer.poll_changes(cx) {
                    Some(changes) => Poll::Ready(Some(changes)),
                    None => sleep.as_mut().poll(cx).map(|()| None),
                })
                .await
                {
                    if let Some(new) = changes.make {
                        make = new;
                    }
                    if let Some((new, asked)) = changes.period {
                        if !plan.delayed {
                            next = next_after_change(next, plan.period, new, asked);
                            sleep.as_mut().reset(next);
                        }
                        plan.period = new;
                    }
                }
            }
            plan.delayed = false;
            let (interval, policy) = (plan.period, plan.policy);
            let res = match policy {
                MissPolicy::CatchUp => {
                    let due = ticks_due(next, Instant::now(), interval).max(1);
                    target.burst(&make, trace, due).map(|()| due)
                }
                MissPolicy::Skip | MissPolicy::Delay => match make(trace) {
                    Ok(env) => target.send(env).await.map(|()| 1).map_err(End::from),
                    Err(panic) => Err(End::Failed(panic)),
                },
            };
            let sent = match res {
                Ok(sent) => sent,
                Err(end) => {
                    live.retire();
                    if let End::Failed(panic) = end {
                        target.failed(&panic);
                    }
                    return;
                }
            };
            if policy == MissPolicy::CatchUp {
                // A tiny interval has ticks due at every wake: let the actor
                // (and everything else on this thread) run between wakes.
                tokio::task::yield_now().await;
            }
            next = match policy {
                // The grid instant after the burst.
                MissPolicy::CatchUp => advance(next, interval, sent),
                // The first grid instant strictly after the delivery.
                MissPolicy::Skip => {
                    let now = Instant::now();
                    advance(next, interval, ticks_due(next, now, interval).max(1))
                }
                // One interval after the delivery.
                MissPolicy::Delay => deadline_after(Instant::now(), interval),
            };
        }
    }
}

/// The next tick of a timer whose period changes from `old` to `new` at
/// `now`, its next tick being due at `next`: `new` after its last tick
/// (`next - old`), as elfo's `Interval::set_period` (the period changes,
/// not the time origin). If that instant has passed, the latest instant of
/// the new grid that is not after `now`: one tick at once, not one for
/// each instant of a grid that did not exist when they passed.
pub(super) fn next_after_change(
    next: Instant,
    old: Duration,
    new: Duration,
    now: Instant,
) -> Instant {
    let last = next.checked_sub(old).unwrap_or(now);
    let anchor = deadline_after(last, new);
    match ticks_due(anchor, now, new) {
        0 => anchor,
        due => advance(anchor, new, due - 1),
    }
}

/// How many grid instants `next + k * interval` (`k >= 0`) are at or before
/// `now`.
pub(super) fn ticks_due(next: Instant, now: Instant, interval: Duration) -> u64 {
    if now < next {
        return 0;
    }
    let late = (now - next).as_nanos();
    let n = late / interval.as_nanos().max(1) + 1;
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// `next + n * interval`, saturating to the far future.
pub(super) fn advance(next: Instant, interval: Duration, n: u64) -> Instant {
    let total = interval.as_nanos().saturating_mul(u128::from(n));
    let secs = u64::try_from(total / 1_000_000_000).unwrap_or(u64::MAX);
    // The remainder is below 10^9: it fits.
    let nanos = (total % 1_000_000_000) as u32;
    deadline_after(next, Duration::new(secs, nanos))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_arithmetic() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        assert_eq!(ticks_due(t0 + ms(10), t0, ms(10)), 0);
        assert_eq!(ticks_due(t0, t0, ms(10)), 1);
        assert_eq!(ticks_due(t0, t0 + ms(9), ms(10)), 1);
        assert_eq!(ticks_due(t0, t0 + ms(10), ms(10)), 2);
        assert_eq!(ticks_due(t0, t0 + ms(45), ms(10)), 5);
        assert_eq!(advance(t0, ms(10), 5), t0 + ms(50));
        // Saturates instead of overflowing.
        let far = advance(t0, Duration::MAX, u64::MAX);
        assert!(far > t0 + Duration::from_secs(86_400 * 365));
        assert_eq!(
            ticks_due(t0, t0 + ms(1), Duration::from_nanos(1)),
            1_000_001
        );
    }

    #[test]
    fn a_new_period_counts_from_the_last_tick() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        // Last tick at 10, next due at 20; at 17 the period becomes 15: 25.
        assert_eq!(
            next_after_change(t0 + ms(20), ms(10), ms(15), t0 + ms(17)),
            t0 + ms(25)
        );
        // Last tick at 25, next due at 40; at 35 it becomes 5: 30 has
        // passed, the grid 25 + 5k is at 35 now: one tick at once.
        assert_eq!(
            next_after_change(t0 + ms(40), ms(15), ms(5), t0 + ms(35)),
            t0 + ms(35)
        );
        // At 37 instead: the latest grid instant not after now is 35.
        assert_eq!(
            next_after_change(t0 + ms(40), ms(15), ms(5), t0 + ms(37)),
            t0 + ms(35)
        );
        // A longer period, not late.
        assert_eq!(
            next_after_change(t0 + ms(40), ms(15), ms(100), t0 + ms(35)),
            t0 + ms(125)
        );
    }

    #[tokio::test]
    async fn footprint() {
        // What one recurring timer costs besides its message: the task's
        // future (the task header adds about a hundred bytes).
        let (target, make) = (
            Target {
                shared: Weak::new(),
                addr: Addr::NULL,
                dropped: Arc::default(),
            },
            Box::new(|_| -> Result<Envelope, String> { unreachable!() }) as MakeEnvelope,
        );
        let plan = Plan {
            first: Instant::now(),
            delayed: false,
            period: Duration::from_secs(1),
            policy: MissPolicy::Skip,
        };
        let steer = Arc::new(Steer::new(super::super::MessageType::of::<()>()));
        let fut = recurring(target, make, plan, TraceId::generate(), steer, Live::new());
        let size = std::mem::size_of_val(&fut);
        println!("recurring timer future: {size} bytes");
        let sleep = std::mem::size_of::<tokio::time::Sleep>();
        println!("of which a tokio Sleep: {sleep} bytes");
        assert!(size <= 1024, "timer future grew to {size} bytes");
    }
}
