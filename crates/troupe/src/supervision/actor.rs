//! The struct-actor front-end: supervisor actors (`.supervised()`,
//! `.with_supervision(config)`), their children (`ctx.spawn_child`,
//! `ctx.supervise`), introspection and `stop_child`.

use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use crate::actor::{Actor, BoxFuture};
use crate::actor_ref::ActorRef;
use crate::context::ActorContext;
use crate::process::ExitReason;
use crate::runner::short_type_name;
use crate::spawn::{ActorConfig, SpawnBuilder};

use super::child::{ActorStart, ChildInfo, ChildSpec, START_TIMEOUT};
use super::strategy::{RestartType, ShutdownStrategy, SupervisorConfig};
use super::supervisor::ask;
use super::{ChildId, ChildKey, SupMsg, SupervisorError};

impl<A: Actor> SpawnBuilder<A> {
    /// Makes the actor a supervisor of the children it spawns with
    /// [`ActorContext::spawn_child`], with the default config (one-for-one,
    /// 3 restarts in 5 s).
    pub fn supervised(self) -> Self {
        self.with_supervision(SupervisorConfig::default())
    }

    /// Makes the actor a supervisor with this config.
    ///
    /// ```
    /// use std::time::Duration;
    /// use troupe::prelude::*;
    /// use troupe::supervision::SupervisorConfig;
    ///
    /// struct Worker;
    /// impl Actor for Worker {}
    ///
    /// struct MySupervisor;
    /// impl Actor for MySupervisor {
    ///     async fn pre_start(&mut self, ctx: &mut ActorContext<Self>) -> HandlerResult {
    ///         ctx.spawn_child(|| Worker).named("worker-1").await?;
    ///         ctx.spawn_child(|| Worker).named("worker-2").await?;
    ///         Ok(())
    ///     }
    /// }
    ///
    /// # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let system = ActorSystem::create("doc-with-supervision")?;
    /// let sup = SupervisorConfig::one_for_all().max_restarts(5, Duration::from_secs(10));
    /// let handle = MySupervisor
    ///     .spawn()
    ///     .named("sup")
    ///     .on_system(&system)
    ///     .with_supervision(sup)
    ///     .await?;
    /// assert_eq!(handle.children().await?.len(), 2);
    /// let worker = system.get::<Worker>("worker-1").expect("running");
    /// worker.kill().await?;
    /// // Once `kill` returned, the supervisor has been told; its answer to
    /// // `children` comes after it restarted both workers (one-for-all).
    /// let children = handle.children().await?;
    /// assert!(children.iter().all(|c| c.alive && c.restarts == 1));
    /// assert!(worker.is_alive()); // the same handle reaches the new incarnation
    /// system.shutdown().await;
    /// # Ok(()) }
    /// ```
    pub fn with_supervision(mut self, config: SupervisorConfig) -> Self {
        self.supervision = Some(config);
        self
    }
}

impl<A: Actor> ActorContext<A> {
    /// Spawns a struct actor supervised by this one, built by `factory` now
    /// and again at each restart. Chain options, then await: it resolves to
    /// the child's handle once its `pre_start` succeeded.
    ///
    /// The handle stays valid across restarts: a restarted child keeps its
    /// address, name and mailbox. Fails with
    /// [`SupervisorError::NotASupervisor`] unless this actor was spawned
    /// with `.supervised()` or `.with_supervision(config)`.
    pub fn spawn_child<C, F>(&mut self, factory: F) -> ChildSpawnBuilder<'_, A, C>
    where
        C: Actor,
        F: Fn() -> C + Send + Sync + 'static,
    {
        ChildSpawnBuilder {
            ctx: self,
            factory: Arc::new(factory),
            name: None,
            restart: RestartType::Permanent,
            shutdown: None,
            config: None,
            supervision: None,
            start_timeout: None,
        }
    }

    /// Starts any child (a plain process, a nested plain supervisor, a
    /// struct actor) under this supervisor actor.
    pub async fn supervise(
        &mut self,
        child: impl Into<ChildSpec>,
    ) -> Result<ChildId, SupervisorError> {
        let engine = self
            .supervision
            .as_mut()
            .ok_or(SupervisorError::NotASupervisor)?;
        Ok(engine.add_child(child.into()).await?.0)
    }

    /// Its children, in start order (empty if it is not a supervisor).
    pub fn children(&self) -> Vec<ChildInfo> {
        self.supervision
            .as_ref()
            .map(|e| e.children())
            .unwrap_or_default()
    }

    /// Stops a child for good, by its shutdown strategy, and forgets it
    /// (OTP `terminate_child` then `delete_child`).
    pub async fn stop_child(&mut self, child: impl Into<ChildKey>) -> Result<(), SupervisorError> {
        let engine = self
            .supervision
            .as_mut()
            .ok_or(SupervisorError::NotASupervisor)?;
        engine.stop_child(child.into()).await
    }

    /// Whether this actor is a supervisor.
    pub fn is_supervisor(&self) -> bool {
        self.supervision.is_some()
    }
}

