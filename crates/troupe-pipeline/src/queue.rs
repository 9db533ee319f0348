//! The lossy bounded single-producer/single-consumer queue that connects stages.
//!
//! The [`Writer`] never blocks and never waits: when the [`Reader`] lags by more
//! than the capacity, the oldest unread items are overwritten. The reader is
//! told how many items it lost ([`Reader::read_into`], [`Reader::take_lost`]),
//! and keeps a cumulative count ([`Reader::lost`]).
//!
//! # How it works
//!
//! The queue owns `capacity + 2` *cells*, each able to hold one item with its
//! sequence number. The *ring* is `capacity` atomic words; each word names one
//! cell and says whether that cell holds an unread item (`FULL`). The writer
//! owns one spare cell and the reader owns another: nobody else may touch them.
//!
//! * To push, the writer moves the item into its spare cell, then atomically
//!   *swaps* that cell into the ring at the next position. It gets back the
//!   cell that was there, which becomes its new spare. If that cell was still
//!   `FULL`, the reader had not read it: the writer drops the old item (it was
//!   overwritten). Then it publishes the new count of written items (`head`).
//! * To pop, the reader swaps its own (empty) spare cell into the ring at its
//!   position and gets back the cell that was there, now its own. It moves the
//!   item out and compares the item's sequence number with the one it expected:
//!   the difference is the number of items it lost.
//!
//! Every cell is owned by exactly one party at a time (the ring, the writer or
//! the reader), and ownership only moves through `swap` with acquire/release
//! ordering, so each non-atomic access to a cell happens-after the previous
//! owner's last access. Neither side ever waits for the other.
//!
//! Items come out in the order they were written; the invariant
//! `delivered + lost + still queued == written` holds exactly. If the writer
//! laps the reader *during* a pop, the reader jumps to the newest item it got
//! and counts everything before it as lost.

use std::fmt;
use std::mem::MaybeUninit;
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release};

use crate::error::QueueError;
use crate::sync::{Arc, AtomicBool, AtomicU64, AtomicUsize, CachePadded, UnsafeCell};

/// Flag bit of a ring word: the cell it names holds an unread item.
const FULL: usize = 1;

/// Largest capacity accepted: ring words keep the cell index above one flag
/// bit, and two spare cells are added.
const MAX_CAPACITY: usize = (usize::MAX >> 2) - 2;

/// Something to call after each write and when the writer goes away, so that
/// a scheduler can run the reading stage. Implemented by the scheduler's
/// per-stage signal; the queue itself knows nothing of scheduling.
pub(crate) trait Wake: Send + Sync {
    /// Called after an item was published, or after the writer was dropped.
    fn wake(&self);
}

/// One item with the sequence number it was written with.
struct Slot<T> {
    seq: u64,
    item: T,
}

struct Shared<T> {
    /// Number of items written so far (the next sequence number). Written by
    /// the writer only, with `Release`, after the item's ring swap.
    head: CachePadded<AtomicU64>,
    /// Sequence number the reader expects next. Written by the reader only;
    /// used by [`Writer::len`] and statistics, never for correctness.
    tail: CachePadded<AtomicU64>,
    /// Cumulative loss seen by the reader, for statistics.
    lost: AtomicU64,
    writer_alive: AtomicBool,
    reader_alive: AtomicBool,
    /// `capacity` words: `cell_index << 1 | FULL?`.
    ring: Box<[AtomicUsize]>,
    /// `capacity + 2` cells; see the module docs for who owns which.
    cells: Box<[UnsafeCell<MaybeUninit<Slot<T>>>]>,
}

// SAFETY: `Shared` hands each `T` from the writer's thread to the reader's
// thread (or drops it on the writer's thread when overwritten), so `T: Send` is
// required and sufficient. The cells are only accessed by their current owner
// (see the module docs), and ownership moves through acquire/release swaps, so
// no two threads ever access one cell concurrently: sharing `&Shared` is sound.
unsafe impl<T: Send> Send for Shared<T> {}
// SAFETY: as above: all shared mutable state is atomic, except the cells whose
// exclusive ownership is transferred by the ring's atomic swaps.
unsafe impl<T: Send> Sync for Shared<T> {}

impl<T> Shared<T> {
    fn capacity(&self) -> usize {
        self.ring.len()
    }
}

