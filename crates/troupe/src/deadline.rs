//! Request deadlines without a Tokio timer per request.
//!
//! Every request has a deadline (5 s by default, as `gen_server:call`). A
//! Tokio timer per request (a boxed `Sleep` registered in the timer wheel
//! and removed) cost about 330 ns more per ask than this registry on a
//! 2-worker runtime (Tokio 1.54, `examples/hotpath ask`). Instead, each
//! thread keeps a registry of pending deadlines (`deadline/registry.rs`),
//! and one sweeper task per registry, spawned on the same runtime (hence
//! the same clock, paused or not), wakes the requests whose deadline
//! passed. A request that gets its answer first leaves its slot to the
//! thread's next request, which takes it back with one compare-and-swap
//! when it comes from the same task (no lock, no waker clone). Deadlines
//! are exact: the sweeper sleeps until the earliest one, and is told when
//! a request brings an earlier one.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::time::Instant;

use crate::moment::Moment;
use crate::stamp::Stamp;

mod registry;

use registry::Deadline;

/// How old a thread's anchor ([`crate::stamp::Anchor`]) may be, from the
/// stamp it converts, before it is taken again: the stamp's counter and
/// the monotonic clock drift apart by parts per million (10 ppm measured;
/// a clock slewed by NTP moves by up to 500), so an instant given through
/// it is off by the anchor's own error plus 50 µs at most.
const ANCHOR_AGE: Duration = Duration::from_millis(100);

/// What a deadline computed from a stamp is pushed back by, so that it is
/// never early: more than the anchor's error and its drift (see
/// [`ANCHOR_AGE`]). Tokio's timers, which the sweeper sleeps on, fire on
/// whole milliseconds anyway.
const STAMP_MARGIN: Duration = Duration::from_micros(100);

/// The deadline `timeout` after `sent`, the stamp of a request sent now.
///
/// Reading the monotonic clock took about a tenth of an ask on a 2-worker
/// runtime (`perf`, `examples/hotpath ask`); the send stamp is read anyway.
/// So on a thread whose registry sweeps on a multi-thread runtime, whose
/// clock Tokio never pauses, the deadline comes from the stamp (through
/// the thread's anchor, as a [`Moment`] with no `Instant` arithmetic).
/// Elsewhere, as on a current-thread runtime whose clock a test may pause,
/// it comes from the runtime's clock.
///
/// `None` past the timeline's end (146 years on): a timeout that long (as
/// `Duration::MAX`) waits forever, as OTP's `infinity`.
pub(crate) fn after(sent: Stamp, timeout: Duration) -> Option<Moment> {
    let from_stamp = registry::with_anchor(|anchor| {
        anchor.refresh(sent, ANCHOR_AGE);
        anchor.moment(sent).after(STAMP_MARGIN)
    });
    let at = from_stamp
        .unwrap_or_else(|| Moment::from_instant(Instant::now()))
        .after(timeout);
    (at < Moment::MAX).then_some(at)
}

/// A response awaited with an optional deadline.
pub(crate) struct WithDeadline<F> {
    inner: F,
    at: Option<Moment>,
    timeout: Duration,
    deadline: Option<Deadline>,
    fallback: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl<F> WithDeadline<F> {
    /// Awaits `inner` until `at` (never, if `None`); `timeout` is what the
    /// error reports.
    pub(crate) fn new(inner: F, at: Option<Moment>, timeout: Duration) -> Self {
        Self {
            inner,
            at,
            timeout,
            deadline: None,
            fallback: None,
        }
    }
}

/// The deadline passed.
pub(crate) struct Elapsed(pub(crate) Duration);

impl<F: Future + Unpin> Future for WithDeadline<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if let Poll::Ready(v) = Pin::new(&mut self.inner).poll(cx) {
            self.deadline = None;
            return Poll::Ready(Ok(v));
        }
        let Some(at) = self.at else {
            return Poll::Pending;
        };
        let timeout = self.timeout;
        if let Some(d) = &mut self.deadline {
            return if d.expired(cx.waker()) {
                Poll::Ready(Err(Elapsed(timeout)))
            } else {
                Poll::Pending
            };
        }
        if let Some(sleep) = &mut self.fallback {
            return match sleep.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Err(Elapsed(timeout))),
                Poll::Pending => Poll::Pending,
            };
        }
        match Deadline::register(at, cx.waker()) {
            Some(deadline) => {
                self.deadline = Some(deadline);
                Poll::Pending
            }
            None => {
                // Not on a Tokio worker thread: a plain timer.
                let mut sleep = Box::pin(tokio::time::sleep_until(at.instant()));
                let ready = sleep.as_mut().poll(cx).is_ready();
                self.fallback = Some(sleep);
                if ready {
                    Poll::Ready(Err(Elapsed(timeout)))
                } else {
                    Poll::Pending
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
