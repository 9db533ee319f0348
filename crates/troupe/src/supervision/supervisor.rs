//! The plain [`Supervisor`] (children declared up front, as in Saluki) and
//! its handle [`SupervisorRef`]. A plain supervisor is a struct actor with
//! no message of its own: it runs on the same run loop and restart engine
//! as every other process.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use crate::actor::{spawn_keyed, Actor, ActorContext, ActorStart};
use crate::addr::Addr;
use crate::core::config::ActorConfig;
use crate::core::introspect::ProcessKind;
use crate::core::process::Shared;
use crate::core::restart::{
    ask, ChildCounts, ChildId, ChildInfo, ChildKey, ChildSpec, Outcome, ShutdownStrategy, SupMsg,
    SupervisorConfig, SupervisorError, Template,
};
use crate::core::system::ActorSystem;
use crate::defaults::{CONTROL_WAIT, KILL_WAIT};
use crate::error::{HandlerResult, SpawnError, StopError};
use crate::exit::{ExitReason, StopReason};
use crate::request::RequestError;
use crate::status::{ActorStatus, Lifecycle};

/// A supervisor whose children are declared up front: plain processes
/// ([`Supervisable`](super::Supervisable)), struct actors
/// ([`ChildSpec::actor`]) and nested supervisors, in start order.
///
/// It runs as a troupe process without a mailbox. Spawned on its own it is
/// a root of the system; added to another supervisor it is restarted as a
/// whole (a new process that starts all its children again).
///
/// ```
/// use troupe::prelude::*;
/// use troupe::supervision::{process_fn, ChildSpec, RestartType, Supervisor, SupervisorConfig};
///
/// # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let system = ActorSystem::create("doc-supervisor")?;
/// let idle = || process_fn("idle", |mut s| async move { s.wait_for_shutdown().await; Ok(()) });
/// let leaf = Supervisor::new("leaf")
///     .with_config(SupervisorConfig::one_for_all())
///     .with_worker(idle())
///     .with_worker(idle());
/// let root = Supervisor::new("root")
///     .with_worker(ChildSpec::worker(idle()).restart(RestartType::Transient))
///     .with_worker(leaf)
///     .spawn(&system)
///     .await?;
/// let children = root.children().await?;
/// assert_eq!(children.len(), 2);
/// assert!(children[1].is_supervisor);
/// assert_eq!(system.process_count(), 5);
/// root.shutdown().await?;
/// assert_eq!(system.process_count(), 0);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Supervisor {
    name: Arc<str>,
    config: SupervisorConfig,
    children: Vec<ChildSpec>,
    template: Option<Template>,
    /// Where a root supervisor's handle learns why it gave up.
    outcome: Option<Outcome>,
}

impl Supervisor {
    /// A one-for-one supervisor (3 restarts in 5 s) without children.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: Arc::from(name.into()),
            config: SupervisorConfig::default(),
            children: Vec::new(),
            template: None,
            outcome: None,
        }
    }

    /// Sets its strategy, budget, backoff and observer.
    pub fn with_config(mut self, config: SupervisorConfig) -> Self {
        self.config = config;
        self
    }

    /// Adds a child, started after the ones added before.
    pub fn add_worker(&mut self, child: impl Into<ChildSpec>) -> &mut Self {
        self.children.push(child.into());
        self
    }

    /// Adds a child (by value, for chaining).
    pub fn with_worker(mut self, child: impl Into<ChildSpec>) -> Self {
        self.add_worker(child);
        self
    }

    /// Sets the template of dynamic children: [`SupervisorRef::start_child`]
    /// builds each one from its argument. Meant for
    /// [`RestartStrategy::SimpleOneForOne`](super::RestartStrategy::SimpleOneForOne)
    /// (OTP allows a template only there; troupe allows it with any
    /// strategy).
    pub fn with_template<T, S, F>(mut self, template: F) -> Self
    where
        T: Send + 'static,
        S: Into<ChildSpec>,
        F: Fn(T) -> S + Send + Sync + 'static,
    {
        let make = move |arg: Box<dyn Any + Send>| -> Option<ChildSpec> {
            let arg: Box<dyn Any> = arg;
            arg.downcast::<T>().ok().map(|a| template(*a).into())
        };
        self.template = Some(Template::new(Arc::new(make)));
        self
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Starts it as a root process of `system` and returns once all its
    /// children run (OTP `start_link`). If a child fails to start, the ones
    /// started are stopped (in reverse order) and the error is returned.
    pub async fn spawn(mut self, system: &ActorSystem) -> Result<SupervisorRef, SupervisorError> {
        let outcome = Outcome::default();
        self.outcome = Some(outcome.clone());
        let name = self.name.to_string();
        let supervision = Some(self.config.clone());
        let config = ActorConfig::default().with_mailbox_capacity(1);
        match spawn_keyed(self, system.clone(), name.clone(), config, supervision).await {
            Ok(handle) => Ok(SupervisorRef {
                shared: handle.shared().clone(),
                outcome,
            }),
            Err(e) => Err(match outcome.lock().take() {
                Some(e) => e,
                None => match e {
                    SpawnError::ShuttingDown => SupervisorError::ShuttingDown,
                    e => SupervisorError::StartFailed {
                        child: name,
                        reason: e.to_string(),
                    },
                },
            }),
        }
    }

    /// Starts it and waits until it ends: `Ok` after a normal stop (or a
    /// system shutdown), the error if it gave up or could not start.
    pub async fn run(self, system: &ActorSystem) -> Result<(), SupervisorError> {
        self.spawn(system).await?.wait().await
    }
}

