//! Per-process settings: [`ActorConfig`].

use std::time::Duration;

use super::mailbox::OverflowPolicy;
use super::restart::SupervisorConfig;
use crate::defaults;

/// Per-actor settings: mailbox size and policy, request timeout, and
/// (optionally) the supervision config that makes the actor a supervisor.
#[derive(Clone, Debug)]
pub struct ActorConfig {
    mailbox_capacity: usize,
    overflow: OverflowPolicy,
    request_timeout: Option<Duration>,
    supervision: Option<SupervisorConfig>,
    actor_metrics: bool,
}

impl Default for ActorConfig {
    fn default() -> Self {
        Self {
            mailbox_capacity: defaults::MAILBOX_CAPACITY,
            overflow: OverflowPolicy::Wait,
            request_timeout: Some(defaults::REQUEST_TIMEOUT),
            supervision: None,
            actor_metrics: false,
        }
    }
}

impl ActorConfig {
    /// Sets the mailbox capacity: at least 1, at most
    /// [`MAX_MAILBOX_CAPACITY`](defaults::MAX_MAILBOX_CAPACITY) (a larger
    /// one is clamped to it, with a warning in the log: a mailbox is never
    /// unbounded in disguise); default 64.
    ///
    /// ```
    /// use troupe::defaults::MAX_MAILBOX_CAPACITY;
    /// use troupe::ActorConfig;
    /// let huge = ActorConfig::default().with_mailbox_capacity(usize::MAX);
    /// assert_eq!(huge.mailbox_capacity(), MAX_MAILBOX_CAPACITY);
    /// let none = ActorConfig::default().with_mailbox_capacity(0);
    /// assert_eq!(none.mailbox_capacity(), 1);
    /// ```
    pub fn with_mailbox_capacity(mut self, capacity: usize) -> Self {
        if capacity > defaults::MAX_MAILBOX_CAPACITY {
            tracing::warn!(
                capacity,
                max = defaults::MAX_MAILBOX_CAPACITY,
                "mailbox capacity clamped to the maximum"
            );
        }
        self.mailbox_capacity = capacity.clamp(1, defaults::MAX_MAILBOX_CAPACITY);
        self
    }

    /// Sets the overflow policy (default [`OverflowPolicy::Wait`]).
    pub fn with_overflow(mut self, policy: OverflowPolicy) -> Self {
        self.overflow = policy;
        self
    }

    /// Sets the default deadline of requests to this actor (default 5 s, as
    /// `gen_server:call/2`; `None` waits forever). It also bounds how long
    /// `stop` and `get_status` wait.
    pub fn with_request_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Makes the actor a supervisor with the default config (one-for-one,
    /// 3 restarts in 5 s); the same as `.supervised()` on the spawn builder.
    pub fn supervised(self) -> Self {
        self.with_supervision(SupervisorConfig::default())
    }

    /// Makes the actor a supervisor with this config; the same as
    /// `.with_supervision(config)` on the spawn builder (which wins if both
    /// are given).
    pub fn with_supervision(mut self, config: SupervisorConfig) -> Self {
        self.supervision = Some(config);
        self
    }

    /// Gives the actors spawned with this config series of their own in
    /// the system's metrics: the label `actor` beside `group` (see
    /// [`crate::metrics`]; off by default, so that series stay bounded).
    /// A group opts in with its config ([`ActorGroup::config`]), a struct
    /// actor with its spawn's. It has no effect in a system with metrics
    /// off ([`SystemConfig::metrics`]).
    ///
    /// ```
    /// use troupe::{ActorConfig, ActorGroup};
    ///
    /// let config = ActorConfig::default().with_actor_metrics(true);
    /// assert!(config.actor_metrics());
    /// let group = ActorGroup::new().config(config);
    /// # let _ = group;
    /// ```
    ///
    /// [`ActorGroup::config`]: crate::ActorGroup::config
    /// [`SystemConfig::metrics`]: crate::SystemConfig::metrics
    pub fn with_actor_metrics(mut self, per_actor: bool) -> Self {
        self.actor_metrics = per_actor;
        self
    }

    /// Whether actors spawned with this config have series of their own.
    pub fn actor_metrics(&self) -> bool {
        self.actor_metrics
    }

    /// The supervision config, if the actor is to be a supervisor.
    pub fn supervision(&self) -> Option<&SupervisorConfig> {
        self.supervision.as_ref()
    }

    /// The mailbox capacity.
    pub fn mailbox_capacity(&self) -> usize {
        self.mailbox_capacity
    }

    /// The overflow policy.
    pub fn overflow(&self) -> OverflowPolicy {
        self.overflow
    }

    /// The default request deadline.
    pub fn request_timeout(&self) -> Option<Duration> {
        self.request_timeout
    }
}
