//! Each stage kind, wired in a small pipeline that ends by itself.
#![cfg(not(loom))]

mod common;

use std::sync::mpsc;

use common::{collect, emit, recv, WAIT};
use troupe_pipeline::{Flow, PipelineBuilder, Reader, Rule, Writer};

#[test]
fn source_filter_sink() {
    let mut b = PipelineBuilder::new("sfs").threads(2);
    let input = b.channel::<u64>("in", 4);
    let output = b.channel::<u64>("out", 4);
    b.add("source", Rule::Loop)
        .source(input, emit((0..100).collect()));
    b.add("double", Rule::OnMessage).filter(
        input,
        output,
        |input: &mut Reader<u64>, out: &mut Writer<u64>| {
            while !out.is_full() {
                let Some(n) = input.pop() else { break };
                out.push(n * 2);
            }
            if input.is_closed() {
                Flow::Done
            } else {
                Flow::Continue
            }
        },
    );
    let (tx, rx) = mpsc::channel();
    b.add("sink", Rule::OnMessage).sink(output, collect(tx));
    let pipeline = b.build().unwrap();
    assert_eq!(recv(&rx), (0..100).map(|n| n * 2).collect::<Vec<_>>());
    assert!(pipeline.wait_finished(WAIT));
    let report = pipeline.stop(WAIT);
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(
        report.channel("in").map(|c| (c.written, c.lost)),
        Some((100, 0))
    );
}

#[test]
fn scatter_round_robin_to_three_sinks() {
    let mut b = PipelineBuilder::new("scatter").threads(2);
    let input = b.channel::<u32>("in", 8);
    let outs = [
        b.channel::<u32>("out0", 64),
        b.channel::<u32>("out1", 64),
        b.channel::<u32>("out2", 64),
    ];
    b.add("source", Rule::Loop)
        .source(input, emit((0..30).collect()));
    let mut next = 0;
    b.add("scatter", Rule::OnMessage).scatter(
        input,
        &outs,
        move |input: &mut Reader<u32>, outs: &mut [Writer<u32>]| {
            for item in input.drain() {
                outs[next % outs.len()].push(item);
                next += 1;
            }
            if input.is_closed() {
                Flow::Done
            } else {
                Flow::Continue
            }
        },
    );
    let mut receivers = Vec::new();
    for (i, out) in outs.into_iter().enumerate() {
        let (tx, rx) = mpsc::channel();
        b.add(&format!("sink{i}"), Rule::OnMessage)
            .sink(out, collect(tx));
        receivers.push(rx);
    }
    let pipeline = b.build().unwrap();
    for (i, rx) in receivers.iter().enumerate() {
        let expected: Vec<u32> = (0..30).filter(|n| *n as usize % 3 == i).collect();
        assert_eq!(recv(rx), expected);
    }
    assert!(pipeline.stop(WAIT).is_clean());
}

#[test]
fn gather_from_two_sources() {
    let mut b = PipelineBuilder::new("gather").threads(2);
    let a = b.channel::<u32>("a", 4);
    let c = b.channel::<u32>("c", 4);
    let out = b.channel::<u32>("out", 4);
    b.add("evens", Rule::Loop)
        .source(a, emit((0..50).map(|n| n * 2).collect()));
    b.add("odds", Rule::Loop)
        .source(c, emit((0..50).map(|n| n * 2 + 1).collect()));
    b.add("gather", Rule::OnMessage).gather(
        &[a, c],
        out,
        |inputs: &mut [Reader<u32>], out: &mut Writer<u32>| {
            for input in inputs.iter_mut() {
                while !out.is_full() {
                    let Some(n) = input.pop() else { break };
                    out.push(n);
                }
            }
            if inputs.iter().all(Reader::is_closed) {
                Flow::Done
            } else {
                Flow::Continue
            }
        },
    );
    let (tx, rx) = mpsc::channel();
    b.add("sink", Rule::OnMessage).sink(out, collect(tx));
    let pipeline = b.build().unwrap();
    let mut got = recv(&rx);
    got.sort_unstable();
    assert_eq!(got, (0..100).collect::<Vec<_>>());
    assert!(pipeline.stop(WAIT).is_clean());
}

#[test]
fn split_into_two_types_and_merge_back() {
    let mut b = PipelineBuilder::new("split-merge").threads(3);
    let input = b.channel::<u32>("in", 8);
    let evens = b.channel::<u32>("evens", 64);
    let odds = b.channel::<String>("odds", 64);
    let out = b.channel::<String>("out", 128);
    b.add("source", Rule::Loop)
        .source(input, emit((0..20).collect()));
    b.add("split", Rule::OnMessage).split(
        input,
        evens,
        odds,
        |input: &mut Reader<u32>, evens: &mut Writer<u32>, odds: &mut Writer<String>| {
            for n in input.drain() {
                if n % 2 == 0 {
                    evens.push(n);
                } else {
                    odds.push(format!("odd {n}"));
                }
            }
            if input.is_closed() {
                Flow::Done
            } else {
                Flow::Continue
            }
        },
    );
    b.add("merge", Rule::OnMessage).merge(
        evens,
        odds,
        out,
        |evens: &mut Reader<u32>, odds: &mut Reader<String>, out: &mut Writer<String>| {
            for n in evens.drain() {
                out.push(format!("even {n}"));
            }
            for s in odds.drain() {
                out.push(s);
            }
            if evens.is_closed() && odds.is_closed() {
                Flow::Done
            } else {
                Flow::Continue
            }
        },
    );
    let (tx, rx) = mpsc::channel();
    b.add("sink", Rule::OnMessage).sink(out, collect(tx));
    let pipeline = b.build().unwrap();
    let got = recv(&rx);
    assert_eq!(got.len(), 20);
    let evens: Vec<_> = got.iter().filter(|s| s.starts_with("even")).collect();
    let odds: Vec<_> = got.iter().filter(|s| s.starts_with("odd")).collect();
    assert_eq!(evens.len(), 10);
    assert_eq!(odds.len(), 10);
    // Each side keeps its order.
    assert_eq!(evens[0], "even 0");
    assert_eq!(evens[9], "even 18");
    assert_eq!(odds[9], "odd 19");
    assert!(pipeline.wait_finished(WAIT));
    assert!(pipeline.stop(WAIT).is_clean());
}

/// A stage can be a struct with state, not only a closure.
struct Running {
    total: u64,
    tx: mpsc::Sender<u64>,
}

impl troupe_pipeline::Sink<u64> for Running {
    fn process(&mut self, input: &mut Reader<u64>) -> Flow {
        self.total += input.drain().sum::<u64>();
        if input.is_closed() {
            let _ = self.tx.send(self.total);
            return Flow::Done;
        }
        Flow::Continue
    }
}

#[test]
fn struct_stage() {
    let mut b = PipelineBuilder::new("struct");
    let ch = b.channel::<u64>("ch", 4);
    b.add("source", Rule::Loop)
        .source(ch, emit((1..=10).collect()));
    let (tx, rx) = mpsc::channel();
    b.add("sum", Rule::OnMessage)
        .sink(ch, Running { total: 0, tx });
    let pipeline = b.build().unwrap();
    assert_eq!(recv(&rx), 55);
    assert!(pipeline.stop(WAIT).is_clean());
}
