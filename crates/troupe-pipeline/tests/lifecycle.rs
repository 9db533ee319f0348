//! Wiring errors, loss counting, clean stop, panic reporting, unstopped threads.
#![cfg(not(loom))]

mod common;

use std::sync::mpsc;
use std::time::Duration;

use common::{collect, emit, recv, WAIT};
use troupe_pipeline::{
    BuildError, Flow, PipelineBuilder, Reader, Rule, StageOutcome, StagePanic, WiringError, Writer,
};

fn nop_sink() -> impl FnMut(&mut Reader<u32>) -> Flow + Send + 'static {
    |_: &mut Reader<u32>| Flow::Continue
}

fn nop_source() -> impl FnMut(&mut Writer<u32>) -> Flow + Send + 'static {
    |_: &mut Writer<u32>| Flow::Continue
}

fn wiring_errors(b: PipelineBuilder) -> Vec<WiringError> {
    match b.build() {
        Err(BuildError::Wiring(errors)) => errors,
        Err(other) => panic!("unexpected error {other}"),
        Ok(_) => panic!("a miswired pipeline was built"),
    }
}

#[test]
fn channel_without_writer_or_reader_is_an_error() {
    let mut b = PipelineBuilder::new("w");
    let unread = b.channel::<u32>("unread", 4);
    let unwritten = b.channel::<u32>("unwritten", 4);
    b.add("source", Rule::Loop).source(unread, nop_source());
    b.add("sink", Rule::OnMessage).sink(unwritten, nop_sink());
    let errors = wiring_errors(b);
    assert_eq!(
        errors,
        [
            WiringError::NoReader {
                channel: "unread".into()
            },
            WiringError::NoWriter {
                channel: "unwritten".into()
            },
        ]
    );
}

#[test]
fn channel_used_twice_is_an_error() {
    let mut b = PipelineBuilder::new("w");
    let ch = b.channel::<u32>("shared", 4);
    b.add("a", Rule::Loop).source(ch, nop_source());
    b.add("b", Rule::Loop).source(ch, nop_source());
    b.add("c", Rule::OnMessage).sink(ch, nop_sink());
    b.add("d", Rule::OnMessage).sink(ch, nop_sink());
    let errors = wiring_errors(b);
    assert_eq!(
        errors,
        [
            WiringError::SeveralWriters {
                channel: "shared".into(),
                stages: vec!["a".into(), "b".into()],
            },
            WiringError::SeveralReaders {
                channel: "shared".into(),
                stages: vec!["c".into(), "d".into()],
            },
        ]
    );
    // One stage reading the same channel twice is the same mistake.
    let mut b = PipelineBuilder::new("w");
    let ch = b.channel::<u32>("twice", 4);
    let out = b.channel::<u32>("out", 4);
    b.add("a", Rule::Loop).source(ch, nop_source());
    b.add("g", Rule::OnMessage).gather(
        &[ch, ch],
        out,
        |_: &mut [Reader<u32>], _: &mut Writer<u32>| Flow::Continue,
    );
    b.add("s", Rule::OnMessage).sink(out, nop_sink());
    assert!(matches!(
        wiring_errors(b).as_slice(),
        [WiringError::SeveralReaders { channel, .. }] if channel == "twice"
    ));
}

