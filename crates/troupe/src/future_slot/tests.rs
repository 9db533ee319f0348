//! FutureSlot tests; they run under Miri (`scripts/check-unsafe.sh`): no
//! leak, no double drop, no misaligned or out-of-bounds write.

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use super::FutureSlot;

fn poll_once<F: Future + Unpin>(fut: &mut F) -> Poll<F::Output> {
    let mut cx = Context::from_waker(Waker::noop());
    std::pin::Pin::new(fut).poll(&mut cx)
}

/// Drops counted, to check each future is dropped once.
struct Counted(Arc<AtomicUsize>);
impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[repr(align(64))]
struct Aligned([u8; 100]);

#[test]
fn futures_of_any_size_and_alignment_run_in_the_slot() {
    let mut slot = FutureSlot::new();
    let mut small = slot.place(async { 1u8 });
    assert_eq!(poll_once(&mut small), Poll::Ready(1));
    drop(small);
    let big = [7u64; 40];
    let mut large = slot.place(async move { big.iter().sum::<u64>() });
    assert_eq!(poll_once(&mut large), Poll::Ready(280));
    drop(large);
    let aligned = Aligned([3; 100]);
    let mut over = slot.place(async move {
        let a = &aligned;
        assert_eq!(a as *const Aligned as usize % 64, 0);
        a.0.iter().map(|&b| b as u32).sum::<u32>()
    });
    assert_eq!(poll_once(&mut over), Poll::Ready(300));
    drop(over);
    // Zero-sized futures take no memory.
    let mut zst = slot.place(std::future::ready(()));
    assert_eq!(poll_once(&mut zst), Poll::Ready(()));
}

#[test]
fn a_pending_future_keeps_its_place_and_state() {
    let mut slot = FutureSlot::new();
    let (tx, rx) = tokio::sync::oneshot::channel::<u32>();
    #[allow(clippy::useless_vec)] // a heap-owning value kept across the await
    let local = vec![1, 2, 3];
    let mut fut = slot.place(async move {
        let got = rx.await.unwrap_or(0);
        got + local.iter().sum::<u32>()
    });
    assert!(poll_once(&mut fut).is_pending());
    tx.send(10).ok();
    assert_eq!(poll_once(&mut fut), Poll::Ready(16));
}

#[test]
fn futures_are_dropped_once_whether_finished_or_not() {
    let drops = Arc::new(AtomicUsize::new(0));
    let mut slot = FutureSlot::new();
    {
        let guard = Counted(drops.clone());
        let mut fut = slot.place(async move {
            let _g = guard;
            std::future::pending::<()>().await;
        });
        assert!(poll_once(&mut fut).is_pending());
    }
    assert_eq!(drops.load(Ordering::SeqCst), 1, "dropped mid-way");
    {
        let guard = Counted(drops.clone());
        let mut fut = slot.place(async move {
            drop(guard);
            5
        });
        assert_eq!(poll_once(&mut fut), Poll::Ready(5));
    }
    assert_eq!(
        drops.load(Ordering::SeqCst),
        2,
        "finished, not dropped twice"
    );
    {
        let guard = Counted(drops.clone());
        let _never_polled = slot.place(async move {
            let _g = guard;
        });
    }
    assert_eq!(
        drops.load(Ordering::SeqCst),
        3,
        "never polled, still dropped"
    );
    slot.idle();
    slot.release();
    slot.release();
}

#[test]
fn an_idle_slot_keeps_a_small_buffer_and_frees_a_large_one() {
    let mut slot = FutureSlot::new();
    drop(slot.place(async { 1u8 }));
    slot.idle();
    assert!(slot.buf.is_some(), "a small buffer is kept");
    let big = [0u8; 512];
    drop(slot.place(async move { big.len() }));
    slot.idle();
    assert!(slot.buf.is_none(), "a large buffer is freed");
}

#[test]
fn a_panicking_future_can_be_dropped_after_the_panic() {
    let drops = Arc::new(AtomicUsize::new(0));
    let mut slot = FutureSlot::new();
    let guard = Counted(drops.clone());
    let mut fut = slot.place(async move {
        let _g = guard;
        panic!("boom");
    });
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| poll_once(&mut fut)));
    assert!(caught.is_err());
    drop(fut);
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    let mut again = pin!(slot.place(async { 2 }));
    let mut cx = Context::from_waker(Waker::noop());
    assert_eq!(again.as_mut().poll(&mut cx), Poll::Ready(2));
}
