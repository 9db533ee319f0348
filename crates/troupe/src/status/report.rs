//! Published statuses: what an actor says about itself (a kind and a
//! short detail), and the reports that subscribers of a group receive when
//! it changes (elfo's `ActorStatus` and `ActorStatusReport`).

use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use crate::addr::{ActorMeta, Addr};
use crate::message::Message;

/// The kind of an actor's published [`Status`].
///
/// `Normal` and `Alarming` are the actor's to say
/// ([`ContextCore::set_status`](crate::ContextCore::set_status)); the
/// others follow its life and are published by troupe itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StatusKind {
    /// It is starting (running `pre_start`, or its `exec` before the first
    /// `recv`).
    Starting,
    /// It runs and all is well.
    Normal,
    /// It runs, but something needs attention (the details say what).
    Alarming,
    /// It is running its stop hooks.
    Stopping,
    /// It ended and waits for its supervisor's decision: a restart (then
    /// `Starting` follows) or the end (then `Terminated` or `Failed`).
    /// The details give its exit reason.
    Restarting,
    /// It ended normally (Erlang's `normal` or `shutdown`) and will not
    /// run again.
    Terminated,
    /// It ended abnormally (a failure, a kill, a reason of its own) and
    /// will not run again. The details give its exit reason.
    Failed,
}

impl StatusKind {
    /// A short lowercase name: `starting`, `normal`, `alarming`,
    /// `stopping`, `restarting`, `terminated`, `failed`.
    pub fn as_str(self) -> &'static str {
        match self {
            StatusKind::Starting => "starting",
            StatusKind::Normal => "normal",
            StatusKind::Alarming => "alarming",
            StatusKind::Stopping => "stopping",
            StatusKind::Restarting => "restarting",
            StatusKind::Terminated => "terminated",
            StatusKind::Failed => "failed",
        }
    }
}

impl fmt::Display for StatusKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an actor publishes about itself: a [`StatusKind`] and an optional
/// short detail ("connecting to db", "3 of 5 replicas up").
///
/// An actor builds one from [`Status::NORMAL`] or [`Status::ALARMING`];
/// the other kinds are troupe's, which publishes them as the actor's life
/// goes on.
///
/// ```
/// use troupe::{Status, StatusKind};
///
/// let s = Status::ALARMING.with_details("replica 2 is late");
/// assert_eq!(s.kind(), StatusKind::Alarming);
/// assert_eq!(s.details(), Some("replica 2 is late"));
/// assert_eq!(s.to_string(), "alarming: replica 2 is late");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Status {
    kind: StatusKind,
    details: Option<Arc<str>>,
}

impl Status {
    /// All is well.
    pub const NORMAL: Status = Status::of(StatusKind::Normal, None);
    /// Something needs attention.
    pub const ALARMING: Status = Status::of(StatusKind::Alarming, None);

    pub(crate) const fn of(kind: StatusKind, details: Option<Arc<str>>) -> Self {
        Self { kind, details }
    }

    /// The same kind, with `details`.
    pub fn with_details(mut self, details: impl Into<Arc<str>>) -> Self {
        self.details = Some(details.into());
        self
    }

    /// Its kind.
    pub fn kind(&self) -> StatusKind {
        self.kind
    }

    /// Its details, if any.
    pub fn details(&self) -> Option<&str> {
        self.details.as_deref()
    }

    pub(crate) fn details_arc(&self) -> Option<&Arc<str>> {
        self.details.as_ref()
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.details {
            Some(d) => write!(f, "{}: {d}", self.kind),
            None => f.write_str(self.kind.as_str()),
        }
    }
}

/// A change of an actor's published status, as its subscribers receive it
/// ([`ActorSystem::subscribe_statuses`](crate::ActorSystem::subscribe_statuses)).
///
/// It is a [`Message`]: an actor can attach a subscription as a stream
/// (`ctx.add_stream(..)`) and get the reports in its mailbox.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct StatusReport {
    /// The actor's address.
    pub addr: Addr,
    /// Its group and key.
    pub meta: ActorMeta,
    /// Its status from now on.
    pub status: Status,
    /// When the status changed (wall-clock time).
    pub at: SystemTime,
}

impl StatusReport {
    /// The kind of the new status.
    pub fn kind(&self) -> StatusKind {
        self.status.kind()
    }

    /// The details of the new status, if any.
    pub fn details(&self) -> Option<&str> {
        self.status.details()
    }
}

impl Message for StatusReport {
    const NAME: &'static str = "troupe::StatusReport";
    type Response = ();

    fn __try_clone(&self) -> Option<Self> {
        Some(self.clone())
    }
}
