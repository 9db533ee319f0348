//! Each scheduling rule, with bounded waits on channels (no sleep-and-hope).
#![cfg(not(loom))]

mod common;

use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{recv, WAIT};
use troupe_pipeline::{Flow, PipelineBuilder, Reader, Rule, StageOutcome, Writer};

fn runs_of(pipeline: &troupe_pipeline::Pipeline, stage: &str) -> u64 {
    pipeline
        .stages()
        .into_iter()
        .find(|s| s.name == stage)
        .map(|s| s.runs)
        .expect("stage exists")
}

#[test]
fn loop_runs_as_often_as_possible() {
    let mut b = PipelineBuilder::new("loop");
    let ch = b.channel::<u64>("ch", 1);
    let (tx, rx) = mpsc::channel();
    let mut runs = 0u64;
    b.add("spin", Rule::Loop)
        .source(ch, move |_: &mut Writer<u64>| {
            runs += 1;
            if runs == 10_000 {
                let _ = tx.send(runs);
                return Flow::Done;
            }
            Flow::Continue
        });
    b.add("idle", Rule::OnMessage)
        .sink(ch, |input: &mut Reader<u64>| {
            if input.is_closed() {
                Flow::Done
            } else {
                Flow::Continue
            }
        });
    let pipeline = b.build().unwrap();
    assert_eq!(recv(&rx), 10_000);
    assert!(pipeline.wait_finished(WAIT));
    let report = pipeline.stop(WAIT);
    assert_eq!(report.stage("spin").map(|s| s.runs), Some(10_000));
    assert_eq!(
        report.stage("spin").map(|s| s.outcome.clone()),
        Some(StageOutcome::Finished)
    );
}

#[test]
fn on_message_runs_only_when_data_arrives() {
    let mut b = PipelineBuilder::new("on-message").threads(2);
    let ch = b.channel::<u32>("ch", 16);
    // The source pushes one item per external event, so the test controls
    // exactly when data arrives.
    let mut n = 0;
    let source = b.add("source", Rule::OnExternalEvent).on_thread(0).source(
        ch,
        move |out: &mut Writer<u32>| {
            n += 1;
            out.push(n);
            Flow::Continue
        },
    );
    let notifier = b.notifier(source).unwrap();
    let (tx, rx) = mpsc::channel();
    b.add("sink", Rule::OnMessage)
        .on_thread(1)
        .sink(ch, move |input: &mut Reader<u32>| {
            for item in input.drain() {
                let _ = tx.send(item);
            }
            Flow::Continue
        });
    let pipeline = b.build().unwrap();
    // Nothing was written, so nothing woke the sink.
    assert_eq!(runs_of(&pipeline, "sink"), 0);
    for expected in 1..=3 {
        notifier.notify();
        assert_eq!(recv(&rx), expected);
    }
    // No busy polling: a run per wake-up (one per write, or a re-run when a
    // write landed during the previous run), none while idle.
    assert!(runs_of(&pipeline, "sink") <= 6);
    assert!(pipeline.stop(WAIT).is_clean());
}

#[test]
fn periodic_runs_every_period_and_never_early() {
    let period = Duration::from_millis(10);
    let mut b = PipelineBuilder::new("periodic");
    let ch = b.channel::<Instant>("ticks", 64);
    b.add("tick", Rule::Periodic(period))
        .source(ch, |out: &mut Writer<Instant>| {
            out.push(Instant::now());
            Flow::Continue
        });
    let (tx, rx) = mpsc::channel();
    b.add("sink", Rule::OnMessage)
        .sink(ch, move |input: &mut Reader<Instant>| {
            for t in input.drain() {
                let _ = tx.send(t);
            }
            Flow::Continue
        });
    let start = Instant::now();
    let pipeline = b.build().unwrap();
    let ticks: Vec<Instant> = (0..5).map(|_| recv(&rx)).collect();
    // First run one period after the start; runs never come early, so five
    // runs take at least five periods.
    assert!(ticks[0] >= start + period);
    assert!(ticks[4] - start >= period * 5);
    for pair in ticks.windows(2) {
        // Missed runs are skipped, never caught up in a burst: consecutive
        // runs are (nearly) a period apart; allow for timer granularity.
        assert!(pair[1] - pair[0] >= period / 2, "{:?}", pair[1] - pair[0]);
    }
    assert!(pipeline.stop(WAIT).is_clean());
}

