//! Attached streams: items and end, fallible streams, cancellation and
//! counts, streams dying with their actor, backpressure into a small
//! mailbox.
//!
//! Tests run on paused Tokio time: `sleep` returns only once every task is
//! idle (auto-advance), so it marks a quiescent point, not a hope.

use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_core::Stream;
use tokio::sync::{mpsc, Semaphore};
use tokio::time::{sleep, timeout};
use tokio_stream::wrappers::UnboundedReceiverStream;
use tokio_stream::StreamExt;
use troupe::prelude::*;
use troupe::Attach as _;
use troupe::{StreamEvent, StreamId};

#[message]
struct Item(u32);

type Items = Pin<Box<dyn Stream<Item = Item> + Send>>;
type TryItems = Pin<Box<dyn Stream<Item = Result<Item, String>> + Send>>;

#[message(ret = StreamId)]
struct Attach(Items);

#[message(ret = StreamId)]
struct AttachTry(TryItems);

#[message(ret = bool)]
struct Cancel(StreamId);

#[message(ret = usize)]
struct CancelAll;

#[message(ret = usize)]
struct Count;

#[derive(Debug, PartialEq)]
enum Ev {
    Item(u32),
    /// The end, with the number of active streams then.
    Finished(StreamId, usize),
    Error(StreamId, String),
}

struct Sink {
    events: mpsc::UnboundedSender<Ev>,
    /// When set, each item's handler waits for a permit after reporting it.
    gate: Option<Arc<Semaphore>>,
}

impl Actor for Sink {}

impl Handler<Item> for Sink {
    async fn handle(&mut self, item: Item, ctx: &mut ActorContext<Self>) -> HandlerResult {
        assert_eq!(ctx.sender(), ctx.addr(), "items are sent by the actor");
        let _ = self.events.send(Ev::Item(item.0));
        if let Some(gate) = &self.gate {
            gate.acquire().await?.forget();
        }
        Ok(())
    }
}

impl Handler<StreamEvent> for Sink {
    async fn handle(&mut self, event: StreamEvent, ctx: &mut ActorContext<Self>) -> HandlerResult {
        let ev = match event {
            StreamEvent::Finished(id) => Ev::Finished(id, ctx.active_stream_count()),
            StreamEvent::Error(id, e) => Ev::Error(id, e.to_string()),
            _ => unreachable!("no other event yet"),
        };
        let _ = self.events.send(ev);
        Ok(())
    }
}

impl Handler<Attach> for Sink {
    async fn handle(
        &mut self,
        msg: Attach,
        ctx: &mut ActorContext<Self>,
    ) -> HandlerResult<StreamId> {
        Ok(ctx.add_stream(msg.0))
    }
}

impl Handler<AttachTry> for Sink {
    async fn handle(
        &mut self,
        msg: AttachTry,
        ctx: &mut ActorContext<Self>,
    ) -> HandlerResult<StreamId> {
        Ok(ctx.add_try_stream(msg.0))
    }
}

impl Handler<Cancel> for Sink {
    async fn handle(
        &mut self,
        Cancel(id): Cancel,
        ctx: &mut ActorContext<Self>,
    ) -> HandlerResult<bool> {
        Ok(ctx.cancel_stream(id))
    }
}

impl Handler<CancelAll> for Sink {
    async fn handle(&mut self, _: CancelAll, ctx: &mut ActorContext<Self>) -> HandlerResult<usize> {
        Ok(ctx.cancel_all_streams())
    }
}

impl Handler<Count> for Sink {
    async fn handle(&mut self, _: Count, ctx: &mut ActorContext<Self>) -> HandlerResult<usize> {
        Ok(ctx.active_stream_count())
    }
}

async fn sink(
    capacity: usize,
    gate: Option<Arc<Semaphore>>,
) -> (ActorRef<Sink>, mpsc::UnboundedReceiver<Ev>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let h = Sink { events: tx, gate }
        .spawn()
        .with_config(ActorConfig::default().with_mailbox_capacity(capacity))
        .await
        .unwrap();
    (h, rx)
}

async fn next(rx: &mut mpsc::UnboundedReceiver<Ev>) -> Ev {
    timeout(Duration::from_secs(5), rx.recv())
        .await
        .expect("no event within 5 s")
        .expect("event channel closed")
}

fn drain(rx: &mut mpsc::UnboundedReceiver<Ev>) -> Vec<Ev> {
    let mut out = Vec::new();
    while let Ok(ev) = rx.try_recv() {
        out.push(ev);
    }
    out
}

/// A stream fed by the test, and the sender that feeds it.
fn channel() -> (mpsc::UnboundedSender<Item>, Items) {
    let (tx, rx) = mpsc::unbounded_channel();
    (tx, Box::pin(UnboundedReceiverStream::new(rx)))
}

#[tokio::test(start_paused = true)]
async fn items_arrive_in_order_then_finished() {
    let (h, mut events) = sink(8, None).await;
    let id = h
        .send(Attach(Box::pin(tokio_stream::iter([1, 2, 3]).map(Item))))
        .await
        .unwrap();
    assert_eq!(next(&mut events).await, Ev::Item(1));
    assert_eq!(next(&mut events).await, Ev::Item(2));
    assert_eq!(next(&mut events).await, Ev::Item(3));
    // The ended stream no longer counts when its end is handled.
    assert_eq!(next(&mut events).await, Ev::Finished(id, 0));
    assert_eq!(h.send(Count).await, Ok(0));
    assert!(!h.send(Cancel(id)).await.unwrap(), "an ended stream");
    sleep(Duration::from_secs(1)).await;
    assert_eq!(drain(&mut events), []);
}

