use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Wake, Waker};

use tokio::sync::oneshot;

use super::registry::{local_anchored, local_registry};
use super::*;

/// A waker that counts its wakes; `Arc::strong_count` tells how many
/// clones of it are held.
#[derive(Default)]
struct Counted(AtomicUsize);

impl Wake for Counted {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

fn paused_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("a current-thread runtime")
}

type Request = WithDeadline<oneshot::Receiver<u32>>;

fn request(timeout: Duration) -> (oneshot::Sender<u32>, Request) {
    let (tx, rx) = oneshot::channel();
    let at = Moment::from_instant(Instant::now() + timeout);
    (tx, WithDeadline::new(rx, Some(at), timeout))
}

fn poll_with(fut: &mut Request, waker: &Waker) -> Poll<Result<u32, Elapsed>> {
    match Pin::new(fut).poll(&mut Context::from_waker(waker)) {
        Poll::Ready(Ok(Ok(v))) => Poll::Ready(Ok(v)),
        Poll::Ready(Ok(Err(_))) => panic!("the sender was dropped"),
        Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
        Poll::Pending => Poll::Pending,
    }
}

/// Registers a request with `waker`, answers it and takes the answer.
fn answered_request(waker: &Waker, value: u32) {
    let (tx, mut fut) = request(Duration::from_secs(5));
    assert!(poll_with(&mut fut, waker).is_pending());
    tx.send(value).expect("the request is pending");
    assert!(matches!(poll_with(&mut fut, waker), Poll::Ready(Ok(v)) if v == value));
}

#[test]
fn a_task_making_requests_in_turn_keeps_one_slot_and_one_clone_of_its_waker() {
    paused_runtime().block_on(async {
        let counted = Arc::new(Counted::default());
        let waker = Waker::from(counted.clone());
        for i in 0..10 {
            answered_request(&waker, i);
        }
        let registry = local_registry().expect("a registry on this thread");
        assert_eq!(registry.slot_count(), 1);
        // `counted`, `waker` and the parked slot's clone.
        assert_eq!(Arc::strong_count(&counted), 3);
        // One wake per answer, from its channel; none from the registry.
        assert_eq!(counted.0.load(Ordering::SeqCst), 10);
    });
}

#[test]
fn a_reused_slot_times_out_at_the_new_request_s_deadline() {
    paused_runtime().block_on(async {
        let start = Instant::now();
        let (tx, first) = request(Duration::from_secs(1));
        let answer = tokio::spawn(async move {
            tokio::task::yield_now().await;
            tx.send(1)
        });
        assert!(matches!(first.await, Ok(Ok(1))));
        answer.await.expect("the answering task").expect("sent");
        // Same task, same thread: the second request takes the first's slot.
        let (_never_answered, second) = request(Duration::from_secs(5));
        let outcome = second.await;
        assert!(matches!(outcome, Err(Elapsed(t)) if t == Duration::from_secs(5)));
        assert_eq!(start.elapsed(), Duration::from_secs(5));
        let registry = local_registry().expect("a registry on this thread");
        assert_eq!(registry.slot_count(), 1);
        assert_eq!(registry.held(), 0, "the fired slot is free");
    });
}

#[test]
fn another_task_s_request_takes_the_parked_slot_and_lets_the_first_waker_go() {
    paused_runtime().block_on(async {
        let first = Arc::new(Counted::default());
        answered_request(&Waker::from(first.clone()), 1);
        assert_eq!(Arc::strong_count(&first), 2, "parked with its waker");
        let second = Arc::new(Counted::default());
        let second_waker = Waker::from(second.clone());
        let (_tx, mut pending) = request(Duration::from_secs(5));
        assert!(poll_with(&mut pending, &second_waker).is_pending());
        assert_eq!(Arc::strong_count(&first), 1, "the first waker is let go");
        let registry = local_registry().expect("a registry on this thread");
        assert_eq!(registry.held(), 1, "only the pending request");
        drop(pending);
        // The answer's wake only.
        assert_eq!(first.0.load(Ordering::SeqCst), 1, "no spurious wake");
    });
}

#[test]
fn a_parked_slot_left_alone_fires_once_at_its_deadline_and_lets_its_waker_go() {
    paused_runtime().block_on(async {
        let counted = Arc::new(Counted::default());
        answered_request(&Waker::from(counted.clone()), 1);
        let registry = local_registry().expect("a registry on this thread");
        assert_eq!(registry.held(), 1);
        // The answer woke it once.
        assert_eq!(counted.0.load(Ordering::SeqCst), 1);
        tokio::time::sleep(Duration::from_secs(4)).await;
        assert_eq!(counted.0.load(Ordering::SeqCst), 1, "not before its time");
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert_eq!(counted.0.load(Ordering::SeqCst), 2, "one spurious wake");
        assert_eq!(registry.held(), 0);
        assert_eq!(Arc::strong_count(&counted), 1);
    });
}

#[test]
fn a_deadline_dropped_on_another_thread_leaves_the_registry() {
    paused_runtime().block_on(async {
        let counted = Arc::new(Counted::default());
        let (_tx, mut pending) = request(Duration::from_secs(5));
        assert!(poll_with(&mut pending, &Waker::from(counted.clone())).is_pending());
        let registry = local_registry().expect("a registry on this thread");
        assert_eq!(registry.held(), 1);
        std::thread::spawn(move || drop(pending))
            .join()
            .expect("the dropping thread");
        assert_eq!(registry.held(), 0);
        assert_eq!(Arc::strong_count(&counted), 1);
    });
}

