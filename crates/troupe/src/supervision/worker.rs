//! Plain supervised processes: [`Supervisable`] (a named factory of
//! futures), the [`ProcessShutdown`] signal each run gets, and the run loop
//! that makes each run a real troupe process.

use std::any::TypeId;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::Arc;

use tokio::sync::watch;

use crate::addr::{ActorMeta, Addr};
use crate::attached::ContextCore;
use crate::catch::{panic_message, BoxFuture, CatchUnwind};
use crate::core::config::ActorConfig;
use crate::core::current::unhandled;
use crate::core::introspect::ProcessKind;
use crate::core::launch::{self, ExitGuard};
use crate::core::process::Shared;
use crate::core::restart::{ChildSpec, Link, ShutdownStrategy, Start, SupervisorError};
use crate::core::run_loop::{end, next, teardown, Next, NoHooks};
use crate::envelope::TraceId;
use crate::error::BoxError;
use crate::exit::{ExitReason, StopReason};

/// The future a [`Supervisable`] runs: `Ok` is a normal exit, `Err` (or a
/// panic) an abnormal one.
pub type SupervisorFuture = Pin<Box<dyn Future<Output = Result<(), BoxError>> + Send>>;

/// A plain process a supervisor can start, stop and restart: a named
/// factory of futures, without a mailbox.
///
/// Each (re)start calls [`Supervisable::initialize`] and runs the future as
/// a new troupe process: registered in the system (so
/// [`ActorSystem::shutdown`](crate::ActorSystem::shutdown) sees it), with a
/// unique [`Addr`], the semi-unique name `supervisor/name` (the same for
/// every run), and a [`ProcessShutdown`] that fires when its supervisor
/// stops it. It should then finish promptly; if it does not within its
/// [`ShutdownStrategy`], it is killed at its next await point.
///
/// How a run ends decides its exit reason: `Ok(())` is
/// [`ExitReason::Normal`] (or [`ExitReason::Shutdown`] once the shutdown
/// signal fired); `Err(e)` and panics are [`ExitReason::Failed`], unless
/// `e` is an [`ExitReason`] itself (`Err(ExitReason::custom("..").into())`),
/// which is then the exit reason.
///
/// A plain process can be watched and linked to like any process; it
/// watches others with [`ActorSystem::monitor`](crate::ActorSystem::monitor)
/// (a future of the [`Down`](crate::Down)).
///
/// ```
/// use troupe::supervision::{ProcessShutdown, Supervisable, SupervisorFuture};
///
/// struct Heartbeat;
///
/// impl Supervisable for Heartbeat {
///     fn name(&self) -> &str { "heartbeat" }
///     fn initialize(&self, mut shutdown: ProcessShutdown) -> Result<SupervisorFuture, troupe::BoxError> {
///         Ok(Box::pin(async move {
///             shutdown.wait_for_shutdown().await;
///             Ok(())
///         }))
///     }
/// }
/// ```
pub trait Supervisable: Send + Sync + 'static {
    /// The child's name (the same for every run).
    fn name(&self) -> &str;

    /// How the supervisor stops it (default: graceful, 5 s).
    fn shutdown_strategy(&self) -> ShutdownStrategy {
        ShutdownStrategy::WORKER_DEFAULT
    }

    /// Builds the future of one run. An error (or a panic) is a failed
    /// start: the supervisor reports it and counts it as a restart attempt.
    fn initialize(&self, shutdown: ProcessShutdown) -> Result<SupervisorFuture, BoxError>;
}

/// The shutdown signal of one process run, with the run's identity.
///
/// Cloning it gives another listener to the same signal (for tasks the
/// process starts).
#[derive(Clone, Debug)]
pub struct ProcessShutdown {
    rx: watch::Receiver<bool>,
    id: Addr,
    name: Arc<str>,
}

impl ProcessShutdown {
    /// Waits until the process is asked to stop (returns at once if it
    /// already was).
    pub async fn wait_for_shutdown(&mut self) {
        // An error means the process is gone: that is a shutdown too.
        let _ = self.rx.wait_for(|stop| *stop).await;
    }

    /// Whether the process has been asked to stop.
    pub fn is_shutdown(&self) -> bool {
        *self.rx.borrow() || self.rx.has_changed().is_err()
    }

    /// This run's address: unique, a new one for every run.
    pub fn process_id(&self) -> Addr {
        self.id
    }

    /// This process's name, `supervisor/child`: the same for every run.
    pub fn process_name(&self) -> &str {
        &self.name
    }
}

/// A [`Supervisable`] made from a name and a closure; see [`process_fn`].
pub struct ProcessFn<F> {
    name: String,
    f: F,
    shutdown: ShutdownStrategy,
}

/// A [`Supervisable`] from a closure run once per start.
///
/// ```
/// use troupe::supervision::process_fn;
/// let worker = process_fn("echo", |mut shutdown| async move {
///     shutdown.wait_for_shutdown().await;
///     Ok(())
/// });
/// # let _ = worker;
/// ```
pub fn process_fn<F, Fut>(name: impl Into<String>, f: F) -> ProcessFn<F>
where
    F: Fn(ProcessShutdown) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), BoxError>> + Send + 'static,
{
    ProcessFn {
        name: name.into(),
        f,
        shutdown: ShutdownStrategy::WORKER_DEFAULT,
    }
}

