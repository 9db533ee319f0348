//! Restartable stages (feature `supervision`): a failed stage is made again
//! from its factory on its own thread while the others go on, by troupe's
//! restart types and budget; an exhausted budget stops the pipeline.
//!
//! The scheduler threads are OS threads outside any Tokio runtime, so these
//! tests cannot pause time: they hold a stage down with a gate in its
//! factory, and bound every wait with a channel timeout.
#![cfg(all(feature = "supervision", not(loom)))]

mod common;

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::mpsc::{self, Receiver, Sender, TryRecvError};
use std::sync::Arc;
use std::time::Duration;

use common::{recv, WAIT};
use troupe::supervision::Backoff;
use troupe_pipeline::{
    Flow, PipelineBuilder, Reader, RestartsExhausted, Rule, StageOutcome, StageRestart, Writer,
};

/// The item that makes the `parse` stage panic.
const POISON: u64 = 0;

/// A source driven by the test: it writes each batch it is sent (without
/// waiting for room: the channel is lossy, so a batch larger than the room
/// left overwrites unread items) and acknowledges it; it finishes when the
/// test drops its sender.
fn batches(
    batches: Receiver<Vec<u64>>,
    written: Sender<()>,
) -> impl FnMut(&mut Writer<u64>) -> Flow {
    move |out: &mut Writer<u64>| match batches.try_recv() {
        Ok(batch) => {
            for item in batch {
                out.push(item);
            }
            let _ = written.send(());
            Flow::Continue
        }
        Err(TryRecvError::Empty) => Flow::Continue,
        Err(TryRecvError::Disconnected) => Flow::Done,
    }
}

/// The `parse` stage: passes items on, panics on [`POISON`].
fn parse() -> impl FnMut(&mut Reader<u64>, &mut Writer<u64>) -> Flow {
    |input: &mut Reader<u64>, out: &mut Writer<u64>| {
        while let Some(item) = input.pop() {
            assert!(item != POISON, "poison");
            out.push(item);
        }
        if input.is_closed() {
            Flow::Done
        } else {
            Flow::Continue
        }
    }
}

/// A sink that sends every item to the test.
fn forward(tx: Sender<u64>) -> impl FnMut(&mut Reader<u64>) -> Flow {
    move |input: &mut Reader<u64>| {
        input.drain().for_each(|item| {
            let _ = tx.send(item);
        });
        if input.is_closed() {
            Flow::Done
        } else {
            Flow::Continue
        }
    }
}

fn recv_n(rx: &Receiver<u64>, n: usize) -> Vec<u64> {
    (0..n).map(|_| recv(rx)).collect()
}

/// The test's side of a pipeline `feed` → `parse` → `out` whose `parse`
/// stage is restartable by `restart`.
struct Rig {
    pipeline: troupe_pipeline::Pipeline,
    batches: Sender<Vec<u64>>,
    written: Receiver<()>,
    out: Receiver<u64>,
    /// How many times the factory of `parse` was called.
    made: Arc<AtomicUsize>,
}

impl Rig {
    /// `gate`: called by the factory on each restart (not the first
    /// incarnation), on the stage's thread.
    fn new(restart: StageRestart, gate: impl Fn(usize) + Send + 'static) -> Self {
        let mut builder = PipelineBuilder::new("restart").threads(2);
        // Room for 4 unread items: a reader down while 8 are written loses 4.
        let raw = builder.channel::<u64>("raw", 4);
        let parsed = builder.channel::<u64>("parsed", 64);
        let (batch_tx, batch_rx) = mpsc::channel();
        let (written_tx, written) = mpsc::channel();
        let (out_tx, out) = mpsc::channel();
        builder
            .add("feed", Rule::Loop)
            .on_thread(0)
            .source(raw, batches(batch_rx, written_tx));
        let made = Arc::new(AtomicUsize::new(0));
        let count = Arc::clone(&made);
        builder
            .add("parse", Rule::OnMessage)
            .on_thread(1)
            .restartable(restart)
            .filter(raw, parsed, move || {
                let n = count.fetch_add(1, SeqCst) + 1;
                if n > 1 {
                    gate(n);
                }
                parse()
            });
        builder
            .add("out", Rule::OnMessage)
            .on_thread(0)
            .sink(parsed, forward(out_tx));
        let pipeline = builder.build().expect("valid wiring");
        Self {
            pipeline,
            batches: batch_tx,
            written,
            out,
            made,
        }
    }

