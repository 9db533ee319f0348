//! One thread's pending deadlines, their sweeper, and the slot a thread
//! keeps for its next request.
//!
//! A slot belongs to one request at a time: its [`Deadline`] while it
//! waits, then, once it is over, the thread (see [`Local::parked`]) until
//! the thread's next request takes it back. The registry lists every slot
//! for the sweeper. A slot's state is one atomic word: idle, fired, or
//! armed with its deadline. The owner arms it; only the sweeper fires it,
//! with a compare-and-swap made under the slot's waker lock, so that a
//! slot re-armed or handed on meanwhile is never fired for an old deadline
//! and its new waker is never taken.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::Waker;
use std::time::Duration;

use parking_lot::Mutex;
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::moment::Moment;
use crate::stamp::Anchor;

/// How long an idle sweeper sleeps before looking again.
const IDLE_TICK: Duration = Duration::from_secs(1);

/// A slot with no request.
const IDLE: u64 = 0;
/// A slot the sweeper fired: its waker was taken and woken.
const FIRED: u64 = 1;
/// The least armed state: an armed slot holds its deadline as its
/// distance from [`Moment::MIN`] ([`Moment::above_min`]), plus `ARMED`.
const ARMED: u64 = 2;

/// One request's deadline.
#[derive(Default)]
struct Slot {
    /// [`IDLE`], [`FIRED`] or an armed deadline (at least [`ARMED`]).
    state: AtomicU64,
    /// The task to wake. The sweeper fires the slot only while holding
    /// this lock, and the owner hands the slot on or frees it only while
    /// holding it too.
    waker: Mutex<Option<Waker>>,
}

/// A waker's identity (`Waker::will_wake` compares the same two
/// pointers), kept as integers so that a deadline stays `Send`.
#[derive(Clone, Copy, PartialEq, Eq)]
struct WakerId(usize, usize);

impl WakerId {
    fn of(waker: &Waker) -> Self {
        Self(waker.data() as usize, waker.vtable() as *const _ as usize)
    }
}

/// A slot and what its owner knows of it.
struct Owned {
    registry: Arc<Registry>,
    slot: Arc<Slot>,
    /// The waker the slot holds, unless the sweeper took it.
    waker: WakerId,
}

impl Owned {
    /// Arms the slot at `at` for the task of `waker`: with one
    /// compare-and-swap when it still holds that task's waker and has not
    /// fired, else under its waker lock.
    fn rearm(mut self, at: u64, waker: &Waker) -> Deadline {
        let id = WakerId::of(waker);
        let slot = &self.slot;
        let current = slot.state.load(Ordering::Acquire);
        let swapped = id == self.waker
            && current >= ARMED
            && slot
                .state
                .compare_exchange(current, at, Ordering::AcqRel, Ordering::Acquire)
                .is_ok();
        if !swapped {
            let mut held = slot.waker.lock();
            let previous = held.replace(waker.clone());
            slot.state.store(at, Ordering::Release);
            drop(held);
            drop(previous);
            self.waker = id;
        }
        self.registry.sweep_by(at);
        Deadline { owned: Some(self) }
    }

    /// Gives the slot back to its registry.
    fn release(self) {
        let mut held = self.slot.waker.lock();
        let waker = held.take();
        self.slot.state.store(IDLE, Ordering::Release);
        drop(held);
        self.registry.state.lock().free.push(self.slot);
        drop(waker);
    }
}

#[derive(Default)]
struct State {
    /// Every slot, for the sweeper.
    slots: Vec<Arc<Slot>>,
    free: Vec<Arc<Slot>>,
}

/// One thread's pending deadlines.
pub(super) struct Registry {
    state: Mutex<State>,
    /// When the sweeper looks next (as an armed state); a request with an
    /// earlier deadline wakes it.
    next_sweep: AtomicU64,
    wake_sweeper: Notify,
}

impl Registry {
    fn new() -> Self {
        Self {
            state: Mutex::default(),
            next_sweep: AtomicU64::new(u64::MAX),
            wake_sweeper: Notify::new(),
        }
    }

