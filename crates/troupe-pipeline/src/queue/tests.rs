//! Unit tests of the lossy queue. Small enough to run under Miri
//! (`cargo +nightly miri test -p troupe-pipeline --lib queue::`), which checks
//! the unsafe cell handling: no use of uninitialised memory, no double drop,
//! no leak, no data race.

use super::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc as StdArc;

/// Counts drops, to check every item is dropped exactly once.
#[derive(Debug)]
struct Counted {
    value: u64,
    drops: StdArc<AtomicUsize>,
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::Relaxed);
    }
}

fn counted(value: u64, drops: &StdArc<AtomicUsize>) -> Counted {
    Counted {
        value,
        drops: StdArc::clone(drops),
    }
}

#[test]
fn zero_capacity_is_an_error() {
    assert!(matches!(channel::<u8>(0), Err(QueueError::ZeroCapacity)));
}

#[test]
fn fifo_without_loss() {
    let (mut tx, mut rx) = channel(4).unwrap();
    assert_eq!(rx.pop(), None);
    for round in 0..5u32 {
        for i in 0..4 {
            assert!(!tx.push(round * 10 + i));
        }
        assert_eq!(rx.len(), 4);
        let got: Vec<_> = rx.drain().collect();
        assert_eq!(got, (0..4).map(|i| round * 10 + i).collect::<Vec<_>>());
    }
    assert_eq!(rx.lost(), 0);
    assert_eq!(rx.delivered(), 20);
    assert_eq!(tx.written(), 20);
    assert!(tx.is_empty());
}

#[test]
fn lagging_reader_loses_the_oldest_and_is_told() {
    let (mut tx, mut rx) = channel(3).unwrap();
    let overwrote: Vec<bool> = (0..8).map(|i| tx.push(i)).collect();
    assert_eq!(
        overwrote,
        [false, false, false, true, true, true, true, true]
    );
    assert_eq!(tx.overwritten(), 5);
    assert!(tx.is_full());
    let mut buf = Vec::new();
    let stats = rx.read_into(&mut buf, 2);
    assert_eq!(buf, [5, 6]);
    assert_eq!(stats, ReadStats { read: 2, lost: 5 });
    // Reported by `read_into`, so not again by `take_lost`.
    assert_eq!(rx.take_lost(), 0);
    assert_eq!(rx.lost(), 5);
    assert_eq!(rx.pop(), Some(7));
    assert_eq!(rx.pop(), None);
    // Loss in the middle of a stream.
    tx.push(8);
    for i in 9..13 {
        tx.push(i);
    }
    assert_eq!(rx.pop(), Some(10));
    assert_eq!(rx.take_lost(), 2);
    assert_eq!(rx.lost(), 7);
    assert_eq!(rx.delivered() + rx.lost(), 11);
}

#[test]
fn capacity_one() {
    let (mut tx, mut rx) = channel(1).unwrap();
    tx.push("a");
    tx.push("b");
    assert_eq!(rx.pop(), Some("b"));
    assert_eq!(rx.take_lost(), 1);
    tx.push("c");
    assert_eq!(rx.pop(), Some("c"));
    assert_eq!(rx.pop(), None);
}

#[test]
fn every_item_is_dropped_exactly_once() {
    let drops = StdArc::new(AtomicUsize::new(0));
    {
        let (mut tx, mut rx) = channel(3).unwrap();
        for i in 0..10 {
            tx.push(counted(i, &drops));
        }
        // 7 overwritten and dropped by the writer.
        assert_eq!(drops.load(Ordering::Relaxed), 7);
        let item = rx.pop().unwrap();
        assert_eq!(item.value, 7);
        drop(item);
        // Two items left in the queue, dropped with it.
    }
    assert_eq!(drops.load(Ordering::Relaxed), 10);
}

#[test]
fn zero_sized_items() {
    let (mut tx, mut rx) = channel(2).unwrap();
    for _ in 0..5 {
        tx.push(());
    }
    assert_eq!(rx.drain().count(), 2);
    assert_eq!(rx.lost(), 3);
}

#[test]
fn closing_is_seen_after_draining() {
    let (mut tx, mut rx) = channel(2).unwrap();
    tx.push(1);
    assert!(!tx.is_closed());
    drop(tx);
    assert!(!rx.is_closed(), "an unread item is still there");
    assert_eq!(rx.pop(), Some(1));
    assert!(rx.is_closed());

    let (mut tx, rx) = channel(2).unwrap();
    drop(rx);
    assert!(tx.is_closed());
    tx.push(1); // Still fine: the item is dropped with the queue.
}

#[test]
fn concurrent_writer_and_reader_keep_order_and_count() {
    // Small sizes: this also runs under Miri.
    let total: u64 = if cfg!(miri) { 200 } else { 100_000 };
    let drops = StdArc::new(AtomicUsize::new(0));
    let (mut tx, mut rx) = channel(4).unwrap();
    let writer_drops = StdArc::clone(&drops);
    let writer = std::thread::spawn(move || {
        for i in 0..total {
            tx.push(counted(i, &writer_drops));
            if i % 16 == 0 {
                std::thread::yield_now();
            }
        }
    });
    let mut last = None;
    let mut delivered = 0u64;
    loop {
        match rx.pop() {
            Some(item) => {
                assert!(last.is_none_or(|last| item.value > last), "out of order");
                last = Some(item.value);
                delivered += 1;
            }
            None if rx.is_closed() => break,
            None => std::thread::yield_now(),
        }
    }
    writer.join().unwrap();
    assert_eq!(delivered, rx.delivered());
    assert_eq!(delivered + rx.lost(), total);
    assert_eq!(last, Some(total - 1), "the newest item is never lost");
    drop(rx);
    assert_eq!(drops.load(Ordering::Relaxed) as u64, total);
}
