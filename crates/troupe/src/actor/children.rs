//! Struct actors in supervision trees: supervisor actors (`.supervised()`,
//! `.with_supervision(config)`), their children (`ctx.spawn_child`,
//! `ctx.supervise`), introspection and `stop_child`; struct actors as
//! children ([`ChildSpec::actor`]).

use std::future::{Future, IntoFuture};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::runtime::Handle;

use super::run::{prepare, short_type_name, start_here, start_in, KillOnDrop, Started};
use super::{Actor, ActorContext, ActorRef, SpawnBuilder};
use crate::addr::Addr;
use crate::catch::{panic_message, BoxFuture};
use crate::core::config::ActorConfig;
use crate::core::process::Shared;
use crate::core::restart::{
    ask, ChildCounts, ChildId, ChildInfo, ChildKey, ChildSpec, Engine, Link, RestartType,
    ShutdownStrategy, Start, SupMsg, SupervisorConfig, SupervisorError,
};
use crate::defaults::{CONTROL_WAIT, KILL_WAIT, START_TIMEOUT};
use crate::error::SpawnError;
use crate::exit::{ExitReason, StopReason};

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
            .core
            .supervisor
            .as_mut()
            .ok_or(SupervisorError::NotASupervisor)?;
        Ok(engine.add_child(child.into()).await?.0)
    }

    /// Its children, in start order (empty if it is not a supervisor).
    pub fn children(&self) -> Vec<ChildInfo> {
        self.core
            .supervisor
            .as_ref()
            .map(|e| e.children())
            .unwrap_or_default()
    }

    /// Stops a child for good, by its shutdown strategy, and forgets it:
    /// [`terminate_child`](Self::terminate_child) then
    /// [`delete_child`](Self::delete_child) in one step, for a child in any
    /// state.
    pub async fn stop_child(&mut self, child: impl Into<ChildKey>) -> Result<(), SupervisorError> {
        self.engine()?.stop_child(child.into()).await
    }

    /// Stops a child by its shutdown strategy and keeps its spec (OTP
    /// `terminate_child`); see
    /// [`SupervisorRef::terminate_child`](crate::supervision::SupervisorRef::terminate_child).
    pub async fn terminate_child(
        &mut self,
        child: impl Into<ChildKey>,
    ) -> Result<(), SupervisorError> {
        self.engine()?.terminate_child(child.into()).await
    }

    /// Starts a terminated child again from its spec (OTP
    /// `restart_child`) and returns its address; see
    /// [`SupervisorRef::restart_child`](crate::supervision::SupervisorRef::restart_child).
    pub async fn restart_child(
        &mut self,
        child: impl Into<ChildKey>,
    ) -> Result<Addr, SupervisorError> {
        Ok(self.engine()?.restart_child(child.into()).await?.addr)
    }

    /// Forgets a terminated child's spec (OTP `delete_child`); see
    /// [`SupervisorRef::delete_child`](crate::supervision::SupervisorRef::delete_child).
    pub fn delete_child(&mut self, child: impl Into<ChildKey>) -> Result<(), SupervisorError> {
        self.engine()?.delete_child(child.into())
    }

    /// How many children it has, by kind (OTP `count_children`; all zero
    /// if it is not a supervisor).
    pub fn count_children(&self) -> ChildCounts {
        self.core
            .supervisor
            .as_ref()
            .map(|e| e.count_children())
            .unwrap_or_default()
    }

    fn engine(&mut self) -> Result<&mut Engine, SupervisorError> {
        self.core
            .supervisor
            .as_deref_mut()
            .ok_or(SupervisorError::NotASupervisor)
    }
}

impl<A: Actor> ActorRef<A> {
    /// The children of this supervisor actor, in start order, asked through
    /// its system channel (answered between two messages; waits at most
    /// 5 s). Fails with [`SupervisorError::NotASupervisor`] if it is not a
    /// supervisor.
    #[doc(alias = "which_children")]
    pub async fn children(&self) -> Result<Vec<ChildInfo>, SupervisorError> {
        ask(self.shared(), SupMsg::Children, Some(CONTROL_WAIT)).await
    }

