//! The process: the one kind of running unit every front-end builds on.
//!
//! A process is a Tokio task with an address, a meta, a mailbox, a shutdown
//! handle and an exit reason. Struct actors, functional actors and (later)
//! supervised plain processes and pipeline bridges all run as processes.

use std::future::Future;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use tokio::runtime::Handle;
use tokio::sync::{oneshot, Notify};
use tokio::task::AbortHandle;
use tracing::Instrument;

use crate::addr::{ActorMeta, Addr};
use crate::context::{Current, CURRENT};
use crate::dead_letter::DeadLetterReason;
use crate::envelope::{Envelope, TraceId};
use crate::error::{SendError, StopError};
use crate::mailbox::{Mailbox, Refused};
use crate::request::RequestError;
use crate::status::{ActorStatus, Lifecycle};
use crate::system::ActorSystem;

/// How to stop an actor: the three tiers of termination.
///
/// ```no_run
/// # use troupe::prelude::*;
/// # async fn f(handle: ActorRef<impl Actor>) -> Result<(), troupe::StopError> {
/// handle.stop(StopReason::Graceful).await?; // tier 1: `pre_stop` may veto
/// handle.stop(StopReason::Shutdown).await?; // tier 2: no veto, `on_stopped` runs
/// handle.stop(StopReason::Kill).await?;     // tier 3: bypasses every hook
/// # Ok(()) }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StopReason {
    /// Tier 1: asks the actor to stop; `pre_stop` may veto. On success it
    /// exits with [`ExitReason::Normal`] after `on_stopped`.
    Graceful,
    /// Tier 2: stops without veto; `on_stopped` still runs. Exits with
    /// [`ExitReason::Shutdown`].
    Shutdown,
    /// Tier 3: aborts the task at its next await point; no hook runs. Exits
    /// with [`ExitReason::Killed`].
    Kill,
}

/// How a process ended, in Erlang/OTP terms.
///
/// `Normal` and `Shutdown` are normal exits: a transient child is not
/// restarted after them. Every other reason is abnormal.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ExitReason {
    /// It stopped itself, finished, or accepted a graceful stop.
    Normal,
    /// It was stopped by a tier-2 stop or a system/supervisor shutdown.
    Shutdown,
    /// It was killed (tier 3, or escalation after a shutdown timeout).
    Killed,
    /// A request handler (or a hook) returned an error or panicked.
    Failed(String),
    /// `pre_start` failed; the actor never ran.
    StartFailed(String),
}

impl ExitReason {
    /// Whether this exit is abnormal in Erlang's sense (not `Normal`, not
    /// `Shutdown`).
    pub fn is_abnormal(&self) -> bool {
        !matches!(self, ExitReason::Normal | ExitReason::Shutdown)
    }
}

impl std::fmt::Display for ExitReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExitReason::Normal => f.write_str("normal"),
            ExitReason::Shutdown => f.write_str("shutdown"),
            ExitReason::Killed => f.write_str("killed"),
            ExitReason::Failed(e) => write!(f, "failed: {e}"),
            ExitReason::StartFailed(e) => write!(f, "failed to start: {e}"),
        }
    }
}

/// Messages of the system channel, always handled before the mailbox.
pub(crate) enum SysMsg {
    Stop {
        reason: StopReason,
        reply: Option<oneshot::Sender<Result<(), StopError>>>,
    },
    Status(oneshot::Sender<ActorStatus>),
    /// Supervision traffic: a child's exit, a restart timer, introspection
    /// (boxed: rare, and it keeps every `SysMsg` small).
    Supervision(Box<crate::supervision::SupMsg>),
}

const STARTING: u8 = 0;
const RUNNING: u8 = 1;
const STOPPING: u8 = 2;
const STOPPED: u8 = 3;

/// State shared by a process and everything that addresses it.
pub(crate) struct Shared {
    pub(crate) addr: Addr,
    pub(crate) meta: ActorMeta,
    pub(crate) name: Option<Arc<str>>,
    pub(crate) mailbox: Mailbox,
    pub(crate) system: ActorSystem,
    /// The default request deadline in nanoseconds (`u64::MAX`: none).
    request_timeout_ns: u64,
    pub(crate) started_at: Instant,
    lifecycle: AtomicU8,
    exit: Mutex<ExitState>,
    exited: Notify,
    /// Supervision links, allocated only for supervised processes and
    /// supervisors.
    links: Mutex<Option<Box<Links>>>,
}

