//! Supervision: one Erlang/OTP supervision engine for every kind of child.
//!
//! A supervisor is a process that starts children, learns when one exits,
//! and restarts it (and maybe its siblings) by a [`RestartStrategy`],
//! within a restart budget. Its children can be:
//!
//! - **struct actors**, spawned from a factory (a closure producing a fresh
//!   actor value) with [`ActorContext::spawn_child`](crate::ActorContext::spawn_child)
//!   or [`ChildSpec::actor`];
//! - **plain processes** without a mailbox: a [`Supervisable`] is a named
//!   factory of futures; each run is a new troupe process (registered in
//!   the system, with a unique [`Addr`], a semi-unique name and a
//!   [`ProcessShutdown`] signal);
//! - **nested supervisors**, struct actors spawned with
//!   `.with_supervision(config)` or plain [`Supervisor`]s, so that trees of
//!   any depth can be built.
//!
//! The same engine runs behind both front-ends: a struct actor that is a
//! supervisor (`actor.spawn().with_supervision(config)`, then
//! `ctx.spawn_child(factory)` in its hooks and handlers), and the plain
//! [`Supervisor`] (children declared up front, as in Saluki).
//!
//! # Semantics (Erlang/OTP `supervisor` unless said otherwise)
//!
//! - Children start one at a time, in order; a supervisor's start succeeds
//!   once all its children run. They stop in reverse start order.
//! - A child's exit reaches its supervisor through the supervisor's system
//!   channel (never the bounded mailbox, so a full mailbox cannot lose it).
//! - Strategies: [`RestartStrategy`]; restart types: [`RestartType`];
//!   shutdown: [`ShutdownStrategy`]; budget: [`SupervisorConfig`].
//! - A restarted struct actor keeps its address, name and mailbox (reopened
//!   empty: messages queued when it exited became dead letters), so every
//!   [`ActorRef`](crate::ActorRef) taken before the restart reaches the new
//!   incarnation. A restarted plain process is a new process with a new id.
//! - Between an incarnation's exit and its restart (a moment, or the
//!   backoff delay) the mailbox is closed, as an Erlang process is gone
//!   until its supervisor starts a new one: sends fail with
//!   `SendError::Closed` and requests with `RequestError::Gone`, never
//!   silently. To send after a crash, wait for the restart: the
//!   supervisor's [`SupervisionEvent::Started`] (with
//!   `SupervisorConfig::observe`), or `children()` on the supervisor, whose
//!   answer comes after it handled the exit.
//! - While the system shuts down, nothing is restarted;
//!   [`ActorSystem::shutdown`](crate::ActorSystem::shutdown) asks only root
//!   processes to stop, and each supervisor stops its children in reverse
//!   order.
//! - A supervisor that is killed takes its children down with it (they are
//!   killed too, as linked Erlang processes are).
//!
//! ```
//! use std::time::Duration;
//! use troupe::prelude::*;
//! use troupe::supervision::{process_fn, Supervisor, SupervisorConfig};
//!
//! # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let system = ActorSystem::create("doc-supervision")?;
//! let worker = process_fn("ticker", |mut shutdown| async move {
//!     shutdown.wait_for_shutdown().await;
//!     Ok(())
//! });
//! let root = Supervisor::new("root")
//!     .with_config(SupervisorConfig::one_for_one().max_restarts(3, Duration::from_secs(5)))
//!     .with_worker(worker)
//!     .spawn(&system)
//!     .await?;
//! assert_eq!(root.children().await?.len(), 1);
//! root.shutdown().await?;
//! # Ok(()) }
//! ```

use std::any::Any;
use std::fmt;

use tokio::sync::oneshot;

use crate::addr::Addr;
use crate::process::ExitReason;

mod actor;
mod child;
mod engine;
mod error;
mod process;
mod restart;
mod strategy;
mod supervisor;