#[test]
fn on_external_event_runs_once_per_notification_burst() {
    let mut b = PipelineBuilder::new("external");
    let ch = b.channel::<u32>("ch", 4);
    let (tx, rx) = mpsc::channel();
    let mut runs = 0;
    let stage = b
        .add("io", Rule::OnExternalEvent)
        .source(ch, move |_: &mut Writer<u32>| {
            runs += 1;
            let _ = tx.send(runs);
            Flow::Continue
        });
    b.add("sink", Rule::OnMessage)
        .sink(ch, |_: &mut Reader<u32>| Flow::Continue);
    // A periodic stage on the same thread, to show the thread keeps going.
    let ticks = b.channel::<()>("ticks", 1);
    let (tick_tx, tick_rx) = mpsc::channel();
    b.add("tick", Rule::Periodic(Duration::from_millis(1)))
        .source(ticks, move |_: &mut Writer<()>| {
            let _ = tick_tx.send(());
            Flow::Continue
        });
    b.add("ticks", Rule::OnMessage)
        .sink(ticks, |_: &mut Reader<()>| Flow::Continue);
    // A notification sent before the pipeline starts is kept.
    let notifier = b.notifier(stage).unwrap();
    notifier.notify();
    let pipeline = b.build().unwrap();
    assert_eq!(recv(&rx), 1);
    // A notifier can be cloned and used from any thread.
    let clone = pipeline.notifier(stage).unwrap();
    std::thread::spawn(move || clone.notify()).join().unwrap();
    assert_eq!(recv(&rx), 2);
    // No notification, no run: the periodic stage on the same thread runs
    // many rounds, yet the external stage stays put. (Ticks sent before the
    // run above finished its bookkeeping are dropped first.)
    while tick_rx.try_recv().is_ok() {}
    for _ in 0..10 {
        recv(&tick_rx);
    }
    assert_eq!(runs_of(&pipeline, "io"), 2);
    assert!(rx.try_recv().is_err());
    assert!(pipeline.stop(WAIT).is_clean());
}

#[test]
fn stage_left_with_unread_input_runs_again() {
    // An OnMessage stage that reads one item per run is run again until its
    // input is drained, without a new write to wake it.
    let mut b = PipelineBuilder::new("rerun");
    let ch = b.channel::<u32>("ch", 16);
    b.add("source", Rule::Loop)
        .source(ch, |out: &mut Writer<u32>| {
            for i in 0..10 {
                out.push(i);
            }
            Flow::Done
        });
    let (tx, rx) = mpsc::channel();
    b.add("one-at-a-time", Rule::OnMessage)
        .sink(ch, move |input: &mut Reader<u32>| {
            if let Some(item) = input.pop() {
                let _ = tx.send(item);
            }
            if input.is_closed() {
                Flow::Done
            } else {
                Flow::Continue
            }
        });
    let pipeline = b.build().unwrap();
    let got: Vec<u32> = (0..10).map(|_| recv(&rx)).collect();
    assert_eq!(got, (0..10).collect::<Vec<_>>());
    assert!(pipeline.wait_finished(WAIT));
    assert!(pipeline.stop(WAIT).is_clean());
}

#[test]
fn stages_run_on_named_threads() {
    let mut b = PipelineBuilder::new("pipeline").threads(2);
    let ch = b.channel::<String>("names", 4);
    let (tx, rx) = mpsc::channel();
    b.add("source", Rule::Loop)
        .on_thread(1)
        .source(ch, move |_: &mut Writer<String>| {
            let name = std::thread::current().name().map(str::to_owned);
            let _ = tx.send(name);
            Flow::Done
        });
    b.add("sink", Rule::OnMessage)
        .on_thread(0)
        .sink(ch, |_: &mut Reader<String>| Flow::Continue);
    let pipeline = b.build().unwrap();
    assert_eq!(pipeline.thread_names(), ["pipeline#0", "pipeline#1"]);
    assert_eq!(recv(&rx).as_deref(), Some("pipeline#1"));
    assert!(pipeline.stop(WAIT).is_clean());
}
