//! The receiver's standing wait: a poll that can only find nothing takes
//! no lock.

use std::sync::atomic::{AtomicPtr, Ordering};
use std::task::Waker;

/// A receiver that finds nothing to take leaves its waker in the mailbox
/// (it is *armed*), and so does one that takes the last queued envelope:
/// the next push takes the waker and wakes it. While the waker stays
/// there untouched, polling again can only find nothing: `Armed` lets that
/// poll return `Pending` without taking the lock (a lock is two atomic
/// read-modify-writes, the most expensive part of a receive).
///
/// It keeps the data pointer of the waker left (its *key*, 8 bytes), set
/// by the receiver under the lock; whatever takes or clears that waker, or
/// changes what the receiver waits on (the phase, a stall), clears the key
/// under the lock. A poll whose waker has the key's data pointer has
/// nothing to look at. A clear the poll does not see yet is one whose
/// waker was taken to be woken: the task is polled again.
///
/// The price: a push that arrives while the receiver handles the last
/// envelope it took wakes a task that is running, which is then polled
/// once more than it needs (at most once per time the queue empties).
///
/// Two live wakers with the same data pointer are taken to wake the same
/// task: Tokio's and the `futures` crate's point at the task itself. A
/// waker whose data pointer is null (a no-op waker) never matches.
pub(super) struct Armed {
    key: AtomicPtr<()>,
}

impl Armed {
    pub(super) fn new() -> Self {
        Self {
            key: AtomicPtr::new(std::ptr::null_mut()),
        }
    }

    /// Whether a poll with `waker` has nothing to look at (no lock taken).
    #[inline]
    pub(super) fn idle_for(&self, waker: &Waker) -> bool {
        let key = self.key.load(Ordering::Acquire);
        !key.is_null() && std::ptr::eq(key, waker.data())
    }

    /// The receiver left `waker`. Called under the lock.
    #[inline]
    pub(super) fn arm(&self, waker: &Waker) {
        self.key.store(waker.data().cast_mut(), Ordering::Relaxed);
    }

    /// The waker the receiver left is gone or what it waits on changed:
    /// the next poll takes the lock. Called under the lock.
    #[inline]
    pub(super) fn clear(&self) {
        self.key.store(std::ptr::null_mut(), Ordering::Release);
    }
}
