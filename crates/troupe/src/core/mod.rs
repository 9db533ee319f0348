//! The process core: one layer that every front-end builds on and that
//! imports none of them.
//!
//! - [`process`]: the process state shared by a process and its handles;
//! - [`mailbox`]: the bounded queue of envelopes and the system channel;
//! - [`run_loop`]: THE run loop (system channel first, stop tiers, exit,
//!   teardown), into which each front-end plugs through a small trait;
//! - [`launch`]: the one way a process task is started, and [`release`],
//!   the one way it ends: its state dropped, then its exit published;
//! - [`delivery`]: the one delivery and request path, and [`recipient`]
//!   over it: handles typed by the message;
//! - [`monitor`], [`link`]: Erlang's monitors and links, kept by address
//!   in the process state, and [`signal`], how what they tell a process
//!   reaches it (in order, never dropped);
//! - [`restart`]: the one restart engine;
//! - [`system`]: registry, dead letters, runtimes, coordinated shutdown;
//! - [`status_reports`]: the statuses processes publish, and who
//!   subscribes to them;
//! - [`introspect`]: processes by address (kind, parent, children,
//!   restarts, last exit), runtimes, stop and kill by address;
//! - `probe` (feature `testkit`): faults and sync markers a test places
//!   in a running process.

pub(crate) mod config;
pub(crate) mod core_set;
pub(crate) mod current;
pub(crate) mod dead_letter;
pub(crate) mod delivery;
pub(crate) mod escalation;
pub(crate) mod handover;
pub(crate) mod instruments;
pub(crate) mod introspect;
pub(crate) mod launch;
pub(crate) mod link;
pub(crate) mod mailbox;
pub(crate) mod monitor;
#[cfg(feature = "testkit")]
pub(crate) mod probe;
pub(crate) mod process;
pub(crate) mod recipient;
pub(crate) mod release;
pub(crate) mod remote;
pub(crate) mod restart;
pub(crate) mod run_loop;
pub(crate) mod runtime;
pub(crate) mod signal;
pub(crate) mod status_reports;
pub(crate) mod system;
pub(crate) mod unbounded;
