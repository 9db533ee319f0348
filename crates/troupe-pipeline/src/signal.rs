//! Waking scheduler threads: a parker per thread, a signal per stage, and the
//! public [`Notifier`] handle for [`Rule::OnExternalEvent`](crate::Rule).

use std::fmt;
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release, SeqCst};
use std::sync::atomic::{fence, AtomicBool, AtomicU8};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use parking_lot::{Condvar, Mutex};

use crate::queue::Wake;

const EMPTY: u8 = 0;
const PARKED: u8 = 1;
const NOTIFIED: u8 = 2;

/// Puts one scheduler thread to sleep until it is unparked or a deadline
/// passes. Like `std::thread::park`, an unpark that comes first is kept as a
/// token, so no wake-up is lost; unlike it, a parker exists before its thread.
#[derive(Debug, Default)]
pub(crate) struct Parker {
    state: AtomicU8,
    lock: Mutex<()>,
    cvar: Condvar,
}

impl Parker {
    /// Wakes the thread, or makes its next `park_until` return at once.
    /// Cheap (one atomic swap) unless the thread is actually asleep.
    pub(crate) fn unpark(&self) {
        if self.state.swap(NOTIFIED, Release) == PARKED {
            // Taking the lock makes sure the parked thread is waiting on the
            // condvar (it holds the lock from its EMPTY -> PARKED transition
            // until it waits), so the notification cannot fall in between.
            drop(self.lock.lock());
            self.cvar.notify_one();
        }
    }

    /// Sleeps until unparked or until `deadline` (forever if `None`).
    pub(crate) fn park_until(&self, deadline: Option<Instant>) {
        if self
            .state
            .compare_exchange(NOTIFIED, EMPTY, Acquire, Relaxed)
            .is_ok()
        {
            return;
        }
        let mut guard = self.lock.lock();
        if self
            .state
            .compare_exchange(EMPTY, PARKED, Acquire, Relaxed)
            .is_err()
        {
            // Notified in the meantime: consume the token.
            self.state.swap(EMPTY, Acquire);
            return;
        }
        loop {
            let timed_out = match deadline {
                Some(deadline) => self.cvar.wait_until(&mut guard, deadline).timed_out(),
                None => {
                    self.cvar.wait(&mut guard);
                    false
                }
            };
            if self
                .state
                .compare_exchange(NOTIFIED, EMPTY, Acquire, Relaxed)
                .is_ok()
            {
                return;
            }
            if timed_out {
                // PARKED, or NOTIFIED by an unpark that raced with the timeout:
                // either way we return, which is all an unpark asks for.
                // Acquire: see what the unparker published before unparking.
                self.state.swap(EMPTY, Acquire);
                return;
            }
            // Spurious wake-up: wait again.
        }
    }
}

#[cfg(test)]
impl Parker {
    /// Puts the parker in the state of its thread between deciding to sleep
    /// and waiting on the condvar (`PARKED`, lock held). Until the guard is
    /// dropped, an `unpark` from another thread blocks inside it, after the
    /// signal it serves was raised: tests use this to stop a notifying thread
    /// at that point, as a preemption could.
    pub(crate) fn hold_parked(&self) -> parking_lot::MutexGuard<'_, ()> {
        let guard = self.lock.lock();
        self.state.store(PARKED, Relaxed);
        guard
    }
}

/// Per-stage "you have something to do" flag, plus the way to wake the
/// stage's thread. Set by queue writers (for `OnMessage` stages), by
/// [`Notifier`]s and by the stopping pipeline.
pub(crate) struct Signal {
    pending: AtomicBool,
    /// The parker of the thread that runs the stage, known once built.
    parker: OnceLock<Arc<Parker>>,
    /// Orders a wake before the parker is known against the build's
    /// `attach`; see [`Signal::raise`].
    attach_lock: Mutex<()>,
}

