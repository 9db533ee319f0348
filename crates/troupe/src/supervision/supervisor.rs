//! The plain [`Supervisor`] (children declared up front, as in Saluki), its
//! handle [`SupervisorRef`], and its run loop.

use std::any::{Any, TypeId};
use std::fmt;
use std::sync::{Arc, Weak};
use std::time::Duration;

use parking_lot::Mutex;
use tokio::sync::oneshot;

use crate::actor::BoxFuture;
use crate::addr::{ActorMeta, Addr};
use crate::context::unhandled;
use crate::envelope::TraceId;
use crate::mailbox::Item;
use crate::process::{launch, ExitGuard, ExitReason, Shared, StopReason, SysMsg};
use crate::request::RequestError;
use crate::spawn::ActorConfig;
use crate::status::ActorStatus;
use crate::system::ActorSystem;

use super::child::{ChildInfo, ChildSpec, Link, Start};
use super::process::plain_status;
use super::strategy::SupervisorConfig;
use super::{ChildId, ChildKey, Engine, Reply, SupMsg, SupervisorError};

/// How long `children()` waits for an answer.
const CONTROL_WAIT: Duration = Duration::from_secs(5);

type MakeChild = dyn Fn(Box<dyn Any + Send>) -> Option<ChildSpec> + Send + Sync;

/// Builds dynamic children from an argument (OTP's `simple_one_for_one`
/// child spec plus `start_child(Sup, Args)`).
#[derive(Clone)]
pub(crate) struct Template {
    make: Arc<MakeChild>,
}

impl Template {
    pub(crate) fn make(&self, arg: Box<dyn Any + Send>) -> Option<ChildSpec> {
        (self.make)(arg)
    }
}

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
}

