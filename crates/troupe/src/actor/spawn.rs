//! Spawning struct actors: the [`Spawn`] extension and its [`SpawnBuilder`].

use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::time::Duration;

use super::{Actor, ActorRef};
use crate::core::config::ActorConfig;
use crate::core::restart::SupervisorConfig;
use crate::core::system::ActorSystem;
use crate::error::SpawnError;

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
            start_timeout: None,
        }
    }
}

impl<A: Actor> Spawn for A {}

/// Options of a spawn; await it to start the actor.
///
/// The spawn completes once `pre_start` has succeeded (as OTP's
/// `start_link`), so a returned handle always addresses a running actor.
///
/// While `pre_start` runs, the actor is registered (its name is taken) and
/// can be reached by name:
///
/// - a kill ([`ActorRef::kill`], [`ActorSystem::kill`]) ends the start at
///   once: `pre_start` is dropped at its current await point, the children
///   it started as a supervisor are killed, and the spawn fails with [`SpawnError::Killed`];
/// - a graceful stop or a shutdown waits for `pre_start` to complete (as
///   OTP's `init` completes before a supervisor's stop is handled) and
///   takes effect right after it: the spawn returns its handle, and the
///   actor stops before its first message;
/// - dropping the spawn's future (a `tokio::time::timeout` around it, an
///   aborted spawner task) kills the starting actor the same way: a
///   cancelled spawn leaves nothing behind.
#[must_use = "a spawn builder does nothing until awaited"]
pub struct SpawnBuilder<A: Actor> {
    pub(crate) actor: A,
    pub(crate) name: Option<String>,
    pub(crate) config: Option<ActorConfig>,
    pub(crate) system: Option<ActorSystem>,
    /// Set by `.supervised()` / `.with_supervision(config)` (see `supervision::actor`).
    pub(crate) supervision: Option<SupervisorConfig>,
    pub(crate) start_timeout: Option<Duration>,
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

    /// Bounds how long the start (`pre_start`) may take: past `timeout` the
    /// spawn fails with [`SpawnError::StartTimeout`], and the starting
    /// actor is killed, leaving nothing behind (no process, no name). As
    /// the `Timeout` option of OTP's `gen_server:start`, there is no bound
    /// unless one is given (a supervisor's children have 5 s by default:
    /// [`ChildSpawnBuilder::start_timeout`](crate::ChildSpawnBuilder::start_timeout)).
    ///
    /// ```
    /// use std::time::Duration;
    /// use troupe::prelude::*;
    ///
    /// struct Stuck;
    /// impl Actor for Stuck {
    ///     async fn pre_start(&mut self, _: &mut ActorContext<Self>) -> HandlerResult {
    ///         std::future::pending::<()>().await;
    ///         Ok(())
    ///     }
    /// }
    ///
    /// # #[tokio::main] async fn main() {
    /// let system = ActorSystem::create("start-timeout-doc").unwrap();
    /// let spawned = Stuck
    ///     .spawn()
    ///     .named("stuck")
    ///     .start_timeout(Duration::from_millis(50))
    ///     .on_system(&system)
    ///     .await;
    /// assert!(matches!(spawned, Err(SpawnError::StartTimeout(_))));
    /// assert!(system.whereis("stuck").is_none());
    /// # }
    /// ```
    pub fn start_timeout(mut self, timeout: Duration) -> Self {
        self.start_timeout = Some(timeout);
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
            let spawn = super::run::spawn(self.actor, system, self.name, config, supervision);
            match self.start_timeout {
                // Dropping the spawn at the timeout kills the starting
                // actor and unregisters it (see the type's docs).
                Some(limit) => tokio::time::timeout(limit, spawn)
                    .await
                    .unwrap_or(Err(SpawnError::StartTimeout(limit))),
                None => spawn.await,
            }
        })
    }
}

impl<A: Actor> std::fmt::Debug for SpawnBuilder<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpawnBuilder").finish_non_exhaustive()
    }
}
