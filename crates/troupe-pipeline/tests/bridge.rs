//! The generic bridges: DeliverSink (out of a pipeline) and SourceFeeder (in).
#![cfg(not(loom))]

mod common;

use std::sync::mpsc;
use std::time::Duration;

use common::{collect, emit, recv, WAIT};
use troupe_pipeline::{
    Deliver, DeliverSink, FeedError, Flow, PipelineBuilder, Reader, Rule, StageOutcome, Writer,
};

/// A stand-in for an actor handle: a bounded mailbox whose `try_notify`
/// refuses when full, like `ActorRef::try_notify`.
#[derive(Clone)]
struct FakeActor {
    mailbox: mpsc::SyncSender<u32>,
}

#[derive(Debug)]
struct MailboxFull;

impl Deliver<u32> for FakeActor {
    type Error = MailboxFull;

    fn deliver(&mut self, item: u32) -> Result<(), MailboxFull> {
        self.mailbox.try_send(item).map_err(|_| MailboxFull)
    }
}

#[test]
fn full_mailbox_counts_drops_and_never_blocks() {
    let mut b = PipelineBuilder::new("deliver");
    let ch = b.channel::<u32>("ch", 64);
    b.add("source", Rule::Loop)
        .source(ch, emit((0..20).collect()));
    let (mailbox, inbox) = mpsc::sync_channel(5);
    let sink = DeliverSink::new(FakeActor { mailbox }).batch(3);
    let stats = sink.stats();
    b.add("to-actor", Rule::OnMessage).sink(ch, sink);
    let pipeline = b.build().unwrap();
    // Nobody reads the mailbox, yet the sink finishes: refusals are drops.
    assert!(pipeline.wait_finished(WAIT));
    assert_eq!(stats.delivered(), 5);
    assert_eq!(stats.dropped(), 15);
    assert_eq!(stats.lost(), 0);
    assert_eq!(inbox.try_iter().collect::<Vec<_>>(), [0, 1, 2, 3, 4]);
    assert!(pipeline.stop(WAIT).is_clean());
}

#[test]
fn closure_target_and_upstream_loss_are_counted() {
    let mut b = PipelineBuilder::new("deliver-loss");
    let ch = b.channel::<u32>("ch", 2);
    let (done_tx, done_rx) = mpsc::channel();
    b.add("burst", Rule::Loop)
        .source(ch, move |out: &mut Writer<u32>| {
            for i in 0..5 {
                out.push(i);
            }
            let _ = done_tx.send(());
            Flow::Done
        });
    let (tx, rx) = mpsc::channel();
    let sink = DeliverSink::new(move |item: u32| tx.send(item));
    let stats = sink.stats();
    let id = b.add("out", Rule::OnExternalEvent).sink(ch, sink);
    let notifier = b.notifier(id).unwrap();
    let pipeline = b.build().unwrap();
    recv(&done_rx);
    notifier.notify();
    assert!(pipeline.wait_finished(WAIT));
    assert_eq!(rx.try_iter().collect::<Vec<_>>(), [3, 4]);
    assert_eq!(
        (stats.delivered(), stats.dropped(), stats.lost()),
        (2, 0, 3)
    );
    assert!(pipeline.stop(WAIT).is_clean());
}

