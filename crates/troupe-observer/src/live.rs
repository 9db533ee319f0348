//! Live updates: server-sent events, one `snapshot` event per refresh
//! interval for as long as a page stays connected.
//!
//! A snapshot is taken only when an event is due for a connected page: the
//! observer does no work for pages that are not open.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, KeepAliveStream, Sse};
use futures_core::Stream;
use tokio::time::{Interval, MissedTickBehavior};

use crate::state::Shared;

/// The events of one connected page.
pub(crate) struct SnapshotEvents {
    shared: Arc<Shared>,
    tick: Interval,
}

impl Stream for SnapshotEvents {
    type Item = Result<Event, axum::Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.shared.is_stopping() {
            return Poll::Ready(None);
        }
        match self.tick.poll_tick(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(_) if self.shared.is_stopping() => Poll::Ready(None),
            Poll::Ready(_) => {
                let snapshot = self.shared.snapshot();
                Poll::Ready(Some(Event::default().event("snapshot").json_data(snapshot)))
            }
        }
    }
}

/// `GET /api/v1/events`.
pub(crate) async fn events(
    State(shared): State<Arc<Shared>>,
) -> Sse<KeepAliveStream<SnapshotEvents>> {
    let mut tick = tokio::time::interval(shared.refresh);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    Sse::new(SnapshotEvents { shared, tick }).keep_alive(KeepAlive::default())
}