impl<T> Drop for Shared<T> {
    fn drop(&mut self) {
        // Both ends are gone (this is the last `Arc`), so the spares are empty
        // and only the ring's `FULL` cells still hold items.
        for word in self.ring.iter() {
            let word = word.load(Acquire);
            if word & FULL != 0 {
                let cell = &self.cells[word >> 1];
                // SAFETY: we have `&mut self`, so no other access exists; the
                // ring marks this cell `FULL`, so it holds an initialised slot
                // that nobody moved out (the reader swaps cells out before
                // reading them, and then stores them back without `FULL`).
                cell.with_mut(|slot| unsafe { (*slot).assume_init_drop() });
            }
        }
    }
}

/// Creates a lossy queue that holds up to `capacity` unread items.
///
/// # Errors
/// [`QueueError::ZeroCapacity`] if `capacity` is 0, and
/// [`QueueError::CapacityTooLarge`] if it cannot be indexed.
///
/// # Example
/// ```
/// let (mut tx, mut rx) = troupe_pipeline::queue::channel::<u32>(2)?;
/// tx.push(1);
/// tx.push(2);
/// tx.push(3); // the reader lags: 1 is overwritten
/// assert_eq!(rx.pop(), Some(2));
/// assert_eq!(rx.take_lost(), 1);
/// assert_eq!(rx.pop(), Some(3));
/// assert_eq!(rx.pop(), None);
/// assert_eq!(rx.lost(), 1);
/// # Ok::<(), troupe_pipeline::QueueError>(())
/// ```
pub fn channel<T: Send>(capacity: usize) -> Result<(Writer<T>, Reader<T>), QueueError> {
    if capacity == 0 {
        return Err(QueueError::ZeroCapacity);
    }
    if capacity > MAX_CAPACITY {
        return Err(QueueError::CapacityTooLarge { capacity });
    }
    let ring = (0..capacity)
        .map(|cell| AtomicUsize::new(cell << 1))
        .collect::<Box<[_]>>();
    let cells = (0..capacity + 2)
        .map(|_| UnsafeCell::new(MaybeUninit::uninit()))
        .collect::<Box<[_]>>();
    let shared = Arc::new(Shared {
        head: CachePadded(AtomicU64::new(0)),
        tail: CachePadded(AtomicU64::new(0)),
        lost: AtomicU64::new(0),
        writer_alive: AtomicBool::new(true),
        reader_alive: AtomicBool::new(true),
        ring,
        cells,
    });
    let writer = Writer {
        shared: Arc::clone(&shared),
        spare: capacity,
        pos: 0,
        seq: 0,
        overwritten: 0,
        wake: None,
    };
    let reader = Reader {
        shared,
        spare: capacity + 1,
        pos: 0,
        next: 0,
        lost_total: 0,
        lost_untaken: 0,
    };
    Ok((writer, reader))
}

/// The writing end of a lossy queue. Pushing never blocks.
pub struct Writer<T> {
    shared: Arc<Shared<T>>,
    /// The empty cell this writer owns.
    spare: usize,
    /// Ring position of the next push (`seq % capacity`).
    pos: usize,
    /// Sequence number of the next push.
    seq: u64,
    overwritten: u64,
    wake: Option<std::sync::Arc<dyn Wake>>,
}

impl<T> Writer<T> {
    /// Appends `item`. Never blocks and never waits for the reader.
    ///
    /// Returns `true` if the queue was full and the oldest unread item was
    /// overwritten (it is dropped here, on the writer's thread).
    pub fn push(&mut self, item: T) -> bool {
        let shared = &*self.shared;
        let seq = self.seq;
        shared.cells[self.spare].with_mut(|slot| {
            // SAFETY: `self.spare` is owned by this writer alone (it came out of
            // the ring by a swap, or was given at creation) and is empty, so
            // nobody else accesses it and overwriting it leaks nothing.
            unsafe { slot.write(MaybeUninit::new(Slot { seq, item })) };
        });
        // Release: publishes the slot we just wrote to whoever swaps it out.
        // Acquire: the cell we get back may have been emptied by the reader;
        // its read must happen-before our next write into it.
        let old = shared.ring[self.pos].swap(self.spare << 1 | FULL, AcqRel);
        self.spare = old >> 1;
        self.seq = seq + 1;
        self.pos += 1;
        if self.pos == shared.capacity() {
            self.pos = 0;
        }
        shared.head.store(self.seq, Release);
        let overwrote = old & FULL != 0;
        if overwrote {
            self.overwritten += 1;
            shared.cells[self.spare].with_mut(|slot| {
                // SAFETY: the swap made this cell ours; it was `FULL`, so it
                // holds an initialised slot that the reader never took. We drop
                // it once; from now on the cell counts as empty.
                unsafe { (*slot).assume_init_drop() };
            });
        }
        if let Some(wake) = &self.wake {
            wake.wake();
        }
        overwrote
    }