    /// Has the source write `items`, and waits until it has.
    fn write(&self, items: Vec<u64>) {
        self.batches.send(items).expect("the source runs");
        recv(&self.written);
    }
}

#[test]
fn a_panicking_stage_restarts_and_the_flow_goes_on() {
    // The factory of the second incarnation says it runs, then waits for
    // the test: meanwhile the stage is down and its input queue overflows.
    let (restarting_tx, restarting) = mpsc::channel::<(usize, Option<String>)>();
    let (go_tx, go) = mpsc::channel::<()>();
    let rig = Rig::new(StageRestart::transient(), move |n| {
        let thread = std::thread::current().name().map(str::to_owned);
        let _ = restarting_tx.send((n, thread));
        let _ = go.recv_timeout(WAIT);
    });

    // Before: everything flows (a batch that fits the queue loses nothing).
    rig.write((1..=4).collect());
    assert_eq!(recv_n(&rig.out, 4), [1, 2, 3, 4]);

    // The stage panics on the poison and is made again from its factory.
    rig.write(vec![POISON]);
    // ... on its own scheduler thread (parse is pinned to thread 1).
    assert_eq!(recv(&restarting), (2, Some("restart#1".to_owned())));
    // Down: its writer goes on, into a queue of 4 that nobody reads.
    rig.write((100..108).collect());
    go_tx.send(()).expect("the factory waits");

    // After: the new incarnation reads what the queue kept (the 4 newest)
    // and the flow goes on.
    assert_eq!(recv_n(&rig.out, 4), [104, 105, 106, 107]);
    rig.write(vec![200, 201]);
    assert_eq!(recv_n(&rig.out, 2), [200, 201]);
    assert_eq!(rig.made.load(SeqCst), 2);

    let panics = rig.pipeline.panics();
    assert_eq!(panics.len(), 1);
    assert_eq!(panics[0].stage, "parse");
    assert_eq!(panics[0].message, "poison");
    drop(rig.batches); // the source finishes, then parse (transient: for good), then out
    assert!(rig.pipeline.wait_finished(WAIT));
    let report = rig.pipeline.stop(WAIT);
    let parse = report.stage("parse").expect("stage parse");
    assert_eq!(
        (parse.restarts, &parse.outcome),
        (1, &StageOutcome::Finished)
    );
    let raw = report.channel("raw").expect("channel raw");
    // 4 + poison + 8 + 2 written; the 4 overwritten while parse was down are
    // reported as lost, like any loss of a lossy queue.
    assert_eq!((raw.written, raw.lost), (15, 4));
    let parsed = report.channel("parsed").expect("channel parsed");
    assert_eq!((parsed.written, parsed.lost), (10, 0));
    // A stage that came back is not a failure of the pipeline.
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(report.gave_up, None);
}

#[test]
fn a_temporary_stage_is_not_restarted() {
    let rig = Rig::new(StageRestart::temporary(), |_| {
        panic!("a temporary stage is never made again")
    });
    rig.write(vec![1, 2]);
    assert_eq!(recv_n(&rig.out, 2), [1, 2]);
    rig.write(vec![POISON]);
    // Its output closes with it: the sink drains it and finishes.
    let deadline = std::time::Instant::now() + WAIT;
    while rig.pipeline.stages()[2].outcome != StageOutcome::Finished {
        assert!(std::time::Instant::now() < deadline, "out did not finish");
        std::thread::yield_now();
    }
    // The other stages go on: the source still writes.
    rig.write(vec![3]);
    assert_eq!(rig.made.load(SeqCst), 1);
    let report = rig.pipeline.stop(WAIT);
    let parse = report.stage("parse").expect("stage parse");
    assert_eq!(parse.restarts, 0);
    assert_eq!(parse.outcome, StageOutcome::Panicked("poison".into()));
    assert_eq!(
        report.stage("feed").map(|s| &s.outcome),
        Some(&StageOutcome::Stopped)
    );
    assert_eq!(report.gave_up, None);
    assert!(!report.is_clean());
}

