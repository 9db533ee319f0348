//! Every default the framework applies, in one place.
//!
//! Where OTP has a documented default, troupe takes it (the request
//! timeout is `gen_server:call/2`'s 5 s, the restart budget is
//! `supervisor`'s 3 restarts in 5 s, a worker's shutdown is 5 s); every
//! other wait is bounded too, so that nothing in the framework can hang.

use std::time::Duration;

/// The mailbox capacity of an actor spawned without a config.
pub const MAILBOX_CAPACITY: usize = 64;

/// The largest mailbox capacity (4,194,304 envelopes, about 256 MiB of
/// queued envelopes at their smallest): a larger capacity is clamped to it,
/// so that no mailbox is unbounded in disguise. A process that needs more
/// room than this needs a different design (a stream, a pipeline queue).
pub const MAX_MAILBOX_CAPACITY: usize = 1 << 22;

/// How many priority messages may wait in one mailbox's priority lane
/// ([`ActorRef::notify_priority`](crate::ActorRef::notify_priority)); past
/// it they are refused as `Full`.
pub const PRIORITY_CAPACITY: usize = 16;

/// How long a request waits for its answer, the wait for mailbox space
/// included (OTP `gen_server:call/2`: 5 s).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// How long `stop` and control requests (children, status of a remote
/// process) wait when the target has no request timeout of its own.
pub const CONTROL_WAIT: Duration = Duration::from_secs(5);

/// How long a killed process may take to end (it ends at its next await
/// point; only code that never yields takes longer).
pub const KILL_WAIT: Duration = Duration::from_secs(1);

/// How long a supervised struct actor may take to start (`pre_start`).
pub const START_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a supervisor waits for a worker to stop before killing it
/// (OTP's default `shutdown` of a worker: 5000 ms).
pub const WORKER_SHUTDOWN: Duration = Duration::from_secs(5);

/// How long `ActorSystem::shutdown` waits before it kills what still runs.
pub const SYSTEM_SHUTDOWN: Duration = Duration::from_secs(10);

/// The restart budget of a supervisor: at most this many restarts...
pub const MAX_RESTARTS: usize = 3;

/// ... within this sliding window (OTP: `intensity` 1 in 5 s; troupe
/// follows the seed's 3 in 5 s).
pub const RESTART_WINDOW: Duration = Duration::from_secs(5);

/// How many dead letters a slow subscriber may lag behind.
pub const DEAD_LETTER_BUFFER: usize = 1024;

/// How many status reports a subscription keeps unread before it loses
/// the oldest ([`StatusSubscription`](crate::StatusSubscription)).
pub const STATUS_BUFFER: usize = 256;

/// The restart budget of an actor group: at most this many restarts...
pub const GROUP_MAX_RESTARTS: usize = 20;

/// ... within this window (elfo restarts a group's actors with a backoff
/// and no limit; troupe keeps the backoff and bounds the restarts, so that
/// an actor that fails forever is seen by the group's supervisor).
pub const GROUP_RESTART_WINDOW: Duration = Duration::from_secs(60);

/// The first backoff delay of a group's actors...
pub const GROUP_BACKOFF_MIN: Duration = Duration::from_millis(10);

/// ... doubling up to this one.
pub const GROUP_BACKOFF_MAX: Duration = Duration::from_secs(10);

/// At most this many ticks a [`MissPolicy::CatchUp`](crate::MissPolicy)
/// timer delivers, or tries to, at one wake; the ticks due beyond it are
/// dropped, counted and reported once (see the [timer docs](crate::timer)).
/// It bounds the work of a wake whatever the interval: a 1 ns timer that
/// wakes 1 ms late has a million ticks due.
pub const CATCH_UP_MAX_TICKS: u64 = 1024;

/// How long the exit of a process waits for its state (the actor value,
/// its context, what its task holds) to be dropped (the exit is published
/// once it is, so that a process that is not alive has released what it
/// held). A `Drop` that blocks longer has the exit published anyway, by a
/// watcher thread, within a quarter of a second past this bound, with a
/// warning, while the drop goes on (what it holds is then released
/// later). Real time, not Tokio's (a blocked thread does not advance it).
/// See [`ActorRef::is_alive`](crate::ActorRef::is_alive).
pub const RELEASE_WAIT: Duration = Duration::from_secs(1);
