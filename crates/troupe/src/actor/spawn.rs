//! Spawning struct actors: the [`Spawn`] extension and its [`SpawnBuilder`].

use std::future::{Future, IntoFuture};
use std::pin::Pin;

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
            super::run::spawn(self.actor, system, self.name, config, supervision).await
        })
    }
}

impl<A: Actor> std::fmt::Debug for SpawnBuilder<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpawnBuilder").finish_non_exhaustive()
    }
}