    /// `at` as an armed state.
    fn encode(at: Moment) -> u64 {
        at.above_min() + ARMED
    }

    /// The instant an armed state stands for.
    fn decode(state: u64) -> Instant {
        Moment::min_plus(state.saturating_sub(ARMED)).instant()
    }

    /// Wakes the sweeper if `at` (an armed state) comes before its next
    /// look.
    fn sweep_by(&self, at: u64) {
        if at < self.next_sweep.load(Ordering::Acquire) {
            self.next_sweep.fetch_min(at, Ordering::AcqRel);
            self.wake_sweeper.notify_one();
        }
    }

    /// A slot of its own, armed at `at` for the task of `waker`.
    fn claim(self: Arc<Self>, at: u64, waker: &Waker) -> Deadline {
        let slot = {
            let mut st = self.state.lock();
            match st.free.pop() {
                Some(slot) => slot,
                None => {
                    let slot = Arc::new(Slot::default());
                    st.slots.push(slot.clone());
                    slot
                }
            }
        };
        *slot.waker.lock() = Some(waker.clone());
        slot.state.store(at, Ordering::Release);
        self.sweep_by(at);
        Deadline {
            owned: Some(Owned {
                registry: self,
                slot,
                waker: WakerId::of(waker),
            }),
        }
    }
}