/// How the last incarnation ended, under one lock with the number of the
/// current one.
#[derive(Default)]
struct ExitState {
    /// Bumped each time a supervisor restarts the process in place.
    incarnation: u64,
    /// How incarnation `.0` ended: the current one if the numbers match,
    /// else the one before it (kept for `wait_exit`).
    reason: Option<(u64, ExitReason)>,
    /// Aborts the running incarnation's task (a kill).
    abort: Option<AbortHandle>,
}

impl ExitState {
    fn current(&self) -> Option<&ExitReason> {
        self.reason
            .as_ref()
            .filter(|(n, _)| *n == self.incarnation)
            .map(|(_, r)| r)
    }
}

/// A process's place in a supervision tree.
#[derive(Default)]
struct Links {
    /// The supervisor told (through its system channel) when this exits.
    parent: Option<Weak<Shared>>,
    /// The children linked to this process (it is their supervisor).
    children: Vec<Weak<Shared>>,
}

impl Shared {
    pub(crate) fn new(
        system: ActorSystem,
        meta: ActorMeta,
        name: Option<Arc<str>>,
        config: &crate::spawn::ActorConfig,
    ) -> Arc<Self> {
        Arc::new(Self {
            addr: Addr::next(system.node()),
            meta,
            name,
            mailbox: Mailbox::new(config.mailbox_capacity(), config.overflow()),
            system,
            request_timeout_ns: config.request_timeout().map_or(u64::MAX, |d| {
                u64::try_from(d.as_nanos()).unwrap_or(u64::MAX - 1)
            }),
            started_at: Instant::now(),
            lifecycle: AtomicU8::new(STARTING),
            exit: Mutex::new(ExitState::default()),
            exited: Notify::new(),
            links: Mutex::new(None),
        })
    }

    /// The default deadline of requests to this process.
    pub(crate) fn request_timeout(&self) -> Option<Duration> {
        (self.request_timeout_ns != u64::MAX).then(|| Duration::from_nanos(self.request_timeout_ns))
    }

    pub(crate) fn lifecycle(&self) -> Lifecycle {
        match self.lifecycle.load(Ordering::Acquire) {
            STARTING => Lifecycle::Starting,
            RUNNING => Lifecycle::Running,
            STOPPING => Lifecycle::Stopping,
            _ => Lifecycle::Stopped,
        }
    }

    pub(crate) fn set_running(&self) {
        self.lifecycle.store(RUNNING, Ordering::Release);
    }

    pub(crate) fn set_stopping(&self) {
        self.lifecycle.store(STOPPING, Ordering::Release);
    }

    pub(crate) fn is_alive(&self) -> bool {
        self.lifecycle.load(Ordering::Acquire) != STOPPED
    }

    pub(crate) fn set_abort(&self, handle: AbortHandle) {
        self.exit.lock().abort = Some(handle);
    }

    pub(crate) fn abort(&self) {
        if let Some(h) = self.exit.lock().abort.as_ref() {
            h.abort();
        }
    }

    pub(crate) fn exit_reason(&self) -> Option<ExitReason> {
        self.exit.lock().current().cloned()
    }

    /// Waits until the incarnation running now has exited (and is
    /// unregistered) and returns how, even if a supervisor restarted the
    /// process in place meanwhile.
    pub(crate) async fn wait_exit(&self) -> ExitReason {
        self.wait_exit_of(self.incarnation()).await
    }

    /// Waits until incarnation `incarnation` has exited (it may have been
    /// restarted in place since).
    pub(crate) async fn wait_exit_of(&self, incarnation: u64) -> ExitReason {
        loop {
            let notified = self.exited.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            {
                let exit = self.exit.lock();
                let ended = exit.reason.as_ref().filter(|(n, _)| *n == incarnation);
                if exit.incarnation != incarnation {
                    // Restarted in place since: that incarnation ended.
                    return ended.map_or(ExitReason::Killed, |(_, r)| r.clone());
                }
                if let Some((_, r)) = ended {
                    if self.lifecycle() == Lifecycle::Stopped {
                        return r.clone();
                    }
                }
            }
            notified.await;
        }
    }

