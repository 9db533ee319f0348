//! [`SupervisorError`]: everything a supervisor can report.

use std::time::Duration;

use super::ChildKey;
use crate::exit::ExitReason;

/// What went wrong in a supervisor, or in asking one for something.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SupervisorError {
    /// More than `max_restarts` restarts were needed within `within`: the
    /// supervisor stopped its children and exited abnormally.
    #[error("restart budget exceeded: more than {max_restarts} restarts within {within:?}")]
    RestartBudgetExceeded {
        /// The budget's restart count.
        max_restarts: usize,
        /// The budget's window.
        within: Duration,
    },
    /// A child could not be started (its `pre_start` or `initialize` failed
    /// or panicked, its name is taken, it did not start in time, ...).
    #[error("child {child:?} failed to start: {reason}")]
    StartFailed {
        /// The child's name.
        child: String,
        /// Why.
        reason: String,
    },
    /// A child did not end within its shutdown bound, even after being
    /// killed (it is stuck in code that never yields).
    #[error("child {child:?} did not stop within its shutdown bound")]
    ShutdownTimedOut {
        /// The child's name.
        child: String,
    },
    /// No child with this id (it never existed, or it ended and was
    /// forgotten).
    #[error("no such child: {0:?}")]
    UnknownChild(ChildKey),
    /// The child runs: OTP's `{error, running}` from `restart_child` and
    /// `delete_child` (terminate it first).
    #[error("child {0:?} is running")]
    Running(ChildKey),
    /// The child waits for its restart (its backoff delay): OTP's
    /// `{error, restarting}` from `restart_child` and `delete_child`.
    #[error("child {0:?} is restarting")]
    Restarting(ChildKey),
    /// The supervisor is `simple_one_for_one`, whose children are managed
    /// by address only, never restarted or deleted by hand: OTP's
    /// `{error, simple_one_for_one}`.
    #[error("not allowed for a simple_one_for_one supervisor")]
    SimpleOneForOne,
    /// The actor was not spawned as a supervisor (`.supervised()` or
    /// `.with_supervision(config)`), so it cannot have children.
    #[error("this actor is not a supervisor; spawn it with .supervised()")]
    NotASupervisor,
    /// The supervisor has no child template (`Supervisor::with_template`),
    /// or the argument is not of the template's type.
    #[error("no child template taking a {0}")]
    NoTemplate(&'static str),
    /// The system is shutting down: nothing new is started.
    #[error("the system is shutting down")]
    ShuttingDown,
    /// The supervisor is gone (or did not answer in time).
    #[error("the supervisor is gone")]
    Gone,
    /// The supervisor ended abnormally for another reason (it was killed,
    /// or failed to start).
    #[error("the supervisor exited: {0}")]
    Exited(ExitReason),
}