    /// Number of items written so far.
    pub fn written(&self) -> u64 {
        self.seq
    }

    /// Number of unread items this writer overwrote so far.
    pub fn overwritten(&self) -> u64 {
        self.overwritten
    }

    /// Approximate number of unread items (exact when the reader is idle).
    pub fn len(&self) -> usize {
        let tail = self.shared.tail.load(Relaxed);
        // Saturates: the reader may skip ahead of what we know.
        usize::try_from(self.seq.saturating_sub(tail))
            .unwrap_or(usize::MAX)
            .min(self.capacity())
    }

    /// `true` if the reader has read everything written so far.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `true` if the next push would overwrite an unread item (approximate,
    /// like [`Writer::len`]). A writer that must not lose items can skip a
    /// push while this is `true` and retry on its next run.
    pub fn is_full(&self) -> bool {
        self.len() >= self.capacity()
    }

    /// Maximum number of unread items.
    pub fn capacity(&self) -> usize {
        self.shared.capacity()
    }

    /// `true` once the reader has been dropped: pushed items will never be read.
    pub fn is_closed(&self) -> bool {
        !self.shared.reader_alive.load(Acquire)
    }

    pub(crate) fn set_wake(&mut self, wake: std::sync::Arc<dyn Wake>) {
        self.wake = Some(wake);
    }

    /// A type-erased view of this queue's counters.
    pub(crate) fn probe(&self) -> Probe
    where
        T: Send + 'static,
    {
        let shared = Arc::clone(&self.shared);
        Probe(Box::new(move || QueueCounts {
            written: shared.head.load(Relaxed),
            lost: shared.lost.load(Relaxed),
        }))
    }
}

impl<T> Drop for Writer<T> {
    fn drop(&mut self) {
        self.shared.writer_alive.store(false, Release);
        if let Some(wake) = &self.wake {
            wake.wake();
        }
    }
}

impl<T> fmt::Debug for Writer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Writer")
            .field("capacity", &self.capacity())
            .field("written", &self.seq)
            .field("overwritten", &self.overwritten)
            .finish_non_exhaustive()
    }
}

/// What one batch read returned: see [`Reader::read_into`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReadStats {
    /// Items appended to the buffer.
    pub read: usize,
    /// Items lost (overwritten before they could be read) during this read.
    pub lost: u64,
}

/// The reading end of a lossy queue. Reading never blocks.
pub struct Reader<T> {
    shared: Arc<Shared<T>>,
    /// The empty cell this reader owns.
    spare: usize,
    /// Ring position of `next` (`next % capacity`).
    pos: usize,
    /// Sequence number expected next.
    next: u64,
    lost_total: u64,
    lost_untaken: u64,
}

impl<T> Reader<T> {
    /// Takes the oldest unread item, if any. Never blocks.
    ///
    /// Items overwritten before this call are added to the loss counters
    /// ([`Reader::take_lost`], [`Reader::lost`]).
    pub fn pop(&mut self) -> Option<T> {
        let cap = self.shared.capacity() as u64;
        loop {
            // Acquire: the ring swap of every item below `head` happens-before
            // what follows, so the swap below gets an item with seq >= next.
            let head = self.shared.head.load(Acquire);
            // `next` can be ahead of the published `head`: after a lap we may
            // have taken an item whose `head` store is still to come.
            if head <= self.next {
                return None;
            }
            if head - self.next > cap {
                // Everything below `head - cap` has been overwritten.
                self.skip_to(head - cap);
            }
            // Release: our spare's emptying happens-before the writer refills
            // it. Acquire: the writer's write of the slot we take happens-before
            // our read of it.
            let old = self.shared.ring[self.pos].swap(self.spare << 1, AcqRel);
            self.spare = old >> 1;
            if old & FULL == 0 {
                // Impossible: `head > next` means the writer stored an item
                // with seq >= next at this position, and only we take items.
                if cfg!(any(debug_assertions, loom)) {
                    unreachable!("lossy queue: empty cell below head");
                }
                return None;
            }
            let slot = self.shared.cells[self.spare].with_mut(|slot| {
                // SAFETY: the swap made this cell ours and it was `FULL`, so it
                // holds an initialised slot; we move it out exactly once, and
                // from now on the cell counts as empty (our spare).
                unsafe { (*slot).assume_init_read() }
            });
            if slot.seq < self.next {
                // Already counted as lost; unreachable by the argument above,
                // but discarding keeps the order guarantee in any case.
                continue;
            }
            if slot.seq > self.next {
                // The writer lapped us during this pop.
                self.add_lost(slot.seq - self.next);
            }
            self.next = slot.seq + 1;
            self.pos += 1;
            if self.pos == self.shared.capacity() {
                self.pos = 0;
            }
            self.shared.tail.store(self.next, Relaxed);
            return Some(slot.item);
        }
    }

