//! Introspection: the processes of a system by address, what each one is
//! and how it is doing, its place in the supervision tree, the runtimes
//! that run them; and stopping or killing one by address.
//!
//! Everything here is read from the state a process shares with its
//! handles, without the process's help (as [`ActorStatus`] is): a stuck
//! process answers as well as an idle one, and a snapshot costs the
//! running processes nothing but the short locks it takes (no message,
//! no counter written on their behalf). This is what Erlang's
//! `erlang:processes/0` and `erlang:process_info/2` give, and what the
//! observer (`troupe-observer`) shows.

use std::time::Duration;

use tokio::runtime::{Handle, RuntimeFlavor};

use std::sync::atomic::Ordering;
use std::sync::Weak;

use super::process::Shared;
use super::system::ActorSystem;
use crate::addr::{ActorMeta, Addr, NodeNo};
use crate::error::StopError;
use crate::exit::{ExitReason, StopReason};
use crate::status::{ActorStatus, Lifecycle};

/// The bit of `Shared::kind` set on processes that supervise children.
const SUPERVISES: u8 = 0x80;

/// What introspection reads and front-ends write in the process state.
impl Shared {
    /// Sets what kind of process this is (a `ProcessKind` code), keeping
    /// the supervisor bit.
    pub(crate) fn set_kind(&self, code: u8) {
        let _ = self
            .kind
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |old| {
                Some((old & SUPERVISES) | (code & !SUPERVISES))
            });
    }

    /// Marks this process as a supervisor (it has a restart engine).
    pub(crate) fn mark_supervisor(&self) {
        self.kind.fetch_or(SUPERVISES, Ordering::AcqRel);
    }

    /// Whether this process is a supervisor: killed with its own
    /// supervisor, it shuts its children down in order instead of dying at
    /// once (see `Shared::finish_incarnation`).
    pub(crate) fn is_supervisor(&self) -> bool {
        self.kind.load(Ordering::Acquire) & SUPERVISES != 0
    }

    /// Records a restart by this process's supervisor: `restarts` in all,
    /// the last one after an exit with `after`.
    pub(crate) fn note_restart(&self, restarts: u64, after: Option<ExitReason>) {
        self.with_links(|l| {
            l.restarts = restarts;
            l.restarted_after = after;
        });
    }

    /// How the last incarnation that ended, ended: this process's own exit
    /// if it has one, or the one before a restart.
    fn last_exit(&self) -> Option<ExitReason> {
        let own = self.ended_with();
        own.or_else(|| self.links.lock().as_ref()?.restarted_after.clone())
    }

    /// The addresses of its live children, in start order.
    fn child_addrs(&self) -> Vec<Addr> {
        self.links.lock().as_ref().map_or_else(Vec::new, |l| {
            l.children
                .iter()
                .filter_map(Weak::upgrade)
                .filter(|c| c.is_alive())
                .map(|c| c.addr)
                .collect()
        })
    }
}

/// What kind of process an address names.
///
/// Every kind is a process of the one core (a Tokio task with an address,
/// a mailbox and an exit reason); the kind says which front-end runs in it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ProcessKind {
    /// A struct actor ([`Actor`](crate::Actor)); one spawned as a
    /// supervisor also has [`ProcessInfo::supervises`] set.
    Actor,
    /// A plain [`Supervisor`](crate::supervision::Supervisor).
    Supervisor,
    /// The supervisor process of a mounted actor group
    /// ([`ActorGroup`](crate::ActorGroup)): its children are the group's
    /// keyed actors.
    Group,
    /// A keyed actor of a group (functional, or a struct actor the group
    /// runs).
    GroupActor,
    /// A plain supervised process
    /// ([`Supervisable`](crate::supervision::Supervisable)).
    Process,
    /// The local stand-in of a process of another node.
    Proxy,
}

impl ProcessKind {
    pub(crate) const ACTOR: u8 = 0;
    pub(crate) const SUPERVISOR: u8 = 1;
    pub(crate) const GROUP: u8 = 2;
    pub(crate) const GROUP_ACTOR: u8 = 3;
    pub(crate) const PROCESS: u8 = 4;
    pub(crate) const PROXY: u8 = 5;

