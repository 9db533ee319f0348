//! The receiver's standing wait: a poll that can only find nothing takes
//! no lock.

use std::sync::atomic::{AtomicPtr, AtomicU32, Ordering};
use std::task::{RawWakerVTable, Waker};

/// A receiver that finds nothing to take leaves its waker in the mailbox
/// (it is *armed*), and so does one that takes the last queued envelope:
/// the next push takes the waker and wakes it. While the waker stays
/// there untouched, polling again can only find nothing: `Armed` lets that
/// poll return `Pending` without taking the lock (a lock is two atomic
/// read-modify-writes, the most expensive part of a receive).
///
/// `turn` is bumped, under the lock, whenever the waker is taken or
/// cleared and whenever what the receiver waits on changes (the phase, a
/// stall); `at` is the turn at which the receiver armed, and `data` and
/// `vtable` say which waker it left. A poll with the same waker at the
/// same turn has nothing to look at. A bump the poll does not see yet is
/// one whose waker was taken to be woken: the task is polled again.
pub(super) struct Armed {
    turn: AtomicU32,
    at: AtomicU32,
    data: AtomicPtr<()>,
    vtable: AtomicPtr<RawWakerVTable>,
}

impl Armed {
    pub(super) fn new() -> Self {
        Self {
            turn: AtomicU32::new(1),
            at: AtomicU32::new(0),
            data: AtomicPtr::new(std::ptr::null_mut()),
            vtable: AtomicPtr::new(std::ptr::null_mut()),
        }
    }

    /// Whether a poll with `waker` has nothing to look at (no lock taken).
    #[inline]
    pub(super) fn idle_for(&self, waker: &Waker) -> bool {
        self.turn.load(Ordering::Acquire) == self.at.load(Ordering::Relaxed)
            && std::ptr::eq(self.data.load(Ordering::Relaxed), waker.data())
            && std::ptr::eq(self.vtable.load(Ordering::Relaxed), waker.vtable())
    }

    /// The receiver left `waker` at this turn. Called under the lock.
    #[inline]
    pub(super) fn arm(&self, waker: &Waker) {
        self.data.store(waker.data().cast_mut(), Ordering::Relaxed);
        let vtable = std::ptr::from_ref(waker.vtable()).cast_mut();
        self.vtable.store(vtable, Ordering::Relaxed);
        self.at
            .store(self.turn.load(Ordering::Relaxed), Ordering::Relaxed);
    }

    /// The waker the receiver left is gone or what it waits on changed:
    /// the next poll takes the lock. Called under the lock.
    #[inline]
    pub(super) fn bump(&self) {
        self.turn.fetch_add(1, Ordering::Release);
    }
}