impl<A: Actor> ActorRef<A> {
    /// The children of this supervisor actor, in start order, asked through
    /// its system channel (answered between two messages; waits at most
    /// 5 s). Fails with [`SupervisorError::NotASupervisor`] if it is not a
    /// supervisor.
    pub async fn children(&self) -> Result<Vec<ChildInfo>, SupervisorError> {
        ask(
            self.shared(),
            SupMsg::Children,
            Some(Duration::from_secs(5)),
        )
        .await
    }
}

/// Options of a child spawned by a supervisor actor; await it to start the
/// child. See [`ActorContext::spawn_child`].
#[must_use = "a child spawn builder does nothing until awaited"]
pub struct ChildSpawnBuilder<'a, A: Actor, C: Actor> {
    ctx: &'a mut ActorContext<A>,
    factory: Arc<dyn Fn() -> C + Send + Sync>,
    name: Option<String>,
    restart: RestartType,
    shutdown: Option<ShutdownStrategy>,
    config: Option<ActorConfig>,
    supervision: Option<SupervisorConfig>,
    start_timeout: Option<Option<Duration>>,
}

impl<A: Actor, C: Actor> ChildSpawnBuilder<'_, A, C> {
    /// Registers the child under `name` in the system (it keeps the name
    /// across restarts).
    pub fn named(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Sets its restart type (default [`RestartType::Permanent`]).
    pub fn restart_type(mut self, restart: RestartType) -> Self {
        self.restart = restart;
        self
    }

    /// Sets its shutdown strategy (default: graceful, 5 s; infinity for a
    /// child that is itself a supervisor).
    pub fn shutdown(mut self, shutdown: ShutdownStrategy) -> Self {
        self.shutdown = Some(shutdown);
        self
    }

    /// Uses this actor config instead of the system's default.
    pub fn with_config(mut self, config: ActorConfig) -> Self {
        self.config = Some(config);
        self
    }

    /// Makes the child a supervisor too (of the children it spawns), with
    /// the default config.
    pub fn supervised(self) -> Self {
        self.with_supervision(SupervisorConfig::default())
    }

    /// Makes the child a supervisor too, with this config.
    pub fn with_supervision(mut self, config: SupervisorConfig) -> Self {
        self.supervision = Some(config);
        self
    }

    /// Bounds how long each start (`pre_start`) may take (default 5 s; no
    /// bound of its own for a supervisor child, whose start is bounded by
    /// its children's).
    pub fn start_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.start_timeout = Some(timeout);
        self
    }
}

impl<'a, A: Actor, C: Actor> IntoFuture for ChildSpawnBuilder<'a, A, C> {
    type Output = Result<ActorRef<C>, SupervisorError>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send + 'a>>;

    fn into_future(self) -> Self::IntoFuture {
        let is_supervisor = self.supervision.is_some();
        let name: Arc<str> = match &self.name {
            Some(n) => Arc::from(n.as_str()),
            None => Arc::from(short_type_name::<C>()),
        };
        let shutdown = self.shutdown.unwrap_or(if is_supervisor {
            ShutdownStrategy::Infinity
        } else {
            ShutdownStrategy::WORKER_DEFAULT
        });
        let timeout = self
            .start_timeout
            .unwrap_or((!is_supervisor).then_some(START_TIMEOUT));
        let start = ActorStart {
            factory: self.factory,
            registered: self.name,
            config: self.config,
            supervision: self.supervision,
        };
        let spec = ChildSpec::new(name, shutdown, timeout, is_supervisor, Arc::new(start))
            .restart(self.restart);
        let ctx = self.ctx;
        Box::pin(async move {
            let engine = ctx
                .supervision
                .as_mut()
                .ok_or(SupervisorError::NotASupervisor)?;
            let (_, shared) = engine.add_child(spec).await?;
            Ok(ActorRef::from_shared(shared))
        })
    }
}

/// Runs a supervision message in a struct actor's loop. `Some` is the exit
/// reason if the actor must stop (its budget is exceeded).
///
/// The engine's futures are boxed so that they do not grow the run loop of
/// every actor (supervision messages are rare).
pub(crate) fn on_sys<A: Actor>(
    ctx: &mut ActorContext<A>,
    msg: Box<SupMsg>,
) -> BoxFuture<'_, Option<ExitReason>> {
    Box::pin(async move {
        match ctx.supervision.as_mut() {
            None => {
                msg.reject(SupervisorError::NotASupervisor);
                None
            }
            Some(engine) => engine
                .handle(*msg)
                .await
                .err()
                .map(|e| ExitReason::Failed(e.to_string())),
        }
    })
}

/// Stops a supervisor actor's children, in reverse start order; `None` if
/// it is not a supervisor.
pub(crate) fn stop_children<A: Actor>(ctx: &mut ActorContext<A>) -> Option<BoxFuture<'_, ()>> {
    let engine = ctx.supervision.as_mut()?;
    Some(Box::pin(async move {
        engine.shutdown().await;
    }))
}
