//! The JSON snapshot API, version 1: the types every `/api/v1/...`
//! endpoint answers with, and how they are built from a
//! [`troupe::SystemSnapshot`].
//!
//! # Endpoints
//!
//! | method and path | answer |
//! | --- | --- |
//! | `GET /api/v1/snapshot` | [`Snapshot`]: everything below at once (what the page polls) |
//! | `GET /api/v1/system` | [`SystemView`] with its [`RuntimeView`]s |
//! | `GET /api/v1/processes?sort=mailbox\|rate\|restarts\|addr&limit=N` | `[`[`ProcessView`]`]`, largest first (`addr`: spawn order) |
//! | `GET /api/v1/processes/{node}/{id}` | [`ProcessDetail`] of the process at address `node/id`, or 404 |
//! | `GET /api/v1/tree` | `[`[`TreeNode`]`]`: the supervision tree, from its roots |
//! | `GET /api/v1/dead-letters` | `[`[`DeadLetterView`]`]`: the most recent, oldest first |
//! | `GET /api/v1/events` | server-sent events: a `snapshot` event (a [`Snapshot`]) at each refresh, while the connection lasts |
//! | `POST /api/v1/processes/{node}/{id}/stop` | stops it gracefully (see [actions](crate#actions)) |
//! | `POST /api/v1/processes/{node}/{id}/kill` | kills it (see [actions](crate#actions)) |
//! | `GET /metrics` | the Prometheus text format, when a recorder is attached |
//!
//! Errors are JSON too: [`ApiError`] (`{"error": "no_process", "message":
//! ...}`), with the HTTP status that fits (400, 401, 403, 404, 409, 504).
//!
//! # Versioning
//!
//! Every answer of this version lives under `/api/v1/` and every
//! [`Snapshot`] carries `"version": 1`. Within a version, fields are only
//! added, never removed or changed in meaning: a client ignores what it
//! does not know. A change that would break a client is a new version
//! (`/api/v2/`), served beside this one for a while.
//!
//! Addresses are strings `node/id` (troupe's [`Addr`] display form); times
//! are milliseconds. Message contents never appear: a dead letter shows
//! its message's type name only (troupe keeps no copy of a message it
//! could not deliver, so there is nothing more to show).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use troupe::{Addr, Lifecycle, ProcessInfo, ProcessKind, RuntimeInfo, SystemSnapshot};

use crate::dead_letters::DeadLetterView;

/// The version of this API, carried by every [`Snapshot`].
pub const API_VERSION: u32 = 1;

/// Everything at once: what the page polls (or receives as a server-sent
/// event) at each refresh.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Snapshot {
    /// Always [`API_VERSION`] for this version.
    pub version: u32,
    /// The system overview and its runtimes.
    pub system: SystemView,
    /// Every live process, in spawn order.
    pub processes: Vec<ProcessView>,
    /// The roots of the supervision tree (processes without a live
    /// supervisor), in spawn order; a process's `children` lead down.
    pub roots: Vec<String>,
    /// The most recent dead letters, oldest first.
    pub dead_letters: Vec<DeadLetterView>,
}

/// The system overview.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SystemView {
    /// The system's name.
    pub name: String,
    /// This node's number.
    pub node: u16,
    /// How many processes are alive.
    pub processes: usize,
    /// Messages handled per second by all processes together (`null`
    /// until two samples were taken).
    pub rate: Option<f64>,
    /// Messages waiting in all mailboxes together.
    pub queued: usize,
    /// Dead letters reported since the system started.
    pub dead_letters: u64,
    /// Whether a shutdown has begun.
    pub shutting_down: bool,
    /// Milliseconds since the observer started.
    pub observer_uptime_ms: u64,
    /// Whether stop and kill are enabled (they then need the bearer
    /// token).
    pub actions_enabled: bool,
    /// Whether the Prometheus endpoint (`/metrics`) serves metrics.
    pub metrics_enabled: bool,
    /// The runtimes, the default one first.
    pub runtimes: Vec<RuntimeView>,
}

/// A Tokio runtime and its worker threads.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RuntimeView {
    /// Its index (0: the default runtime).
    pub index: usize,
    /// Whether it is a dedicated runtime of the topology.
    pub dedicated: bool,
    /// `current_thread` or `multi_thread`.
    pub flavor: String,
    /// Its worker threads.
    pub workers: Vec<WorkerView>,
    /// Tasks alive on it.
    pub alive_tasks: usize,
    /// Tasks waiting in its global queue.
    pub global_queue_depth: usize,
    /// How many processes run on it.
    pub processes: usize,
}

