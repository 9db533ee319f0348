//! Request deadlines without a Tokio timer per request.
//!
//! Every request has a deadline (5 s by default, as `gen_server:call`). A
//! Tokio timer per request (a boxed `Sleep` registered in the timer wheel
//! and removed) cost about 330 ns more per ask than this registry on a
//! 2-worker runtime (Tokio 1.54, `examples/hotpath ask`). Instead, each
//! thread keeps a registry of pending deadlines (a slab under an
//! uncontended lock), and one sweeper task per registry, spawned on the same
//! runtime (hence the same clock, paused or not), wakes the requests whose
//! deadline passed. A request that gets its answer first just leaves the
//! registry, and usually without taking its lock: its slot is parked in
//! the thread (see [`Parked`]) for the next request of the same task.
//! Deadlines are exact: the sweeper sleeps until the earliest one, and is
//! told when a request brings an earlier one.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use parking_lot::Mutex;
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::stamp::Stamp;

/// How long an idle sweeper sleeps before looking again.
const IDLE_TICK: Duration = Duration::from_secs(1);

struct Slot {
    at: Instant,
    /// `None` once fired or freed.
    waker: Option<Waker>,
    /// Bumped whenever the slot is released, so a stale handle can tell.
    generation: u64,
}

/// Pending deadlines in a slab: O(1) insert and removal (the common path:
/// the answer comes first); the sweeper scans when it wakes.
#[derive(Default)]
struct State {
    slots: Vec<Slot>,
    free: Vec<usize>,
    /// When the sweeper will look next; a request with an earlier deadline
    /// wakes it.
    next_sweep: Option<Instant>,
}

impl State {
    /// Frees a slot; returns its waker, to be dropped after unlocking.
    fn release(&mut self, index: usize) -> Option<Waker> {
        let slot = &mut self.slots[index];
        let waker = slot.waker.take();
        slot.generation += 1;
        self.free.push(index);
        waker
    }
}

/// One thread's pending deadlines.
#[derive(Default)]
pub(crate) struct Registry {
    state: Mutex<State>,
    wake_sweeper: Notify,
}

struct Local {
    registry: Arc<Registry>,
    sweeper: JoinHandle<()>,
    /// The deadline of this thread's last answered request, left in its
    /// registry with its waker (see [`Deadline`]'s `Drop`).
    parked: Option<Parked>,
    /// With a sweeper on a multi-thread runtime, whose clock cannot be
    /// paused: deadlines are computed from the request's send stamp
    /// (see [`after`]).
    anchor: Option<Anchor>,
}

/// How old an [`Anchor`] may be before it is taken again: the stamp's
/// counter and the monotonic clock drift apart by parts per million, so
/// a deadline computed through it is off by a few microseconds at most.
const ANCHOR_AGE: Duration = Duration::from_secs(1);

/// An instant and the stamp of the same moment, this thread's own (the
/// process-wide one of `stamp.rs` is behind a lock every thread takes).
struct Anchor {
    at: std::time::Instant,
    stamp: Stamp,
}

impl Anchor {
    fn now() -> Self {
        Self {
            at: std::time::Instant::now(),
            stamp: Stamp::now(),
        }
    }

    /// The instant `stamp` (a recent one) stands for.
    fn instant(&mut self, stamp: Stamp) -> Instant {
        if stamp.since(self.stamp) >= ANCHOR_AGE {
            *self = Self::now();
        }
        Instant::from_std(stamp.instant_by(self.at, self.stamp))
    }
}

/// The deadline `timeout` after `sent`, the stamp of a request sent now;
/// `None` if it is past the clock's range.
///
/// Reading the monotonic clock took about a tenth of an ask on a 2-worker
/// runtime (`perf`, `examples/hotpath ask`); the send stamp is read anyway.
/// So on a thread whose registry sweeps on a multi-thread runtime, whose
/// clock Tokio never pauses, the deadline comes from the stamp (through
/// the thread's [`Anchor`]). Elsewhere, as on a current-thread runtime
/// whose clock a test may pause, it comes from the runtime's clock.
pub(crate) fn after(sent: Stamp, timeout: Duration) -> Option<Instant> {
    let from_stamp = LOCAL
        .try_with(|local| {
            let mut local = local.try_borrow_mut().ok()?;
            let l = local.as_mut().filter(|l| !l.sweeper.is_finished())?;
            Some(l.anchor.as_mut()?.instant(sent))
        })
        .ok()
        .flatten();
    from_stamp.unwrap_or_else(Instant::now).checked_add(timeout)
}

impl Drop for Local {
    fn drop(&mut self) {
        if let Some(parked) = self.parked.take() {
            parked.release();
        }
    }
}

thread_local! {
    static LOCAL: RefCell<Option<Local>> = const { RefCell::new(None) };
}