#[test]
fn feeders_from_several_threads_feed_one_source() {
    let mut b = PipelineBuilder::new("feed").threads(2);
    let ch = b.channel::<u32>("ch", 1024);
    let (_, feeder) = b
        .add("ingest", Rule::OnExternalEvent)
        .feeder_source(ch, 1024);
    let (tx, rx) = mpsc::channel();
    b.add("sink", Rule::OnMessage).sink(ch, collect(tx));
    let pipeline = b.build().unwrap();
    let producers: Vec<_> = (0..2u32)
        .map(|p| {
            let feeder = feeder.clone();
            std::thread::spawn(move || {
                for i in 0..100 {
                    let mut item = p * 1000 + i;
                    // Non-blocking: retry on Full (the stage catches up).
                    loop {
                        match feeder.try_push(item) {
                            Ok(()) => break,
                            Err(FeedError::Full(back)) => {
                                item = back;
                                std::thread::yield_now();
                            }
                            Err(FeedError::Closed(_)) => panic!("closed"),
                        }
                    }
                }
            })
        })
        .collect();
    drop(feeder);
    for producer in producers {
        producer.join().unwrap();
    }
    // All feeders gone: the source finishes, closing the sink's input.
    let mut got = recv(&rx);
    assert_eq!(got.len(), 200);
    got.sort_unstable();
    let mut expected: Vec<u32> = (0..100).chain(1000..1100).collect();
    expected.sort_unstable();
    assert_eq!(got, expected);
    assert!(pipeline.wait_finished(WAIT));
    assert!(pipeline.stop(WAIT).is_clean());
}

#[test]
fn feeder_gives_items_back_when_full_or_closed() {
    let mut b = PipelineBuilder::new("feed-full");
    let ch = b.channel::<u32>("ch", 8);
    // Periodic with a long period: notifications do not run it, so the
    // feeder's buffer fills up deterministically.
    let (_, feeder) = b
        .add("ingest", Rule::Periodic(Duration::from_secs(3600)))
        .feeder_source(ch, 2);
    b.add("sink", Rule::OnMessage)
        .sink(ch, |_: &mut troupe_pipeline::Reader<u32>| Flow::Continue);
    let pipeline = b.build().unwrap();
    assert_eq!(feeder.try_push(1), Ok(()));
    assert_eq!(feeder.try_push(2), Ok(()));
    let full = feeder.try_push(3).unwrap_err();
    assert!(matches!(full, FeedError::Full(3)));
    assert_eq!(full.into_inner(), 3);
    assert!(pipeline.stop(WAIT).is_clean());
    // The stage was dropped with the pipeline.
    assert!(matches!(feeder.try_push(4), Err(FeedError::Closed(4))));
}

/// Dropping the last feeder finishes its source, then the sink reading it.
/// The doc example's sequence (push, see the item come out, drop the feeder,
/// wait) on many fresh pipelines, each wait bounded. A feeder that wakes its
/// stage before it disconnects loses that wake-up when the stage runs in
/// between: the stage finds the buffer empty but still connected and sleeps
/// for good. The window is short: one round seldom hits it, all the rounds
/// usually do; `last_feeder_disconnects_before_it_wakes_the_stage` (a unit
/// test in the crate) forces the interleaving every time.
#[test]
fn dropping_the_last_feeder_finishes_the_pipeline_every_time() {
    for round in 0..ROUNDS {
        let mut b = PipelineBuilder::new("feed-drop");
        let ch = b.channel::<u32>("ch", 4);
        let (_, feeder) = b.add("ingest", Rule::OnExternalEvent).feeder_source(ch, 4);
        let (seen_tx, seen_rx) = mpsc::channel();
        let (done_tx, done_rx) = mpsc::channel();
        b.add("sink", Rule::OnMessage)
            .sink(ch, move |input: &mut Reader<u32>| {
                input.drain().for_each(|n| {
                    let _ = seen_tx.send(n);
                });
                if input.is_closed() {
                    let _ = done_tx.send(());
                    Flow::Done
                } else {
                    Flow::Continue
                }
            });
        let pipeline = b.build().unwrap();
        feeder.try_push(round).unwrap();
        assert_eq!(recv(&seen_rx), round);
        drop(feeder);
        if done_rx.recv_timeout(WAIT).is_err() {
            panic!(
                "round {round}: the source never saw its last feeder go: {:?}",
                pipeline.stages()
            );
        }
        assert!(pipeline.wait_finished(WAIT), "round {round}");
        let report = pipeline.stop(WAIT);
        assert!(report.is_clean());
        assert_eq!(
            report.stage("ingest").map(|s| &s.outcome),
            Some(&StageOutcome::Finished),
            "round {round}"
        );
    }
}

/// Fresh pipelines built by the test above.
const ROUNDS: u32 = 500;
