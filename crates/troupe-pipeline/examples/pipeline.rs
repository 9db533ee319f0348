//! source → filter → scatter → two sinks, on two scheduler threads.
//!
//! The source emits the numbers 1..=1000 (waiting for room, so nothing is
//! lost), the filter keeps the multiples of 3, the scatter sends even ones to
//! one sink and odd ones to the other. When the source is done, the end of the
//! stream flows down the pipeline, every stage finishes, and the example
//! prints the stop report (runs per stage, items written and lost per
//! channel) and exits.
//!
//! Run with `cargo run -p troupe-pipeline --example pipeline`.

use std::time::Duration;

use troupe_pipeline::{Flow, PipelineBuilder, Reader, Rule, Writer};

const COUNT: u64 = 1000;

fn main() -> Result<(), Box<dyn std::error::Error>> {
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

    builder.add("multiples-of-3", Rule::OnMessage).filter(
        numbers,
        multiples,
        |input: &mut Reader<u64>, out: &mut Writer<u64>| {
            while !out.is_full() {
                let Some(n) = input.pop() else { break };
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
        },
    );

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
    let report = pipeline.stop(Duration::from_secs(5));
    for stage in &report.stages {
        println!(
            "stage {:<15} thread #{} runs {:>5}  {:?}",
            stage.name, stage.thread, stage.runs, stage.outcome
        );
    }
    for channel in &report.channels {
        println!(
            "channel {:<10} written {:>5} lost {}",
            channel.name, channel.written, channel.lost
        );
    }
    report.into_result()?;
    Ok(())
}
