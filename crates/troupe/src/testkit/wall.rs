//! Wall-clock bounds that hold when Tokio's clock is paused.
//!
//! Under `tokio::time::pause` a Tokio timer fires when the runtime has
//! nothing else to do, at once in real time: a `tokio::time::timeout`
//! cannot tell "nothing came" from "not yet". The bounds here run on one
//! thread of their own that sleeps in real time and wakes the waiting
//! future through a channel, whatever Tokio's clock does.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::future::Future;
use std::sync::mpsc;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

/// A wall-clock bound passed before the future finished.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("nothing within {0:?} (real time)")]
pub struct TimedOut(pub Duration);

type Alarm = (Instant, oneshot::Sender<()>);

/// The alarm thread's inbox, started on first use.
fn alarms() -> &'static Mutex<mpsc::Sender<Alarm>> {
    static ALARMS: OnceLock<Mutex<mpsc::Sender<Alarm>>> = OnceLock::new();
    ALARMS.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<Alarm>();
        let spawned = std::thread::Builder::new()
            .name("troupe-testkit-clock".into())
            .spawn(move || ring(rx));
        if let Err(e) = spawned {
            // Without the thread, alarms never ring: bounds do not hold,
            // but nothing else breaks.
            tracing::error!(error = %e, "cannot start the test kit's clock thread");
        }
        Mutex::new(tx)
    })
}

/// The alarm thread: rings each alarm at its instant.
fn ring(rx: mpsc::Receiver<Alarm>) {
    let mut pending: BinaryHeap<Reverse<(Instant, u64)>> = BinaryHeap::new();
    let mut senders = std::collections::HashMap::new();
    let mut next_id = 0u64;
    loop {
        let now = Instant::now();
        while let Some(Reverse((at, id))) = pending.peek().copied() {
            if at > now {
                break;
            }
            pending.pop();
            if let Some(tx) = senders.remove(&id) {
                let _: Result<(), ()> = oneshot::Sender::send(tx, ());
            }
        }
        let received = match pending.peek() {
            Some(Reverse((at, _))) => rx.recv_timeout(at.saturating_duration_since(now)),
            None => rx.recv().map_err(|_| mpsc::RecvTimeoutError::Disconnected),
        };
        match received {
            Ok((at, tx)) => {
                next_id += 1;
                pending.push(Reverse((at, next_id)));
                senders.insert(next_id, tx);
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => return,
        }
    }
}

/// Runs `fut` for at most `limit` of real time, whether or not Tokio's
/// clock is paused.
///
/// ```
/// use std::time::Duration;
/// use troupe::testkit::{within, TimedOut};
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
/// // A paused clock would let `tokio::time::timeout` fire at once; this
/// // bound waits 10 ms of real time.
/// let never = std::future::pending::<()>();
/// assert_eq!(within(Duration::from_millis(10), never).await, Err(TimedOut(Duration::from_millis(10))));
/// # }
/// ```
pub async fn within<F: Future>(limit: Duration, fut: F) -> Result<F::Output, TimedOut> {
    let (tx, rx) = oneshot::channel();
    let at = Instant::now() + limit;
    let sent = match alarms().lock() {
        Ok(alarms) => alarms.send((at, tx)).is_ok(),
        Err(_) => false,
    };
    if !sent {
        return Ok(fut.await);
    }
    tokio::select! {
        biased;
        out = fut => Ok(out),
        _ = rx => Err(TimedOut(limit)),
    }
}
