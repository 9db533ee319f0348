//! How processes are asked to stop, and how they end.

use std::sync::Arc;

/// How to stop an actor: the three tiers of termination, and drain.
///
/// An actor stops itself with a reason of its own (an
/// [`ExitReason::Custom`]) with
/// [`ContextCore::stop_with`](crate::ContextCore::stop_with); the tiers
/// stay a small `Copy` set that fits the system channel's stop request.
///
/// ```no_run
/// # use troupe::prelude::*;
/// # async fn f(handle: ActorRef<impl Actor>) -> Result<(), troupe::StopError> {
/// handle.stop(StopReason::Graceful).await?; // tier 1: `pre_stop` may veto
/// handle.stop(StopReason::Shutdown).await?; // tier 2: no veto, `on_stopped` runs
/// handle.stop(StopReason::Kill).await?;     // tier 3: bypasses every hook
/// handle.stop(StopReason::Drain).await?;    // what is queued first, then stop
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
    /// Drain then stop: the mailbox refuses new messages at once (senders
    /// get [`SendError::Closed`](crate::SendError::Closed), requests
    /// [`RequestError::Gone`](crate::RequestError::Gone)), the process
    /// handles everything already queued, then stops as a tier-2 stop does
    /// (`on_stopped` runs) and exits with [`ExitReason::Normal`]. No veto.
    ///
    /// Bounded: past the stopper's deadline (see
    /// [`ActorRef::drain`](crate::ActorRef::drain)) it escalates to
    /// [`Shutdown`](StopReason::Shutdown) (what is still queued becomes
    /// dead letters; the exit reason is then `Shutdown`), and past one
    /// more control wait to [`Kill`](StopReason::Kill), as an OTP
    /// supervisor's shutdown timeout ends in `brutal_kill`. A functional
    /// actor drains on every stop already: its `recv` yields what is
    /// queued, then `None`. A plain process has no mailbox: drain stops it
    /// as a graceful stop does.
    Drain,
}

/// How a process ended, in Erlang/OTP terms.
///
/// `Normal` and `Shutdown` are normal exits: a transient child is not
/// restarted after them, and a link partner that does not trap exits is not
/// taken down by them. Every other reason is abnormal, a
/// [`Custom`](ExitReason::Custom) one included (as any reason but `normal`
/// and `shutdown` in OTP).
///
/// The same reason reaches everyone who learns of the exit: the process's
/// supervisor, its monitors (in [`Down`](crate::Down)) and its link
/// partners (in [`Exit`](crate::Exit), or by exiting with it).
///
/// ```
/// use troupe::ExitReason;
///
/// let reason = ExitReason::custom("lost the lease");
/// assert!(reason.is_abnormal());
/// assert_eq!(reason.to_string(), "lost the lease");
/// assert!(!ExitReason::Shutdown.is_abnormal());
/// ```
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
    /// The process was not there: the reason of the [`Down`](crate::Down)
    /// a monitor set on a process that is already gone gets at once
    /// (OTP's `noproc`). Abnormal, as in OTP.
    NoProc,
    /// A reason of the program's own, given to
    /// [`ContextCore::stop_with`](crate::ContextCore::stop_with) (or
    /// returned as the error of a plain process's future). Abnormal: a
    /// transient child that exits with it is restarted.
    Custom(Arc<str>),
    /// The process's node went down, or could no longer be reached: the
    /// reason of the `Down` a monitor of a remote process gets then (OTP's
    /// `noconnection`). Abnormal.
    NodeDown,
}

impl ExitReason {
    /// A [`Custom`](ExitReason::Custom) reason.
    pub fn custom(reason: impl Into<Arc<str>>) -> Self {
        ExitReason::Custom(reason.into())
    }

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
            ExitReason::NoProc => f.write_str("noproc"),
            ExitReason::NodeDown => f.write_str("node down"),
            ExitReason::Custom(r) => f.write_str(r),
        }
    }
}

/// An exit reason is an error, so that a future can end with one: a plain
/// process whose future returns `Err(reason.into())` exits with `reason`.
impl std::error::Error for ExitReason {}

impl ExitReason {
    /// The exit reason of a run that ended with `error`: the reason itself
    /// if the error is an [`ExitReason`], else [`ExitReason::Failed`].
    pub(crate) fn from_error(error: crate::error::BoxError) -> Self {
        match error.downcast::<ExitReason>() {
            Ok(reason) => *reason,
            Err(e) => ExitReason::Failed(e.to_string()),
        }
    }
}

/// `"<head>: <detail>"`, with room reserved for a typical detail, so that
/// writing it rarely grows the text. (`format!` starts a text whose first
/// part is an argument from an empty string and grows it several times:
/// at a restart, that growth was about a thousand instructions.)
pub(crate) fn with_detail(head: &str, detail: &dyn std::fmt::Display) -> String {
    use std::fmt::Write as _;
    let mut text = String::with_capacity(head.len() + 2 + 64);
    text.push_str(head);
    text.push_str(": ");
    // Writing to a `String` fails only if `detail`'s `Display` does.
    let _ = write!(text, "{detail}");
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_detail_follows_its_head() {
        assert_eq!(with_detail("a::B", &"no value"), "a::B: no value");
        let long = "y".repeat(500);
        assert_eq!(with_detail("a::B", &long), format!("a::B: {long}"));
    }
}