impl fmt::Debug for Supervisor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Supervisor")
            .field("name", &self.name)
            .field("config", &self.config)
            .field("children", &self.children)
            .finish()
    }
}

/// A plain supervisor is a struct actor whose `pre_start` starts its
/// children, in order.
impl Actor for Supervisor {
    async fn pre_start(&mut self, ctx: &mut ActorContext<Self>) -> HandlerResult {
        ctx.shared().set_kind(ProcessKind::SUPERVISOR);
        let Some(engine) = ctx.core.supervisor.as_mut() else {
            return Err(SupervisorError::NotASupervisor.into());
        };
        engine.set_template(self.template.clone());
        if let Some(outcome) = &self.outcome {
            engine.set_outcome(outcome.clone());
        }
        for child in &self.children {
            if let Err(e) = engine.add_child(child.clone()).await {
                if let Some(outcome) = &self.outcome {
                    outcome.lock().get_or_insert(e.clone());
                }
                return Err(e.into());
            }
        }
        Ok(())
    }
}

impl ChildSpec {
    /// A nested supervisor, restarted as a whole (with all its children).
    pub fn supervisor(supervisor: Supervisor) -> Self {
        let name = supervisor.name.clone();
        let supervision = Some(supervisor.config.clone());
        let spec = Arc::new(supervisor);
        let start = ActorStart {
            factory: Arc::new(move || Supervisor::clone(&spec)),
            registered: None,
            key: Some(name.to_string()),
            config: Some(ActorConfig::default().with_mailbox_capacity(1)),
            supervision,
        };
        Self::new(
            name,
            ShutdownStrategy::Infinity,
            None,
            true,
            Arc::new(start),
        )
    }
}

impl From<Supervisor> for ChildSpec {
    fn from(supervisor: Supervisor) -> Self {
        ChildSpec::supervisor(supervisor)
    }
}

/// The handle of a running plain [`Supervisor`]. Cheap to clone.
///
/// Requests travel on the supervisor's system channel. `children`,
/// `count_children` and `delete_child` wait at most 5 s; `add_child`,
/// `start_child`, `restart_child`, `terminate_child` and `stop_child` wait
/// as long as the child's start or shutdown takes, which their own bounds
/// limit.
#[derive(Clone)]
pub struct SupervisorRef {
    shared: Arc<Shared>,
    outcome: Outcome,
}

impl SupervisorRef {
    /// Its address.
    pub fn addr(&self) -> Addr {
        self.shared.addr
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.shared.meta.key
    }

    /// Whether it still runs.
    pub fn is_alive(&self) -> bool {
        self.shared.is_alive()
    }

    /// How it ended, if it has.
    pub fn exit_reason(&self) -> Option<ExitReason> {
        self.shared.exit_reason()
    }

    /// Its children, in start order, each with its
    /// [`state`](ChildInfo::state) (OTP `which_children`).
    #[doc(alias = "which_children")]
    pub async fn children(&self) -> Result<Vec<ChildInfo>, SupervisorError> {
        ask(&self.shared, SupMsg::Children, Some(CONTROL_WAIT)).await
    }

    /// How many children it has, by kind (OTP `count_children`).
    pub async fn count_children(&self) -> Result<ChildCounts, SupervisorError> {
        ask(&self.shared, SupMsg::CountChildren, Some(CONTROL_WAIT)).await
    }

    /// Stops a child by its shutdown strategy and keeps its spec (OTP
    /// `terminate_child`): it is not restarted until
    /// [`restart_child`](Self::restart_child). A temporary child, and every
    /// child of a simple-one-for-one supervisor, is forgotten at once, as
    /// in OTP. Terminating a terminated child is `Ok`.
    ///
    /// Errors: [`SupervisorError::UnknownChild`];
    /// [`SupervisorError::ShutdownTimedOut`] if it did not end even after
    /// being killed.
    ///
    /// ```
    /// use troupe::prelude::*;
    /// use troupe::supervision::{process_fn, ChildState, Supervisor, SupervisorError};
    ///
    /// # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let system = ActorSystem::create("doc-terminate-child")?;
    /// let idle = process_fn("idle", |mut s| async move { s.wait_for_shutdown().await; Ok(()) });
    /// let sup = Supervisor::new("sup").spawn(&system).await?;
    /// let id = sup.add_child(idle).await?;
    /// assert_eq!(sup.delete_child(id).await, Err(SupervisorError::Running(id.into())));
    /// sup.terminate_child(id).await?;
    /// assert_eq!(sup.children().await?[0].state, ChildState::Terminated);
    /// sup.restart_child(id).await?;
    /// assert_eq!(sup.children().await?[0].state, ChildState::Running);
    /// sup.terminate_child(id).await?;
    /// sup.delete_child(id).await?;
    /// assert_eq!(sup.count_children().await?.specs, 0);
    /// sup.shutdown().await?;
    /// # Ok(()) }
    /// ```
    pub async fn terminate_child(&self, child: impl Into<ChildKey>) -> Result<(), SupervisorError> {
        let key = child.into();
        ask(&self.shared, |tx| SupMsg::TerminateChild(key, tx), None).await
    }