#[test]
fn an_exhausted_budget_stops_the_pipeline_with_a_report() {
    let rig = Rig::new(
        StageRestart::transient().max_restarts(3, Duration::from_secs(5)),
        |_| {},
    );
    rig.write(vec![1]);
    assert_eq!(recv(&rig.out), 1);
    // Four failures in a row, well within 5 s: three restarts, then the
    // fourth would exceed the budget.
    rig.write(vec![POISON; 4]);
    assert!(
        rig.pipeline.wait_finished(WAIT),
        "the pipeline did not give up"
    );
    let expected = RestartsExhausted {
        stage: "parse".into(),
        max_restarts: 3,
        within: Duration::from_secs(5),
        last_exit: "failed: panic: poison".into(),
    };
    assert_eq!(rig.pipeline.gave_up().as_ref(), Some(&expected));
    assert_eq!(rig.made.load(SeqCst), 4);
    // The pipeline stopped its threads by itself; stopping it now only
    // collects them and the report.
    let report = rig.pipeline.stop(WAIT);
    assert!(report.unstopped_threads.is_empty());
    assert_eq!(report.gave_up.as_ref(), Some(&expected));
    let parse = report.stage("parse").expect("stage parse");
    assert_eq!(parse.restarts, 3);
    assert_eq!(parse.outcome, StageOutcome::Panicked("poison".into()));
    assert_eq!(
        report.stage("feed").map(|s| &s.outcome),
        Some(&StageOutcome::Stopped)
    );
    // `out` may have seen its input close (parse is gone) before the stop.
    let out = report.stage("out").map(|s| s.outcome.clone());
    assert!(
        matches!(out, Some(StageOutcome::Stopped | StageOutcome::Finished)),
        "{out:?}"
    );
    let error = report.into_result().expect_err("not clean");
    assert_eq!(error.gave_up, Some(expected.clone()));
    assert!(error.to_string().contains(&expected.to_string()), "{error}");
    // The source was dropped with the others.
    assert!(rig.batches.send(vec![2]).is_err());
}

#[test]
fn a_stage_in_its_backoff_is_out_of_the_rounds_and_does_not_delay_a_stop() {
    // An hour of backoff: the stage stays down for the whole test.
    let restart = StageRestart::transient().with_backoff(Backoff::fixed(Duration::from_secs(3600)));
    let rig = Rig::new(restart, |_| panic!("not restarted within the test"));
    rig.write(vec![1]);
    assert_eq!(recv(&rig.out), 1);
    rig.write(vec![POISON]);
    let deadline = std::time::Instant::now() + WAIT;
    while rig.pipeline.stages()[1].outcome != StageOutcome::Restarting {
        assert!(
            std::time::Instant::now() < deadline,
            "parse is not restarting"
        );
        std::thread::yield_now();
    }
    // Its thread still runs the sink: `out` is on thread 0, parse on 1; the
    // source goes on too.
    rig.write(vec![2, 3]);
    let started = std::time::Instant::now();
    let report = rig.pipeline.stop(WAIT);
    assert!(started.elapsed() < WAIT);
    assert!(report.unstopped_threads.is_empty());
    let parse = report.stage("parse").expect("stage parse");
    assert_eq!(
        (parse.restarts, &parse.outcome),
        (0, &StageOutcome::Stopped)
    );
    assert_eq!(rig.made.load(SeqCst), 1);
}

#[test]
fn a_stage_comes_back_after_its_backoff() {
    let restart = StageRestart::transient().with_backoff(Backoff::fixed(Duration::from_millis(20)));
    let rig = Rig::new(restart, |_| {});
    rig.write(vec![POISON]);
    rig.write(vec![7]);
    // Read by the second incarnation, once its delay has passed.
    assert_eq!(recv(&rig.out), 7);
    assert_eq!(rig.made.load(SeqCst), 2);
    let report = rig.pipeline.stop(WAIT);
    assert_eq!(report.stage("parse").map(|s| s.restarts), Some(1));
}

#[test]
fn a_factory_that_panics_at_build_is_a_build_error() {
    let mut builder = PipelineBuilder::new("bad-factory");
    let raw = builder.channel::<u64>("raw", 4);
    builder
        .add("feed", Rule::Loop)
        .source(raw, |_: &mut Writer<u64>| Flow::Done);
    builder
        .add("sink", Rule::OnMessage)
        .restartable(StageRestart::permanent())
        .sink(raw, || -> fn(&mut Reader<u64>) -> Flow {
            panic!("cannot connect")
        });
    let error = builder.build().expect_err("the factory panicked");
    assert_eq!(
        error.wiring(),
        [troupe_pipeline::WiringError::StagePanicked {
            stage: "sink".into(),
            message: "cannot connect".into()
        }]
    );
}
