//! The boxes that envelopes travel in, recycled from the threads that
//! receive messages to the threads that send them.
//!
//! An [`Envelope`](super::Envelope) is one pointer to its [`Letter`]: a
//! message goes from the sender's stack to the mailbox, out of it and into
//! the handler as one word, where a 64-byte envelope was copied at every
//! step (into the send future, the mailbox's queue, the value `poll_recv`
//! returns, the run loop's locals). Each copy read memory that the step
//! before had just written in pieces of another width, and the processor
//! stalls on such a read until the writes are done: a sampling profile of
//! a ping-pong put most of the run loop's time on those loads. With one
//! word instead (medians of 5 alternated runs of `troupe-bench`'s
//! workloads, current-thread runtime): tell 108 → 70 ms, ping-pong 320 →
//! 235 ms, ring 16.2 → 12.7 ms, big 30.0 → 21.5 ms; 2 workers: tell 110 →
//! 75 ms, ping-pong 743 → 632 ms.
//!
//! A box per message costs an allocation and a free. On one thread the
//! allocator's own thread cache makes them cheap; across threads (a sender
//! on one worker, its receivers on the other) every free lands in the
//! receiving thread's cache and every allocation misses the sending one's:
//! a fan-out of one sender to a hundred actors on 2 workers went from 66
//! to 150 ms with a plain box per message (74 ms with the boxes kept as
//! below). So the boxes are kept:
//!
//! - every thread has a stash of up to [`STASH`] empty boxes: a receiver
//!   puts the box of the letter it opened there, a sender takes one from
//!   it;
//! - a thread whose stash is full hands the whole stash to a process-wide
//!   depot (one lock for [`STASH`] boxes), and a thread whose stash is empty
//!   takes a full one from there: boxes flow in batches from the threads
//!   that receive to those that send;
//! - the depot keeps at most [`DEPOT`] stashes; boxes beyond are freed, so
//!   the boxes kept are bounded (about 80 bytes each, `STASH × DEPOT` in the
//!   depot and `STASH` per thread).
//!
//! A box dropped with its envelope (a message nobody opened) is freed.

use std::cell::RefCell;
use std::mem::{self, MaybeUninit};
use std::sync::atomic::{AtomicUsize, Ordering};

use parking_lot::Mutex;

use super::Letter;

/// An empty box, the size of a letter.
pub(crate) type Blank = Box<MaybeUninit<Letter>>;

/// How many empty boxes a thread keeps, and hands to the depot at once.
pub(crate) const STASH: usize = 64;

/// How many full stashes the depot keeps.
pub(crate) const DEPOT: usize = 8;

thread_local! {
    static LOCAL: RefCell<Vec<Blank>> = const { RefCell::new(Vec::new()) };
}

/// The full stashes of the depot, and the empty vectors of stashes that
/// were swapped for full ones (kept to be swapped back, so that no vector
/// is allocated on the way).
struct Stashes {
    full: Vec<Vec<Blank>>,
    empty: Vec<Vec<Blank>>,
}

/// The process-wide depot. Its count of full stashes is read without the
/// lock, so that a thread whose stash is empty while the depot is empty too
/// (every thread sends more than it receives) does not take a process-wide
/// lock at every message.
pub(crate) struct Depot {
    stashes: Mutex<Stashes>,
    full: AtomicUsize,
}

impl Depot {
    pub(crate) const fn new() -> Self {
        Self {
            stashes: Mutex::new(Stashes {
                full: Vec::new(),
                empty: Vec::new(),
            }),
            full: AtomicUsize::new(0),
        }
    }

    /// Swaps an empty `local` stash for a full one, if there is one.
    pub(crate) fn refill(&self, local: &mut Vec<Blank>) -> bool {
        // A stash handed over meanwhile is taken at the next refill.
        if self.full.load(Ordering::Relaxed) == 0 {
            return false;
        }
        let mut stashes = self.stashes.lock();
        let Some(full) = stashes.full.pop() else {
            return false;
        };
        self.full.store(stashes.full.len(), Ordering::Relaxed);
        let empty = mem::replace(local, full);
        if empty.capacity() > 0 && stashes.empty.len() < DEPOT {
            stashes.empty.push(empty);
        }
        true
    }

    /// Takes a full `local` stash and leaves an empty one; or, when it
    /// holds [`DEPOT`] stashes already, frees the boxes of `local` (once
    /// the lock is released).
    pub(crate) fn take(&self, local: &mut Vec<Blank>) {
        let mut stashes = self.stashes.lock();
        if stashes.full.len() >= DEPOT {
            drop(stashes);
            local.clear();
            return;
        }
        let empty = stashes.empty.pop().unwrap_or_default();
        stashes.full.push(mem::replace(local, empty));
        self.full.store(stashes.full.len(), Ordering::Relaxed);
    }

    /// Full stashes kept, as the lock-free count says.
    #[cfg(test)]
    pub(crate) fn stashes(&self) -> usize {
        let counted = self.full.load(Ordering::Relaxed);
        assert_eq!(
            counted,
            self.stashes.lock().full.len(),
            "the count is the depot's"
        );
        counted
    }
}

static DEPOT_STASHES: Depot = Depot::new();

/// An empty box: from this thread's stash, else from a full stash of the
/// depot, else a new one.
#[inline]
pub(crate) fn blank() -> Blank {
    LOCAL
        .try_with(|local| {
            let mut local = local.borrow_mut();
            match local.pop() {
                Some(blank) => Some(blank),
                None => refill(&mut local),
            }
        })
        .ok()
        .flatten()
        .unwrap_or_else(Box::new_uninit)
}

#[cold]
fn refill(local: &mut Vec<Blank>) -> Option<Blank> {
    if DEPOT_STASHES.refill(local) {
        local.pop()
    } else {
        None
    }
}

/// Keeps an empty box for a letter to come (or frees it, past the bounds).
#[inline]
pub(crate) fn recycle(blank: Blank) {
    // On a thread that is exiting (its stash is gone), the box is freed.
    let _ = LOCAL.try_with(move |local| {
        let mut local = local.borrow_mut();
        if local.len() >= STASH {
            hand_over(&mut local);
        }
        if local.capacity() == 0 {
            local.reserve_exact(STASH);
        }
        local.push(blank);
    });
}

#[cold]
fn hand_over(local: &mut Vec<Blank>) {
    DEPOT_STASHES.take(local);
}

/// Boxes kept by this thread (tests).
#[cfg(test)]
pub(crate) fn local_len() -> usize {
    LOCAL.with(|local| local.borrow().len())
}

#[cfg(test)]
mod tests;