    fn from_code(code: u8) -> Self {
        match code & !SUPERVISES {
            Self::SUPERVISOR => ProcessKind::Supervisor,
            Self::GROUP => ProcessKind::Group,
            Self::GROUP_ACTOR => ProcessKind::GroupActor,
            Self::PROCESS => ProcessKind::Process,
            Self::PROXY => ProcessKind::Proxy,
            Self::ACTOR => ProcessKind::Actor,
            _ => ProcessKind::Actor,
        }
    }

    /// A short lowercase name: `actor`, `supervisor`, `group`,
    /// `group_actor`, `process`, `proxy`.
    pub fn as_str(self) -> &'static str {
        match self {
            ProcessKind::Actor => "actor",
            ProcessKind::Supervisor => "supervisor",
            ProcessKind::Group => "group",
            ProcessKind::GroupActor => "group_actor",
            ProcessKind::Process => "process",
            ProcessKind::Proxy => "proxy",
        }
    }
}

impl std::fmt::Display for ProcessKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What one process is and how it is doing, read without its help.
///
/// Counters (`status.processed`, `status.failures`, `restarts`) only grow
/// over the life of the address: a rate is the difference of two
/// snapshots divided by the time between them.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ProcessInfo {
    /// Address, meta, name, lifecycle, mailbox depth and capacity,
    /// messages handled, failures, drops, uptime.
    pub status: ActorStatus,
    /// Which front-end runs in it.
    pub kind: ProcessKind,
    /// Whether it supervises children (it has a restart engine).
    pub supervises: bool,
    /// Its supervisor, if it has a live one (a root has none).
    pub parent: Option<Addr>,
    /// Its live children (linked to it as their supervisor), in start
    /// order.
    pub children: Vec<Addr>,
    /// How many times its supervisor restarted it.
    pub restarts: u64,
    /// How its last incarnation that ended, ended (the one before the
    /// latest restart, for a running process).
    pub last_exit: Option<ExitReason>,
    /// The runtime it runs on: an index into [`SystemSnapshot::runtimes`]
    /// (0: the default runtime; `n`: the `n`th dedicated one).
    pub runtime: usize,
}

impl ProcessInfo {
    /// Its address.
    pub fn addr(&self) -> Addr {
        self.status.addr
    }

    /// Its group and key.
    pub fn meta(&self) -> &ActorMeta {
        &self.status.meta
    }

    /// Its registered name, if any.
    pub fn name(&self) -> Option<&str> {
        self.status.name.as_deref()
    }

    /// Where it is in its life.
    pub fn lifecycle(&self) -> Lifecycle {
        self.status.lifecycle
    }
}

/// A Tokio runtime that runs processes of a system, and its worker threads.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct RuntimeInfo {
    /// Its index (0: the default runtime).
    pub index: usize,
    /// Whether it is a dedicated runtime of the topology
    /// ([`Topology::add_dedicated_rt`](crate::Topology)) rather than the
    /// default one.
    pub dedicated: bool,
    /// `current_thread` or `multi_thread`.
    pub flavor: &'static str,
    /// Its worker threads, one entry each.
    pub workers: Vec<WorkerInfo>,
    /// Tasks alive on it (processes, timers, streams and whatever else the
    /// program spawned there).
    pub alive_tasks: usize,
    /// Tasks waiting in its global queue.
    pub global_queue_depth: usize,
    /// How many of the listed processes run on it.
    pub processes: usize,
}

/// One worker thread of a runtime.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct WorkerInfo {
    /// Its index within the runtime.
    pub index: usize,
    /// How long it has been busy (polling tasks) since the runtime started.
    pub busy: Duration,
    /// How many times it parked (went idle).
    pub parks: u64,
}

