//! Error types shared across the framework.

use std::fmt;
use std::time::Duration;

/// An error from a handler: any error type converts into it with `?`.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What a handler or a hook returns.
pub type HandlerResult<T = ()> = Result<T, BoxError>;

/// A message could not be queued; the message is handed back.
#[derive(thiserror::Error)]
pub enum SendError<M> {
    /// The mailbox is full (`try_notify`, or the fail-fast policy).
    #[error("the mailbox is full")]
    Full(M),
    /// The actor is gone: its mailbox no longer accepts messages.
    #[error("the actor is gone")]
    Closed(M),
    /// No route of the topology accepts the message.
    #[error("no recipient accepts the message")]
    NoRecipient(M),
}

impl<M> SendError<M> {
    /// The message that was not sent.
    pub fn into_inner(self) -> M {
        match self {
            SendError::Full(m) | SendError::Closed(m) | SendError::NoRecipient(m) => m,
        }
    }

    /// Whether the mailbox was full (as opposed to closed).
    pub fn is_full(&self) -> bool {
        matches!(self, SendError::Full(_))
    }

    pub(crate) fn map<N>(self, f: impl FnOnce(M) -> N) -> SendError<N> {
        match self {
            SendError::Full(m) => SendError::Full(f(m)),
            SendError::Closed(m) => SendError::Closed(f(m)),
            SendError::NoRecipient(m) => SendError::NoRecipient(f(m)),
        }
    }
}

impl<M> fmt::Debug for SendError<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendError::Full(_) => f.write_str("Full(..)"),
            SendError::Closed(_) => f.write_str("Closed(..)"),
            SendError::NoRecipient(_) => f.write_str("NoRecipient(..)"),
        }
    }
}

/// A stop request did not complete.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StopError {
    /// `pre_stop` vetoed a graceful (tier 1) stop; the actor goes on.
    #[error("the actor vetoed the graceful stop")]
    Vetoed,
    /// The actor did not finish stopping within the bound. It may still stop
    /// later; escalate with `StopReason::Kill` if needed.
    #[error("the actor did not stop within {0:?}")]
    Timeout(Duration),
    /// No actor is registered under that name.
    #[error("no actor is registered as {0:?}")]
    NotFound(String),
    /// No process lives at that address in this system.
    #[error("no process lives at {0}")]
    NoProcess(crate::addr::Addr),
}

/// An actor could not be spawned.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SpawnError {
    /// The name is already registered in that system (OTP `already_started`).
    #[error("the name {0:?} is already registered")]
    NameTaken(String),
    /// `pre_start` returned an error or panicked.
    #[error("the actor failed to start: {0}")]
    StartFailed(String),
    /// The system is shutting down, or was shut down, and accepts no new
    /// actors. A shutdown is final: after
    /// `ActorSystem::default().shutdown()` every spawn on the default system
    /// fails so for the rest of the process (tests and libraries use
    /// `ActorSystem::isolated()`).
    #[error("the system is shutting down")]
    ShuttingDown,
    /// No Tokio runtime to spawn on (called outside a runtime and the system
    /// has none configured).
    #[error("no Tokio runtime is available to spawn on")]
    NoRuntime,
    /// The actor was killed while its `pre_start` ran: the start ended at
    /// once (its `pre_start` future was dropped).
    #[error("the actor was killed while starting")]
    Killed,
    /// `pre_start` did not finish within the spawn's start timeout
    /// ([`SpawnBuilder::start_timeout`](crate::SpawnBuilder::start_timeout)):
    /// the starting actor was killed, and nothing of it is left (no
    /// process, no name).
    #[error("the actor did not start within {0:?}")]
    StartTimeout(std::time::Duration),
}

/// A system could not be created.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SystemError {
    /// A system with that name already exists.
    #[error("a system named {0:?} already exists")]
    NameTaken(String),
}
