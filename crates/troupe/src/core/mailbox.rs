//! Mailboxes: a bounded queue of envelopes with an overflow policy, plus the
//! priority system channel.

use std::collections::VecDeque;
use std::future::{poll_fn, Future};
use std::sync::Arc;
use std::task::{Context as TaskCx, Poll, Waker};

use parking_lot::Mutex;

use super::instruments::Instruments;
use super::process::SysMsg;
use super::signal::is_signal;
use crate::envelope::Envelope;

/// The default mailbox capacity.
pub const DEFAULT_CAPACITY: usize = crate::defaults::MAILBOX_CAPACITY;

/// What a mailbox does with a message that arrives when it is full.
///
/// ```
/// use troupe::{ActorConfig, OverflowPolicy};
/// let config = ActorConfig::default()
///     .with_mailbox_capacity(16)
///     .with_overflow(OverflowPolicy::DropOldest);
/// assert_eq!(config.mailbox_capacity(), 16);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum OverflowPolicy {
    /// The sender waits for space (backpressure). `try_notify` fails with
    /// `Full`. The default.
    #[default]
    Wait,
    /// The sender gets a `Full` error at once and keeps its message.
    FailFast,
    /// The incoming message is dropped, counted and reported as a dead letter.
    DropNewest,
    /// The oldest queued message is dropped, counted and reported as a dead
    /// letter, and the incoming one is queued.
    DropOldest,
}

/// Why a mailbox refused an envelope (which is handed back).
#[derive(Debug)]
pub(crate) enum Refused {
    Full(Envelope),
    Closed(Envelope),
}

/// One item taken from a mailbox.
pub(crate) enum Item {
    Sys(SysMsg),
    Msg(Envelope),
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Phase {
    /// Accepts messages and system messages.
    Open,
    /// Refuses messages; system messages still arrive.
    Closed,
    /// Between two incarnations: keeps what is queued and takes more
    /// messages (for the next incarnation); refuses system messages.
    Suspended,
    /// Refuses everything: the process is gone.
    Finished,
}

mod armed;
mod waiters;

use armed::Armed;
use waiters::Waiters;

/// What most processes never use, kept out of line: the lanes ahead of the
/// ordinary queue (system messages first, then priority messages), the
/// senders waiting for space, and the count of envelopes a lossy policy
/// dropped.
#[derive(Default)]
struct Lanes {
    sys: VecDeque<SysMsg>,
    priority: VecDeque<Envelope>,
    waiters: Waiters,
    dropped: u64,
}

struct State {
    queue: VecDeque<Envelope>,
    /// The system channel, the priority lane, the waiting senders and the
    /// drop count; boxed because most processes never use them (a null
    /// pointer until the first use: 8 bytes in every mailbox instead of
    /// 112).
    lanes: Option<Box<Lanes>>,
    phase: Phase,
    /// The overflow policy, beside `phase` (no room taken).
    policy: OverflowPolicy,
    /// At most `MAX_MAILBOX_CAPACITY` (2^22): 32 bits, in the padding
    /// beside `phase` and `policy`.
    capacity: u32,
    rx_waker: Option<Waker>,
    /// Envelopes taken by the process (handed to its front-end).
    taken: u64,
    /// An injected stall (the test kit's, `probe.rs`): nothing is taken
    /// until it is over.
    #[cfg(feature = "testkit")]
    stall: Option<crate::catch::BoxFuture<'static, ()>>,
}

/// A capacity within 1 to `MAX_MAILBOX_CAPACITY`, which fits in 32 bits.
fn clamp_capacity(capacity: usize) -> u32 {
    const _: () = assert!(crate::defaults::MAX_MAILBOX_CAPACITY <= u32::MAX as usize);
    capacity.clamp(1, crate::defaults::MAX_MAILBOX_CAPACITY) as u32
}

/// A bounded multi-producer single-consumer queue of envelopes.
///
/// One lock guards the queue and the line of senders waiting for space
/// (`mailbox/waiters.rs`), so that `len` and `available` are exact, the
/// drop-oldest policy is atomic and a sender cannot miss the wake of the
/// space it waits for. The lock is held only for a queue operation, never
/// across an await. A receiver that can only find nothing does not take
/// it (see `mailbox/armed.rs`). Capacity and policy can change while the
/// process runs ([`Mailbox::resize`]): they are kept under the lock, which
/// every push takes.
pub(crate) struct Mailbox {
    state: Mutex<State>,
    /// Its process's metric handles, in a system with metrics on: what
    /// arrives is counted here, and a handling ends when it waits.
    instruments: Option<Arc<Instruments>>,
    /// The receiver's standing wait, read without the lock (see
    /// [`Armed`]).
    armed: Armed,
}

impl Mailbox {
    pub(crate) fn new(capacity: usize, policy: OverflowPolicy) -> Self {
        Self {
            state: Mutex::new(State {
                queue: VecDeque::new(),
                lanes: None,
                phase: Phase::Open,
                policy,
                capacity: clamp_capacity(capacity),
                rx_waker: None,
                taken: 0,
                #[cfg(feature = "testkit")]
                stall: None,
            }),
            instruments: None,
            armed: Armed::new(),
        }
    }