    /// Links this process to its supervisor, which learns of its exit, and
    /// which kills it if the supervisor ends first (see [`Shared::finish`]).
    pub(crate) fn set_parent(self: &Arc<Self>, parent: Weak<Shared>) {
        if let Some(p) = parent.upgrade() {
            let me = Arc::downgrade(self);
            let mut links = p.links.lock();
            let children = &mut links.get_or_insert_with(Box::default).children;
            children.retain(|l| l.strong_count() > 0 && !l.ptr_eq(&me));
            children.push(me);
        }
        self.links.lock().get_or_insert_with(Box::default).parent = Some(parent);
    }

    fn parent(&self) -> Option<Arc<Shared>> {
        self.links.lock().as_ref()?.parent.as_ref()?.upgrade()
    }

    /// The address of this process's supervisor, if it has a live one.
    pub(crate) fn parent_addr(&self) -> Option<Addr> {
        self.parent().map(|p| p.addr)
    }

    /// Which incarnation of this process runs now (0 for the first).
    pub(crate) fn incarnation(&self) -> u64 {
        self.exit.lock().incarnation
    }

    /// Prepares a finished process for a new incarnation that keeps its
    /// address, name and mailbox (reopened): the supervisor calls it only
    /// after [`Shared::wait_exit`] returned.
    pub(crate) fn reset_for_restart(&self) {
        self.exit.lock().incarnation += 1;
        self.exit.lock().abort = None;
        self.lifecycle.store(STARTING, Ordering::Release);
        self.mailbox.reopen();
    }

    /// Delivers an envelope, waiting for space if the policy says so.
    pub(crate) async fn deliver(&self, env: Envelope) -> Result<(), SendError<Envelope>> {
        // Fast path without an async state machine: there is space.
        let res = match self.mailbox.try_push(env) {
            Err(Refused::Full(env)) if self.mailbox.waits_when_full() => {
                self.mailbox.push(env).await
            }
            other => other,
        };
        self.settle(res)
    }

    /// Delivers an envelope without waiting.
    pub(crate) fn try_deliver(&self, env: Envelope) -> Result<(), SendError<Envelope>> {
        let res = self.mailbox.try_push(env);
        self.settle(res)
    }

    fn settle(&self, res: Result<Option<Envelope>, Refused>) -> Result<(), SendError<Envelope>> {
        match res {
            Ok(None) => Ok(()),
            Ok(Some(dropped)) => {
                self.system
                    .dead_letter(self.addr, &dropped, DeadLetterReason::Overflow);
                dropped.fail(RequestError::Full);
                Ok(())
            }
            Err(Refused::Full(env)) => Err(SendError::Full(env)),
            Err(Refused::Closed(env)) => Err(SendError::Closed(env)),
        }
    }

    /// Records the exit: refuses further messages, reports what was still
    /// queued as dead letters, answers pending system requests, wakes waiters
    /// and unregisters the process. Idempotent.
    ///
    /// The supervisor (if any) is told once the process is unregistered,
    /// through its system channel, so that it never restarts a process that
    /// is still being torn down; and before waiters wake, so that once a
    /// stop returned, the supervisor has been told.
    pub(crate) fn finish(&self, reason: ExitReason) {
        let incarnation = {
            let mut exit = self.exit.lock();
            if exit.current().is_some() {
                return;
            }
            exit.reason = Some((exit.incarnation, reason.clone()));
            exit.incarnation
        };
        // A supervisor stops its children before it ends; any still running
        // now (it was killed) are killed with it, before anyone learns that
        // it ended, so that a restarted supervisor finds their names free.
        let linked = match self.links.lock().as_mut() {
            Some(links) => std::mem::take(&mut links.children),
            None => Vec::new(),
        };
        for child in linked.iter().filter_map(Weak::upgrade) {
            if child.is_alive() {
                child.abort();
                child.finish(ExitReason::Killed);
            }
        }
        let (queued, sys) = self.mailbox.finish();
        for env in queued {
            self.system
                .dead_letter(self.addr, &env, DeadLetterReason::ActorStopped);
            env.fail(RequestError::Gone);
        }
        for msg in sys {
            match msg {
                SysMsg::Stop { reply, .. } => {
                    if let Some(r) = reply {
                        let _ = r.send(Ok(()));
                    }
                }
                // Dropping the reply sender answers the requester with `Gone`.
                SysMsg::Status(_) | SysMsg::Supervision(_) => {}
            }
        }
        self.system.unregister(self);
        self.lifecycle.store(STOPPED, Ordering::Release);
        tracing::debug!(addr = %self.addr, meta = %self.meta, %reason, "stopped");
        if let Some(parent) = self.parent() {
            let msg = crate::supervision::SupMsg::ChildExit {
                addr: self.addr,
                incarnation,
                reason,
            };
            let _ = parent.mailbox.push_sys(SysMsg::Supervision(Box::new(msg)));
        }
        self.exited.notify_waiters();
    }