#[test]
fn other_wiring_mistakes_are_all_reported() {
    let mut other = PipelineBuilder::new("other");
    let foreign = other.channel::<u32>("foreign", 4);
    let mut b = PipelineBuilder::new("w").threads(2);
    let zero = b.channel::<u32>("zero", 0);
    let ch = b.channel::<u32>("ch", 4);
    b.add("dup", Rule::OnMessage).source(ch, nop_source());
    b.add("dup", Rule::Periodic(Duration::ZERO))
        .on_thread(5)
        .sink(ch, nop_sink());
    b.add("foreign", Rule::OnMessage).sink(foreign, nop_sink());
    b.add("scatter", Rule::Loop).scatter(
        zero,
        &[],
        |_: &mut Reader<u32>, _: &mut [Writer<u32>]| Flow::Continue,
    );
    let errors = wiring_errors(b);
    let expect = [
        WiringError::NoEndpoints {
            stage: "scatter".into(),
            side: "outputs",
        },
        WiringError::DuplicateStage {
            stage: "dup".into(),
        },
        WiringError::OnMessageWithoutInput {
            stage: "dup".into(),
        },
        WiringError::ZeroPeriod {
            stage: "dup".into(),
        },
        WiringError::NoSuchThread {
            stage: "dup".into(),
            thread: 5,
            threads: 2,
        },
        WiringError::ForeignChannel {
            stage: "foreign".into(),
        },
        WiringError::NoWriter {
            channel: "zero".into(),
        },
    ];
    for e in &expect {
        assert!(errors.contains(e), "missing {e:?} in {errors:?}");
    }
    assert!(errors
        .iter()
        .any(|e| matches!(e, WiringError::Queue { channel, .. } if channel == "zero")));
    // The message lists them all.
    let message = BuildError::Wiring(errors).to_string();
    assert!(message.contains("two stages are named `dup`"), "{message}");

    let b = PipelineBuilder::new("none").threads(0);
    assert_eq!(wiring_errors(b), [WiringError::NoThreads]);
}

#[test]
fn lagging_reader_is_told_how_much_it_lost() {
    let mut b = PipelineBuilder::new("loss");
    let ch = b.channel::<u32>("ch", 4);
    let (done_tx, done_rx) = mpsc::channel();
    // Writes 10 items at once into a queue of 4, then finishes.
    b.add("burst", Rule::Loop)
        .source(ch, move |out: &mut Writer<u32>| {
            for i in 0..10 {
                out.push(i);
            }
            let _ = done_tx.send(());
            Flow::Done
        });
    // Runs only when told to, i.e. after the burst.
    let (tx, rx) = mpsc::channel();
    let sink = b
        .add("late", Rule::OnExternalEvent)
        .sink(ch, move |input: &mut Reader<u32>| {
            let mut buf = Vec::new();
            let stats = input.read_into(&mut buf, usize::MAX);
            let _ = tx.send((buf, stats.lost, input.lost()));
            Flow::Done
        });
    let notifier = b.notifier(sink).unwrap();
    let pipeline = b.build().unwrap();
    recv(&done_rx);
    notifier.notify();
    let (items, lost, lost_total) = recv(&rx);
    assert_eq!(items, [6, 7, 8, 9], "the newest items are kept");
    assert_eq!((lost, lost_total), (6, 6));
    assert!(pipeline.wait_finished(WAIT));
    let report = pipeline.stop(WAIT);
    let channel = report.channel("ch").unwrap();
    assert_eq!((channel.written, channel.lost), (10, 6));
}

#[test]
fn stop_joins_threads_and_reports_every_stage() {
    let mut b = PipelineBuilder::new("endless").threads(2);
    let ch = b.channel::<u64>("ch", 16);
    let (tx, rx) = mpsc::channel();
    let mut n = 0;
    b.add("source", Rule::Loop)
        .source(ch, move |out: &mut Writer<u64>| {
            n += 1;
            out.push(n);
            Flow::Continue
        });
    let mut seen = 0;
    b.add("sink", Rule::OnMessage)
        .sink(ch, move |input: &mut Reader<u64>| {
            seen += input.drain().count();
            if seen >= 1000 {
                let _ = tx.send(());
            }
            Flow::Continue
        });
    let pipeline = b.build().unwrap();
    recv(&rx);
    assert!(!pipeline.wait_finished(Duration::from_millis(1)));
    let report = pipeline.stop(WAIT);
    assert!(report.is_clean(), "{report:?}");
    assert!(report.unstopped_threads.is_empty());
    for stage in &report.stages {
        assert_eq!(stage.outcome, StageOutcome::Stopped, "{stage:?}");
        assert!(stage.runs > 0);
    }
    assert!(report.into_result().is_ok());
}