    /// Counts in `instruments` from now on (set before the first push).
    pub(crate) fn set_instruments(&mut self, instruments: Option<Arc<Instruments>>) {
        self.instruments = instruments;
    }

    /// The metric handles it counts in, if any.
    pub(crate) fn instruments(&self) -> Option<&Arc<Instruments>> {
        self.instruments.as_ref()
    }

    /// The capacity now in force.
    pub(crate) fn capacity(&self) -> usize {
        self.state.lock().capacity as usize
    }

    /// The overflow policy now in force.
    pub(crate) fn policy(&self) -> OverflowPolicy {
        self.state.lock().policy
    }

    /// Changes the capacity (1 to `MAX_MAILBOX_CAPACITY`) and the overflow policy of a live
    /// mailbox. Nothing queued is dropped: a mailbox made smaller than what
    /// it holds takes no new message until it is drained below its new
    /// capacity. Senders that wait for space are woken to look again (a
    /// larger capacity, or a policy that no longer waits, lets them in).
    pub(crate) fn resize(&self, capacity: usize, policy: OverflowPolicy) {
        let mut st = self.state.lock();
        // A push sees the old pair or the new one.
        st.capacity = clamp_capacity(capacity);
        st.policy = policy;
        Self::wake_all(st);
    }

    /// What is queued: the ordinary queue and the priority lane.
    pub(crate) fn len(&self) -> usize {
        let st = self.state.lock();
        st.queue.len() + st.lanes.as_ref().map_or(0, |l| l.priority.len())
    }

    /// Envelopes taken by the process so far (its processed count).
    pub(crate) fn taken(&self) -> u64 {
        self.state.lock().taken
    }

    pub(crate) fn dropped(&self) -> u64 {
        self.state.lock().lanes.as_ref().map_or(0, |l| l.dropped)
    }

    pub(crate) fn is_open(&self) -> bool {
        self.state.lock().phase == Phase::Open
    }

    /// Queues without waiting. `Ok(Some(env))` is an envelope the lossy
    /// policy dropped (the new one or the oldest), for the caller to report.
    pub(crate) fn try_push(&self, env: Envelope) -> Result<Option<Envelope>, Refused> {
        self.push_inner(env, None)
    }