/// Makes this thread's registry (a first registration).
fn make_local_registry() {
    let (_tx, mut pending) = request(Duration::from_secs(5));
    let waker = Waker::from(Arc::new(Counted::default()));
    assert!(poll_with(&mut pending, &waker).is_pending());
    assert!(local_registry().is_some());
}

#[test]
fn on_a_multi_thread_runtime_a_deadline_comes_from_the_send_stamp() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_time()
        .build()
        .expect("a multi-thread runtime");
    runtime.block_on(async {
        make_local_registry();
        assert!(local_anchored());
        let timeout = Duration::from_secs(5);
        let tolerance = Duration::from_millis(1);
        for _ in 0..100 {
            let before = Instant::now();
            let at = after(Stamp::now(), timeout).expect("in range").instant();
            let later = Instant::now();
            assert!(
                at + tolerance >= before + timeout,
                "early by {:?}",
                (before + timeout).saturating_duration_since(at)
            );
            assert!(at <= later + timeout + tolerance, "not late");
        }
    });
}

#[test]
fn on_a_paused_runtime_a_deadline_follows_the_paused_clock() {
    paused_runtime().block_on(async {
        make_local_registry();
        assert!(!local_anchored());
        tokio::time::advance(Duration::from_secs(3600)).await;
        let timeout = Duration::from_secs(5);
        let at = after(Stamp::now(), timeout);
        assert_eq!(at, Some(Moment::from_instant(Instant::now() + timeout)));
        // A timeout past the timeline's end is no deadline (OTP's infinity).
        assert_eq!(after(Stamp::now(), Duration::MAX), None);
    });
}

#[test]
fn a_request_polled_by_another_task_wakes_that_task_at_its_deadline() {
    paused_runtime().block_on(async {
        let first = Arc::new(Counted::default());
        let second = Arc::new(Counted::default());
        let (_tx, mut pending) = request(Duration::from_secs(5));
        assert!(poll_with(&mut pending, &Waker::from(first.clone())).is_pending());
        let second_waker = Waker::from(second.clone());
        assert!(poll_with(&mut pending, &second_waker).is_pending());
        assert_eq!(Arc::strong_count(&first), 1, "the first waker is let go");
        tokio::time::sleep(Duration::from_secs(6)).await;
        assert_eq!(first.0.load(Ordering::SeqCst), 0);
        assert_eq!(second.0.load(Ordering::SeqCst), 1);
        assert!(matches!(
            poll_with(&mut pending, &second_waker),
            Poll::Ready(Err(_))
        ));
    });
}

#[test]
fn a_parked_slot_that_fired_serves_the_same_task_s_next_request() {
    paused_runtime().block_on(async {
        let counted = Arc::new(Counted::default());
        let waker = Waker::from(counted.clone());
        answered_request(&waker, 1);
        // The parked slot fires (a spurious wake) and lets its waker go.
        tokio::time::sleep(Duration::from_secs(6)).await;
        assert_eq!(counted.0.load(Ordering::SeqCst), 2);
        assert_eq!(Arc::strong_count(&counted), 2, "`counted` and `waker`");
        // The same task's next request gets the slot back, with its waker.
        let start = Instant::now();
        let (_tx, mut pending) = request(Duration::from_secs(5));
        assert!(poll_with(&mut pending, &waker).is_pending());
        let registry = local_registry().expect("a registry on this thread");
        assert_eq!(registry.slot_count(), 1);
        assert_eq!(registry.held(), 1);
        tokio::time::sleep(Duration::from_secs(4)).await;
        assert_eq!(counted.0.load(Ordering::SeqCst), 2, "not before its time");
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert_eq!(counted.0.load(Ordering::SeqCst), 3, "woken at its deadline");
        assert!(matches!(
            poll_with(&mut pending, &waker),
            Poll::Ready(Err(_))
        ));
        assert!(start.elapsed() >= Duration::from_secs(5));
    });
}

/// Many tasks on two workers, each making requests in turn, every other
/// one never answered: each unanswered request times out, each answered
/// one gets its answer, none hangs (the sweeper and the owners race for
/// the same slots).
#[test]
fn requests_racing_the_sweeper_on_two_workers_all_end() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .expect("a multi-thread runtime");
    runtime.block_on(async {
        let timeout = Duration::from_millis(2);
        let mut tasks = tokio::task::JoinSet::new();
        for task in 0..64u32 {
            tasks.spawn(async move {
                let (mut answered, mut timed_out) = (0, 0);
                for i in 0..40u32 {
                    let (tx, fut) = request(timeout);
                    if (task + i) % 2 == 0 {
                        tokio::spawn(async move {
                            tokio::task::yield_now().await;
                            let _ = tx.send(i);
                        });
                        match fut.await {
                            Ok(Ok(v)) if v == i => answered += 1,
                            // Answered too late for a 2 ms deadline on a
                            // busy machine: also an end.
                            Err(Elapsed(_)) => timed_out += 1,
                            _ => panic!("a wrong answer"),
                        }
                    } else {
                        let _keep = tx;
                        assert!(matches!(fut.await, Err(Elapsed(t)) if t == timeout));
                        timed_out += 1;
                    }
                }
                (answered, timed_out)
            });
        }
        let all = tokio::time::timeout(Duration::from_secs(30), async {
            let mut total = (0, 0);
            while let Some(done) = tasks.join_next().await {
                let (a, t) = done.expect("a request task");
                total = (total.0 + a, total.1 + t);
            }
            total
        })
        .await
        .expect("every request ends");
        assert_eq!(all.0 + all.1, 64 * 40);
        assert!(all.1 >= 64 * 20, "every unanswered request timed out");
    });
}