/// Everything introspection knows about a system at one moment.
///
/// ```
/// use troupe::prelude::*;
///
/// struct Worker;
/// impl Actor for Worker {}
///
/// # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let system = ActorSystem::create("doc-snapshot")?;
/// let w = Worker.spawn().named("w").on_system(&system).await?;
/// let snapshot = system.snapshot();
/// assert_eq!(snapshot.processes.len(), 1);
/// assert_eq!(snapshot.processes[0].addr(), w.addr());
/// assert_eq!(snapshot.roots().count(), 1);
/// system.shutdown().await;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct SystemSnapshot {
    /// The system's name.
    pub name: String,
    /// This node's number.
    pub node: NodeNo,
    /// Every live process, by address (spawn order).
    pub processes: Vec<ProcessInfo>,
    /// The runtimes, the default one first.
    pub runtimes: Vec<RuntimeInfo>,
    /// Dead letters reported so far.
    pub dead_letters: u64,
    /// Whether a shutdown has begun.
    pub shutting_down: bool,
}

impl SystemSnapshot {
    /// The process at `addr`, if it is in the snapshot.
    pub fn get(&self, addr: Addr) -> Option<&ProcessInfo> {
        self.processes
            .binary_search_by_key(&addr, ProcessInfo::addr)
            .ok()
            .map(|i| &self.processes[i])
    }

    /// The roots of the supervision tree: processes without a live
    /// supervisor, in spawn order.
    pub fn roots(&self) -> impl Iterator<Item = &ProcessInfo> {
        self.processes.iter().filter(|p| p.parent.is_none())
    }

    /// The children of `addr` that are in the snapshot, in start order.
    pub fn children_of(&self, addr: Addr) -> impl Iterator<Item = &ProcessInfo> {
        self.get(addr)
            .into_iter()
            .flat_map(|p| p.children.iter())
            .filter_map(|c| self.get(*c))
    }
}

fn info(system: &ActorSystem, shared: &Shared) -> ProcessInfo {
    let code = shared.kind.load(Ordering::Acquire);
    let restarts = shared.links.lock().as_ref().map_or(0, |l| l.restarts);
    ProcessInfo {
        status: shared.status(),
        kind: ProcessKind::from_code(code),
        supervises: code & SUPERVISES != 0,
        parent: shared.parent_addr(),
        children: shared.child_addrs(),
        restarts,
        last_exit: shared.last_exit(),
        runtime: system
            .runtimes()
            .dedicated_index(shared)
            .map_or(0, |i| i + 1),
    }
}

fn runtime_info(index: usize, dedicated: bool, handle: Option<&Handle>) -> RuntimeInfo {
    let Some(handle) = handle else {
        return RuntimeInfo {
            index,
            dedicated,
            flavor: "unknown",
            workers: Vec::new(),
            alive_tasks: 0,
            global_queue_depth: 0,
            processes: 0,
        };
    };
    let metrics = handle.metrics();
    let flavor = match handle.runtime_flavor() {
        RuntimeFlavor::CurrentThread => "current_thread",
        RuntimeFlavor::MultiThread => "multi_thread",
        _ => "other",
    };
    let workers = (0..metrics.num_workers())
        .map(|w| WorkerInfo {
            index: w,
            busy: worker_busy(&metrics, w),
            parks: worker_parks(&metrics, w),
        })
        .collect();
    RuntimeInfo {
        index,
        dedicated,
        flavor,
        workers,
        alive_tasks: metrics.num_alive_tasks(),
        global_queue_depth: metrics.global_queue_depth(),
        processes: 0,
    }
}

#[cfg(target_has_atomic = "64")]
fn worker_busy(metrics: &tokio::runtime::RuntimeMetrics, worker: usize) -> Duration {
    metrics.worker_total_busy_duration(worker)
}

#[cfg(not(target_has_atomic = "64"))]
fn worker_busy(_: &tokio::runtime::RuntimeMetrics, _: usize) -> Duration {
    Duration::ZERO
}

#[cfg(target_has_atomic = "64")]
fn worker_parks(metrics: &tokio::runtime::RuntimeMetrics, worker: usize) -> u64 {
    metrics.worker_park_count(worker)
}

#[cfg(not(target_has_atomic = "64"))]
fn worker_parks(_: &tokio::runtime::RuntimeMetrics, _: usize) -> u64 {
    0
}