#[test]
fn panicking_stage_is_reported_and_its_thread_goes_on() {
    let mut b = PipelineBuilder::new("panics");
    let ch = b.channel::<u32>("ch", 16);
    let out = b.channel::<u32>("out", 16);
    b.add("source", Rule::Loop)
        .source(ch, emit((0..10).collect()));
    b.add("fragile", Rule::OnMessage).filter(
        ch,
        out,
        |input: &mut Reader<u32>, out: &mut Writer<u32>| {
            for n in input.drain() {
                assert!(n != 3, "boom at {n}");
                out.push(n);
            }
            Flow::Continue
        },
    );
    // Downstream of the panicked stage: its input closes, so it finishes.
    let (tx, rx) = mpsc::channel();
    b.add("after", Rule::OnMessage).sink(out, collect(tx));
    // Another stage on the same (only) thread keeps running afterwards.
    let ticks = b.channel::<()>("ticks", 1);
    let (tick_tx, tick_rx) = mpsc::channel();
    b.add("tick", Rule::Periodic(Duration::from_millis(1)))
        .source(ticks, move |_: &mut Writer<()>| {
            let _ = tick_tx.send(());
            Flow::Continue
        });
    b.add("ticks", Rule::OnMessage)
        .sink(ticks, |_: &mut Reader<()>| Flow::Continue);
    let pipeline = b.build().unwrap();
    let before_panic = recv(&rx);
    assert!(before_panic.len() <= 3 && before_panic.iter().all(|n| *n < 3));
    let panics = pipeline.panics();
    assert_eq!(
        panics,
        [StagePanic {
            stage: "fragile".into(),
            message: "boom at 3".into()
        }]
    );
    // The thread survived: the periodic stage keeps ticking.
    while tick_rx.try_recv().is_ok() {}
    for _ in 0..3 {
        recv(&tick_rx);
    }
    let report = pipeline.stop(WAIT);
    assert_eq!(
        report.stage("fragile").map(|s| s.outcome.clone()),
        Some(StageOutcome::Panicked("boom at 3".into()))
    );
    assert_eq!(
        report.stage("after").map(|s| s.outcome.clone()),
        Some(StageOutcome::Finished)
    );
    let error = report.into_result().unwrap_err();
    assert_eq!(error.panics.len(), 1);
    assert!(error.to_string().contains("1 stage(s) panicked"), "{error}");
}

#[test]
fn a_thread_that_does_not_stop_is_reported() {
    // A stage that breaks the rules and blocks its thread.
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let (started_tx, started_rx) = mpsc::channel();
    let mut b = PipelineBuilder::new("stuck").threads(2);
    let ch = b.channel::<u32>("ch", 4);
    b.add("blocker", Rule::Loop)
        .on_thread(1)
        .source(ch, move |_: &mut Writer<u32>| {
            let _ = started_tx.send(());
            let _ = release_rx.recv_timeout(WAIT * 2);
            Flow::Done
        });
    b.add("sink", Rule::OnMessage)
        .on_thread(0)
        .sink(ch, nop_sink());
    let pipeline = b.build().unwrap();
    recv(&started_rx);
    let report = pipeline.stop(Duration::from_millis(100));
    assert_eq!(report.unstopped_threads, ["stuck#1"]);
    assert_eq!(
        report.stage("blocker").map(|s| s.outcome.clone()),
        Some(StageOutcome::Running)
    );
    assert_eq!(
        report.stage("sink").map(|s| s.outcome.clone()),
        Some(StageOutcome::Stopped)
    );
    let error = report.into_result().unwrap_err();
    assert_eq!(error.unstopped_threads, ["stuck#1"]);
    // Let the detached thread end.
    let _ = release_tx.send(());
}

#[test]
fn dropping_a_pipeline_stops_it() {
    let mut b = PipelineBuilder::new("dropped");
    let ch = b.channel::<u32>("ch", 4);
    let (tx, rx) = mpsc::channel::<()>();
    b.add("source", Rule::Loop).source(ch, nop_source());
    b.add("sink", Rule::OnMessage)
        .sink(ch, move |_: &mut Reader<u32>| {
            let _keep = &tx; // dropped with the stage
            Flow::Continue
        });
    drop(b.build().unwrap());
    // The stage (and its sender) was dropped when its thread stopped.
    assert_eq!(
        rx.recv_timeout(WAIT),
        Err(mpsc::RecvTimeoutError::Disconnected)
    );
}