    /// How many children this supervisor actor has, by kind (OTP
    /// `count_children`), asked through its system channel (waits at most
    /// 5 s).
    pub async fn count_children(&self) -> Result<ChildCounts, SupervisorError> {
        ask(self.shared(), SupMsg::CountChildren, Some(CONTROL_WAIT)).await
    }

    /// Stops a child of this supervisor actor and keeps its spec (OTP
    /// `terminate_child`); see
    /// [`SupervisorRef::terminate_child`](crate::supervision::SupervisorRef::terminate_child).
    pub async fn terminate_child(&self, child: impl Into<ChildKey>) -> Result<(), SupervisorError> {
        let key = child.into();
        ask(self.shared(), |tx| SupMsg::TerminateChild(key, tx), None).await
    }

    /// Starts a terminated child of this supervisor actor again (OTP
    /// `restart_child`); see
    /// [`SupervisorRef::restart_child`](crate::supervision::SupervisorRef::restart_child).
    pub async fn restart_child(&self, child: impl Into<ChildKey>) -> Result<Addr, SupervisorError> {
        let key = child.into();
        ask(self.shared(), |tx| SupMsg::RestartChild(key, tx), None).await
    }

    /// Forgets a terminated child of this supervisor actor (OTP
    /// `delete_child`); see
    /// [`SupervisorRef::delete_child`](crate::supervision::SupervisorRef::delete_child).
    pub async fn delete_child(&self, child: impl Into<ChildKey>) -> Result<(), SupervisorError> {
        let key = child.into();
        ask(
            self.shared(),
            |tx| SupMsg::DeleteChild(key, tx),
            Some(CONTROL_WAIT),
        )
        .await
    }

    /// Stops a child of this supervisor actor for good and forgets it
    /// (terminate then delete, in one step).
    pub async fn stop_child(&self, child: impl Into<ChildKey>) -> Result<(), SupervisorError> {
        let key = child.into();
        ask(self.shared(), |tx| SupMsg::StopChild(key, tx), None).await
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
            key: None,
            config: self.config,
            supervision: self.supervision,
        };
        let spec = ChildSpec::new(name, shutdown, timeout, is_supervisor, Arc::new(start))
            .restart(self.restart);
        let ctx = self.ctx;
        Box::pin(async move {
            let engine = ctx
                .core
                .supervisor
                .as_mut()
                .ok_or(SupervisorError::NotASupervisor)?;
            let (_, shared) = engine.add_child(spec).await?;
            Ok(ActorRef::from_shared(shared))
        })
    }
}

impl ChildSpec {
    /// A struct actor built by `factory` at each (re)start and registered
    /// in the system under `name` (so that `ActorSystem::get` finds it).
    /// It keeps its address and mailbox across restarts.
    pub fn actor<A: Actor>(
        name: impl Into<String>,
        factory: impl Fn() -> A + Send + Sync + 'static,
    ) -> Self {
        let name: String = name.into();
        let start = ActorStart {
            factory: Arc::new(factory),
            registered: Some(name.clone()),
            key: None,
            config: None,
            supervision: None,
        };
        Self::new(
            Arc::from(name),
            ShutdownStrategy::WORKER_DEFAULT,
            Some(START_TIMEOUT),
            false,
            Arc::new(start),
        )
    }
}

/// Starts struct actors from a factory.
pub(crate) struct ActorStart<C> {
    pub(crate) factory: Arc<dyn Fn() -> C + Send + Sync>,
    /// The name it is registered under, if any.
    pub(crate) registered: Option<String>,
    /// Its key when it is not registered (`_` if `None`).
    pub(crate) key: Option<String>,
    pub(crate) config: Option<ActorConfig>,
    pub(crate) supervision: Option<SupervisorConfig>,
}