    /// Starts a terminated child again from its spec (OTP
    /// `restart_child`) and returns the address of the new incarnation (a
    /// struct actor keeps its address). Not counted against the restart
    /// budget.
    ///
    /// Errors: [`SupervisorError::Running`], [`SupervisorError::Restarting`],
    /// [`SupervisorError::UnknownChild`], [`SupervisorError::SimpleOneForOne`],
    /// or why it could not start ([`SupervisorError::StartFailed`]; it stays
    /// terminated).
    pub async fn restart_child(&self, child: impl Into<ChildKey>) -> Result<Addr, SupervisorError> {
        let key = child.into();
        ask(&self.shared, |tx| SupMsg::RestartChild(key, tx), None).await
    }

    /// Forgets a terminated child's spec (OTP `delete_child`).
    ///
    /// Errors: [`SupervisorError::Running`], [`SupervisorError::Restarting`],
    /// [`SupervisorError::UnknownChild`], [`SupervisorError::SimpleOneForOne`].
    pub async fn delete_child(&self, child: impl Into<ChildKey>) -> Result<(), SupervisorError> {
        let key = child.into();
        ask(
            &self.shared,
            |tx| SupMsg::DeleteChild(key, tx),
            CONTROL_WAIT.into(),
        )
        .await
    }

    /// Starts a new child, last (OTP `start_child/2` with a child spec).
    pub async fn add_child(&self, child: impl Into<ChildSpec>) -> Result<ChildId, SupervisorError> {
        let spec = child.into();
        ask(&self.shared, |tx| SupMsg::AddChild(spec, tx), None).await
    }

    /// Starts a new child from the supervisor's template
    /// ([`Supervisor::with_template`]) with `arg`. Fails with
    /// [`SupervisorError::NoTemplate`] if there is no template taking a `T`.
    pub async fn start_child<T: Send + 'static>(&self, arg: T) -> Result<ChildId, SupervisorError> {
        let name = std::any::type_name::<T>();
        let arg: Box<dyn Any + Send> = Box::new(arg);
        ask(&self.shared, |tx| SupMsg::FromTemplate(arg, name, tx), None).await
    }

    /// Stops a child for good, by its shutdown strategy, and forgets it:
    /// [`terminate_child`](Self::terminate_child) then
    /// [`delete_child`](Self::delete_child) in one step, for a child in any
    /// state.
    pub async fn stop_child(&self, child: impl Into<ChildKey>) -> Result<(), SupervisorError> {
        let key = child.into();
        ask(&self.shared, |tx| SupMsg::StopChild(key, tx), None).await
    }

    /// A status snapshot (read without the supervisor's help).
    pub async fn get_status(&self) -> Result<ActorStatus, RequestError> {
        let status = self.shared.status();
        if status.lifecycle == Lifecycle::Stopped {
            return Err(RequestError::Gone {
                reason: self.shared.exit_reason(),
            });
        }
        Ok(status)
    }

    /// Stops it: its children stop in reverse start order, each by its
    /// shutdown strategy; then it exits with [`ExitReason::Shutdown`].
    /// Returns as [`SupervisorRef::wait`] does.
    pub async fn shutdown(&self) -> Result<(), SupervisorError> {
        self.shared.request_shutdown();
        self.wait().await
    }

    /// Kills it (OTP `exit(Sup, kill)`) and waits (bounded) until it has
    /// ended, with [`ExitReason::Killed`]. As in OTP, where its children
    /// get its exit signal: its worker children are killed with it (no
    /// hook runs); a child that is a supervisor traps that signal and shuts
    /// its own children down in reverse start order, each by its shutdown
    /// strategy with its stop hooks, then exits with
    /// [`ExitReason::Shutdown`], on its own time (this call does not wait
    /// for it).
    pub async fn kill(&self) -> Result<(), StopError> {
        self.shared.stop(StopReason::Kill, KILL_WAIT).await
    }

    /// Waits until it has ended: `Ok` after a normal exit, the error if it
    /// gave up (budget exceeded), could not stop a child, or was killed.
    pub async fn wait(&self) -> Result<(), SupervisorError> {
        let reason = self.shared.wait_exit().await;
        if let Some(e) = self.outcome.lock().clone() {
            return Err(e);
        }
        if reason.is_abnormal() {
            return Err(SupervisorError::Exited(reason));
        }
        Ok(())
    }
}

impl fmt::Debug for SupervisorRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SupervisorRef")
            .field("addr", &self.shared.addr)
            .field("name", &self.name())
            .finish()
    }
}