    /// Queues `env`. With `wait` (the ticket and waker of a push that may
    /// wait, see [`Mailbox::poll_push`]), a full
    /// mailbox under the `Wait` policy puts the sender in line (or keeps it
    /// there) and refuses with `Full` and a non-zero ticket; any other
    /// outcome takes it out of line and zeroes its ticket.
    fn push_inner(
        &self,
        env: Envelope,
        wait: Option<(&mut u64, &Waker)>,
    ) -> Result<Option<Envelope>, Refused> {
        let mut st = self.state.lock();
        if let Some((ticket, _)) = &wait {
            // Out of line now; back in below if it must wait again.
            if **ticket != 0 {
                if let Some(lanes) = st.lanes.as_mut() {
                    lanes.waiters.leave(**ticket);
                }
            }
        }
        if !matches!(st.phase, Phase::Open | Phase::Suspended) {
            if let Some((ticket, _)) = wait {
                *ticket = 0;
            }
            return Err(Refused::Closed(env));
        }
        let mut evicted = None;
        // An unbounded send (`unbounded.rs`) passes a full mailbox.
        if st.queue.len() >= st.capacity as usize && !super::unbounded::active() {
            match st.policy {
                OverflowPolicy::Wait | OverflowPolicy::FailFast => {
                    if let Some((ticket, waker)) = wait {
                        if st.policy == OverflowPolicy::Wait {
                            let lanes = st.lanes.get_or_insert_with(Box::default);
                            lanes.waiters.wait(ticket, waker);
                        } else {
                            *ticket = 0;
                        }
                    }
                    return Err(Refused::Full(env));
                }
                OverflowPolicy::DropNewest => {
                    st.lanes.get_or_insert_with(Box::default).dropped += 1;
                    if let Some(m) = &self.instruments {
                        m.accepted(false);
                    }
                    return Ok(Some(env));
                }
                OverflowPolicy::DropOldest => {
                    // The oldest message, not a signal: signals are never
                    // dropped (see `signal.rs`).
                    if let Some(at) = st.queue.iter().position(|e| !is_signal(e)) {
                        st.lanes.get_or_insert_with(Box::default).dropped += 1;
                        evicted = st.queue.remove(at);
                    }
                }
            }
        }
        if st.queue.capacity() == 0 {
            // Most actors hold few messages at a time: start with one slot
            // instead of the default four (an idle actor keeps its buffer).
            st.queue.reserve_exact(1);
        }
        st.queue.push_back(env);
        if let Some(m) = &self.instruments {
            // Under the lock: the depth goes up before the envelope can
            // be taken (and the gauge down).
            m.accepted(evicted.is_none());
        }
        if let Some((ticket, _)) = wait {
            *ticket = 0;
        }
        let waker = self.take_rx_waker(&mut st);
        drop(st);
        if let Some(w) = waker {
            w.wake();
        }
        Ok(evicted)
    }

    /// Wakes every waiting sender (to look again: the mailbox closed, or
    /// its capacity or policy changed), after unlocking `st`.
    fn wake_all(mut st: parking_lot::MutexGuard<'_, State>) {
        let wakers = st
            .lanes
            .as_mut()
            .map(|l| l.waiters.take_all())
            .unwrap_or_default();
        drop(st);
        for w in wakers {
            w.wake();
        }
    }

    /// Queues a signal (see `signal.rs`) past the capacity and whatever the
    /// policy, behind what is queued; fails only when the process is gone.
    pub(crate) fn push_signal(&self, env: Envelope) -> Result<(), Envelope> {
        let mut st = self.state.lock();
        if st.phase == Phase::Finished {
            return Err(env);
        }
        st.queue.push_back(env);
        if let Some(m) = &self.instruments {
            m.signal();
        }
        let waker = self.take_rx_waker(&mut st);
        drop(st);
        if let Some(w) = waker {
            w.wake();
        }
        Ok(())
    }

    /// Queues an envelope in the priority lane, ahead of the ordinary
    /// queue (behind system messages), without waiting: the lane holds at
    /// most [`PRIORITY_CAPACITY`](crate::defaults::PRIORITY_CAPACITY)
    /// envelopes, whatever the overflow policy.
    pub(crate) fn try_push_priority(&self, env: Envelope) -> Result<(), Refused> {
        let mut st = self.state.lock();
        if !matches!(st.phase, Phase::Open | Phase::Suspended) {
            return Err(Refused::Closed(env));
        }
        let lanes = st.lanes.get_or_insert_with(Box::default);
        if lanes.priority.len() >= crate::defaults::PRIORITY_CAPACITY {
            return Err(Refused::Full(env));
        }
        lanes.priority.push_back(env);
        if let Some(m) = &self.instruments {
            m.accepted(true);
        }
        let waker = self.take_rx_waker(&mut st);
        drop(st);
        if let Some(w) = waker {
            w.wake();
        }
        Ok(())
    }

