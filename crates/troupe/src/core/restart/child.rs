//! Children: [`ChildSpec`] (how to start, restart and stop one), the
//! introspection record [`ChildInfo`], and how each kind of child starts and
//! stops.

use std::fmt;
use std::sync::{Arc, Weak};
use std::time::Duration;

use tokio::time::Instant;

use super::strategy::{RestartType, ShutdownStrategy};
use super::{ChildId, SupervisorError};
use crate::addr::Addr;
use crate::catch::BoxFuture;
use crate::core::process::Shared;
use crate::core::system::ActorSystem;
use crate::defaults::KILL_WAIT;
use crate::error::SpawnError;
use crate::exit::{ExitReason, StopReason};

/// Where and under whom a child incarnation starts.
pub(crate) struct Link {
    pub(crate) system: ActorSystem,
    pub(crate) parent: Weak<Shared>,
    /// The supervisor's name.
    pub(crate) supervisor: Arc<str>,
    /// The child's name.
    pub(crate) name: Arc<str>,
    /// The previous incarnation (finished), for children that keep their
    /// process across restarts.
    pub(crate) previous: Option<Arc<Shared>>,
    pub(crate) start_timeout: Option<Duration>,
    /// When the supervisor began this start (for a restart, when it
    /// decided it): the start timeout runs from here. Taken from the clock
    /// read the restart budget made, so that a restart reads it once.
    pub(crate) begun: Instant,
}

impl Link {
    pub(crate) fn failed(&self, reason: impl fmt::Display) -> SupervisorError {
        SupervisorError::StartFailed {
            child: self.name.to_string(),
            reason: reason.to_string(),
        }
    }

    /// When the start must be over: [`Link::begun`] plus its timeout
    /// (`None`: no timeout, or one past the clock's range).
    pub(crate) fn start_deadline(&self) -> Option<Instant> {
        self.start_timeout.and_then(|t| self.begun.checked_add(t))
    }

    pub(crate) fn spawn_error(&self, e: SpawnError) -> SupervisorError {
        match e {
            SpawnError::ShuttingDown => SupervisorError::ShuttingDown,
            e => self.failed(e),
        }
    }
}

/// Starts one incarnation of a child. The future resolves once it runs
/// (a struct actor's `pre_start` succeeded; a supervisor's children all
/// started).
pub(crate) trait Start: Send + Sync + 'static {
    fn start(&self, link: Link) -> BoxFuture<'static, Result<Arc<Shared>, SupervisorError>>;
}

/// How to start, restart and stop one child.
///
/// Build one with [`ChildSpec::worker`] (a plain process),
/// [`ChildSpec::supervisor`] (a nested plain supervisor) or
/// [`ChildSpec::actor`] (a struct actor); a
/// [`Supervisable`](crate::supervision::Supervisable) or a
/// [`Supervisor`](crate::supervision::Supervisor) also converts into one with `into()`.
///
/// Defaults (OTP's): [`RestartType::Permanent`];
/// [`ShutdownStrategy::Graceful`] of 5 s for workers and
/// [`ShutdownStrategy::Infinity`] for supervisors; a struct actor has 5 s to
/// run `pre_start` (OTP waits forever by default; troupe bounds every
/// wait), a supervisor's start is bounded by its children's.
///
/// ```
/// use std::time::Duration;
/// use troupe::supervision::{process_fn, ChildSpec, RestartType, ShutdownStrategy};
/// let spec = ChildSpec::worker(process_fn("job", |_shutdown| async { Ok(()) }))
///     .restart(RestartType::Transient)
///     .shutdown(ShutdownStrategy::Brutal);
/// assert_eq!(spec.name(), "job");
/// assert_eq!(spec.restart_type(), RestartType::Transient);
/// ```
#[derive(Clone)]
pub struct ChildSpec {
    pub(crate) name: Arc<str>,
    pub(crate) restart: RestartType,
    pub(crate) shutdown: ShutdownStrategy,
    pub(crate) start_timeout: Option<Duration>,
    pub(crate) supervisor: bool,
    pub(crate) start: Arc<dyn Start>,
    /// Its own retry terms, if any (`retry.rs`).
    pub(crate) retry: Option<super::Retry>,
}

