//! The one restart engine: the children of a supervisor, what happens when
//! one exits, restarts within a budget, and ordered shutdown. Every kind of
//! process can be a child (struct actor, functional actor, group, plain
//! process, supervisor), and every kind can be a supervisor: the run loop
//! feeds the engine of a process the supervision messages of its system
//! channel. The public face of all this is the `supervision` module.

use std::any::Any;
use std::fmt;

use tokio::sync::oneshot;

use crate::addr::Addr;
use crate::core::process::{Shared, SysMsg};
use crate::exit::ExitReason;

mod budget;
mod child;
mod children;
mod engine;
mod error;
mod manage;
mod on_exit;
mod policy;
mod retry;
mod strategy;

pub use budget::RestartBudget;
pub use child::{ChildCounts, ChildInfo, ChildSpec, ChildState};
pub(crate) use child::{Link, Start};
pub use error::SupervisorError;
pub use policy::RestartPolicy;
pub use strategy::{Backoff, RestartStrategy, RestartType, ShutdownStrategy, SupervisorConfig};

pub(crate) use engine::{Engine, Handled, Outcome, Template};
pub(crate) use retry::Retry;

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

/// A child that exited by itself (the supervisor did not ask it to), and
/// what its supervisor did about it: what a supervisor actor's
/// [`Actor::on_child_stopped`](crate::Actor::on_child_stopped) gets.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ChildExited {
    /// The child (its id stays the same across restarts).
    pub id: ChildId,
    /// The child's name.
    pub name: String,
    /// The address of the incarnation that exited (a restarted struct
    /// actor keeps it; see [`ChildInfo::addr`] for the current one).
    pub addr: Addr,
    /// How it ended.
    pub reason: ExitReason,
    /// What the supervisor did about it, already done when the hook runs.
    pub decision: RestartDecision,
}

impl ChildExited {
    /// Whether the child runs again or will after its backoff delay.
    pub fn will_restart(&self) -> bool {
        matches!(
            self.decision,
            RestartDecision::Restarted | RestartDecision::RestartPending
        )
    }
}

/// What a supervisor did about a child that exited by itself (see
/// [`ChildExited`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RestartDecision {
    /// The child (with the rest of its strategy's group) was restarted: a
    /// new incarnation runs.
    Restarted,
    /// The child will be restarted once its backoff delay has passed.
    RestartPending,
    /// The child is not restarted: its restart type says so for this exit
    /// (a temporary child, a transient one that ended normally), the
    /// supervisor or the system is shutting down, or its restart failed
    /// for that reason.
    NotRestarted,
    /// The restart budget is exceeded: the supervisor has stopped its
    /// children and exits with reason `shutdown` right after the hook.
    GaveUp,
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
    /// The supervisor stopped a child (a group restart, `terminate_child`,
    /// `stop_child`, or its own shutdown).
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
    TerminateChild(ChildKey, Reply<()>),
    RestartChild(ChildKey, Reply<Addr>),
    DeleteChild(ChildKey, Reply<()>),
    CountChildren(Reply<ChildCounts>),
    AddChild(ChildSpec, Reply<ChildId>),
    FromTemplate(Box<dyn Any + Send>, &'static str, Reply<ChildId>),
    /// A child already started elsewhere (a group's keyed actor, started
    /// by routing), to supervise from now on.
    Adopt(ChildSpec, std::sync::Arc<Shared>),
}

impl SupMsg {
    /// Answers a request with `err` (the process is not a supervisor).
    pub(crate) fn reject(self, err: SupervisorError) {
        match self {
            SupMsg::ChildExit { .. } | SupMsg::Tick => {}
            SupMsg::Children(tx) => {
                let _ = tx.send(Err(err));
            }
            SupMsg::StopChild(_, tx)
            | SupMsg::TerminateChild(_, tx)
            | SupMsg::DeleteChild(_, tx) => {
                let _ = tx.send(Err(err));
            }
            SupMsg::RestartChild(_, tx) => {
                let _ = tx.send(Err(err));
            }
            SupMsg::CountChildren(tx) => {
                let _ = tx.send(Err(err));
            }
            SupMsg::AddChild(_, tx) | SupMsg::FromTemplate(_, _, tx) => {
                let _ = tx.send(Err(err));
            }
            // Nobody supervises it: it does not run on its own.
            SupMsg::Adopt(_, child) => child.kill(),
        }
    }
}

/// Sends a request to a supervisor through its system channel.
pub(crate) async fn ask<T>(
    shared: &Shared,
    make: impl FnOnce(Reply<T>) -> SupMsg,
    bound: Option<std::time::Duration>,
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