struct Local {
    registry: Arc<Registry>,
    sweeper: JoinHandle<()>,
    /// The slot of this thread's last request that ended, still armed at
    /// its deadline and holding its waker: the thread's next request takes
    /// it back without the registry's lock, with one compare-and-swap when
    /// it comes from the same task (a caller making one request after
    /// another, the usual case). Left alone, it fires at its deadline: one
    /// spurious wake of a task whose request is over, which a future
    /// tolerates, and the waker is let go then.
    parked: Option<Owned>,
    /// With a sweeper on a multi-thread runtime, whose clock cannot be
    /// paused: deadlines are computed from the request's send stamp (see
    /// [`super::after`]).
    anchor: Option<Anchor>,
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

/// Runs `f` on this thread's anchor, if its registry sweeps on a live
/// multi-thread runtime.
pub(super) fn with_anchor<R>(f: impl FnOnce(&mut Anchor) -> R) -> Option<R> {
    LOCAL
        .try_with(|local| {
            let mut local = local.try_borrow_mut().ok()?;
            let l = local.as_mut().filter(|l| !l.sweeper.is_finished())?;
            Some(f(l.anchor.as_mut()?))
        })
        .ok()
        .flatten()
}

/// A pending deadline; dropping it leaves the registry.
pub(super) struct Deadline {
    /// `None` only while it is dropped.
    owned: Option<Owned>,
}

/// How a request gets its slot.
enum Claim {
    /// The thread's parked slot, in the thread's registry.
    Parked(Owned),
    /// A slot of the thread's registry (after freeing a slot parked in
    /// another registry, if any: the thread ran another runtime before).
    Fresh(Arc<Registry>, Option<Owned>),
}

impl Deadline {
    /// Registers a deadline at `at` that wakes `waker`, in the registry of
    /// this thread, with a live sweeper on this runtime. `None` outside a
    /// Tokio runtime.
    pub(super) fn register(at: Moment, waker: &Waker) -> Option<Self> {
        let claim = LOCAL.with(|local| {
            let mut local = local.borrow_mut();
            match &mut *local {
                Some(l) if !l.sweeper.is_finished() => match l.parked.take() {
                    Some(p) if Arc::ptr_eq(&p.registry, &l.registry) => Some(Claim::Parked(p)),
                    other => Some(Claim::Fresh(l.registry.clone(), other)),
                },
                _ => {
                    // First use on this thread, or the runtime that ran the
                    // sweeper is gone: sweep from this runtime.
                    let handle = tokio::runtime::Handle::try_current().ok()?;
                    // The registry stays (with the deadlines still in it),
                    // swept from now on by this runtime.
                    let previous = local.take();
                    let registry = previous
                        .as_ref()
                        .map_or_else(|| Arc::new(Registry::new()), |l| l.registry.clone());
                    drop(previous);
                    registry.next_sweep.store(u64::MAX, Ordering::Release);
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
            Claim::Parked(owned) => {
                let at = Registry::encode(at);
                owned.rearm(at, waker)
            }
            Claim::Fresh(registry, foreign) => {
                if let Some(p) = foreign {
                    p.release();
                }
                let at = Registry::encode(at);
                registry.claim(at, waker)
            }
        })
    }

    /// Whether the deadline passed (the sweeper fired it); otherwise
    /// makes sure it wakes `waker`.
    pub(super) fn expired(&mut self, waker: &Waker) -> bool {
        let Some(owned) = &mut self.owned else {
            return true;
        };
        let id = WakerId::of(waker);
        if id == owned.waker {
            return owned.slot.state.load(Ordering::Acquire) == FIRED;
        }
        // Polled by another task: hand the wake to it, unless it fired.
        let mut held = owned.slot.waker.lock();
        if owned.slot.state.load(Ordering::Acquire) == FIRED {
            return true;
        }
        let previous = held.replace(waker.clone());
        drop(held);
        drop(previous);
        owned.waker = id;
        false
    }
}

impl Drop for Deadline {
    /// Leaves the registry: parked in this thread without a lock when
    /// nothing is parked there yet (see [`Local::parked`]), else freed now.
    fn drop(&mut self) {
        let Some(owned) = self.owned.take() else {
            return;
        };
        let mut owned = Some(owned);
        let _ = LOCAL.try_with(|local| {
            if let Ok(mut local) = local.try_borrow_mut() {
                if let Some(l) = local.as_mut().filter(|l| l.parked.is_none()) {
                    l.parked = owned.take();
                }
            }
        });
        if let Some(owned) = owned {
            owned.release();
        }
    }
}

async fn sweep(registry: Arc<Registry>) {
    let idle_tick = u64::try_from(IDLE_TICK.as_nanos()).unwrap_or(u64::MAX);
    loop {
        let notified = registry.wake_sweeper.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        let now = Registry::encode(Moment::from_instant(Instant::now()));
        let mut next = now.saturating_add(idle_tick);
        let mut due = Vec::new();
        {
            let st = registry.state.lock();
            for slot in &st.slots {
                let state = slot.state.load(Ordering::Acquire);
                if state < ARMED {
                    continue;
                }
                if state > now {
                    next = next.min(state);
                    continue;
                }
                let mut held = slot.waker.lock();
                let fired = slot
                    .state
                    .compare_exchange(state, FIRED, Ordering::AcqRel, Ordering::Acquire)
                    .is_ok();
                if fired {
                    due.extend(held.take());
                }
            }
        }
        registry.next_sweep.store(next, Ordering::Release);
        for waker in due {
            waker.wake();
        }
        tokio::select! {
            _ = tokio::time::sleep_until(Registry::decode(next)) => {}
            _ = &mut notified => {}
        }
    }
}

/// The registry of this thread, if it has one.
#[cfg(test)]
pub(super) fn local_registry() -> Option<Arc<Registry>> {
    LOCAL.with(|l| l.borrow().as_ref().map(|l| l.registry.clone()))
}

/// Whether this thread computes deadlines from send stamps.
#[cfg(test)]
pub(super) fn local_anchored() -> bool {
    LOCAL.with(|l| l.borrow().as_ref().is_some_and(|l| l.anchor.is_some()))
}

#[cfg(test)]
impl Registry {
    /// Slots, free or not.
    pub(super) fn slot_count(&self) -> usize {
        self.state.lock().slots.len()
    }

    /// Slots holding a waker: pending or parked.
    pub(super) fn held(&self) -> usize {
        let st = self.state.lock();
        st.slots.iter().filter(|s| s.waker.lock().is_some()).count()
    }
}
