//! The task that forwards one attached stream to its actor: items in
//! order, each once the previous one is in the mailbox, then the end.

use std::future::{poll_fn, Future};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::pin;
use std::sync::Weak;
use std::task::Poll;

use futures_core::Stream;

use super::{envelope, StreamEvent, StreamId};
use crate::addr::Addr;
use crate::attached::{self, Live, Sent};
use crate::catch::panic_message;
use crate::core::dead_letter::DeadLetterReason;
use crate::core::process::Shared;
use crate::envelope::{Dispatcher, Envelope, TraceId};

/// The forwarding task of one stream.
pub(super) struct Forward {
    pub(super) target: Weak<Shared>,
    pub(super) addr: Addr,
    pub(super) id: StreamId,
    /// The trace of the scope that attached the stream: its items and
    /// events carry it.
    pub(super) trace: TraceId,
    pub(super) event: Option<Dispatcher>,
}

impl Forward {
    /// The task. (A plain function returning an `async move` block: the
    /// block keeps its captures once, where an `async fn` would copy its
    /// arguments into locals and keep both in the task's future.)
    #[allow(clippy::manual_async_fn)] // on purpose: see above
    pub(super) fn run<S, F>(self, stream: S, mut wrap: F, live: Live) -> impl Future<Output = ()>
    where
        S: Stream + Send + 'static,
        F: FnMut(StreamId, S::Item) -> Envelope + Send + 'static,
    {
        async move {
            let mut stream = pin!(stream);
            let mut panicked = None;
            loop {
                let next = poll_fn(|cx| {
                    match catch_unwind(AssertUnwindSafe(|| stream.as_mut().poll_next(cx))) {
                        Ok(Poll::Pending) => Poll::Pending,
                        Ok(Poll::Ready(item)) => Poll::Ready(item),
                        Err(payload) => {
                            panicked = Some(panic_message(payload.as_ref()));
                            Poll::Ready(None)
                        }
                    }
                })
                .await;
                let Some(item) = next else { break };
                if !deliver(&self.target, wrap(self.id, item)).await {
                    live.retire();
                    return;
                }
            }
            live.retire();
            if let Some(panic) = panicked {
                tracing::warn!(addr = %self.addr, id = %self.id, %panic, "stream panicked");
                let error = format!("the stream panicked: {panic}");
                let event = self.event(StreamEvent::Error(self.id, error.into()));
                if !deliver(&self.target, event).await {
                    return;
                }
            }
            deliver(&self.target, self.event(StreamEvent::Finished(self.id))).await;
        }
    }

    fn event(&self, event: StreamEvent) -> Envelope {
        envelope(event, self.addr, self.trace, self.event)
    }

    /// Sends an event without waiting (no runtime to run a task).
    pub(super) fn try_event(&self, event: StreamEvent) {
        if let Some(shared) = self.target.upgrade() {
            if let Sent::Full(env) = attached::try_deliver(&shared, self.event(event)) {
                report(&shared, &env);
            }
        }
    }
}

/// Sends one envelope of a stream, waiting for space (a fail-fast
/// mailbox's refusal is reported as a dead letter); `false` once the actor
/// is gone.
pub(super) async fn deliver(target: &Weak<Shared>, env: Envelope) -> bool {
    match attached::deliver(target, env).await {
        Sent::Queued => true,
        Sent::Full(env) => {
            if let Some(shared) = target.upgrade() {
                report(&shared, &env);
            }
            true
        }
        Sent::Gone => false,
    }
}

fn report(shared: &Shared, env: &Envelope) {
    shared
        .system
        .dead_letter_at(shared, env, DeadLetterReason::Overflow);
}