#[tokio::test(start_paused = true)]
async fn errors_of_a_fallible_stream_arrive_as_events_and_it_goes_on() {
    let (h, mut events) = sink(8, None).await;
    let results = [Ok(Item(1)), Err("bad".to_owned()), Ok(Item(2))];
    let id = h
        .send(AttachTry(Box::pin(tokio_stream::iter(results))))
        .await
        .unwrap();
    assert_eq!(next(&mut events).await, Ev::Item(1));
    assert_eq!(next(&mut events).await, Ev::Error(id, "bad".into()));
    assert_eq!(next(&mut events).await, Ev::Item(2));
    assert_eq!(next(&mut events).await, Ev::Finished(id, 0));
}

#[tokio::test(start_paused = true)]
async fn a_panicking_stream_ends_with_an_error_then_finished() {
    let (h, mut events) = sink(8, None).await;
    let stream = tokio_stream::iter([1, 2, 3]).map(|n| {
        assert!(n < 2, "stream broke");
        Item(n)
    });
    let id = h.send(Attach(Box::pin(stream))).await.unwrap();
    assert_eq!(next(&mut events).await, Ev::Item(1));
    match next(&mut events).await {
        Ev::Error(got, e) => {
            assert_eq!(got, id);
            assert!(e.contains("stream broke"), "{e}");
        }
        other => panic!("expected an error, got {other:?}"),
    }
    assert_eq!(next(&mut events).await, Ev::Finished(id, 0));
    assert!(h.is_alive());
}

#[tokio::test(start_paused = true)]
async fn cancel_one_cancel_all_and_counts() {
    let (h, mut events) = sink(8, None).await;
    let (tx1, s1) = channel();
    let (tx2, s2) = channel();
    let (tx3, s3) = channel();
    let id1 = h.send(Attach(s1)).await.unwrap();
    let id2 = h.send(Attach(s2)).await.unwrap();
    let _id3 = h.send(Attach(s3)).await.unwrap();
    assert_ne!(id1, id2);
    assert_eq!(h.send(Count).await, Ok(3));

    tx1.send(Item(1)).unwrap();
    assert_eq!(next(&mut events).await, Ev::Item(1));
    assert_eq!(h.send(Cancel(id1)).await, Ok(true));
    assert_eq!(h.send(Cancel(id1)).await, Ok(false), "already cancelled");
    assert_eq!(h.send(Count).await, Ok(2));
    // The cancelled stream is dropped: its sender sees it.
    timeout(Duration::from_secs(5), tx1.closed()).await.unwrap();
    assert!(tx1.send(Item(9)).is_err());

    tx2.send(Item(2)).unwrap();
    assert_eq!(next(&mut events).await, Ev::Item(2));
    assert_eq!(h.send(CancelAll).await, Ok(2));
    assert_eq!(h.send(Count).await, Ok(0));
    assert_eq!(h.send(CancelAll).await, Ok(0));
    timeout(Duration::from_secs(5), tx2.closed()).await.unwrap();
    timeout(Duration::from_secs(5), tx3.closed()).await.unwrap();
    sleep(Duration::from_secs(1)).await;
    assert_eq!(drain(&mut events), [], "no event for cancelled streams");
}

#[tokio::test(start_paused = true)]
async fn streams_die_with_their_actor() {
    for stop in [StopReason::Graceful, StopReason::Shutdown, StopReason::Kill] {
        let (h, _events) = sink(8, None).await;
        let (tx, stream) = channel();
        h.send(Attach(stream)).await.unwrap();
        h.stop(stop).await.unwrap();
        timeout(Duration::from_secs(5), tx.closed())
            .await
            .unwrap_or_else(|_| panic!("{stop:?}: the stream outlived its actor"));
    }
}

#[tokio::test(start_paused = true)]
async fn a_fast_stream_is_not_drained_faster_than_the_actor_handles_it() {
    const CAPACITY: usize = 2;
    const ITEMS: u32 = 20;
    let gate = Arc::new(Semaphore::new(0));
    let (h, mut events) = sink(CAPACITY, Some(gate.clone())).await;
    let pulled = Arc::new(AtomicUsize::new(0));
    let counter = pulled.clone();
    let stream = tokio_stream::iter(0..ITEMS).map(move |n| {
        counter.fetch_add(1, Ordering::SeqCst);
        Item(n)
    });
    h.send(Attach(Box::pin(stream))).await.unwrap();

    let mut started = 0;
    for n in 0..ITEMS {
        // Quiescent: the actor waits in item n's handler, the stream's task
        // waits for mailbox space with one item in hand.
        sleep(Duration::from_millis(1)).await;
        let got = drain(&mut events);
        assert_eq!(got, [Ev::Item(n)]);
        started += 1;
        let expected = (started + CAPACITY + 1).min(ITEMS as usize);
        assert_eq!(pulled.load(Ordering::SeqCst), expected, "at item {n}");
        assert!(h.mailbox_len() <= CAPACITY);
        gate.add_permits(1);
    }
    assert!(matches!(next(&mut events).await, Ev::Finished(_, 0)));
    assert_eq!(h.mailbox_dropped(), 0);
}
