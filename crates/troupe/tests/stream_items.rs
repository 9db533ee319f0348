//! Streams of any item type: `add_item_stream` delivers each item as a
//! `StreamItem<T>`, to a struct actor's `Handler<StreamItem<T>>` or to a
//! functional actor's `recv` (matched with `msg!`).
//!
//! Paused Tokio time; every wait is a channel receive bounded by a
//! (virtual) timeout.

use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::timeout;
use troupe::prelude::*;
use troupe::{init, StreamId, StreamItem};

const BOUND: Duration = Duration::from_secs(5);

#[derive(Debug, PartialEq)]
enum Ev {
    Int(i32),
    Text(String),
    Finished(StreamId, usize),
}

struct Collector {
    events: mpsc::UnboundedSender<Ev>,
}

impl Actor for Collector {}

/// Attaches a stream of `i32`s and one of `String`s (neither is a message).
#[message(ret = (StreamId, StreamId))]
struct AttachBoth(Vec<i32>, Vec<String>);

impl Handler<AttachBoth> for Collector {
    async fn handle(
        &mut self,
        AttachBoth(ints, texts): AttachBoth,
        ctx: &mut ActorContext<Self>,
    ) -> HandlerResult<(StreamId, StreamId)> {
        let a = ctx.add_item_stream(tokio_stream::iter(ints));
        let b = ctx.add_item_stream(tokio_stream::iter(texts));
        Ok((a, b))
    }
}

impl Handler<StreamItem<i32>> for Collector {
    async fn handle(
        &mut self,
        StreamItem(n): StreamItem<i32>,
        _: &mut ActorContext<Self>,
    ) -> HandlerResult {
        let _ = self.events.send(Ev::Int(n));
        Ok(())
    }
}

impl Handler<StreamItem<String>> for Collector {
    async fn handle(
        &mut self,
        item: StreamItem<String>,
        _: &mut ActorContext<Self>,
    ) -> HandlerResult {
        let _ = self.events.send(Ev::Text(item.into_inner()));
        Ok(())
    }
}

impl Handler<StreamEvent> for Collector {
    async fn handle(&mut self, event: StreamEvent, ctx: &mut ActorContext<Self>) -> HandlerResult {
        if let StreamEvent::Finished(id) = event {
            let _ = self
                .events
                .send(Ev::Finished(id, ctx.active_stream_count()));
        }
        Ok(())
    }
}

async fn recv(rx: &mut mpsc::UnboundedReceiver<Ev>) -> Ev {
    timeout(BOUND, rx.recv())
        .await
        .expect("an event within the bound")
        .expect("the actor is alive")
}

#[test]
fn a_stream_item_is_a_message_for_every_item_type() {
    fn name<M: Message>() -> &'static str {
        M::NAME
    }
    assert_eq!(name::<StreamItem<i32>>(), "troupe::StreamItem");
    assert_eq!(name::<StreamItem<Vec<String>>>(), "troupe::StreamItem");
}

#[tokio::test(start_paused = true)]
async fn a_struct_actor_gets_a_stream_of_i32_as_stream_items() {
    let system = ActorSystem::create("stream-items-struct").unwrap();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let collector = Collector { events: tx }
        .spawn()
        .on_system(&system)
        .await
        .unwrap();
    let (ints, texts) = collector
        .send(AttachBoth(vec![1, -2, 3], vec!["x".into(), "y".into()]))
        .await
        .unwrap();
    let mut got_ints = Vec::new();
    let mut got_texts = Vec::new();
    let mut finished = Vec::new();
    while finished.len() < 2 {
        match recv(&mut rx).await {
            Ev::Int(n) => {
                assert!(!finished.iter().any(|(id, _)| *id == ints));
                got_ints.push(n);
            }
            Ev::Text(t) => {
                assert!(!finished.iter().any(|(id, _)| *id == texts));
                got_texts.push(t);
            }
            Ev::Finished(id, active) => finished.push((id, active)),
        }
    }
    // Each stream in order, each item to the handler of its type, then
    // one `Finished` per stream after its last item.
    assert_eq!(got_ints, [1, -2, 3]);
    assert_eq!(got_texts, ["x", "y"]);
    let mut ids: Vec<StreamId> = finished.iter().map(|(id, _)| *id).collect();
    ids.sort();
    let mut expected = vec![ints, texts];
    expected.sort();
    assert_eq!(ids, expected);
    assert_eq!(finished.last().unwrap().1, 0, "no stream active at the end");
    system.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_functional_actor_matches_stream_items_with_msg() {
    let (tx, mut rx) = mpsc::unbounded_channel::<Ev>();
    let schema = ActorGroup::new().exec(move |mut ctx| {
        let tx = tx.clone();
        async move {
            let ints = ctx.add_item_stream(tokio_stream::iter([10, 20, 30]));
            while let Some(envelope) = ctx.recv().await {
                msg!(match envelope {
                    StreamItem::<i32>(n) => {
                        let _ = tx.send(Ev::Int(n));
                    }
                    StreamEvent::Finished(id) => {
                        assert_eq!(id, ints);
                        let _ = tx.send(Ev::Finished(id, ctx.active_stream_count()));
                    }
                })
            }
            Ok::<(), String>(())
        }
    });
    let topology = Topology::empty();
    topology.local("stream-items-fn").mount(schema);
    let system = init::try_start(topology).unwrap();
    assert_eq!(recv(&mut rx).await, Ev::Int(10));
    assert_eq!(recv(&mut rx).await, Ev::Int(20));
    assert_eq!(recv(&mut rx).await, Ev::Int(30));
    assert!(matches!(recv(&mut rx).await, Ev::Finished(_, 0)));
    system.shutdown().await;
}
