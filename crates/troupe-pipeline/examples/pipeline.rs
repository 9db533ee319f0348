//! source → filter → scatter → two sinks, on two scheduler threads.
//!
//! The source emits the numbers 1..=1000 (waiting for room, so nothing is
//! lost), the filter keeps the multiples of 3, the scatter sends even ones to
//! one sink and odd ones to the other. When the source is done, the end of the
//! stream flows down the pipeline, every stage finishes, and the example
//! prints the stop report (runs and restarts per stage, items written and
//! lost per channel) and exits.
//!
//! The filter fails once: its first incarnation panics on 501 (standing in
//! for a lost connection). It is restartable (transient, troupe's default
//! budget of 3 restarts in 5 s, 20 ms of backoff), so a fresh one is made from
//! its factory on its thread and goes on where the queue stands; the other
//! stages never stop. 501 is lost with the incarnation that failed on it, so
//! the odd sum is 501 short.
//!
//! Run with `cargo run -p troupe-pipeline --features supervision --example pipeline`.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use troupe::supervision::Backoff;
use troupe_pipeline::{Flow, PipelineBuilder, Reader, Rule, StageRestart, Writer};

const COUNT: u64 = 1000;
/// The number the filter's first incarnation fails on.
const FAULT: u64 = 501;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // One line per panic (the scheduler catches it and reports it too).
    std::panic::set_hook(Box::new(|info| {
        let thread = std::thread::current();
        println!("[{}] panicked: {info}", thread.name().unwrap_or("?"));
    }));
    let mut builder = PipelineBuilder::new("pipeline").threads(2);
    let numbers = builder.channel::<u64>("numbers", 32);
    let multiples = builder.channel::<u64>("multiples", 32);
    let evens = builder.channel::<u64>("evens", 32);
    let odds = builder.channel::<u64>("odds", 32);

    let mut next = 1;
    builder
        .add("count", Rule::Loop)
        .source(numbers, move |out: &mut Writer<u64>| {
            while next <= COUNT && !out.is_full() {
                out.push(next);
                next += 1;
            }
            if next > COUNT {
                println!("[count] emitted {COUNT} numbers, done");
                Flow::Done
            } else {
                Flow::Continue
            }
        });

    let incarnations = Arc::new(AtomicU32::new(0));
    let restart = StageRestart::transient().with_backoff(Backoff::fixed(Duration::from_millis(20)));
    builder
        .add("multiples-of-3", Rule::OnMessage)
        .restartable(restart)
        .filter(numbers, multiples, move || {
            // Called when the pipeline is built, then on each restart.
            let incarnation = incarnations.fetch_add(1, Ordering::Relaxed) + 1;
            println!("[multiples-of-3] incarnation #{incarnation} starts");
            move |input: &mut Reader<u64>, out: &mut Writer<u64>| {
                while !out.is_full() {
                    let Some(n) = input.pop() else { break };
                    if n == FAULT && incarnation == 1 {
                        panic!("lost the connection at {n}");
                    }
                    if n % 3 == 0 {
                        out.push(n);
                    }
                }
                if input.is_closed() {
                    println!("[multiples-of-3] input closed, done");
                    Flow::Done
                } else {
                    Flow::Continue
                }
            }
        });

    builder.add("even-odd", Rule::OnMessage).scatter(
        multiples,
        &[evens, odds],
        |input: &mut Reader<u64>, outs: &mut [Writer<u64>]| {
            while outs.iter().all(|out| !out.is_full()) {
                let Some(n) = input.pop() else { break };
                outs[(n % 2) as usize].push(n);
            }
            if input.is_closed() {
                println!("[even-odd] input closed, done");
                Flow::Done
            } else {
                Flow::Continue
            }
        },
    );

    for (name, channel) in [("evens", evens), ("odds", odds)] {
        let (mut count, mut sum) = (0u64, 0u64);
        builder
            .add(name, Rule::OnMessage)
            .sink(channel, move |input: &mut Reader<u64>| {
                for n in input.drain() {
                    count += 1;
                    sum += n;
                }
                if input.is_closed() {
                    println!(
                        "[{name}] {count} numbers, sum {sum}, lost {} (on {})",
                        input.lost(),
                        std::thread::current().name().unwrap_or("?")
                    );
                    Flow::Done
                } else {
                    Flow::Continue
                }
            });
    }

    let pipeline = builder.build()?;
    println!("started {:?}", pipeline.thread_names());
    if !pipeline.wait_finished(Duration::from_secs(10)) {
        eprintln!("the pipeline did not finish within 10 s");
    }
    let pipeline_panics = pipeline.panics();
    let report = pipeline.stop(Duration::from_secs(5));
    for stage in &report.stages {
        println!(
            "stage {:<15} thread #{} runs {:>5} restarts {}  {:?}",
            stage.name, stage.thread, stage.runs, stage.restarts, stage.outcome
        );
    }
    for channel in &report.channels {
        println!(
            "channel {:<10} written {:>5} lost {}",
            channel.name, channel.written, channel.lost
        );
    }
    for panic in pipeline_panics {
        println!("recovered from: {panic}");
    }
    report.into_result()?;
    Ok(())
}
