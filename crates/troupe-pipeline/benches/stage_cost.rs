//! What a restartable stage costs when it never fails, counted in
//! instructions: run under valgrind's callgrind by
//! `scripts/callgrind-pipeline.sh`, which diffs two item counts so that
//! start-up and shutdown drop out.
//!
//! One scheduler thread runs a 3-stage pipeline, source (`Loop`, waits for
//! room: no loss) → filter (`OnMessage`) → sink (`OnMessage`), over `items`
//! items. With a single thread and a `Loop` stage the thread never parks, so
//! the instruction count depends on the item count, not on timing.
//!
//! `stage_cost plain|restartable ITEMS`; with no arguments (as `cargo bench`
//! runs it) it runs both once and prints their wall-clock times, which on a
//! shared machine are for a smoke test only.

use std::time::{Duration, Instant};

use troupe_pipeline::{Flow, PipelineBuilder, Reader, Rule, StageRestart, Writer};

const CAPACITY: usize = 256;
const WAIT: Duration = Duration::from_secs(120);

fn run(restartable: bool, items: u64) -> u64 {
    let mut b = PipelineBuilder::new("cost").threads(1);
    let raw = b.channel::<u64>("raw", CAPACITY);
    let cooked = b.channel::<u64>("cooked", CAPACITY);
    let mut next = 0;
    b.add("source", Rule::Loop)
        .source(raw, move |out: &mut Writer<u64>| {
            while next < items && !out.is_full() {
                out.push(next);
                next += 1;
            }
            if next == items {
                Flow::Done
            } else {
                Flow::Continue
            }
        });
    let filter = |input: &mut Reader<u64>, out: &mut Writer<u64>| {
        while !out.is_full() {
            let Some(n) = input.pop() else { break };
            out.push(n.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(7));
        }
        if input.is_closed() {
            Flow::Done
        } else {
            Flow::Continue
        }
    };
    let (tx, rx) = std::sync::mpsc::channel();
    let mut sum = 0u64;
    let sink = move |input: &mut Reader<u64>| {
        for n in input.drain() {
            sum = sum.wrapping_add(n);
        }
        if input.is_closed() {
            let _ = tx.send(sum);
            Flow::Done
        } else {
            Flow::Continue
        }
    };
    if restartable {
        let restart = StageRestart::transient();
        b.add("filter", Rule::OnMessage)
            .restartable(restart)
            .filter(raw, cooked, move || filter);
        let mut sink = Some(sink);
        b.add("sink", Rule::OnMessage)
            .restartable(restart)
            .sink(cooked, move || sink.take().expect("never restarted"));
    } else {
        b.add("filter", Rule::OnMessage).filter(raw, cooked, filter);
        b.add("sink", Rule::OnMessage).sink(cooked, sink);
    }
    let pipeline = b.build().expect("wiring");
    let sum = rx.recv_timeout(WAIT).expect("the pipeline finished");
    let report = pipeline.stop(WAIT);
    assert!(report.is_clean(), "{report:?}");
    sum
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match (args.first().map(String::as_str), args.get(1)) {
        (Some(kind @ ("plain" | "restartable")), Some(items)) => {
            let items = items.parse().expect("ITEMS is a number");
            std::hint::black_box(run(kind == "restartable", items));
        }
        _ => {
            for (name, restartable) in [("plain", false), ("restartable", true)] {
                let started = Instant::now();
                std::hint::black_box(run(restartable, 200_000));
                println!("{name:<12} 200000 items in {:?}", started.elapsed());
            }
        }
    }
}