impl Supervisor {
    /// A one-for-one supervisor (3 restarts in 5 s) without children.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: Arc::from(name.into()),
            config: SupervisorConfig::default(),
            children: Vec::new(),
            template: None,
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
        self.template = Some(Template {
            make: Arc::new(make),
        });
        self
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }

    pub(crate) fn name_arc(&self) -> Arc<str> {
        self.name.clone()
    }

    /// Starts it as a root process of `system` and returns once all its
    /// children run (OTP `start_link`). If a child fails to start, the ones
    /// started are stopped (in reverse order) and the error is returned.
    pub async fn spawn(self, system: &ActorSystem) -> Result<SupervisorRef, SupervisorError> {
        let (shared, started, outcome) = launch_supervisor(Arc::new(self), system, None)?;
        match started.await {
            Ok(Ok(())) => Ok(SupervisorRef { shared, outcome }),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(SupervisorError::Exited(ExitReason::Killed)),
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

type Outcome = Arc<Mutex<Option<SupervisorError>>>;
type StartedRx = oneshot::Receiver<Result<(), SupervisorError>>;

/// Registers and spawns a supervisor process.
fn launch_supervisor(
    spec: Arc<Supervisor>,
    system: &ActorSystem,
    parent: Option<Weak<Shared>>,
) -> Result<(Arc<Shared>, StartedRx, Outcome), SupervisorError> {
    let meta = ActorMeta::new("Supervisor", spec.name.to_string());
    let failed = |reason: String| SupervisorError::StartFailed {
        child: spec.name.to_string(),
        reason,
    };
    let runtime = system
        .runtime_for(&meta)
        .ok_or_else(|| failed("no Tokio runtime to run on".into()))?;
    let shared = Shared::new(
        system.clone(),
        meta,
        None,
        &ActorConfig::default().with_mailbox_capacity(1),
    );
    if let Some(parent) = parent {
        shared.set_parent(parent);
    }
    system
        .register(&shared, TypeId::of::<Supervisor>)
        .map_err(|e| match e {
            crate::error::SpawnError::ShuttingDown => SupervisorError::ShuttingDown,
            e => failed(e.to_string()),
        })?;
    let (tx, rx) = oneshot::channel();
    let outcome = Outcome::default();
    let slot = outcome.clone();
    launch(&shared, &runtime, TraceId::generate(), |guard| {
        run(shared.clone(), spec, guard, tx, slot)
    });
    Ok((shared, rx, outcome))
}

async fn run(
    shared: Arc<Shared>,
    spec: Arc<Supervisor>,
    guard: ExitGuard,
    started: oneshot::Sender<Result<(), SupervisorError>>,
    outcome: Outcome,
) {
    let mut engine = Engine::new(spec.config.clone(), &shared, spec.name.clone());
    engine.set_template(spec.template.clone());
    for child in &spec.children {
        if let Err(e) = engine.add_child(child.clone()).await {
            shared.set_stopping();
            engine.shutdown().await;
            *outcome.lock() = Some(e.clone());
            shared.finish(ExitReason::StartFailed(e.to_string()));
            drop(guard);
            let _ = started.send(Err(e));
            return;
        }
    }
    shared.set_running();
    let _ = started.send(Ok(()));
    let mut replies = Vec::new();
    let reason = loop {
        let Some(item) = shared.mailbox.recv().await else {
            break ExitReason::Shutdown;
        };
        match item {
            Item::Sys(SysMsg::Stop { reason, reply }) => {
                replies.extend(reply);
                match reason {
                    StopReason::Graceful => break ExitReason::Normal,
                    StopReason::Shutdown => break ExitReason::Shutdown,
                    StopReason::Kill => {
                        drop(guard); // kills the children too (see `Shared::finish`)
                        for r in replies {
                            let _ = r.send(Ok(()));
                        }
                        return;
                    }
                }
            }
            Item::Sys(SysMsg::Status(tx)) => {
                let _ = tx.send(plain_status(&shared));
            }
            Item::Sys(SysMsg::Supervision(msg)) => {
                if let Err(e) = engine.handle(*msg).await {
                    *outcome.lock() = Some(e.clone());
                    break ExitReason::Failed(e.to_string());
                }
            }
            Item::Msg(env) => unhandled(env),
        }
    };
    shared.set_stopping();
    let stuck = engine.shutdown().await;
    if let Some(child) = stuck.into_iter().next() {
        outcome
            .lock()
            .get_or_insert(SupervisorError::ShutdownTimedOut { child });
    }
    shared.finish(reason);
    drop(guard);
    for r in replies {
        let _ = r.send(Ok(()));
    }
}

/// Starts a nested plain supervisor: a new process for every run.
pub(crate) struct SupervisorStart {
    spec: Arc<Supervisor>,
}

impl SupervisorStart {
    pub(crate) fn new(spec: Supervisor) -> Self {
        Self {
            spec: Arc::new(spec),
        }
    }
}

impl Start for SupervisorStart {
    fn start(&self, link: Link) -> BoxFuture<'static, Result<Arc<Shared>, SupervisorError>> {
        let launched =
            launch_supervisor(self.spec.clone(), &link.system, Some(link.parent.clone()));
        Box::pin(async move {
            let (shared, started, _) = launched?;
            let res = match link.start_timeout {
                Some(t) => tokio::time::timeout(t, started).await.ok(),
                None => Some(started.await),
            };
            match res {
                Some(Ok(Ok(()))) => Ok(shared),
                Some(Ok(Err(e))) => Err(link.failed(e)),
                Some(Err(_)) => Err(link.failed("killed while starting")),
                None => {
                    shared.abort();
                    Err(link.failed("did not start in time"))
                }
            }
        })
    }
}

/// Sends a request to a supervisor through its system channel.
pub(crate) async fn ask<T>(
    shared: &Shared,
    make: impl FnOnce(Reply<T>) -> SupMsg,
    bound: Option<Duration>,
) -> Result<T, SupervisorError> {
    let (tx, rx) = oneshot::channel();
    if shared
        .mailbox
        .push_sys(SysMsg::Supervision(Box::new(make(tx))))
        .is_err()
    {
        return Err(SupervisorError::Gone);
    }
    let answer = match bound {
        Some(b) => tokio::time::timeout(b, rx)
            .await
            .map_err(|_| SupervisorError::Gone)?,
        None => rx.await,
    };
    answer.unwrap_or(Err(SupervisorError::Gone))
}

/// The handle of a running plain [`Supervisor`]. Cheap to clone.
///
/// Requests travel on the supervisor's system channel. `children` waits at
/// most 5 s; `add_child`, `start_child` and `stop_child` wait as long as the
/// child's start or shutdown takes, which their own bounds limit.
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

    /// Its children, in start order (OTP `which_children`).
    pub async fn children(&self) -> Result<Vec<ChildInfo>, SupervisorError> {
        ask(&self.shared, SupMsg::Children, Some(CONTROL_WAIT)).await
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

    /// Stops a child for good, by its shutdown strategy, and forgets it
    /// (OTP `terminate_child` then `delete_child`).
    pub async fn stop_child(&self, child: impl Into<ChildKey>) -> Result<(), SupervisorError> {
        let key = child.into();
        ask(&self.shared, |tx| SupMsg::StopChild(key, tx), None).await
    }

    /// A status snapshot.
    pub async fn get_status(&self) -> Result<ActorStatus, RequestError> {
        self.shared.status(CONTROL_WAIT).await
    }

    /// Stops it: its children stop in reverse start order, each by its
    /// shutdown strategy; then it exits with [`ExitReason::Shutdown`].
    /// Returns as [`SupervisorRef::wait`] does.
    pub async fn shutdown(&self) -> Result<(), SupervisorError> {
        self.shared.request_shutdown();
        self.wait().await
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
