//! Request deadlines without a Tokio timer per request.
//!
//! Every request has a deadline (5 s by default, as `gen_server:call`). A
//! Tokio timer per request costs a timer-wheel registration and removal,
//! and measured 730 ns of a 1.1 µs ask on a 2-worker runtime. Instead, each
//! thread keeps a registry of pending deadlines (a slab under an
//! uncontended lock), and one sweeper task per registry, spawned on the same
//! runtime (hence the same clock, paused or not), wakes the requests whose
//! deadline passed. A request that gets its answer first just leaves the
//! registry. Deadlines are exact: the sweeper sleeps until the earliest one,
//! and is told when a request brings an earlier one.

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
    fn release(&mut self, index: usize) {
        let slot = &mut self.slots[index];
        slot.waker = None;
        slot.generation += 1;
        self.free.push(index);
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
}

thread_local! {
    static LOCAL: RefCell<Option<Local>> = const { RefCell::new(None) };
}

/// A pending deadline; dropping it leaves the registry.
pub(crate) struct Deadline {
    registry: Arc<Registry>,
    index: usize,
    generation: u64,
}

impl Registry {
    /// The registry of this thread, with a live sweeper on this runtime.
    /// `None` outside a Tokio runtime.
    fn current() -> Option<Arc<Registry>> {
        LOCAL.with(|local| {
            let mut local = local.borrow_mut();
            match &*local {
                Some(l) if !l.sweeper.is_finished() => Some(l.registry.clone()),
                _ => {
                    // First use on this thread, or the runtime that ran the
                    // sweeper is gone: sweep from this runtime.
                    let handle = tokio::runtime::Handle::try_current().ok()?;
                    let registry = local.take().map(|l| l.registry).unwrap_or_default();
                    registry.state.lock().next_sweep = None;
                    let sweeper = handle.spawn(sweep(registry.clone()));
                    *local = Some(Local {
                        registry: registry.clone(),
                        sweeper,
                    });
                    Some(registry)
                }
            }
        })
    }

    fn register(self: &Arc<Self>, at: Instant, waker: &Waker) -> Deadline {
        let mut st = self.state.lock();
        let index = match st.free.pop() {
            Some(i) => {
                let slot = &mut st.slots[i];
                slot.at = at;
                slot.waker = Some(waker.clone());
                i
            }
            None => {
                st.slots.push(Slot {
                    at,
                    waker: Some(waker.clone()),
                    generation: 0,
                });
                st.slots.len() - 1
            }
        };
        let generation = st.slots[index].generation;
        let earlier = st.next_sweep.is_none_or(|next| at < next);
        if earlier {
            st.next_sweep = Some(at);
        }
        drop(st);
        if earlier {
            self.wake_sweeper.notify_one();
        }
        Deadline {
            registry: self.clone(),
            index,
            generation,
        }
    }
}

impl Deadline {
    /// Whether the deadline passed (the sweeper fired it); otherwise
    /// refreshes the waker to wake.
    fn expired(&self, waker: &Waker) -> bool {
        let mut st = self.registry.state.lock();
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
    fn drop(&mut self) {
        let mut st = self.registry.state.lock();
        if st.slots[self.index].generation == self.generation {
            st.release(self.index);
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
                    due.extend(slot.waker.take());
                    st.release(index);
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
        match Registry::current() {
            Some(registry) => {
                self.deadline = Some(registry.register(at, cx.waker()));
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