    /// Sends a stop request through the system channel and waits (bounded)
    /// for the process to end.
    pub(crate) async fn stop(&self, reason: StopReason, wait: Duration) -> Result<(), StopError> {
        if reason == StopReason::Kill {
            // The incarnation killed here: a supervisor may restart the
            // process in place before this waits, and then the new one runs.
            let incarnation = self.incarnation();
            self.abort();
            // Killed before its task was ever polled or spawned: finish here.
            if self.exit.lock().abort.is_none() {
                self.finish(ExitReason::Killed);
            }
            return match tokio::time::timeout(wait, self.wait_exit_of(incarnation)).await {
                Ok(_) => Ok(()),
                Err(_) => Err(StopError::Timeout(wait)),
            };
        }
        let (tx, rx) = oneshot::channel();
        let msg = SysMsg::Stop {
            reason,
            reply: Some(tx),
        };
        if self.mailbox.push_sys(msg).is_err() {
            return Ok(()); // already gone: stopping is idempotent
        }
        match tokio::time::timeout(wait, rx).await {
            Ok(Ok(res)) => res,
            // The process ended without answering (it was killed): stopped.
            Ok(Err(_)) => Ok(()),
            Err(_) => Err(StopError::Timeout(wait)),
        }
    }

    /// Asks the process to stop with [`StopReason::Shutdown`] without waiting.
    pub(crate) fn request_shutdown(&self) {
        let _ = self.mailbox.push_sys(SysMsg::Stop {
            reason: StopReason::Shutdown,
            reply: None,
        });
    }

    /// Asks the process for a status snapshot through the system channel.
    pub(crate) async fn status(&self, wait: Duration) -> Result<ActorStatus, RequestError> {
        let (tx, rx) = oneshot::channel();
        if self.mailbox.push_sys(SysMsg::Status(tx)).is_err() {
            return Err(RequestError::Gone);
        }
        match tokio::time::timeout(wait, rx).await {
            Ok(Ok(s)) => Ok(s),
            Ok(Err(_)) => Err(RequestError::Gone),
            Err(_) => Err(RequestError::Timeout(wait)),
        }
    }
}

/// The root span every piece of a process runs in: its group, key and
/// address.
pub(crate) fn span(shared: &Shared) -> tracing::Span {
    tracing::info_span!(
        parent: None,
        "actor",
        group = %shared.meta.group,
        key = %shared.meta.key,
        addr = %shared.addr
    )
}

/// Spawns a process's task on `runtime`: inside a root `actor` span that
/// carries its group, key and address, with the task-local current process
/// set (sender address and trace of what it sends), and with its abort handle
/// recorded for kills. `body` gets the guard that finishes the process
/// however its task ends.
pub(crate) fn launch<F: Future<Output = ()> + Send + 'static>(
    shared: &Arc<Shared>,
    runtime: &Handle,
    trace_id: TraceId,
    body: impl FnOnce(ExitGuard) -> F,
) {
    let task = CURRENT
        .scope(
            Current::new(shared, trace_id),
            body(ExitGuard(shared.clone())),
        )
        .instrument(span(shared));
    let join = runtime.spawn(task);
    shared.set_abort(join.abort_handle());
}

/// Finishes the process when its task ends in any way, including abort:
/// created before the task is spawned and moved into it, so it runs even if
/// the task is killed before its first poll.
///
/// Ending normally, the run loop calls `Shared::finish` with its reason
/// first; the guard's own `finish(Killed)` is then a no-op.
pub(crate) struct ExitGuard(pub(crate) Arc<Shared>);

impl Drop for ExitGuard {
    fn drop(&mut self) {
        self.0.finish(ExitReason::Killed);
    }
}