/// A pending deadline; dropping it leaves the registry.
pub(crate) struct Deadline {
    /// `None` only while it is dropped.
    registry: Option<Arc<Registry>>,
    index: usize,
    generation: u64,
}

/// A deadline whose request is over, not yet out of its registry: its
/// slot still holds its waker and its time. The next request made on the
/// same thread takes the slot back with one lock and no waker clone when
/// it comes from the same task (a caller making one request after
/// another, the usual case), or frees it. Left there, the slot fires at
/// its time: one spurious wake of a task whose request is over, which a
/// future tolerates, and the slot is freed.
struct Parked {
    registry: Arc<Registry>,
    index: usize,
    generation: u64,
}

/// How a request gets its slot: back from the thread's parked deadline,
/// or a fresh one in the thread's registry (freeing a deadline parked in
/// another registry, if any).
enum Claim {
    Parked(Parked),
    Fresh(Arc<Registry>, Option<Parked>),
}

impl Parked {
    /// Frees the slot, unless it fired meanwhile (then it is free, or
    /// another deadline's).
    fn release(self) {
        let mut st = self.registry.state.lock();
        let waker = if st.slots[self.index].generation == self.generation {
            st.release(self.index)
        } else {
            None
        };
        drop(st);
        drop(waker);
    }
}

impl Registry {
    /// Registers a deadline at `at` that wakes `waker`, in the registry of
    /// this thread, with a live sweeper on this runtime. `None` outside a
    /// Tokio runtime.
    fn register_current(at: Instant, waker: &Waker) -> Option<Deadline> {
        let claim = LOCAL.with(|local| {
            let mut local = local.borrow_mut();
            match &mut *local {
                Some(l) if !l.sweeper.is_finished() => match l.parked.take() {
                    // The parked deadline's handle on the registry serves
                    // again (no reference count touched).
                    Some(p) if Arc::ptr_eq(&p.registry, &l.registry) => Some(Claim::Parked(p)),
                    other => Some(Claim::Fresh(l.registry.clone(), other)),
                },
                _ => {
                    // First use on this thread, or the runtime that ran the
                    // sweeper is gone: sweep from this runtime.
                    let handle = tokio::runtime::Handle::try_current().ok()?;
                    let previous = local.take();
                    let registry = previous
                        .as_ref()
                        .map(|l| l.registry.clone())
                        .unwrap_or_default();
                    drop(previous);
                    registry.state.lock().next_sweep = None;
                    let sweeper = handle.spawn(sweep(registry.clone()));
                    let unpausable = matches!(
                        handle.runtime_flavor(),
                        tokio::runtime::RuntimeFlavor::MultiThread
                    );
                    *local = Some(Local {
                        registry: registry.clone(),
                        sweeper,
                        parked: None,
                        anchor: unpausable.then(Anchor::now),
                    });
                    Some(Claim::Fresh(registry, None))
                }
            }
        })?;
        Some(match claim {
            Claim::Parked(Parked {
                registry,
                index,
                generation,
            }) => registry.register(at, waker, Some((index, generation))),
            Claim::Fresh(registry, foreign) => {
                // Parked in another registry (the thread ran another
                // runtime before): freed there.
                if let Some(p) = foreign {
                    p.release();
                }
                registry.register(at, waker, None)
            }
        })
    }

    /// Registers a deadline, in the parked slot (`index`, `generation`)
    /// if it still holds the same task's waker.
    fn register(
        self: Arc<Self>,
        at: Instant,
        waker: &Waker,
        parked: Option<(usize, u64)>,
    ) -> Deadline {
        let mut st = self.state.lock();
        let mut stale = None;
        let mut reused = None;
        if let Some((index, generation)) = parked {
            let slot = &mut st.slots[index];
            if slot.generation == generation {
                if slot.waker.as_ref().is_some_and(|w| w.will_wake(waker)) {
                    slot.at = at;
                    reused = Some(index);
                } else {
                    stale = st.release(index);
                }
            }
        }
        let index = if let Some(i) = reused {
            i
        } else if let Some(i) = st.free.pop() {
            let slot = &mut st.slots[i];
            slot.at = at;
            slot.waker = Some(waker.clone());
            i
        } else {
            st.slots.push(Slot {
                at,
                waker: Some(waker.clone()),
                generation: 0,
            });
            st.slots.len() - 1
        };
        let generation = st.slots[index].generation;
        let earlier = st.next_sweep.is_none_or(|next| at < next);
        if earlier {
            st.next_sweep = Some(at);
        }
        drop(st);
        drop(stale);
        if earlier {
            self.wake_sweeper.notify_one();
        }
        Deadline {
            registry: Some(self),
            index,
            generation,
        }
    }
}