    /// Queues a system message; fails only when the process is gone.
    pub(crate) fn push_sys(&self, msg: SysMsg) -> Result<(), SysMsg> {
        let mut st = self.state.lock();
        if matches!(st.phase, Phase::Finished | Phase::Suspended) {
            return Err(msg);
        }
        st.lanes.get_or_insert_with(Box::default).sys.push_back(msg);
        let waker = self.take_rx_waker(&mut st);
        drop(st);
        if let Some(w) = waker {
            w.wake();
        }
        Ok(())
    }

    /// Puts `env`, just taken, back at the head of the queue, and gives
    /// nothing (not even system messages, as a handler stuck in a long
    /// computation would not) until `stall` is over: the test kit's
    /// injected stall (`probe.rs`).
    #[cfg(feature = "testkit")]
    pub(crate) fn stall(&self, env: Envelope, stall: crate::catch::BoxFuture<'static, ()>) {
        let mut st = self.state.lock();
        st.queue.push_front(env);
        st.taken -= 1;
        st.stall = Some(stall);
        self.armed.clear();
    }

    /// Takes the next item: system messages first. `None` once the mailbox is
    /// closed and drained.
    ///
    /// Each item taken spends a unit of the task's Tokio budget
    /// (`tokio::task::coop`), as Tokio's own channels do: a process whose
    /// mailbox never empties yields to the other tasks of its worker once
    /// the budget is spent, instead of holding the worker.
    pub(crate) fn poll_recv(&self, cx: &mut TaskCx<'_>) -> Poll<Option<Item>> {
        if self.armed.idle_for(cx.waker()) {
            return Poll::Pending;
        }
        let coop = std::task::ready!(tokio::task::coop::poll_proceed(cx));
        let polled = self.poll_recv_locked(cx);
        if polled.is_ready() {
            coop.made_progress();
        }
        polled
    }

    /// [`Mailbox::poll_recv`] past the budget.
    #[inline]
    fn poll_recv_locked(&self, cx: &mut TaskCx<'_>) -> Poll<Option<Item>> {
        let mut st = self.state.lock();
        #[cfg(feature = "testkit")]
        if let Some(stall) = st.stall.as_mut() {
            if stall.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            st.stall = None;
        }
        if let Some(item) = Self::take_lanes(&mut st) {
            return Poll::Ready(Some(item));
        }
        if let Some(env) = st.queue.pop_front() {
            st.taken += 1;
            if st.queue.is_empty() && st.phase == Phase::Open {
                // The last one: the next poll will most likely find
                // nothing, and then needs no lock.
                self.arm(&mut st, cx.waker());
            }
            let sender = self.sender_to_wake(&mut st);
            drop(st);
            if let Some(w) = sender {
                w.wake();
            }
            return Poll::Ready(Some(Item::Msg(env)));
        }
        if st.phase != Phase::Open {
            return Poll::Ready(None);
        }
        self.arm(&mut st, cx.waker());
        Poll::Pending
    }

    /// Leaves `waker` for the next push to wake (see [`Armed`]); under
    /// the lock, with nothing queued in any lane.
    #[inline]
    fn arm(&self, st: &mut State, waker: &Waker) {
        match &st.rx_waker {
            Some(w) if w.will_wake(waker) => {}
            _ => st.rx_waker = Some(waker.clone()),
        }
        self.armed.arm(waker);
    }

    /// Takes the receiver's waker to wake it (see [`Armed`]).
    #[inline]
    fn take_rx_waker(&self, st: &mut State) -> Option<Waker> {
        let waker = st.rx_waker.take();
        if waker.is_some() {
            self.armed.clear();
        }
        waker
    }

