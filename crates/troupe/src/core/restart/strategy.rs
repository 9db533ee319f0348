//! What a supervisor does when a child exits: [`RestartStrategy`],
//! [`RestartType`], [`ShutdownStrategy`], [`Backoff`] and the
//! [`SupervisorConfig`] that gathers them.

use std::time::Duration;

use tokio::sync::mpsc::UnboundedSender;

use super::SupervisionEvent;

/// Which children a supervisor restarts when one of them must be restarted
/// (OTP's `strategy` supervisor flag).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum RestartStrategy {
    /// Restart only the child that exited. The default.
    #[default]
    OneForOne,
    /// Stop every other child (in reverse start order), then start them all
    /// again (in start order).
    OneForAll,
    /// Stop the children started after the one that exited (in reverse start
    /// order), then start it and them again (in start order).
    RestForOne,
    /// Many dynamic children of one kind, started from the supervisor's
    /// template (see `Supervisor::with_template`) or one by one with
    /// `spawn_child`. Restarts as [`RestartStrategy::OneForOne`]. At
    /// shutdown every child is asked to stop at once and then awaited, as
    /// OTP stops `simple_one_for_one` children asynchronously, in no
    /// particular order. A child that ends without being restarted is
    /// forgotten (OTP deletes such dynamic children).
    SimpleOneForOne,
}

/// When a child is restarted (OTP's `restart` child spec key).
///
/// A child is restarted only when its supervisor is not shutting down and
/// the system is not shutting down
/// ([`ActorSystem::is_shutting_down`](crate::ActorSystem::is_shutting_down)).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum RestartType {
    /// Always restarted, whatever the exit reason, even
    /// [`ExitReason::Normal`](crate::ExitReason::Normal): a permanent child
    /// that stops itself comes back. Use `stop_child` to stop it for good.
    /// The default.
    #[default]
    Permanent,
    /// Restarted only after an abnormal exit
    /// ([`ExitReason::is_abnormal`](crate::ExitReason::is_abnormal):
    /// anything but `Normal` and `Shutdown`; `Killed` and a
    /// [`Custom`](crate::ExitReason::Custom) reason are abnormal). After a
    /// normal exit its spec is kept, not running, and it is started again by
    /// a later group restart (one-for-all, rest-for-one), as OTP does.
    Transient,
    /// Never restarted, not even when a sibling's failure makes a
    /// one-for-all or rest-for-one supervisor stop it; it is forgotten once
    /// it has ended.
    Temporary,
}

impl RestartType {
    /// Whether a child of this type is restarted after exiting with `reason`.
    pub fn restarts_after(self, reason: &crate::exit::ExitReason) -> bool {
        match self {
            RestartType::Permanent => true,
            RestartType::Transient => reason.is_abnormal(),
            RestartType::Temporary => false,
        }
    }
}

/// How a supervisor stops one of its children (OTP's `shutdown` child spec
/// key).
///
/// A graceful stop is a tier-2 stop
/// ([`StopReason::Shutdown`](crate::StopReason::Shutdown)): a struct actor
/// runs `on_stopped`, a plain process sees its [`ProcessShutdown`] fire, a
/// nested supervisor stops its own children first.
///
/// [`ProcessShutdown`]: crate::supervision::ProcessShutdown
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ShutdownStrategy {
    /// Asks the child to stop and waits up to this long, then kills it. The
    /// default for workers (5 s, as OTP's default of 5000 ms).
    Graceful(Duration),
    /// Asks the child to stop and waits as long as it takes. The default for
    /// supervisors, whose own stop is bounded by their children's shutdown
    /// strategies (as OTP's `infinity` for supervisor children). Use it for
    /// workers only when their stop is bounded by other means; the system's
    /// shutdown timeout still bounds a whole-system shutdown.
    Infinity,
    /// Kills the child at once: no hook runs (OTP's `brutal_kill`).
    Brutal,
}

impl ShutdownStrategy {
    /// The default for workers: graceful, 5 s.
    pub const WORKER_DEFAULT: ShutdownStrategy =
        ShutdownStrategy::Graceful(crate::defaults::WORKER_SHUTDOWN);
}

impl Default for ShutdownStrategy {
    fn default() -> Self {
        Self::WORKER_DEFAULT
    }
}

/// A delay before each restart, growing with the number of recent
/// restarts. OTP restarts at once; backoff is a troupe addition for children
/// that fail because of something outside (a service down).
///
/// The delay is `initial * 2^(n-1)`, capped at `max`, where `n` is the
/// number of restarts in the supervisor's current budget window, including
/// this one. (The actors of a group count their own restarts in a row
/// instead, see [`RestartPolicy`](crate::RestartPolicy).) Waiting does not block the supervisor: it keeps answering
/// introspection and stop requests, and the restart happens on a timer.
///
/// ```
/// use std::time::Duration;
/// use troupe::supervision::Backoff;
/// let b = Backoff::exponential(Duration::from_millis(100), Duration::from_secs(1));
/// assert_eq!(b.delay(1), Duration::from_millis(100));
/// assert_eq!(b.delay(3), Duration::from_millis(400));
/// assert_eq!(b.delay(10), Duration::from_secs(1));
/// assert_eq!(Backoff::fixed(Duration::from_millis(50)).delay(7), Duration::from_millis(50));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Backoff {
    initial: Duration,
    max: Duration,
    exponential: bool,
}