/// One worker thread.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct WorkerView {
    /// Its index within the runtime.
    pub index: usize,
    /// Milliseconds it spent polling tasks since the runtime started.
    pub busy_ms: u64,
    /// How many times it went idle.
    pub parks: u64,
}

/// One process, as listed in the process table.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ProcessView {
    /// Its address, `node/id`.
    pub addr: String,
    /// Its registered name, if any.
    pub name: Option<String>,
    /// A short label to show: its name, else what identifies it best for
    /// its kind (a supervisor's or group's name, `group/key` for a group's
    /// actor, a struct actor's type name).
    pub label: String,
    /// Its group (a struct actor's type name, a group's name).
    pub group: String,
    /// Its key within the group.
    pub key: String,
    /// `actor`, `supervisor`, `group`, `group_actor`, `process` or
    /// `proxy` (more may come: show an unknown kind as it is).
    pub kind: String,
    /// Whether it supervises children.
    pub supervises: bool,
    /// `starting`, `running`, `stopping`, `restarting` or `stopped`.
    pub status: String,
    /// The status it publishes
    /// ([`ContextCore::set_status`](troupe::ContextCore::set_status)):
    /// `normal` or `alarming` while it runs, else the one its life gives
    /// (`starting`, `stopping`, `restarting`, `terminated`, `failed`; more
    /// may come: show an unknown one as it is).
    #[serde(default)]
    pub reported: String,
    /// The short detail of its published status, if any ("connecting to
    /// db"; the exit reason when it ended).
    #[serde(default)]
    pub details: Option<String>,
    /// Its supervisor's address, if it has one.
    pub parent: Option<String>,
    /// Its live children's addresses, in start order.
    pub children: Vec<String>,
    /// Messages waiting in its mailbox.
    pub mailbox_len: usize,
    /// Its mailbox's capacity.
    pub mailbox_capacity: usize,
    /// Messages it handled so far.
    pub processed: u64,
    /// Messages handled per second over the last sampling interval
    /// (`null` until two samples of it were taken).
    pub rate: Option<f64>,
    /// Handler failures so far.
    pub failures: u64,
    /// Messages its lossy overflow policy dropped.
    pub dropped: u64,
    /// How many times its supervisor restarted it.
    pub restarts: u64,
    /// How its last incarnation that ended, ended (`failed: ...`,
    /// `killed`, ...), if one did.
    pub last_exit: Option<String>,
    /// Milliseconds since it was spawned.
    pub uptime_ms: u64,
    /// The index of the runtime it runs on.
    pub runtime: usize,
}

/// One process in detail: its row, and its neighbours in the tree.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ProcessDetail {
    /// The process.
    pub process: ProcessView,
    /// Its supervisor, if it has one.
    pub parent: Option<ProcessView>,
    /// Its live children.
    pub children: Vec<ProcessView>,
}

/// A node of the supervision tree.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TreeNode {
    /// The process's address.
    pub addr: String,
    /// A label: its name, else `group/key`.
    pub label: String,
    /// Its kind (as in [`ProcessView::kind`]).
    pub kind: String,
    /// Its status (as in [`ProcessView::status`]).
    pub status: String,
    /// Its restarts.
    pub restarts: u64,
    /// Its children.
    pub children: Vec<TreeNode>,
}

/// An error answer.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ApiError {
    /// A stable code: `bad_address`, `no_process`, `actions_disabled`,
    /// `unauthorized`, `vetoed`, `timeout`, `no_metrics`, `bad_query`.
    pub error: String,
    /// A sentence for people.
    pub message: String,
}

/// The `addr` string of an address.
pub(crate) fn addr_string(addr: Addr) -> String {
    addr.to_string()
}

/// The lowercase name of a lifecycle phase.
pub(crate) fn lifecycle_str(l: Lifecycle) -> &'static str {
    match l {
        Lifecycle::Starting => "starting",
        Lifecycle::Running => "running",
        Lifecycle::Stopping => "stopping",
        Lifecycle::Restarting => "restarting",
        Lifecycle::Stopped => "stopped",
    }
}