    /// Waits for the next item, calling `on_idle` each time it has to wait
    /// (and, for the metrics, ending the handling that ran until then).
    ///
    /// Not an `async fn`: its future is one closure of two pointers, kept
    /// in every process's task while it waits.
    pub(crate) fn recv_or_idle<'a>(
        &'a self,
        mut on_idle: impl FnMut() + 'a,
    ) -> impl Future<Output = Option<Item>> + 'a {
        poll_fn(move |cx| {
            let polled = self.poll_recv(cx);
            if polled.is_pending() {
                if let Some(m) = &self.instruments {
                    m.handled();
                }
                on_idle();
            }
            polled
        })
    }

    /// Takes the next item if there is one, without waiting.
    pub(crate) fn try_recv(&self) -> Option<Item> {
        let mut st = self.state.lock();
        #[cfg(feature = "testkit")]
        if st.stall.is_some() {
            return None;
        }
        if let Some(item) = Self::take_lanes(&mut st) {
            return Some(item);
        }
        let env = st.queue.pop_front()?;
        st.taken += 1;
        let sender = self.sender_to_wake(&mut st);
        drop(st);
        if let Some(w) = sender {
            w.wake();
        }
        Some(Item::Msg(env))
    }

    /// The next system message, else the next priority envelope.
    #[inline]
    fn take_lanes(st: &mut State) -> Option<Item> {
        let lanes = st.lanes.as_mut()?;
        if let Some(sys) = lanes.sys.pop_front() {
            return Some(Item::Sys(sys));
        }
        let env = lanes.priority.pop_front()?;
        st.taken += 1;
        Some(Item::Msg(env))
    }

    /// The waiting sender that taking an envelope should wake, if any: the
    /// first in line, once the queue is down to half its capacity (a low
    /// watermark), not at every slot freed. A sender that waited then finds room for a batch, and a
    /// receiver that drains a full mailbox wakes its sender once instead of
    /// at every message: on a multi-thread runtime this keeps a busy
    /// sender and its receiver from trading places between worker threads
    /// (measured: `troupe-bench` tell, 1.5-2x faster). Senders are never
    /// left waiting: the receiver goes on taking until the queue is empty.
    #[inline]
    fn sender_to_wake(&self, st: &mut State) -> Option<Waker> {
        let lanes = st.lanes.as_mut()?;
        if lanes.waiters.is_empty() || st.queue.len() > st.capacity as usize / 2 {
            return None;
        }
        lanes.waiters.pop()
    }

    /// Stops accepting messages; the queued ones stay for `recv`.
    pub(crate) fn close(&self) {
        let mut st = self.state.lock();
        if st.phase == Phase::Open {
            st.phase = Phase::Closed;
        }
        self.armed.clear();
        let receiver = self.take_rx_waker(&mut st);
        Self::wake_all(st);
        if let Some(w) = receiver {
            w.wake();
        }
    }

    /// Refuses everything from now on and returns what was still queued.
    pub(crate) fn finish(&self) -> (Vec<Envelope>, Vec<SysMsg>) {
        let mut st = self.state.lock();
        st.phase = Phase::Finished;
        self.armed.clear();
        let queue = std::mem::take(&mut st.queue);
        let Some(lanes) = st.lanes.take() else {
            drop(st);
            return (Vec::from(queue), Vec::new());
        };
        drop(st);
        let Lanes {
            sys,
            priority,
            waiters,
            ..
        } = *lanes;
        // Most processes end with nothing queued: no copies then.
        let queued = if priority.is_empty() {
            Vec::from(queue)
        } else {
            priority.into_iter().chain(queue).collect()
        };
        let sys = if sys.is_empty() {
            Vec::new()
        } else {
            Vec::from(sys)
        };
        for w in { waiters }.take_all() {
            w.wake();
        }
        (queued, sys)
    }

    /// Keeps the queue for a next incarnation (see [`Phase::Suspended`])
    /// and returns the system messages, which were for the ended one.
    pub(crate) fn suspend(&self) -> Vec<SysMsg> {
        let mut st = self.state.lock();
        st.phase = Phase::Suspended;
        st.rx_waker = None;
        self.armed.clear();
        st.lanes
            .as_mut()
            .map(|l| Vec::from(std::mem::take(&mut l.sys)))
            .unwrap_or_default()
    }

    /// Opens the mailbox again for a process a supervisor restarts in place
    /// (same address, same handles), with what was queued meanwhile.
    pub(crate) fn reopen(&self) {
        let mut st = self.state.lock();
        st.phase = Phase::Open;
        self.armed.clear();
        Self::wake_all(st);
    }
}

#[cfg(test)]
mod tests;
