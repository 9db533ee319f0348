//! The process state: what a running unit of every kind shares with
//! everything that addresses it (handles, registry, supervisor, timers).
//!
//! A process is a Tokio task with an address, a meta, a mailbox, a
//! shutdown handle and an exit reason. Struct actors, functional actors,
//! supervisors and plain supervised processes are all processes; they
//! differ only in the front-end that runs inside the one run loop
//! (`run_loop.rs`).

use std::sync::atomic::{AtomicU32, AtomicU8, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use parking_lot::Mutex;
use tokio::sync::oneshot;
use tokio::task::AbortHandle;

use super::config::ActorConfig;
use super::dead_letter::DeadLetterReason;
use super::delivery::Delivering;
use super::instruments::Instruments;
use super::link::{Exit, Peers};
use super::mailbox::{Mailbox, Refused};
use super::monitor::Monitors;
use super::release::contain;
use super::restart::SupMsg;
use super::system::ActorSystem;
use crate::addr::{ActorMeta, Addr};
use crate::envelope::Envelope;
use crate::error::{SendError, StopError};
use crate::exit::{ExitReason, StopReason};
use crate::request::RequestError;
use crate::stamp::Stamp;
use crate::status::{ActorStatus, Lifecycle};

mod control;
mod exit;
mod exit_wait;

use exit_wait::ExitWaiters;

/// Messages of the system channel, always handled before the mailbox.
pub(crate) enum SysMsg {
    /// A stop request; `veto` is answered only if a graceful stop is
    /// vetoed (the stopper otherwise waits for the exit itself).
    Stop {
        reason: StopReason,
        veto: Option<oneshot::Sender<StopError>>,
    },
    /// Supervision traffic: a child's exit, a restart timer, child
    /// management (boxed: rare, and it keeps every `SysMsg` small).
    Supervision(Box<SupMsg>),
    /// The exit signal of a link partner, for a process that does not trap
    /// exits (see `link.rs`; boxed for the same reason).
    Exit(Box<Exit>),
}

const STARTING: u8 = 0;
const RUNNING: u8 = 1;
const STOPPING: u8 = 2;
const STOPPED: u8 = 3;
const RESTARTING: u8 = 4;

const NO_STOP: u8 = 0;

/// Answers the system requests left for an ended process (`Gone`) and
/// drops the rest; what they carry of the program's (a template's
/// argument, a child spec) cannot derail the exit.
fn reject_all(sys: Vec<SysMsg>) {
    for msg in sys {
        contain("dropping a system message", || {
            if let SysMsg::Supervision(m) = msg {
                m.reject(super::restart::SupervisorError::Gone);
            }
        });
    }
}

/// State shared by a process and everything that addresses it.
pub(crate) struct Shared {
    pub(crate) addr: Addr,
    /// Shared by every unkeyed struct actor of one type (`run.rs`): 8
    /// bytes here instead of 48.
    pub(crate) meta: Arc<ActorMeta>,
    /// Whether it is registered by name: its name is then its key.
    named: bool,
    pub(crate) mailbox: Mailbox,
    pub(crate) system: ActorSystem,
    /// The default request deadline in nanoseconds (`u64::MAX`: none).
    request_timeout_ns: u64,
    pub(crate) started_at: Stamp,
    lifecycle: AtomicU8,
    /// What kind of process this is, for introspection (`introspect.rs`):
    /// a `ProcessKind` code, plus a bit once it has a restart engine.
    /// Written at its start, read by snapshots only.
    pub(super) kind: AtomicU8,
    /// The stop the current incarnation accepted (a `StopReason` + 1), or 0.
    stop_request: AtomicU8,
    /// Failed handlings: written by the process alone (rarely), read by
    /// status snapshots without its help. (Envelopes taken are counted by
    /// the mailbox, under the lock it takes anyway: a counter of its own
    /// written per message would share a cache line with what senders
    /// read, and slow them down.)
    failures: AtomicU32,
    exit: Mutex<ExitState>,
    /// Supervision links, monitors and links, allocated only for processes
    /// that have some.
    pub(super) links: Mutex<Option<Box<Links>>>,
}

/// How the last incarnation ended, under one lock with the number of the
/// current one.
#[derive(Default)]
struct ExitState {
    /// Bumped each time a supervisor restarts the process in place.
    incarnation: u64,
    /// How incarnation `.0` ended: the current one if the numbers match,
    /// else the one before it (kept for `wait_exit`). Boxed: set once per
    /// incarnation, and 32 bytes less in every process meanwhile.
    reason: Option<Box<(u64, ExitReason)>>,
    /// Aborts the running incarnation's task (a kill).
    abort: Option<AbortHandle>,
    /// Who waits for an exit (`process/exit_wait.rs`).
    waiters: ExitWaiters,
}

impl ExitState {
    /// How incarnation `incarnation` ended, if it has (and is the last
    /// one that did).
    fn reason_of(&self, incarnation: u64) -> Option<&ExitReason> {
        self.reason
            .as_deref()
            .filter(|(n, _)| *n == incarnation)
            .map(|(_, r)| r)
    }

    /// How the current incarnation ended, if it has.
    fn current(&self) -> Option<&ExitReason> {
        self.reason_of(self.incarnation)
    }
}

/// A process's place in a supervision tree, its monitors and links, and
/// the exit reason it asked for: what few processes have, in one box.
#[derive(Default)]
pub(super) struct Links {
    /// The supervisor told (through its system channel) when this exits.
    parent: Option<Weak<Shared>>,
    /// The incarnation its supervisor is stopping and waits for
    /// ([`Shared::exit_awaited`]): its exit is not sent to the supervisor.
    awaited: Option<u64>,
    /// The children linked to this process (it is their supervisor).
    pub(super) children: Vec<Weak<Shared>>,
    /// Who watches this process and what it watches (`monitor.rs`).
    pub(super) monitors: Monitors,
    /// Its link partners and whether it traps exits (`link.rs`).
    pub(super) peers: Peers,
    /// The exit reason the running incarnation asked for
    /// ([`Shared::request_exit`]).
    exit_with: Option<ExitReason>,
    /// How many times its supervisor restarted it, and how the incarnation
    /// before the current one ended (carried over to a new process when a
    /// restart makes one): see `Shared::note_restart`.
    pub(super) restarts: u64,
    pub(super) restarted_after: Option<ExitReason>,
    /// How the process asked to be restarted from its next exit on
    /// (`restart/retry.rs`), until its supervisor takes it.
    pub(super) restart_override: Option<(super::restart::RestartType, super::restart::Retry)>,
    /// The status the running incarnation set (`status_reports.rs`).
    pub(super) status: Option<crate::status::Status>,
}

impl Shared {
    pub(crate) fn new(
        system: ActorSystem,
        meta: Arc<ActorMeta>,
        named: bool,
        config: &ActorConfig,
    ) -> Arc<Self> {
        let addr = Addr::next(system.node());
        Self::at(addr, system, meta, named, config)
    }

    /// A process with a given address: the proxy of a remote process
    /// takes that process's address.
    pub(crate) fn at(
        addr: Addr,
        system: ActorSystem,
        meta: Arc<ActorMeta>,
        named: bool,
        config: &ActorConfig,
    ) -> Arc<Self> {
        let instruments = system.metrics_enabled().then(|| {
            let per_actor = config.actor_metrics();
            let name = named.then_some(&*meta.key);
            Arc::new(Instruments::new(&meta, name, addr, per_actor))
        });
        let mut mailbox = Mailbox::new(config.mailbox_capacity(), config.overflow());
        mailbox.set_instruments(instruments);
        let shared = Arc::new(Self {
            addr,
            meta,
            named,
            mailbox,
            system,
            request_timeout_ns: config.request_timeout().map_or(u64::MAX, |d| {
                u64::try_from(d.as_nanos()).unwrap_or(u64::MAX - 1)
            }),
            started_at: Stamp::now(),
            lifecycle: AtomicU8::new(STARTING),
            kind: AtomicU8::new(0),
            stop_request: AtomicU8::new(NO_STOP),
            failures: AtomicU32::new(0),
            exit: Mutex::new(ExitState::default()),
            links: Mutex::new(None),
        });
        shared.report_status();
        shared
    }

    /// The default deadline of requests to this process.
    pub(crate) fn request_timeout(&self) -> Option<Duration> {
        (self.request_timeout_ns != u64::MAX).then(|| Duration::from_nanos(self.request_timeout_ns))
    }

    /// How long stops and control requests to this process wait.
    pub(crate) fn control_wait(&self) -> Duration {
        self.request_timeout()
            .unwrap_or(crate::defaults::CONTROL_WAIT)
    }

    pub(crate) fn lifecycle(&self) -> Lifecycle {
        match self.lifecycle.load(Ordering::Acquire) {
            STARTING => Lifecycle::Starting,
            RUNNING => Lifecycle::Running,
            STOPPING => Lifecycle::Stopping,
            RESTARTING => Lifecycle::Restarting,
            _ => Lifecycle::Stopped,
        }
    }

    pub(crate) fn set_running(&self) {
        self.lifecycle.store(RUNNING, Ordering::Release);
        self.report_status();
    }

    pub(crate) fn set_stopping(&self) {
        self.lifecycle.store(STOPPING, Ordering::Release);
        self.report_status();
    }

    pub(crate) fn is_alive(&self) -> bool {
        self.lifecycle.load(Ordering::Acquire) != STOPPED
    }

    /// Records a stop the running incarnation accepted (a shutdown or a
    /// kill wins over a graceful stop or a drain).
    pub(crate) fn request_stop(&self, reason: StopReason) {
        let code = match reason {
            StopReason::Graceful => 1,
            StopReason::Shutdown => 2,
            StopReason::Kill => 3,
            StopReason::Drain => 4,
        };
        let wins = matches!(reason, StopReason::Shutdown | StopReason::Kill);
        let _ = self
            .stop_request
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |old| {
                (old == NO_STOP || wins).then_some(code)
            });
    }

    /// The stop the running incarnation accepted, if any.
    pub(crate) fn stop_requested(&self) -> Option<StopReason> {
        match self.stop_request.load(Ordering::Acquire) {
            NO_STOP => None,
            1 => Some(StopReason::Graceful),
            2 => Some(StopReason::Shutdown),
            4 => Some(StopReason::Drain),
            _ => Some(StopReason::Kill),
        }
    }

    /// How the last incarnation that ended, ended, if one did.
    pub(super) fn ended_with(&self) -> Option<ExitReason> {
        self.exit.lock().reason.as_deref().map(|(_, r)| r.clone())
    }

    /// The name it is registered under, if any (its key).
    pub(crate) fn name(&self) -> Option<&str> {
        self.named.then_some(&*self.meta.key)
    }

    /// Its metric handles, in a system with metrics on (`instruments.rs`):
    /// kept by its mailbox, which counts what arrives.
    pub(crate) fn instruments(&self) -> Option<&Arc<Instruments>> {
        self.mailbox.instruments()
    }

    /// Counts a failed handling.
    pub(crate) fn count_failure(&self) {
        let n = self.failures.load(Ordering::Relaxed);
        self.failures.store(n.saturating_add(1), Ordering::Relaxed);
    }

    /// A status snapshot, read from the shared state: it needs no help from
    /// the process, so it answers while a handler is stuck (as Tokio
    /// Actors' latest version reads its status from a watch).
    pub(crate) fn status(&self) -> ActorStatus {
        ActorStatus {
            addr: self.addr,
            meta: ActorMeta::clone(&self.meta),
            name: self.name().map(str::to_owned),
            lifecycle: self.lifecycle(),
            mailbox_len: self.mailbox.len(),
            mailbox_capacity: self.mailbox.capacity(),
            processed: self.mailbox.taken(),
            failures: u64::from(self.failures.load(Ordering::Relaxed)),
            dropped: self.mailbox.dropped(),
            uptime: self.started_at.elapsed(),
            children: self.child_count(),
            reported: self.reported_status(),
        }
    }

    /// Records the task of the running incarnation, for kills. A kill that
    /// came before (and found no task) finished the incarnation already:
    /// the task is then aborted here.
    pub(crate) fn set_abort(&self, handle: AbortHandle) {
        let killed = {
            let mut exit = self.exit.lock();
            exit.abort = Some(handle.clone());
            exit.current().is_some()
        };
        if killed {
            handle.abort();
        }
    }

    /// Whether a task runs (or ran) this incarnation.
    pub(crate) fn has_task(&self) -> bool {
        self.exit.lock().abort.is_some()
    }

    /// The incarnation whose task is the one running now (the caller's),
    /// if it has not ended yet.
    pub(crate) fn task_incarnation(&self) -> Option<u64> {
        let me = tokio::task::try_id()?;
        let exit = self.exit.lock();
        let mine = exit.abort.as_ref().is_some_and(|h| h.id() == me);
        (mine && exit.current().is_none()).then_some(exit.incarnation)
    }

    pub(crate) fn abort(&self) {
        if let Some(h) = self.exit.lock().abort.as_ref() {
            h.abort();
        }
    }

    /// Links this process to its supervisor, which learns of its exit, and
    /// which kills it if the supervisor ends first (see [`Shared::finish`]).
    ///
    /// O(1) amortized, whatever the number of children: a child restarted in
    /// place already has this parent, so it keeps its place (start order)
    /// without a search; the links of ended children are pruned only when
    /// the list would grow, and the list then keeps room for as many new
    /// children as it has live ones.
    pub(crate) fn set_parent(self: &Arc<Self>, parent: Weak<Shared>) {
        let known = self.with_links(|l| {
            let known = l.parent.as_ref().is_some_and(|p| p.ptr_eq(&parent));
            l.parent = Some(parent.clone());
            known
        });
        if known {
            return;
        }
        if let Some(p) = parent.upgrade() {
            p.with_links(|l| {
                let children = &mut l.children;
                if children.len() == children.capacity() {
                    children.retain(|c| c.strong_count() > 0);
                    children.reserve(children.len().max(4));
                }
                children.push(Arc::downgrade(self));
            });
        }
    }

    /// Runs `f` on the links box, allocating it if needed.
    pub(super) fn with_links<R>(&self, f: impl FnOnce(&mut Links) -> R) -> R {
        f(self.links.lock().get_or_insert_with(Box::default))
    }

    /// Its supervisor stops the running incarnation and waits for its exit
    /// (`restart/child.rs`): that exit is not also sent to the supervisor's
    /// system channel, where it would only be found stale (or, during the
    /// supervisor's own shutdown, queue up to be dropped with it: about a
    /// tenth of the instructions of stopping a child, in callgrind).
    pub(crate) fn exit_awaited(&self) {
        let incarnation = self.incarnation();
        self.with_links(|l| l.awaited = Some(incarnation));
    }

    /// Records the exit reason the running incarnation asks for (a custom
    /// one, or the reason of a link partner's exit signal), for the front-end
    /// to end with ([`Shared::requested_exit`]).
    pub(crate) fn request_exit(&self, reason: ExitReason) {
        self.with_links(|l| l.exit_with = Some(reason));
    }

    /// Takes the exit reason the running incarnation asked for, if any.
    pub(crate) fn requested_exit(&self) -> Option<ExitReason> {
        self.links.lock().as_mut()?.exit_with.take()
    }

    pub(crate) fn parent(&self) -> Option<Arc<Shared>> {
        self.links.lock().as_ref()?.parent.as_ref()?.upgrade()
    }

    /// The address of this process's supervisor, if it has a live one.
    pub(crate) fn parent_addr(&self) -> Option<Addr> {
        self.parent().map(|p| p.addr)
    }

    /// How many linked children are alive.
    pub(crate) fn child_count(&self) -> usize {
        self.links.lock().as_ref().map_or(0, |l| {
            l.children
                .iter()
                .filter_map(Weak::upgrade)
                .filter(|c| c.is_alive())
                .count()
        })
    }

    /// Which incarnation of this process runs now (0 for the first).
    pub(crate) fn incarnation(&self) -> u64 {
        self.exit.lock().incarnation
    }

    /// Prepares a finished process for a new incarnation that keeps its
    /// address, name and mailbox, with what was queued in it: the
    /// supervisor calls it only after [`Shared::wait_exit`] returned.
    pub(crate) fn reset_for_restart(&self) {
        {
            let mut exit = self.exit.lock();
            exit.incarnation += 1;
            exit.abort = None;
        }
        self.stop_request.store(NO_STOP, Ordering::Release);
        self.clear_status();
        self.lifecycle.store(STARTING, Ordering::Release);
        self.mailbox.reopen();
        self.report_status();
    }

    /// Delivers an envelope, waiting for space if the policy says so.
    ///
    /// Not an `async fn`: its future ([`Delivering`]) is the envelope, a
    /// pointer and a ticket, 80 bytes, where an `async fn` kept the
    /// envelope twice and the result beside the push (472 bytes). It lives
    /// in the future of every handler that sends.
    pub(crate) fn deliver(&self, env: Envelope) -> Delivering<'_> {
        Delivering::new(self, env)
    }

    /// Delivers an envelope in the priority lane, without waiting.
    pub(crate) fn try_deliver_priority(&self, env: Envelope) -> Result<(), SendError<Envelope>> {
        match self.mailbox.try_push_priority(env) {
            Ok(()) => Ok(()),
            Err(Refused::Full(env)) => Err(SendError::Full(env)),
            Err(Refused::Closed(env)) => Err(SendError::Closed(env)),
        }
    }

    /// Delivers an envelope without waiting.
    pub(crate) fn try_deliver(&self, env: Envelope) -> Result<(), SendError<Envelope>> {
        let res = self.mailbox.try_push(env);
        self.settle(res)
    }

    /// What a delivery's outcome in the mailbox means for its sender: an
    /// envelope a lossy policy dropped is a dead letter (and its request
    /// fails with `Full`).
    pub(super) fn settle(
        &self,
        res: Result<Option<Envelope>, Refused>,
    ) -> Result<(), SendError<Envelope>> {
        match res {
            Ok(None) => Ok(()),
            Ok(Some(dropped)) => {
                self.system
                    .dead_letter_at(self, &dropped, DeadLetterReason::Overflow);
                dropped.fail(RequestError::Full);
                Ok(())
            }
            Err(Refused::Full(env)) => Err(SendError::Full(env)),
            Err(Refused::Closed(env)) => Err(SendError::Closed(env)),
        }
    }
}