impl Signal {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self {
            pending: AtomicBool::new(false),
            parker: OnceLock::new(),
            attach_lock: Mutex::new(()),
        })
    }

    /// Sets the flag and wakes the stage's thread if the flag was clear.
    pub(crate) fn raise(&self) {
        // Pairs with the fence in `take`: either the scheduler sees the flag
        // set below, or its stage sees the data published before this call.
        fence(SeqCst);
        if self.pending.load(Relaxed) || self.pending.swap(true, AcqRel) {
            return; // Already pending: someone woke the thread.
        }
        if let Some(parker) = self.parker.get() {
            parker.unpark();
            return;
        }
        // Not built yet, or being built. If `attach` ran before we took the
        // lock, we see the parker now; if it runs after, our flag was set
        // before its lock, hence before the thread started, which sees it.
        let _guard = self.attach_lock.lock();
        if let Some(parker) = self.parker.get() {
            parker.unpark();
        }
    }

    /// Clears the flag, returning whether it was set. After `true`, whatever
    /// was published before the matching `raise` is visible.
    pub(crate) fn take(&self) -> bool {
        if !self.pending.load(Relaxed) {
            return false;
        }
        let was = self.pending.swap(false, AcqRel);
        fence(SeqCst);
        was
    }

    /// `true` if a run is pending (a cheap peek, for spinning before parking).
    pub(crate) fn is_pending(&self) -> bool {
        self.pending.load(Relaxed)
    }

    /// Sets the flag without waking anybody (the caller is the thread).
    pub(crate) fn set_local(&self) {
        self.pending.store(true, Relaxed);
    }

    /// Tells the signal which thread runs its stage (before that thread runs).
    pub(crate) fn attach(&self, parker: Arc<Parker>) {
        let _guard = self.attach_lock.lock();
        // A stage is attached once; a second attach would be a bug in the
        // builder, and the first parker stays valid.
        let _ = self.parker.set(parker);
    }
}

impl Wake for Signal {
    fn wake(&self) {
        self.raise();
    }
}

/// A cloneable handle that wakes one stage whose rule is
/// [`Rule::OnExternalEvent`](crate::Rule::OnExternalEvent): call
/// [`Notifier::notify`] from any thread (an I/O loop, a timer, an actor) and
/// the stage's `process` runs soon after on its scheduler thread.
///
/// Several notifications before the stage runs are merged into one run.
/// Notifying a stage of a stopped pipeline does nothing.
///
/// # Example
/// ```
/// use std::time::Duration;
/// use troupe_pipeline::{Flow, PipelineBuilder, Reader, Rule, Writer};
///
/// let mut builder = PipelineBuilder::new("io");
/// let events = builder.channel::<u32>("events", 8);
/// let mut polls = 0;
/// // Stands in for a stage that polls a socket when the I/O loop says so.
/// let poll = builder.add("poll", Rule::OnExternalEvent).source(
///     events,
///     move |out: &mut Writer<u32>| {
///         polls += 1;
///         out.push(polls);
///         Flow::Continue
///     },
/// );
/// let (tx, rx) = std::sync::mpsc::channel();
/// builder.add("log", Rule::OnMessage).sink(events, move |input: &mut Reader<u32>| {
///     input.drain().for_each(|n| { let _ = tx.send(n); });
///     Flow::Continue
/// });
/// let notifier = builder.notifier(poll).expect("same builder");
/// let pipeline = builder.build()?;
/// std::thread::spawn(move || notifier.notify()); // e.g. the I/O thread
/// assert_eq!(rx.recv_timeout(Duration::from_secs(5)).ok(), Some(1));
/// assert!(pipeline.stop(Duration::from_secs(5)).is_clean());
/// # Ok::<(), troupe_pipeline::BuildError>(())
/// ```
#[derive(Clone)]
pub struct Notifier {
    signal: Arc<Signal>,
}

impl Notifier {
    pub(crate) fn new(signal: Arc<Signal>) -> Self {
        Self { signal }
    }

    /// Asks for one run of the stage. Never blocks; cheap when a run is
    /// already pending.
    pub fn notify(&self) {
        self.signal.raise();
    }
}

impl fmt::Debug for Notifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Notifier").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn unpark_before_park_is_kept() {
        let parker = Parker::default();
        parker.unpark();
        // Returns at once, although there is no deadline.
        parker.park_until(None);
    }

    #[test]
    fn park_times_out() {
        let parker = Parker::default();
        let start = Instant::now();
        parker.park_until(Some(start + Duration::from_millis(5)));
        assert!(start.elapsed() >= Duration::from_millis(5));
    }

    #[test]
    fn unpark_wakes_a_parked_thread() {
        let parker = Arc::new(Parker::default());
        let (tx, rx) = std::sync::mpsc::channel();
        let thread = {
            let parker = Arc::clone(&parker);
            std::thread::spawn(move || {
                tx.send(()).unwrap();
                parker.park_until(None);
            })
        };
        rx.recv_timeout(Duration::from_secs(5)).unwrap();
        parker.unpark();
        thread.join().unwrap();
    }

    #[test]
    fn signal_raised_before_attach_is_pending() {
        let signal = Signal::new();
        signal.raise();
        signal.attach(Arc::new(Parker::default()));
        assert!(signal.take());
        assert!(!signal.take());
    }
}
