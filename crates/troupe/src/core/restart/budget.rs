//! The restart budget: a sliding window of recent restart times.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::time::Instant;

/// At most `max` restarts within any window of `within`, as OTP's
/// `add_restart`: a restart is recorded, restarts older than `within` are
/// forgotten (one exactly `within` old still counts), and the budget is
/// exceeded when more than `max` remain.
///
/// This is the budget every supervisor keeps (see
/// [`SupervisorConfig::max_restarts`](crate::supervision::SupervisorConfig::max_restarts)).
/// It is public so that other restarting front-ends (such as pipeline
/// stages, restarted on their own threads) count restarts by the same
/// rule instead of a copy of it.
///
/// Time is Tokio's clock ([`tokio::time::Instant`]), so paused-time tests
/// drive it; outside a runtime, `Instant::now()` is the system clock.
///
/// ```
/// use std::time::Duration;
/// use tokio::time::Instant;
/// use troupe::supervision::RestartBudget;
///
/// let mut budget = RestartBudget::new(3, Duration::from_secs(5));
/// let t0 = Instant::now();
/// assert!(budget.record(t0));
/// assert!(budget.record(t0));
/// assert!(budget.record(t0));
/// assert_eq!(budget.recent(), 3);
/// // A fourth restart within 5 s exceeds the budget: do not make it.
/// assert!(!budget.record(t0 + Duration::from_secs(1)));
/// ```
#[derive(Clone, Debug)]
pub struct RestartBudget {
    max: usize,
    within: Duration,
    recent: VecDeque<Instant>,
}

impl RestartBudget {
    /// A budget of at most `max` restarts within any window of `within`
    /// (`max == 0`: never restart).
    pub fn new(max: usize, within: Duration) -> Self {
        Self {
            max,
            within,
            recent: VecDeque::new(),
        }
    }

    /// Records a restart at `now`. Returns `false` if it exceeds the budget
    /// (the restart must not be made: the supervisor gives up).
    pub fn record(&mut self, now: Instant) -> bool {
        while let Some(&oldest) = self.recent.front() {
            if now.saturating_duration_since(oldest) > self.within {
                self.recent.pop_front();
            } else {
                break;
            }
        }
        self.recent.push_back(now);
        self.recent.len() <= self.max
    }

    /// Restarts in the current window (including the last one recorded):
    /// the `n` of [`Backoff::delay`](crate::supervision::Backoff::delay).
    pub fn recent(&self) -> usize {
        self.recent.len()
    }

    /// The budget: `(max, within)`.
    pub fn limits(&self) -> (usize, Duration) {
        (self.max, self.within)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_is_sliding_and_inclusive() {
        let t0 = Instant::now();
        let s = Duration::from_secs(1);
        let mut b = RestartBudget::new(2, 5 * s);
        assert!(b.record(t0));
        assert!(b.record(t0 + s));
        // Third restart within 5 s of the first: exceeded.
        assert!(!b.record(t0 + 5 * s));
        let mut b = RestartBudget::new(2, 5 * s);
        assert!(b.record(t0));
        assert!(b.record(t0 + s));
        // The first is now more than 5 s old: forgotten.
        assert!(b.record(t0 + 5 * s + Duration::from_millis(1)));
        assert_eq!(b.recent(), 2);
    }

    #[test]
    fn zero_budget_never_restarts() {
        let mut b = RestartBudget::new(0, Duration::from_secs(5));
        assert!(!b.record(Instant::now()));
    }
}