impl Deadline {
    /// Whether the deadline passed (the sweeper fired it); otherwise
    /// refreshes the waker to wake.
    fn expired(&self, waker: &Waker) -> bool {
        let Some(registry) = &self.registry else {
            return true;
        };
        let mut st = registry.state.lock();
        let slot = &mut st.slots[self.index];
        match &mut slot.waker {
            Some(w) if slot.generation == self.generation => {
                if !w.will_wake(waker) {
                    *w = waker.clone();
                }
                false
            }
            _ => true,
        }
    }
}

impl Drop for Deadline {
    /// Leaves the registry: parked in this thread's `LOCAL` without a lock
    /// when nothing is parked there yet (see [`Parked`]), else freed now.
    fn drop(&mut self) {
        let Some(registry) = self.registry.take() else {
            return;
        };
        let mut parked = Some(Parked {
            registry,
            index: self.index,
            generation: self.generation,
        });
        let _ = LOCAL.try_with(|local| {
            if let Ok(mut local) = local.try_borrow_mut() {
                if let Some(l) = local.as_mut().filter(|l| l.parked.is_none()) {
                    l.parked = parked.take();
                }
            }
        });
        if let Some(p) = parked {
            p.release();
        }
    }
}

async fn sweep(registry: Arc<Registry>) {
    loop {
        let notified = registry.wake_sweeper.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        let now = Instant::now();
        let mut due = Vec::new();
        let next = {
            let mut st = registry.state.lock();
            let mut next = now + IDLE_TICK;
            for index in 0..st.slots.len() {
                let slot = &mut st.slots[index];
                if slot.waker.is_none() {
                    continue;
                }
                if slot.at <= now {
                    due.extend(st.release(index));
                } else {
                    next = next.min(slot.at);
                }
            }
            st.next_sweep = Some(next);
            next
        };
        for waker in due {
            waker.wake();
        }
        tokio::select! {
            _ = tokio::time::sleep_until(next) => {}
            _ = &mut notified => {}
        }
    }
}

/// A response awaited with an optional deadline.
pub(crate) struct WithDeadline<F> {
    inner: F,
    at: Option<Instant>,
    timeout: Duration,
    deadline: Option<Deadline>,
    fallback: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl<F> WithDeadline<F> {
    /// Awaits `inner` until `at` (never, if `None`); `timeout` is what the
    /// error reports.
    pub(crate) fn new(inner: F, at: Option<Instant>, timeout: Duration) -> Self {
        Self {
            inner,
            at,
            timeout,
            deadline: None,
            fallback: None,
        }
    }
}

/// The deadline passed.
pub(crate) struct Elapsed(pub(crate) Duration);

impl<F: Future + Unpin> Future for WithDeadline<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if let Poll::Ready(v) = Pin::new(&mut self.inner).poll(cx) {
            self.deadline = None;
            return Poll::Ready(Ok(v));
        }
        let Some(at) = self.at else {
            return Poll::Pending;
        };
        let timeout = self.timeout;
        if let Some(d) = &self.deadline {
            return if d.expired(cx.waker()) {
                Poll::Ready(Err(Elapsed(timeout)))
            } else {
                Poll::Pending
            };
        }
        if let Some(sleep) = &mut self.fallback {
            return match sleep.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Err(Elapsed(timeout))),
                Poll::Pending => Poll::Pending,
            };
        }
        match Registry::register_current(at, cx.waker()) {
            Some(deadline) => {
                self.deadline = Some(deadline);
                Poll::Pending
            }
            None => {
                // Not on a Tokio worker thread: a plain timer.
                let mut sleep = Box::pin(tokio::time::sleep_until(at));
                let ready = sleep.as_mut().poll(cx).is_ready();
                self.fallback = Some(sleep);
                if ready {
                    Poll::Ready(Err(Elapsed(timeout)))
                } else {
                    Poll::Pending
                }
            }
        }
    }
}

/// The registry of this thread, if it has one.
#[cfg(test)]
fn local_registry() -> Option<Arc<Registry>> {
    LOCAL.with(|l| l.borrow().as_ref().map(|l| l.registry.clone()))
}

/// Whether this thread computes deadlines from send stamps.
#[cfg(test)]
fn local_anchored() -> bool {
    LOCAL.with(|l| l.borrow().as_ref().is_some_and(|l| l.anchor.is_some()))
}

#[cfg(test)]
impl Registry {
    /// Slots, free or not.
    fn slot_count(&self) -> usize {
        self.state.lock().slots.len()
    }

    /// Slots holding a waker: pending or parked.
    fn held(&self) -> usize {
        let st = self.state.lock();
        st.slots.iter().filter(|s| s.waker.is_some()).count()
    }
}

#[cfg(test)]
mod tests;
