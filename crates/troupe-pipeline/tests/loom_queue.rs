//! Model checking of the lossy queue with loom: every interleaving of the
//! writer's and the reader's atomics (up to a preemption bound) is explored.
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test -p troupe-pipeline --release --test loom_queue`
//! (see `scripts/check-unsafe.sh`). Without `--cfg loom` this file is empty.
#![cfg(loom)]

use std::sync::atomic::{AtomicUsize, Ordering};

use loom::sync::Arc;
use loom::thread;
use troupe_pipeline::queue::{self, Reader};

fn check(f: impl Fn() + Sync + Send + 'static) {
    // Exhaustive (no preemption bound): the models are small enough that the
    // whole file runs in seconds on two cores.
    loom::model::Builder::new().check(f);
}

/// Pops everything left once the writer is gone, checking order and counts.
fn finish(rx: &mut Reader<u64>, mut got: Vec<u64>, written: u64) {
    while let Some(v) = rx.pop() {
        got.push(v);
    }
    assert!(rx.is_closed());
    assert!(got.windows(2).all(|w| w[0] < w[1]), "out of order: {got:?}");
    assert_eq!(got.len() as u64, rx.delivered());
    assert_eq!(rx.delivered() + rx.lost(), written, "got {got:?}");
    assert_eq!(got.last(), Some(&(written - 1)), "the newest item is kept");
}

#[test]
fn concurrent_push_and_pop_keep_order_and_count() {
    check(|| {
        let (mut tx, mut rx) = queue::channel::<u64>(2).unwrap();
        let writer = thread::spawn(move || {
            for i in 0..4 {
                tx.push(i);
            }
        });
        let mut got = Vec::new();
        for _ in 0..3 {
            got.extend(rx.pop());
        }
        writer.join().unwrap();
        finish(&mut rx, got, 4);
    });
}

#[test]
fn writer_lapping_a_capacity_one_queue() {
    check(|| {
        let (mut tx, mut rx) = queue::channel::<u64>(1).unwrap();
        let writer = thread::spawn(move || {
            for i in 0..3 {
                tx.push(i);
            }
        });
        let mut got = Vec::new();
        got.extend(rx.pop());
        got.extend(rx.pop());
        writer.join().unwrap();
        finish(&mut rx, got, 3);
    });
}

struct Counted(Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

#[test]
fn items_are_dropped_once_when_the_reader_goes_away() {
    check(|| {
        let drops = Arc::new(AtomicUsize::new(0));
        let (mut tx, mut rx) = queue::channel::<Counted>(1).unwrap();
        let writer = {
            let drops = Arc::clone(&drops);
            thread::spawn(move || {
                for _ in 0..3 {
                    tx.push(Counted(Arc::clone(&drops)));
                }
            })
        };
        drop(rx.pop());
        drop(rx);
        writer.join().unwrap();
        // Queue freed by whichever end went last: every item dropped once.
        assert_eq!(drops.load(Ordering::Relaxed), 3);
    });
}

#[test]
fn closed_means_nothing_more_will_come() {
    check(|| {
        let (mut tx, mut rx) = queue::channel::<u64>(2).unwrap();
        let writer = thread::spawn(move || {
            tx.push(0);
            tx.push(1);
            // `tx` dropped here: the queue closes.
        });
        let mut got = Vec::new();
        for _ in 0..3 {
            got.extend(rx.pop());
            if rx.is_closed() {
                // Closed: everything written was delivered (no loss at cap 2).
                assert_eq!(got, [0, 1]);
            }
        }
        writer.join().unwrap();
        finish(&mut rx, got, 2);
    });
}