fn millis(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// What to call a process on the page.
pub(crate) fn label(p: &ProcessInfo) -> String {
    if let Some(name) = p.name() {
        return name.to_owned();
    }
    let meta = p.meta();
    match p.kind {
        // A plain process's meta is (its name, its supervisor's name).
        ProcessKind::Process => meta.group.to_string(),
        ProcessKind::GroupActor => meta.to_string(),
        _ if meta.key != "_" => meta.key.to_string(),
        _ => meta.group.to_string(),
    }
}

impl ProcessView {
    /// The view of one process, with its rate if known.
    pub(crate) fn new(p: &ProcessInfo, rate: Option<f64>) -> Self {
        Self {
            addr: addr_string(p.addr()),
            name: p.name().map(str::to_owned),
            label: label(p),
            group: p.meta().group.to_string(),
            key: p.meta().key.to_string(),
            kind: p.kind.as_str().to_owned(),
            supervises: p.supervises,
            status: lifecycle_str(p.lifecycle()).to_owned(),
            reported: p.status.reported.kind().as_str().to_owned(),
            details: p.status.reported.details().map(str::to_owned),
            parent: p.parent.map(addr_string),
            children: p.children.iter().copied().map(addr_string).collect(),
            mailbox_len: p.status.mailbox_len,
            mailbox_capacity: p.status.mailbox_capacity,
            processed: p.status.processed,
            rate,
            failures: p.status.failures,
            dropped: p.status.dropped,
            restarts: p.restarts,
            last_exit: p.last_exit.as_ref().map(ToString::to_string),
            uptime_ms: millis(p.status.uptime),
            runtime: p.runtime,
        }
    }
}

impl RuntimeView {
    fn new(r: &RuntimeInfo) -> Self {
        Self {
            index: r.index,
            dedicated: r.dedicated,
            flavor: r.flavor.to_owned(),
            workers: r
                .workers
                .iter()
                .map(|w| WorkerView {
                    index: w.index,
                    busy_ms: millis(w.busy),
                    parks: w.parks,
                })
                .collect(),
            alive_tasks: r.alive_tasks,
            global_queue_depth: r.global_queue_depth,
            processes: r.processes,
        }
    }
}

/// What the views of one snapshot are built from, besides the snapshot.
pub(crate) struct Extras<'a> {
    pub(crate) rates: &'a HashMap<Addr, f64>,
    pub(crate) total_rate: Option<f64>,
    pub(crate) observer_uptime_ms: u64,
    pub(crate) actions_enabled: bool,
    pub(crate) metrics_enabled: bool,
}

/// The system overview of a snapshot.
pub(crate) fn system_view(s: &SystemSnapshot, x: &Extras<'_>) -> SystemView {
    SystemView {
        name: s.name.clone(),
        node: s.node.0,
        processes: s.processes.len(),
        rate: x.total_rate,
        queued: s.processes.iter().map(|p| p.status.mailbox_len).sum(),
        dead_letters: s.dead_letters,
        shutting_down: s.shutting_down,
        observer_uptime_ms: x.observer_uptime_ms,
        actions_enabled: x.actions_enabled,
        metrics_enabled: x.metrics_enabled,
        runtimes: s.runtimes.iter().map(RuntimeView::new).collect(),
    }
}

/// The process rows of a snapshot, in spawn order.
pub(crate) fn process_views(s: &SystemSnapshot, x: &Extras<'_>) -> Vec<ProcessView> {
    s.processes
        .iter()
        .map(|p| ProcessView::new(p, x.rates.get(&p.addr()).copied()))
        .collect()
}

/// The supervision tree of a snapshot, from its roots.
pub(crate) fn tree(s: &SystemSnapshot) -> Vec<TreeNode> {
    // A tree is acyclic, but bound the depth all the same: a snapshot is
    // not taken atomically, and a bad answer beats a stack overflow.
    fn node(s: &SystemSnapshot, p: &ProcessInfo, depth: usize) -> TreeNode {
        let children = if depth < 64 {
            s.children_of(p.addr())
                .map(|c| node(s, c, depth + 1))
                .collect()
        } else {
            Vec::new()
        };
        TreeNode {
            addr: addr_string(p.addr()),
            label: p.name().map_or_else(|| p.meta().to_string(), str::to_owned),
            kind: p.kind.as_str().to_owned(),
            status: lifecycle_str(p.lifecycle()).to_owned(),
            restarts: p.restarts,
            children,
        }
    }
    s.roots().map(|r| node(s, r, 0)).collect()
}
