//! Status snapshots of running actors, and the statuses they publish
//! (`report.rs`).

mod report;

pub use report::{Status, StatusKind, StatusReport};

use std::time::Duration;

use crate::addr::{ActorMeta, Addr};

/// Where an actor is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Lifecycle {
    /// Running `pre_start`.
    Starting,
    /// Handling messages.
    Running,
    /// Running its stop hooks.
    Stopping,
    /// Ended, waiting for its supervisor to restart it: its mailbox still
    /// takes messages, which the next incarnation handles.
    Restarting,
    /// Gone.
    Stopped,
}

/// A snapshot of an actor, read from its shared state: it is answered even
/// when the mailbox is full or a handler is stuck.
#[derive(Clone, Debug)]
pub struct ActorStatus {
    /// The actor's address.
    pub addr: Addr,
    /// Its group and key.
    pub meta: ActorMeta,
    /// Its registered name, if any.
    pub name: Option<String>,
    /// Where it is in its life.
    pub lifecycle: Lifecycle,
    /// Messages waiting in the mailbox.
    pub mailbox_len: usize,
    /// The mailbox capacity.
    pub mailbox_capacity: usize,
    /// Messages handled so far.
    pub processed: u64,
    /// Handler failures so far (errors and panics).
    pub failures: u64,
    /// Messages dropped by a lossy overflow policy.
    pub dropped: u64,
    /// Time since the actor was spawned.
    pub uptime: Duration,
    /// How many of its supervised children are alive (0 unless it is a
    /// supervisor).
    pub children: usize,
    /// The status it publishes: the one it set
    /// ([`ContextCore::set_status`](crate::ContextCore::set_status)) while
    /// it runs, else the one its life gives (starting, stopping,
    /// restarting, terminated, failed with the exit reason).
    pub reported: Status,
}
