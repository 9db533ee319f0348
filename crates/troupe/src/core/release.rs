//! Releasing an ended incarnation: its state (the actor value, its
//! context, what its task holds) is dropped *before* its exit is
//! published, so that once a process is not alive (`is_alive() == false`,
//! `wait_for_exit` returned, its supervisor and monitors were told) what it
//! held (sockets, files) is released.
//!
//! Nothing may derail the publication: a panic while dropping is contained
//! here and logged (the exit reason stays what it was), and a `Drop` that
//! blocks is bounded by [`RELEASE_WAIT`] (real time, give or take a
//! quarter of a second): past it the exit is published anyway (with a
//! warning) by a watcher thread, while the drop goes on. On every kind of
//! runtime, a current-thread one included.

use std::cell::Cell;
use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, Weak};
use std::time::Duration;

use parking_lot::Mutex;

use super::current::with_current;
use super::process::Shared;
use crate::catch::panic_message;
use crate::defaults::RELEASE_WAIT;
use crate::exit::ExitReason;

thread_local! {
    /// The process whose task is being dropped here (its address in
    /// memory, 0 for none): its exit guard leaves the publication to the
    /// release that drops it.
    static RELEASING: Cell<usize> = const { Cell::new(0) };
}

/// Runs `f`, which drops values of the program's own; a panic is logged
/// with `what` and goes no further.
pub(crate) fn contain(what: &str, f: impl FnOnce()) {
    if let Err(panic) = catch_unwind(AssertUnwindSafe(f)) {
        let panic = panic_message(panic.as_ref());
        tracing::error!(%panic, "a panic while {what}: contained, the exit goes on");
    }
}

/// Whether the task of `shared` is being dropped by [`release`] on this
/// thread.
pub(crate) fn is_releasing(shared: &Arc<Shared>) -> bool {
    RELEASING.with(Cell::get) == Arc::as_ptr(shared) as usize
}

/// Drops the state of incarnation `incarnation` of `shared` (`drop_state`),
/// then publishes its exit with `reason` ([`Shared::finish_incarnation`]).
/// A panic in `drop_state` is logged; a `drop_state` that blocks past
/// [`RELEASE_WAIT`] has the exit published meanwhile.
pub(crate) fn release(
    shared: &Arc<Shared>,
    incarnation: u64,
    reason: ExitReason,
    drop_state: impl FnOnce(),
) {
    let bound = Bound::arm(shared, incarnation, reason);
    let previous = RELEASING.with(|r| r.replace(Arc::as_ptr(shared) as usize));
    contain("dropping the state of an ended process", drop_state);
    RELEASING.with(|r| r.set(previous));
    // `None`: the watcher published the exit meanwhile.
    if let Some(reason) = bound.disarm() {
        shared.finish_incarnation(incarnation, reason);
    }
}

/// Drops the state of the task running now, which was killed, then
/// publishes the exit of its process with reason `killed`, as [`release`]
/// does. The process is the current one (`current.rs`), if this task is the
/// one its running incarnation recorded (else its exit is published
/// already, and a restart may have started a new one: nothing is
/// published here).
pub(crate) fn release_killed(drop_state: impl FnOnce()) {
    let process = with_current(|c| c.system.lookup_registered(c.addr))
        .flatten()
        .and_then(|shared| Some((shared.task_incarnation()?, shared)));
    match process {
        Some((incarnation, shared)) => {
            release(&shared, incarnation, ExitReason::Killed, drop_state)
        }
        None => contain("dropping the state of a killed process", drop_state),
    }
}

/// One release under watch: [`WAIT_TICKS`] ticks of the watcher after
/// `began`, its exit is published.
struct Watch {
    id: u64,
    /// The watcher's tick count when the release began.
    began: u64,
    shared: Weak<Shared>,
    incarnation: u64,
    reason: ExitReason,
}

/// The releases under watch, oldest first (each is due [`RELEASE_WAIT`]
/// after it began, so the oldest is due first).
static WATCHED: Mutex<VecDeque<Watch>> = Mutex::new(VecDeque::new());

/// How often the watcher looks: the bound is kept within this much.
const TICK: Duration = Duration::from_millis(250);

/// The watcher's ticks so far. A release notes the count when it begins
/// instead of reading the clock (one clock read less at every exit); the
/// watcher, which sleeps a [`TICK`] between two counts, publishes it once
/// the count has gone [`WAIT_TICKS`] past it: at least [`RELEASE_WAIT`]
/// later, and at most a tick more.
static TICKS: AtomicU64 = AtomicU64::new(0);

/// Whole ticks in [`RELEASE_WAIT`], rounded up, plus the tick a release
/// began in (it may have begun just before the count moved).
const WAIT_TICKS: u64 = RELEASE_WAIT.as_nanos().div_ceil(TICK.as_nanos()) as u64 + 1;

/// Publishes the exit at [`RELEASE_WAIT`] if the release has not by then.
/// The watcher is one thread for the whole program, started at the first
/// release: a task would not do, as the runtime thread that blocks in the
/// `Drop` may hold it (or the timer that wakes it).
///
/// The exit reason waits in the watch (moved there, not cloned): the
/// release takes it back when the drop is over ([`Bound::disarm`]), unless
/// the watcher took it first to publish it.
enum Bound {
    /// Under watch, with this id.
    Watched(u64),
    /// No watcher thread: the reason stays here.
    Unwatched(ExitReason),
}

impl Bound {
    fn arm(shared: &Arc<Shared>, incarnation: u64, reason: ExitReason) -> Self {
        static WATCHER: OnceLock<bool> = OnceLock::new();
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let running = WATCHER.get_or_init(|| {
            let started = std::thread::Builder::new()
                .name("troupe-release-watch".into())
                .spawn(watch);
            if let Err(e) = &started {
                tracing::warn!(error = %e, "no release watcher: a Drop that blocks delays its exit");
            }
            started.is_ok()
        });
        if !running {
            return Self::Unwatched(reason);
        }
        let id = NEXT.fetch_add(1, Ordering::Relaxed);
        WATCHED.lock().push_back(Watch {
            id,
            began: TICKS.load(Ordering::Relaxed),
            shared: Arc::downgrade(shared),
            incarnation,
            reason,
        });
        Self::Watched(id)
    }

    /// Ends the watch: the reason to publish, or `None` if the watcher
    /// published it already.
    fn disarm(self) -> Option<ExitReason> {
        match self {
            Self::Unwatched(reason) => Some(reason),
            Self::Watched(id) => {
                let mut watched = WATCHED.lock();
                // The newest are at the back: most releases end in order.
                let at = watched.iter().rposition(|w| w.id == id)?;
                watched.remove(at).map(|w| w.reason)
            }
        }
    }
}

/// The watcher's loop: publishes the exits whose release is past due.
fn watch() {
    loop {
        std::thread::sleep(TICK);
        let now = TICKS.fetch_add(1, Ordering::Relaxed) + 1;
        let mut due = Vec::new();
        {
            let mut watched = WATCHED.lock();
            while watched
                .front()
                .is_some_and(|w| now.saturating_sub(w.began) >= WAIT_TICKS)
            {
                due.extend(watched.pop_front());
            }
        }
        for w in due {
            if let Some(shared) = w.shared.upgrade() {
                tracing::warn!(
                    addr = %shared.addr,
                    "its state took more than {RELEASE_WAIT:?} to drop: exit published before it is released"
                );
                contain("publishing an exit", || {
                    shared.finish_incarnation(w.incarnation, w.reason)
                });
            }
        }
    }
}