impl ChildSpec {
    pub(crate) fn new(
        name: Arc<str>,
        shutdown: ShutdownStrategy,
        start_timeout: Option<Duration>,
        supervisor: bool,
        start: Arc<dyn Start>,
    ) -> Self {
        Self {
            name,
            restart: RestartType::Permanent,
            shutdown,
            start_timeout,
            supervisor,
            start,
            retry: None,
        }
    }

    /// Sets the child's own retry terms (`retry.rs`).
    pub(crate) fn with_retry(mut self, retry: super::Retry) -> Self {
        self.retry = Some(retry);
        self
    }

    /// Sets the restart type.
    pub fn restart(mut self, restart: RestartType) -> Self {
        self.restart = restart;
        self
    }

    /// Sets the shutdown strategy.
    pub fn shutdown(mut self, shutdown: ShutdownStrategy) -> Self {
        self.shutdown = shutdown;
        self
    }

    /// Bounds how long one start may take (`None`: as long as it takes).
    /// A child that does not start in time is killed and counted as a
    /// failed start.
    pub fn start_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.start_timeout = timeout;
        self
    }

    /// The child's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The restart type.
    pub fn restart_type(&self) -> RestartType {
        self.restart
    }

    /// The shutdown strategy.
    pub fn shutdown_strategy(&self) -> ShutdownStrategy {
        self.shutdown
    }
}

impl fmt::Debug for ChildSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChildSpec")
            .field("name", &self.name)
            .field("restart", &self.restart)
            .field("shutdown", &self.shutdown)
            .field("supervisor", &self.supervisor)
            .finish()
    }
}

/// A snapshot of one child, as listed by `children()` (OTP's
/// `which_children`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChildInfo {
    /// Its id within the supervisor.
    pub id: ChildId,
    /// Its name.
    pub name: String,
    /// The address of its current (or last) incarnation.
    pub addr: Addr,
    /// Its restart type.
    pub restart_type: RestartType,
    /// Its shutdown strategy.
    pub shutdown: ShutdownStrategy,
    /// How many times it was restarted.
    pub restarts: u64,
    /// Whether an incarnation runs now (`state == ChildState::Running`).
    pub alive: bool,
    /// Whether it runs, waits for its restart, or is terminated (OTP's
    /// `which_children` shows a pid, `restarting` or `undefined`).
    pub state: ChildState,
    /// Whether it is a supervisor.
    pub is_supervisor: bool,
    /// How its last incarnation ended, if one did.
    pub last_exit: Option<ExitReason>,
}

/// The state of one child, as [`ChildInfo::state`] reports it (OTP's
/// `which_children` shows a pid, `restarting` or `undefined`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ChildState {
    /// An incarnation runs.
    Running,
    /// It exited and will be restarted once its backoff delay has passed.
    Restarting,
    /// No incarnation runs and none is due: it was terminated
    /// (`terminate_child`), it is a transient child that ended normally, or
    /// its restart failed. Its spec is kept: `restart_child` starts it
    /// again, `delete_child` forgets it.
    Terminated,
}

/// How many children a supervisor has, by kind (OTP's `count_children`).
///
/// ```
/// use troupe::supervision::ChildCounts;
/// let counts = ChildCounts::default();
/// assert_eq!(counts.specs, counts.workers + counts.supervisors);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct ChildCounts {
    /// Every child it keeps a spec of, running or not (OTP's `specs`).
    pub specs: usize,
    /// The children that run now (OTP's `active`).
    pub active: usize,
    /// The children that are supervisors, running or not.
    pub supervisors: usize,
    /// The children that are workers, running or not.
    pub workers: usize,
}

/// Stops one incarnation by `strategy`. Returns how it ended, or `None`
/// if it did not end even after being killed.
pub(crate) async fn stop_incarnation(
    shared: &Shared,
    strategy: ShutdownStrategy,
) -> Option<ExitReason> {
    shared.exit_awaited();
    match strategy {
        ShutdownStrategy::Brutal => {}
        ShutdownStrategy::Graceful(t) => {
            shared.request_shutdown();
            if let Ok(reason) = tokio::time::timeout(t, shared.wait_exit()).await {
                return Some(reason);
            }
            tracing::warn!(addr = %shared.addr, "did not stop within {t:?}: killing it");
        }
        ShutdownStrategy::Infinity => {
            shared.request_shutdown();
            return Some(shared.wait_exit().await);
        }
    }
    let _ = shared.stop(StopReason::Kill, KILL_WAIT).await;
    tokio::time::timeout(KILL_WAIT, shared.wait_exit())
        .await
        .ok()
}