    /// Moves up to `max` unread items to the end of `buf`, reporting how many
    /// were read and how many were lost in the meantime.
    ///
    /// The lost count is also added to [`Reader::lost`], but not to
    /// [`Reader::take_lost`] (it has been reported here).
    ///
    /// ```
    /// let (mut tx, mut rx) = troupe_pipeline::queue::channel(3)?;
    /// for i in 0..5 {
    ///     tx.push(i);
    /// }
    /// let mut buf = Vec::new();
    /// let stats = rx.read_into(&mut buf, 10);
    /// assert_eq!(buf, [2, 3, 4]);
    /// assert_eq!((stats.read, stats.lost), (3, 2));
    /// # Ok::<(), troupe_pipeline::QueueError>(())
    /// ```
    pub fn read_into(&mut self, buf: &mut Vec<T>, max: usize) -> ReadStats {
        let before = self.lost_untaken;
        let mut read = 0;
        while read < max {
            match self.pop() {
                Some(item) => {
                    buf.push(item);
                    read += 1;
                }
                None => break,
            }
        }
        let lost = self.lost_untaken - before;
        self.lost_untaken = before;
        ReadStats { read, lost }
    }

    /// An iterator that pops items until the queue is empty.
    pub fn drain(&mut self) -> Drain<'_, T> {
        Drain { reader: self }
    }

    /// Items lost since the last call to `take_lost` (or since creation), not
    /// counting losses already reported by [`Reader::read_into`].
    pub fn take_lost(&mut self) -> u64 {
        std::mem::take(&mut self.lost_untaken)
    }

    /// Cumulative number of items lost by this reader.
    pub fn lost(&self) -> u64 {
        self.lost_total
    }

    /// Number of items read so far.
    pub fn delivered(&self) -> u64 {
        self.next - self.lost_total
    }

    /// Number of unread items that can still be read (at most the capacity).
    pub fn len(&self) -> usize {
        let head = self.shared.head.load(Acquire);
        usize::try_from(head.saturating_sub(self.next))
            .unwrap_or(usize::MAX)
            .min(self.capacity())
    }

    /// `true` if there is nothing to read now.
    pub fn is_empty(&self) -> bool {
        self.shared.head.load(Acquire) <= self.next
    }

    /// Maximum number of unread items.
    pub fn capacity(&self) -> usize {
        self.shared.capacity()
    }

    /// `true` once the writer is gone and every item it wrote was read or lost:
    /// nothing will ever come again.
    pub fn is_closed(&self) -> bool {
        // The writer stores `head` before clearing `writer_alive` (Release), so
        // after seeing it cleared (Acquire) the final `head` is visible.
        !self.shared.writer_alive.load(Acquire) && self.is_empty()
    }

    fn skip_to(&mut self, next: u64) {
        self.add_lost(next - self.next);
        self.next = next;
        // Only on loss: the division is off the fast path.
        self.pos = (next % self.shared.capacity() as u64) as usize;
    }

    fn add_lost(&mut self, n: u64) {
        self.lost_total += n;
        self.lost_untaken += n;
        self.shared.lost.store(self.lost_total, Relaxed);
    }
}

impl<T> Drop for Reader<T> {
    fn drop(&mut self) {
        self.shared.reader_alive.store(false, Release);
    }
}

impl<T> fmt::Debug for Reader<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reader")
            .field("capacity", &self.capacity())
            .field("delivered", &self.delivered())
            .field("lost", &self.lost_total)
            .finish_non_exhaustive()
    }
}

/// Iterator returned by [`Reader::drain`]: pops until the queue is empty.
#[derive(Debug)]
pub struct Drain<'a, T> {
    reader: &'a mut Reader<T>,
}

impl<T> Iterator for Drain<'_, T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        self.reader.pop()
    }
}

/// Counters of one queue, read without knowing its item type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct QueueCounts {
    pub(crate) written: u64,
    pub(crate) lost: u64,
}

/// Reads a queue's [`QueueCounts`] (type-erased, for pipeline reports).
pub(crate) struct Probe(Box<dyn Fn() -> QueueCounts + Send + Sync>);

impl Probe {
    pub(crate) fn counts(&self) -> QueueCounts {
        (self.0)()
    }
}

#[cfg(test)]
mod tests;