impl<C: Actor> ActorStart<C> {
    /// Builds the actor for a fresh process, or for the previous
    /// incarnation's process (same address, name and mailbox, with what was
    /// queued in it).
    fn build(&self, link: &Link) -> Result<Built<C>, SupervisorError> {
        let shared = match &link.previous {
            Some(previous) => {
                previous.reset_for_restart();
                previous.clone()
            }
            None => {
                let config = self
                    .config
                    .clone()
                    .unwrap_or_else(|| link.system.default_actor_config().clone());
                prepare::<C>(
                    &link.system,
                    self.registered.clone(),
                    self.key.clone(),
                    &config,
                )
            }
        };
        shared.set_parent(link.parent.clone());
        let actor = match catch_unwind(AssertUnwindSafe(|| (self.factory)())) {
            Ok(actor) => actor,
            Err(panic) => {
                let reason = format!("the factory panicked: {}", panic_message(panic.as_ref()));
                shared.finish(ExitReason::StartFailed(reason.clone()));
                return Err(link.failed(reason));
            }
        };
        let supervision = self
            .supervision
            .clone()
            .or_else(|| self.config.as_ref().and_then(|c| c.supervision().cloned()));
        Ok(Built {
            shared,
            actor,
            supervision,
        })
    }
}

/// A child built and not started yet.
struct Built<C> {
    shared: Arc<Shared>,
    actor: C,
    supervision: Option<SupervisorConfig>,
}

impl<C: Actor> Built<C> {
    /// Launches it in a task of its own; the returned receiver says how its
    /// `pre_start` went.
    fn launch(self, link: &Link) -> Result<(Arc<Shared>, Started), SupervisorError> {
        let shared = self.shared;
        match start_in(self.actor, shared.clone(), self.supervision) {
            Ok(started) => Ok((shared, started)),
            Err(e) => {
                shared.finish(ExitReason::StartFailed(e.to_string()));
                Err(link.spawn_error(e))
            }
        }
    }

    /// Starts it right in the supervisor's task (its `pre_start` runs
    /// there), as a spawn does when the child runs on the supervisor's
    /// runtime: a restart costs no round trip to a new task and back.
    async fn start_here(self, link: Link, here: Handle) -> Result<Arc<Shared>, SupervisorError> {
        let shared = self.shared.clone();
        let start = start_here(self.actor, self.shared, self.supervision, here);
        // Dropping the start (a timeout here, or the supervisor's future
        // dropped) finishes the child: nothing is left behind.
        let outcome = match link.start_deadline() {
            Some(at) => tokio::time::timeout_at(at, start).await.ok(),
            None => Some(start.await),
        };
        match outcome {
            Some(Ok(())) => Ok(shared),
            Some(Err(SpawnError::StartFailed(e))) => Err(link.failed(e)),
            Some(Err(SpawnError::Killed)) => Err(link.failed(SpawnError::Killed)),
            // Refused before it started (e.g. its name is taken).
            Some(Err(e)) => {
                shared.finish(ExitReason::StartFailed(e.to_string()));
                Err(link.spawn_error(e))
            }
            None => {
                let t = link.start_timeout.unwrap_or_default();
                Err(link.failed(format!("did not start within {t:?}")))
            }
        }
    }
}

impl<C: Actor> Start for ActorStart<C> {
    fn start(&self, link: Link) -> BoxFuture<'static, Result<Arc<Shared>, SupervisorError>> {
        let built = match self.build(&link) {
            Ok(built) => built,
            Err(e) => return Box::pin(async move { Err(e) }),
        };
        let here = link.system.runtimes().current_if_selected(&built.shared);
        if let Some(here) = here {
            return Box::pin(built.start_here(link, here));
        }
        let launched = built.launch(&link);
        Box::pin(async move {
            let (shared, started) = launched?;
            // A start abandoned midway (its supervisor's future dropped)
            // kills the child it was starting.
            let abandoned = KillOnDrop(Some(&shared));
            let outcome = match link.start_deadline() {
                Some(at) => tokio::time::timeout_at(at, started).await.ok(),
                None => Some(started.await),
            };
            abandoned.disarm();
            match outcome {
                Some(Ok(Ok(()))) => Ok(shared),
                Some(Ok(Err(e))) => Err(link.failed(e)),
                Some(Err(_)) => Err(link.failed(SpawnError::Killed)),
                None => {
                    let _ = shared.stop(StopReason::Kill, KILL_WAIT).await;
                    let t = link.start_timeout.unwrap_or_default();
                    Err(link.failed(format!("did not start within {t:?}")))
                }
            }
        })
    }
}

impl<A: Actor, C: Actor> std::fmt::Debug for ChildSpawnBuilder<'_, A, C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChildSpawnBuilder").finish_non_exhaustive()
    }
}