impl Backoff {
    /// The same delay before every restart.
    pub fn fixed(delay: Duration) -> Self {
        Self {
            initial: delay,
            max: delay,
            exponential: false,
        }
    }

    /// A delay that doubles with each recent restart, from `initial` up to
    /// `max`.
    pub fn exponential(initial: Duration, max: Duration) -> Self {
        Self {
            initial,
            max: max.max(initial),
            exponential: true,
        }
    }

    /// The delay before the `n`-th restart of the current window (1-based).
    pub fn delay(&self, n: usize) -> Duration {
        if !self.exponential {
            return self.initial;
        }
        let shift = n.saturating_sub(1).min(31) as u32;
        self.initial
            .checked_mul(1u32 << shift)
            .map_or(self.max, |d| d.min(self.max))
    }
}

/// The settings of a supervisor: strategy, restart budget, backoff, and an
/// optional observer of what it does.
///
/// The restart budget is OTP's intensity and period: at most
/// `max_restarts` restarts within any window of `within`; the restart that
/// would exceed it is not made: the supervisor stops all its children (in
/// reverse start order) and exits with reason
/// [`ExitReason::Shutdown`](crate::ExitReason::Shutdown), as an OTP
/// supervisor does: a transient parent does not restart it, a permanent one
/// does (a plain [`Supervisor`](crate::supervision::Supervisor)'s handle
/// still reports `RestartBudgetExceeded`). The default is 3 restarts in
/// 5 s; `max_restarts(0, _)` means "never restart".
///
/// ```
/// use std::time::Duration;
/// use troupe::supervision::{RestartStrategy, SupervisorConfig};
/// let config = SupervisorConfig::one_for_all().max_restarts(5, Duration::from_secs(10));
/// assert_eq!(config.strategy(), RestartStrategy::OneForAll);
/// assert_eq!(config.budget(), (5, Duration::from_secs(10)));
/// assert_eq!(SupervisorConfig::default().budget(), (3, Duration::from_secs(5)));
/// ```
#[derive(Clone, Debug)]
pub struct SupervisorConfig {
    strategy: RestartStrategy,
    max_restarts: usize,
    within: Duration,
    backoff: Option<Backoff>,
    observer: Option<UnboundedSender<SupervisionEvent>>,
}

impl Default for SupervisorConfig {
    fn default() -> Self {
        Self {
            strategy: RestartStrategy::OneForOne,
            max_restarts: 3,
            within: crate::defaults::RESTART_WINDOW,
            backoff: None,
            observer: None,
        }
    }
}

impl SupervisorConfig {
    /// One-for-one, 3 restarts in 5 s.
    pub fn one_for_one() -> Self {
        Self::default()
    }

    /// One-for-all, 3 restarts in 5 s.
    pub fn one_for_all() -> Self {
        Self::default().strategy_is(RestartStrategy::OneForAll)
    }

    /// Rest-for-one, 3 restarts in 5 s.
    pub fn rest_for_one() -> Self {
        Self::default().strategy_is(RestartStrategy::RestForOne)
    }

    /// Simple-one-for-one, 3 restarts in 5 s.
    pub fn simple_one_for_one() -> Self {
        Self::default().strategy_is(RestartStrategy::SimpleOneForOne)
    }

    /// Sets the strategy.
    pub fn strategy_is(mut self, strategy: RestartStrategy) -> Self {
        self.strategy = strategy;
        self
    }

    /// Sets the restart budget: at most `max` restarts within any window of
    /// `within` (OTP's intensity and period).
    pub fn max_restarts(mut self, max: usize, within: Duration) -> Self {
        self.max_restarts = max;
        self.within = within;
        self
    }

    /// Waits before each restart (see [`Backoff`]).
    pub fn with_backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = Some(backoff);
        self
    }

    /// Reports what the supervisor does (children started, exited, stopped;
    /// the budget exceeded) to `observer`, in order. Meant for tests,
    /// monitoring and examples; a closed observer is ignored.
    pub fn observe(mut self, observer: UnboundedSender<SupervisionEvent>) -> Self {
        self.observer = Some(observer);
        self
    }

    /// The strategy.
    pub fn strategy(&self) -> RestartStrategy {
        self.strategy
    }

    /// The restart budget: `(max_restarts, within)`.
    pub fn budget(&self) -> (usize, Duration) {
        (self.max_restarts, self.within)
    }

    /// The backoff, if any.
    pub fn backoff(&self) -> Option<Backoff> {
        self.backoff
    }

    pub(crate) fn observer(&self) -> Option<&UnboundedSender<SupervisionEvent>> {
        self.observer.as_ref()
    }
}