pub use actor::ChildSpawnBuilder;
pub use child::{ChildInfo, ChildSpec};
pub use error::SupervisorError;
pub use process::{process_fn, ProcessFn, ProcessShutdown, Supervisable, SupervisorFuture};
pub use strategy::{Backoff, RestartStrategy, RestartType, ShutdownStrategy, SupervisorConfig};
pub use supervisor::{Supervisor, SupervisorRef};

pub(crate) use actor::{on_sys, stop_children};
pub(crate) use engine::Engine;

/// The id of a child within its supervisor: stays the same across restarts
/// (unlike a plain process's address).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChildId(pub(crate) u64);

impl ChildId {
    /// The raw number (unique within one supervisor, in start order).
    pub fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for ChildId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// Names a child: by its [`ChildId`], or by the address of its current
/// incarnation (for a struct actor, the address every handle of it has).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ChildKey {
    /// By id.
    Id(ChildId),
    /// By address.
    Addr(Addr),
}

impl From<ChildId> for ChildKey {
    fn from(id: ChildId) -> Self {
        ChildKey::Id(id)
    }
}

impl From<Addr> for ChildKey {
    fn from(addr: Addr) -> Self {
        ChildKey::Addr(addr)
    }
}

/// What a supervisor did, as reported to an observer
/// ([`SupervisorConfig::observe`]), in the order it did it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SupervisionEvent {
    /// A child incarnation started (`restart` is false for the first one).
    Started {
        /// The supervisor's name.
        supervisor: String,
        /// The child.
        child: ChildId,
        /// The child's name.
        name: String,
        /// The address of this incarnation.
        addr: Addr,
        /// Whether this start is a restart.
        restart: bool,
    },
    /// A child could not be (re)started.
    StartFailed {
        /// The supervisor's name.
        supervisor: String,
        /// The child.
        child: ChildId,
        /// The child's name.
        name: String,
        /// Why.
        reason: String,
    },
    /// A child exited by itself (the supervisor did not ask it to).
    Exited {
        /// The supervisor's name.
        supervisor: String,
        /// The child.
        child: ChildId,
        /// The child's name.
        name: String,
        /// How it ended.
        reason: ExitReason,
    },
    /// The supervisor stopped a child (a group restart, `stop_child`, or its
    /// own shutdown).
    Stopped {
        /// The supervisor's name.
        supervisor: String,
        /// The child.
        child: ChildId,
        /// The child's name.
        name: String,
        /// How it ended (`Killed` if it had to be killed); `None` if it did
        /// not end even after being killed.
        reason: Option<ExitReason>,
    },
    /// The restart budget was exceeded: the supervisor stops its children
    /// and exits abnormally.
    BudgetExceeded {
        /// The supervisor's name.
        supervisor: String,
    },
}

/// A reply to a request made to a supervisor through its system channel.
pub(crate) type Reply<T> = oneshot::Sender<Result<T, SupervisorError>>;

/// Supervision traffic on a process's system channel.
pub(crate) enum SupMsg {
    /// A linked child ended (sent last by `Shared::finish`).
    ChildExit {
        addr: Addr,
        incarnation: u64,
        reason: ExitReason,
    },
    /// A backoff delay may have passed.
    Tick,
    Children(Reply<Vec<ChildInfo>>),
    StopChild(ChildKey, Reply<()>),
    AddChild(ChildSpec, Reply<ChildId>),
    FromTemplate(Box<dyn Any + Send>, &'static str, Reply<ChildId>),
}

impl SupMsg {
    /// Answers a request with `err` (the process is not a supervisor).
    pub(crate) fn reject(self, err: SupervisorError) {
        match self {
            SupMsg::ChildExit { .. } | SupMsg::Tick => {}
            SupMsg::Children(tx) => {
                let _ = tx.send(Err(err));
            }
            SupMsg::StopChild(_, tx) => {
                let _ = tx.send(Err(err));
            }
            SupMsg::AddChild(_, tx) | SupMsg::FromTemplate(_, _, tx) => {
                let _ = tx.send(Err(err));
            }
        }
    }
}