impl<F> ProcessFn<F> {
    /// Sets its shutdown strategy.
    pub fn with_shutdown(mut self, shutdown: ShutdownStrategy) -> Self {
        self.shutdown = shutdown;
        self
    }
}

impl<F, Fut> Supervisable for ProcessFn<F>
where
    F: Fn(ProcessShutdown) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), BoxError>> + Send + 'static,
{
    fn name(&self) -> &str {
        &self.name
    }

    fn shutdown_strategy(&self) -> ShutdownStrategy {
        self.shutdown
    }

    fn initialize(&self, shutdown: ProcessShutdown) -> Result<SupervisorFuture, BoxError> {
        Ok(Box::pin((self.f)(shutdown)))
    }
}

/// Marks the registry entries of plain processes.
struct PlainProcess;

/// Starts a [`Supervisable`]: a new process for every run.
pub(crate) struct WorkerStart {
    worker: Box<dyn Supervisable>,
}

impl WorkerStart {
    pub(crate) fn new(worker: impl Supervisable) -> Self {
        Self {
            worker: Box::new(worker),
        }
    }

    fn launch(&self, link: &Link) -> Result<Arc<Shared>, SupervisorError> {
        let meta = ActorMeta::new(link.name.to_string(), link.supervisor.to_string());
        let config = ActorConfig::default().with_mailbox_capacity(1);
        let shared = Shared::new(link.system.clone(), Arc::new(meta), false, &config);
        let (trigger, rx) = watch::channel(false);
        let signal = ProcessShutdown {
            rx,
            id: shared.addr,
            name: Arc::from(format!("{}/{}", link.supervisor, link.name)),
        };
        let fut = match catch_unwind(AssertUnwindSafe(|| self.worker.initialize(signal))) {
            Ok(Ok(fut)) => fut,
            Ok(Err(e)) => return Err(link.failed(e)),
            Err(panic) => return Err(link.failed(format!("panic: {}", panic_message(&*panic)))),
        };
        shared.set_parent(link.parent.clone());
        shared.set_kind(ProcessKind::PROCESS);
        // Running from now: it has no start hook.
        shared.set_running();
        let process = shared.clone();
        let trace_id = TraceId::generate();
        launch::start(&shared, TypeId::of::<PlainProcess>, trace_id, |guard| {
            run(process, trace_id, fut, trigger, guard)
        })
        .map_err(|e| link.spawn_error(e))?;
        Ok(shared)
    }
}

impl Start for WorkerStart {
    fn start(&self, link: Link) -> BoxFuture<'static, Result<Arc<Shared>, SupervisorError>> {
        let res = self.launch(&link);
        Box::pin(async move { res })
    }
}

/// Runs one process: its future, with the system channel handled by the
/// core run loop beside it.
async fn run(
    shared: Arc<Shared>,
    trace_id: TraceId,
    mut fut: SupervisorFuture,
    trigger: watch::Sender<bool>,
    guard: ExitGuard,
) {
    let mut ctx = ContextCore::new(shared, trace_id);
    let mut channel_open = true;
    let mut hooks = NoHooks;
    let reason = loop {
        tokio::select! {
            biased;
            step = next(&mut ctx, &mut hooks), if channel_open => match step {
                Next::Stop(StopReason::Kill) => break ExitReason::Killed,
                Next::Stop(_) => {
                    let _ = trigger.send(true);
                }
                Next::Exit(reason) => break reason,
                // A process has no mailbox of its own: nothing handles it
                // (nor a signal: it has no monitors and does not trap).
                Next::Envelope(env) | Next::Signal(env) => unhandled(env),
                // Drained: a process has nothing queued, so a drain is
                // a graceful stop.
                Next::Closed => {
                    channel_open = false;
                    let _ = trigger.send(true);
                }
            },
            res = CatchUnwind(&mut fut) => break match res {
                Ok(Ok(())) => match ctx.shared.stop_requested() {
                    Some(StopReason::Shutdown) => ExitReason::Shutdown,
                    _ => ExitReason::Normal,
                },
                Ok(Err(e)) => ExitReason::from_error(e),
                Err(panic) => ExitReason::Failed(format!("panic: {panic}")),
            },
        }
    };
    // The future is released with the rest, before the exit is published.
    let reason = teardown(&mut ctx, &mut hooks, reason).await;
    end(ctx, fut, reason, guard);
}

impl ChildSpec {
    /// A plain process: each (re)start calls
    /// [`Supervisable::initialize`] and runs the future as a new process.
    /// Its shutdown strategy is [`Supervisable::shutdown_strategy`].
    pub fn worker(worker: impl Supervisable) -> Self {
        let name: Arc<str> = Arc::from(worker.name());
        let shutdown = worker.shutdown_strategy();
        Self::new(
            name,
            shutdown,
            None,
            false,
            Arc::new(WorkerStart::new(worker)),
        )
    }
}

impl<S: Supervisable> From<S> for ChildSpec {
    fn from(worker: S) -> Self {
        ChildSpec::worker(worker)
    }
}

impl<F> std::fmt::Debug for ProcessFn<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProcessFn").finish_non_exhaustive()
    }
}