/// Introspection: processes by address, and stop/kill by address.
impl ActorSystem {
    /// Every live process of this system (proxies of remote processes
    /// included), by address: in spawn order. Anonymous processes are
    /// listed too, whether or not a handle to them is still held (Erlang's
    /// `erlang:processes/0`).
    ///
    /// ```
    /// use troupe::prelude::*;
    /// use troupe::ProcessKind;
    ///
    /// struct Worker;
    /// impl Actor for Worker {}
    ///
    /// # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let system = ActorSystem::create("doc-processes")?;
    /// let addr = Worker.spawn().on_system(&system).await?.addr(); // handle dropped
    /// let listed = system.processes();
    /// assert_eq!(listed.len(), 1);
    /// assert_eq!(listed[0].addr(), addr);
    /// assert_eq!(listed[0].kind, ProcessKind::Actor);
    /// system.kill_process(addr).await?;
    /// assert!(system.processes().is_empty());
    /// # Ok(()) }
    /// ```
    pub fn processes(&self) -> Vec<ProcessInfo> {
        let mut all: Vec<ProcessInfo> = self
            .registered_processes()
            .iter()
            .map(|s| info(self, s))
            .collect();
        all.sort_by_key(ProcessInfo::addr);
        all
    }

    /// The live process at `addr` (Erlang's `erlang:process_info/1`):
    /// its status, kind, name and parent; `None` if there is none in this
    /// system. Never starts a proxy for an address of another node.
    pub fn process(&self, addr: Addr) -> Option<ProcessInfo> {
        self.lookup_registered(addr).map(|s| info(self, &s))
    }

    /// The whole picture at once: processes, runtimes and their threads,
    /// dead letters so far. The default runtime is the one configured for
    /// the system, or else the one the caller runs on.
    pub fn snapshot(&self) -> SystemSnapshot {
        let processes = self.processes();
        let (default, dedicated) = self.runtimes().handles();
        let default = default.or_else(|| Handle::try_current().ok());
        let mut runtimes = vec![runtime_info(0, false, default.as_ref())];
        for (i, handle) in dedicated.iter().enumerate() {
            runtimes.push(runtime_info(i + 1, true, Some(handle)));
        }
        for p in &processes {
            if let Some(rt) = runtimes.get_mut(p.runtime) {
                rt.processes += 1;
            }
        }
        SystemSnapshot {
            name: self.name().to_owned(),
            node: self.node(),
            processes,
            runtimes,
            dead_letters: self.dead_letter_count(),
            shutting_down: self.is_shutting_down(),
        }
    }

    /// Stops the process at `addr` with `reason` (the tier: graceful,
    /// shutdown, kill, drain) and waits, within its control wait, for it to
    /// end. Works for every kind of process, including an anonymous actor
    /// whose handles were all dropped. A supervised process is restarted by
    /// its supervisor if its restart type says so, as after any exit (OTP's
    /// `exit(Pid, kill)` from outside the tree).
    ///
    /// Fails with [`StopError::NoProcess`] if no process lives at `addr`,
    /// [`StopError::Vetoed`] if a graceful stop was vetoed, and
    /// [`StopError::Timeout`] if it did not end in time.
    pub async fn stop_process_with(&self, addr: Addr, reason: StopReason) -> Result<(), StopError> {
        let shared = self
            .lookup_registered(addr)
            .ok_or(StopError::NoProcess(addr))?;
        shared.stop(reason, shared.control_wait()).await
    }

    /// Gracefully stops the process at `addr` (tier 1, vetoable): see
    /// [`ActorSystem::stop_process_with`].
    pub async fn stop_process(&self, addr: Addr) -> Result<(), StopError> {
        self.stop_process_with(addr, StopReason::Graceful).await
    }

    /// Kills the process at `addr` (tier 3, no hook runs): see
    /// [`ActorSystem::stop_process_with`].
    pub async fn kill_process(&self, addr: Addr) -> Result<(), StopError> {
        self.stop_process_with(addr, StopReason::Kill).await
    }
}
