//! The troupe-aware bridge (feature `actors`): pipeline → actor and back.
#![cfg(all(feature = "actors", not(loom)))]

mod common;

use std::sync::mpsc;

use common::{emit, recv, WAIT};
use troupe::prelude::*;
use troupe_pipeline::actors::actor_sink;
use troupe_pipeline::{Flow, PipelineBuilder, Reader, Rule, SourceFeeder};

#[message]
struct Reading(u64);

#[message(ret = (u64, u64))]
struct Totals;

/// Sums what the pipeline delivers, and feeds doubled values back into a
/// second pipeline through a `SourceFeeder`.
struct Summer {
    count: u64,
    sum: u64,
    feeder: SourceFeeder<u64>,
}

impl Actor for Summer {}

impl Handler<Reading> for Summer {
    async fn handle(&mut self, msg: Reading, _ctx: &mut ActorContext<Self>) -> HandlerResult {
        self.count += 1;
        self.sum += msg.0;
        let _ = self.feeder.try_push(msg.0 * 2);
        Ok(())
    }
}

impl Handler<Totals> for Summer {
    async fn handle(
        &mut self,
        _: Totals,
        _ctx: &mut ActorContext<Self>,
    ) -> HandlerResult<(u64, u64)> {
        Ok((self.count, self.sum))
    }
}

#[test]
fn pipeline_to_actor_and_back() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();

    // Pipeline B: fed by the actor, collects what it gets.
    let mut back = PipelineBuilder::new("back");
    let doubled = back.channel::<u64>("doubled", 256);
    let (_, feeder) = back
        .add("from-actor", Rule::OnExternalEvent)
        .feeder_source(doubled, 256);
    let (tx, rx) = mpsc::channel();
    back.add("collect", Rule::OnMessage)
        .sink(doubled, move |input: &mut Reader<u64>| {
            for n in input.drain() {
                let _ = tx.send(n);
            }
            Flow::Continue
        });
    let back = back.build().unwrap();

    let actor = runtime
        .block_on(async move {
            Summer {
                count: 0,
                sum: 0,
                feeder,
            }
            .spawn()
            .named("summer")
            .await
        })
        .unwrap();

    // Pipeline A: numbers → actor (default mailbox of 64: the source waits
    // for room in its queue, the sink never waits for the actor).
    let mut forth = PipelineBuilder::new("forth");
    let numbers = forth.channel::<u64>("numbers", 16);
    let readings = forth.channel::<Reading>("readings", 16);
    forth
        .add("numbers", Rule::Loop)
        .source(numbers, emit((1..=10).collect()));
    forth.add("wrap", Rule::OnMessage).filter(
        numbers,
        readings,
        |input: &mut Reader<u64>, out: &mut troupe_pipeline::Writer<Reading>| {
            input.drain().for_each(|n| {
                out.push(Reading(n));
            });
            if input.is_closed() {
                Flow::Done
            } else {
                Flow::Continue
            }
        },
    );
    let sink = actor_sink(actor.clone());
    let stats = sink.stats();
    forth.add("to-actor", Rule::OnMessage).sink(readings, sink);
    let forth = forth.build().unwrap();
    assert!(forth.wait_finished(WAIT));
    assert_eq!(stats.delivered() + stats.dropped(), 10);
    assert_eq!(
        stats.dropped(),
        0,
        "10 messages fit in a 64-message mailbox"
    );

    let mut got: Vec<u64> = (0..10).map(|_| recv(&rx)).collect();
    got.sort_unstable();
    assert_eq!(got, (1..=10).map(|n| n * 2).collect::<Vec<_>>());
    let totals = runtime.block_on(actor.send(Totals)).unwrap();
    assert_eq!(totals, (10, 55));

    assert!(forth.stop(WAIT).is_clean());
    runtime.block_on(actor.stop(StopReason::Graceful)).unwrap();
    assert!(back.stop(WAIT).is_clean());
}
