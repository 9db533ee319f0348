//! Spawning struct actors: [`ActorConfig`], the [`Spawn`] extension and its
//! [`SpawnBuilder`].

use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::time::Duration;

use crate::actor::Actor;
use crate::actor_ref::ActorRef;
use crate::error::SpawnError;
use crate::mailbox::{OverflowPolicy, DEFAULT_CAPACITY};
use crate::system::ActorSystem;

/// Per-actor settings: mailbox size and policy, request timeout, and
/// (optionally) the supervision config that makes the actor a supervisor.
#[derive(Clone, Debug)]
pub struct ActorConfig {
    mailbox_capacity: usize,
    overflow: OverflowPolicy,
    request_timeout: Option<Duration>,
    supervision: Option<crate::supervision::SupervisorConfig>,
}

impl Default for ActorConfig {
    fn default() -> Self {
        Self {
            mailbox_capacity: DEFAULT_CAPACITY,
            overflow: OverflowPolicy::Wait,
            request_timeout: Some(Duration::from_secs(5)),
            supervision: None,
        }
    }
}

impl ActorConfig {
    /// Sets the mailbox capacity (at least 1; default 64).
    pub fn with_mailbox_capacity(mut self, capacity: usize) -> Self {
        self.mailbox_capacity = capacity.max(1);
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
        self.with_supervision(crate::supervision::SupervisorConfig::default())
    }

    /// Makes the actor a supervisor with this config; the same as
    /// `.with_supervision(config)` on the spawn builder (which wins if both
    /// are given).
    pub fn with_supervision(mut self, config: crate::supervision::SupervisorConfig) -> Self {
        self.supervision = Some(config);
        self
    }

    /// The supervision config, if the actor is to be a supervisor.
    pub fn supervision(&self) -> Option<&crate::supervision::SupervisorConfig> {
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

/// Starts every spawn: `actor.spawn()`, then options, then `.await`.
///
/// ```
/// use troupe::prelude::*;
///
/// struct Idle;
/// impl Actor for Idle {}
///
/// # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let system = ActorSystem::create("doc-spawn")?;
/// let handle = Idle
///     .spawn()
///     .named("idle")
///     .with_config(ActorConfig::default().with_mailbox_capacity(8))
///     .on_system(&system)
///     .await?;
/// assert_eq!(handle.mailbox_capacity(), 8);
/// assert!(system.get::<Idle>("idle").is_some());
/// # system.shutdown().await; Ok(()) }
/// ```
pub trait Spawn: Actor {
    /// A builder that spawns this actor when awaited.
    fn spawn(self) -> SpawnBuilder<Self> {
        SpawnBuilder {
            actor: self,
            name: None,
            config: None,
            system: None,
            supervision: None,
        }
    }
}

impl<A: Actor> Spawn for A {}

/// Options of a spawn; await it to start the actor.
///
/// The spawn completes once `pre_start` has succeeded (as OTP's
/// `start_link`), so a returned handle always addresses a running actor.
#[must_use = "a spawn builder does nothing until awaited"]
pub struct SpawnBuilder<A: Actor> {
    pub(crate) actor: A,
    pub(crate) name: Option<String>,
    pub(crate) config: Option<ActorConfig>,
    pub(crate) system: Option<ActorSystem>,
    /// Set by `.supervised()` / `.with_supervision(config)` (see `supervision::actor`).
    pub(crate) supervision: Option<crate::supervision::SupervisorConfig>,
}

impl<A: Actor> SpawnBuilder<A> {
    /// Registers the actor under `name` in its system (unique per system).
    pub fn named(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Uses this config instead of the system's default actor config.
    pub fn with_config(mut self, config: ActorConfig) -> Self {
        self.config = Some(config);
        self
    }

    /// Spawns into this system instead of the default one.
    pub fn on_system(mut self, system: &ActorSystem) -> Self {
        self.system = Some(system.clone());
        self
    }
}

impl<A: Actor> IntoFuture for SpawnBuilder<A> {
    type Output = Result<ActorRef<A>, SpawnError>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let system = self.system.unwrap_or_default();
            let config = self
                .config
                .unwrap_or_else(|| system.default_actor_config().clone());
            let supervision = self.supervision.or_else(|| config.supervision().cloned());
            crate::runner::spawn(self.actor, system, self.name, config, supervision).await
        })
    }
}
