//! [`RestartPolicy`]: when a group's actors restart, or, set at run time,
//! one process of any kind: a preset over the one restart engine.

use std::time::Duration;

use super::retry::Retry;
use super::strategy::{Backoff, RestartType, SupervisorConfig};

/// When a group restarts one of its actors whose `exec` returned or failed:
/// a preset over the one restart engine.
///
/// A mounted group is a supervisor process whose children are the group's
/// keyed actors (started on demand by routing); this policy sets their
/// [`RestartType`] (`never` is temporary, `on_failure` transient, `always`
/// permanent, with [`ExitReason::is_abnormal`](crate::ExitReason::is_abnormal)
/// deciding what a failure is), the exponential [`Backoff`] between
/// restarts, and the group's restart budget. When the budget is exceeded
/// the group's supervisor stops every actor of the group and exits (with
/// reason `shutdown`, as an OTP supervisor): a group mounted under a
/// supervisor is then restarted or not by that supervisor's strategy; a
/// group mounted by a topology is gone, and what is routed to it becomes a
/// dead letter.
///
/// Each actor is also retried on its own terms (elfo's `RestartParams`):
/// its backoff grows with *its* restarts in a row, from `min` after its
/// first failure; an incarnation that ran at least
/// [`with_auto_reset`](Self::with_auto_reset) (default: the budget's
/// window) resets that count, so its next failure starts from `min` again;
/// and [`with_max_retries`](Self::with_max_retries) caps the restarts in
/// a row, past which the actor is not restarted (its group goes on, and a
/// message routed to its key later starts it anew). The budget counts the
/// restarts of every actor of the group together, and ends the group.
/// An actor can change its own policy while it runs
/// ([`set_restart_policy`](crate::ContextCore::set_restart_policy), on
/// the context of any kind of actor).
///
/// Across a restart an actor keeps its address *and* its mailbox: what was
/// queued when it exited, and what is sent while it waits for its restart,
/// is handled by the next incarnation (the same holds for struct actors:
/// see [`supervision`](crate::supervision)). No restart happens once the
/// actor was asked to stop or the system shuts down.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RestartPolicy {
    restart: RestartType,
    backoff: Backoff,
    max_restarts: usize,
    within: Duration,
    max_retries: Option<u64>,
    auto_reset: Option<Duration>,
}

impl Default for RestartPolicy {
    /// Restart after a failure (error or panic), as a transient OTP child.
    fn default() -> Self {
        Self::on_failure()
    }
}

impl RestartPolicy {
    /// Never restart: the actor ends with its `exec` (temporary).
    pub fn never() -> Self {
        Self::with_type(RestartType::Temporary)
    }

    /// Restart when `exec` returns an error or panics (transient).
    pub fn on_failure() -> Self {
        Self::with_type(RestartType::Transient)
    }

    /// Restart whenever `exec` ends, even successfully (permanent).
    pub fn always() -> Self {
        Self::with_type(RestartType::Permanent)
    }

    fn with_type(restart: RestartType) -> Self {
        Self {
            restart,
            backoff: Backoff::exponential(
                crate::defaults::GROUP_BACKOFF_MIN,
                crate::defaults::GROUP_BACKOFF_MAX,
            ),
            max_restarts: crate::defaults::GROUP_MAX_RESTARTS,
            within: crate::defaults::GROUP_RESTART_WINDOW,
            max_retries: None,
            auto_reset: None,
        }
    }

    /// Sets the exponential backoff between restarts of an actor: `min`
    /// before its first restart in a row, doubling with each next one, up
    /// to `max`. Defaults: 10 ms to 10 s. A zero backoff still restarts
    /// through a timer: each restart yields to the scheduler, and an actor
    /// that fails forever is ended by the budget, not spun on.
    pub fn with_backoff(mut self, min: Duration, max: Duration) -> Self {
        self.backoff = Backoff::exponential(min, max);
        self
    }

    /// Sets the group's restart budget: more than `max` restarts within
    /// `within` and the group gives up (default: 20 in 60 s).
    pub fn with_budget(mut self, max: usize, within: Duration) -> Self {
        self.max_restarts = max;
        self.within = within;
        self
    }

    /// Caps the restarts in a row of each actor (elfo's `max_retries`):
    /// after `max` restarts without a reset (see
    /// [`with_auto_reset`](Self::with_auto_reset)), the next exit that
    /// would restart the actor does not; its group goes on. Default: no
    /// cap of its own, only the group's budget. `0` never restarts.
    ///
    /// ```
    /// use std::time::Duration;
    /// use troupe::RestartPolicy;
    ///
    /// let policy = RestartPolicy::on_failure()
    ///     .with_backoff(Duration::from_millis(100), Duration::from_secs(5))
    ///     .with_max_retries(3)
    ///     .with_auto_reset(Duration::from_secs(30));
    /// assert_eq!(policy.max_retries(), Some(3));
    /// assert_eq!(policy.auto_reset(), Duration::from_secs(30));
    /// ```
    pub fn with_max_retries(mut self, max: u64) -> Self {
        self.max_retries = Some(max);
        self
    }

    /// Sets how long an incarnation must run to count as healthy (elfo's
    /// `auto_reset`): when one that ran at least `healthy` fails, its
    /// restart is the first in a row again (the minimum backoff, a fresh
    /// count of retries). Default: the budget's window.
    pub fn with_auto_reset(mut self, healthy: Duration) -> Self {
        self.auto_reset = Some(healthy);
        self
    }

    /// The cap on restarts in a row of each actor, if any.
    pub fn max_retries(&self) -> Option<u64> {
        self.max_retries
    }

    /// How long an incarnation must run to reset its restarts in a row.
    pub fn auto_reset(&self) -> Duration {
        self.auto_reset.unwrap_or(self.within)
    }

    /// The backoff between restarts of one actor.
    pub fn backoff(&self) -> Backoff {
        self.backoff
    }

    /// How each actor is retried on its own terms.
    pub(crate) fn retry(&self) -> Retry {
        Retry {
            backoff: self.backoff,
            max_retries: self.max_retries,
            auto_reset: Some(self.auto_reset()),
        }
    }

    /// The restart type of the group's actors.
    pub fn restart_type(&self) -> RestartType {
        self.restart
    }

    /// The restart budget: at most `max` restarts within `within`.
    pub fn budget(&self) -> (usize, Duration) {
        (self.max_restarts, self.within)
    }

    /// This policy with another restart type (keeping its budget and
    /// backoff).
    pub fn with_restart_type(mut self, restart: RestartType) -> Self {
        self.restart = restart;
        self
    }

    /// The group's supervisor: simple-one-for-one over its keyed actors,
    /// with this policy's budget and backoff.
    pub(crate) fn supervisor_config(&self) -> SupervisorConfig {
        SupervisorConfig::simple_one_for_one()
            .max_restarts(self.max_restarts, self.within)
            .with_backoff(self.backoff)
    }
}
