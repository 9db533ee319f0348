//! End-to-end latency and throughput of a 3-stage pipeline
//! (source → filter → sink), built four ways in one run:
//!
//! * troupe, filter and sink `OnMessage` (their thread sleeps when idle);
//! * troupe, filter and sink `Loop` (their thread spins: lowest latency);
//! * crossbeam-channel: one OS thread per stage, bounded channels;
//! * tokio mpsc: one task per stage on a 2-worker multi-thread runtime.
//!
//! Latency: the source sends one item every `PACE` (spinning until due, in all
//! four), stamped with `Instant::now()`; the sink records the age of each item.
//! Throughput: the source sends `items` as fast as the pipeline takes them
//! without loss (troupe's source waits for room, the others' sends wait), and
//! the clock stops when the sink has the last item. A last row shows troupe's
//! lossy mode: the source never waits, and the sink counts what it lost.
//!
//! With the feature `supervision`, the troupe rows are run a second time
//! with the filter and the sink declared restartable
//! (`StageRestart::transient()`, built from factories), to show what
//! supervision costs stages that never fail.
//!
//! `cargo bench -p troupe-pipeline --bench pipeline [--features supervision]`;
//! with `TROUPE_BENCH_QUICK=1` each runs once at a small size (seconds).

use std::sync::mpsc;
use std::time::{Duration, Instant};

use troupe_pipeline::{Channel, Flow, PipelineBuilder, Reader, Rule, Writer};

const CAPACITY: usize = 1024;
const PACE: Duration = Duration::from_micros(20);
const WAIT: Duration = Duration::from_secs(120);
/// Whether the troupe rows also run with restartable stages.
const SUPERVISED: bool = cfg!(feature = "supervision");

#[derive(Clone, Copy)]
struct Item {
    seq: u64,
    sent: Instant,
}

struct Config {
    latency_items: u64,
    throughput_items: u64,
    rounds: usize,
}

/// What one run measured: per-item latencies, or the total time and loss.
struct Run {
    latencies: Vec<Duration>,
    elapsed: Duration,
    /// How long the source took to write everything (troupe only).
    source_elapsed: Option<Duration>,
    received: u64,
    lost: u64,
}

fn transform(item: Item) -> Item {
    Item {
        seq: item.seq.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(7),
        sent: item.sent,
    }
}

// ---------------------------------------------------------------- troupe

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    /// Latency: paced source.
    Paced,
    /// Throughput without loss: the source waits for room.
    Lossless,
    /// Throughput, lossy: the source never waits.
    Lossy,
}

/// A factory for a stage that is never restarted here: declaring a stage
/// restartable needs one.
#[cfg(feature = "supervision")]
fn once<S: Send + 'static>(stage: S) -> impl FnMut() -> S + Send + 'static {
    let mut stage = Some(stage);
    move || stage.take().expect("the bench's stages never fail")
}

/// Adds the filter and the sink, restartable if `supervised`.
fn add_stage<'a>(b: &'a mut PipelineBuilder, name: &str, rule: Rule, supervised: bool) -> Spec<'a> {
    let spec = b.add(name, rule).on_thread(1);
    if supervised {
        #[cfg(feature = "supervision")]
        return Spec::Restartable(spec.restartable(troupe_pipeline::StageRestart::transient()));
    }
    Spec::Plain(spec)
}

enum Spec<'a> {
    Plain(troupe_pipeline::StageSpec<'a>),
    #[cfg(feature = "supervision")]
    Restartable(troupe_pipeline::RestartableSpec<'a>),
}

impl Spec<'_> {
    fn filter<F>(self, input: Channel<Item>, output: Channel<Item>, stage: F)
    where
        F: FnMut(&mut Reader<Item>, &mut Writer<Item>) -> Flow + Send + 'static,
    {
        match self {
            Spec::Plain(spec) => drop(spec.filter(input, output, stage)),
            #[cfg(feature = "supervision")]
            Spec::Restartable(spec) => drop(spec.filter(input, output, once(stage))),
        }
    }

    fn sink<F>(self, input: Channel<Item>, stage: F)
    where
        F: FnMut(&mut Reader<Item>) -> Flow + Send + 'static,
    {
        match self {
            Spec::Plain(spec) => drop(spec.sink(input, stage)),
            #[cfg(feature = "supervision")]
            Spec::Restartable(spec) => drop(spec.sink(input, once(stage))),
        }
    }
}

fn troupe(items: u64, mode: Mode, rule: Rule, supervised: bool) -> Run {
    let mut b = PipelineBuilder::new("bench").threads(2);
    let raw = b.channel::<Item>("raw", CAPACITY);
    let cooked = b.channel::<Item>("cooked", CAPACITY);
    let mut seq = 0;
    let mut due = Instant::now();
    let (source_tx, source_rx) = mpsc::channel();
    b.add("source", Rule::Loop)
        .on_thread(0)
        .source(raw, move |out: &mut Writer<Item>| {
            if mode == Mode::Paced {
                let now = Instant::now();
                if now < due {
                    return Flow::Continue;
                }
                due = now + PACE;
            }
            while seq < items && (mode == Mode::Lossy || !out.is_full()) {
                out.push(Item {
                    seq,
                    sent: Instant::now(),
                });
                seq += 1;
                if mode == Mode::Paced {
                    break;
                }
            }
            if seq == items {
                let _ = source_tx.send(Instant::now());
                Flow::Done
            } else {
                Flow::Continue
            }
        });
    add_stage(&mut b, "filter", rule, supervised).filter(
        raw,
        cooked,
        move |input: &mut Reader<Item>, out: &mut Writer<Item>| {
            while mode == Mode::Lossy || !out.is_full() {
                let Some(item) = input.pop() else { break };
                out.push(transform(item));
            }
            if input.is_closed() {
                Flow::Done
            } else {
                Flow::Continue
            }
        },
    );
    let (tx, rx) = mpsc::channel();
    let mut latencies = Vec::with_capacity(if mode == Mode::Paced {
        items as usize
    } else {
        0
    });
    let mut received = 0u64;
    let mut last = Instant::now();
    add_stage(&mut b, "sink", rule, supervised).sink(cooked, move |input: &mut Reader<Item>| {
        for item in input.drain() {
            received += 1;
            last = Instant::now();
            if mode == Mode::Paced {
                latencies.push(last - item.sent);
            }
        }
        if input.is_closed() {
            let _ = tx.send((std::mem::take(&mut latencies), received, last));
            return Flow::Done;
        }
        Flow::Continue
    });
    let start = Instant::now();
    let pipeline = b.build().expect("bench pipeline wiring");
    let (latencies, received, last) = rx.recv_timeout(WAIT).expect("troupe run finished");
    let source_done = source_rx
        .recv_timeout(WAIT)
        .expect("troupe source finished");
    let report = pipeline.stop(WAIT);
    let lost = report.channels.iter().map(|c| c.lost).sum();
    Run {
        latencies,
        elapsed: last - start,
        source_elapsed: Some(source_done - start),
        received,
        lost,
    }
}

// ---------------------------------------------------------------- crossbeam

fn crossbeam(items: u64, paced: bool) -> Run {
    let (raw_tx, raw_rx) = crossbeam_channel::bounded::<Item>(CAPACITY);
    let (cooked_tx, cooked_rx) = crossbeam_channel::bounded::<Item>(CAPACITY);
    let start = Instant::now();
    let source = std::thread::spawn(move || {
        let mut due = Instant::now();
        for seq in 0..items {
            if paced {
                while Instant::now() < due {
                    // Like troupe's Loop source: spin, but let others run.
                    std::thread::yield_now();
                }
                due = Instant::now() + PACE;
            }
            let item = Item {
                seq,
                sent: Instant::now(),
            };
            if raw_tx.send(item).is_err() {
                return;
            }
        }
    });
    let filter = std::thread::spawn(move || {
        for item in raw_rx {
            if cooked_tx.send(transform(item)).is_err() {
                return;
            }
        }
    });
    let mut latencies = Vec::with_capacity(if paced { items as usize } else { 0 });
    let mut received = 0;
    let mut last = start;
    for item in cooked_rx {
        received += 1;
        last = Instant::now();
        if paced {
            latencies.push(last - item.sent);
        }
    }
    source.join().expect("source thread");
    filter.join().expect("filter thread");
    Run {
        latencies,
        elapsed: last - start,
        source_elapsed: None,
        received,
        lost: 0,
    }
}

// ---------------------------------------------------------------- tokio

fn tokio_mpsc(items: u64, paced: bool) -> Run {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(async move {
        let (raw_tx, mut raw_rx) = tokio::sync::mpsc::channel::<Item>(CAPACITY);
        let (cooked_tx, mut cooked_rx) = tokio::sync::mpsc::channel::<Item>(CAPACITY);
        let start = Instant::now();
        let source = tokio::spawn(async move {
            let mut due = Instant::now();
            for seq in 0..items {
                if paced {
                    while Instant::now() < due {
                        tokio::task::yield_now().await;
                    }
                    due = Instant::now() + PACE;
                }
                let item = Item {
                    seq,
                    sent: Instant::now(),
                };
                if raw_tx.send(item).await.is_err() {
                    return;
                }
            }
        });
        let filter = tokio::spawn(async move {
            while let Some(item) = raw_rx.recv().await {
                if cooked_tx.send(transform(item)).await.is_err() {
                    return;
                }
            }
        });
        let sink = tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(if paced { items as usize } else { 0 });
            let mut received = 0;
            let mut last = start;
            while let Some(item) = cooked_rx.recv().await {
                received += 1;
                last = Instant::now();
                if paced {
                    latencies.push(last - item.sent);
                }
            }
            (latencies, received, last)
        });
        source.await.expect("source task");
        filter.await.expect("filter task");
        let (latencies, received, last) = sink.await.expect("sink task");
        Run {
            latencies,
            elapsed: last - start,
            source_elapsed: None,
            received,
            lost: 0,
        }
    })
}

// ---------------------------------------------------------------- report

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn print_latency(name: &str, run: &Run) {
    let mut sorted = run.latencies.clone();
    sorted.sort_unstable();
    println!(
        "  {name:<22} p50 {:>8.1} µs   p99 {:>8.1} µs   max {:>9.1} µs   ({} items)",
        micros(percentile(&sorted, 0.50)),
        micros(percentile(&sorted, 0.99)),
        micros(sorted.last().copied().unwrap_or_default()),
        sorted.len()
    );
}

fn print_throughput(name: &str, run: &Run, sent: u64) {
    let rate = run.received as f64 / run.elapsed.as_secs_f64();
    println!(
        "  {name:<22} {:>7.2} M items/s   ({} items in {:.1} ms)",
        rate / 1e6,
        run.received,
        run.elapsed.as_secs_f64() * 1e3
    );
    if run.lost > 0 {
        let written = run.source_elapsed.unwrap_or(run.elapsed);
        println!(
            "  {:<22} source wrote {sent} in {:.1} ms ({:.2} M items/s, never waiting); \
             lost {} ({:.1}%)",
            "",
            written.as_secs_f64() * 1e3,
            sent as f64 / written.as_secs_f64() / 1e6,
            run.lost,
            100.0 * run.lost as f64 / sent as f64
        );
    }
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not: then
    // only check that everything runs, quickly.
    let benching = std::env::args().any(|a| a == "--bench");
    let quick = std::env::var_os("TROUPE_BENCH_QUICK").is_some_and(|v| v != "0") || !benching;
    let config = if quick {
        Config {
            latency_items: 2_000,
            throughput_items: 100_000,
            rounds: 1,
        }
    } else {
        Config {
            latency_items: 50_000,
            throughput_items: 2_000_000,
            rounds: 3,
        }
    };
    println!(
        "3-stage pipeline source → filter → sink, capacity {CAPACITY}, {} mode, {} round(s)",
        if quick { "quick" } else { "full" },
        config.rounds
    );
    for round in 1..=config.rounds {
        let n = config.latency_items;
        println!(
            "round {round}: latency, one item every {} µs, {n} items",
            PACE.as_micros()
        );
        print_latency(
            "troupe OnMessage",
            &troupe(n, Mode::Paced, Rule::OnMessage, false),
        );
        if SUPERVISED {
            print_latency(
                "  restartable stages",
                &troupe(n, Mode::Paced, Rule::OnMessage, true),
            );
        }
        print_latency("troupe Loop", &troupe(n, Mode::Paced, Rule::Loop, false));
        if SUPERVISED {
            print_latency(
                "  restartable stages",
                &troupe(n, Mode::Paced, Rule::Loop, true),
            );
        }
        print_latency("crossbeam threads", &crossbeam(n, true));
        print_latency("tokio mpsc tasks", &tokio_mpsc(n, true));

        let n = config.throughput_items;
        println!("round {round}: throughput, {n} items, no loss");
        print_throughput(
            "troupe OnMessage",
            &troupe(n, Mode::Lossless, Rule::OnMessage, false),
            n,
        );
        if SUPERVISED {
            print_throughput(
                "  restartable stages",
                &troupe(n, Mode::Lossless, Rule::OnMessage, true),
                n,
            );
        }
        print_throughput(
            "troupe Loop",
            &troupe(n, Mode::Lossless, Rule::Loop, false),
            n,
        );
        if SUPERVISED {
            print_throughput(
                "  restartable stages",
                &troupe(n, Mode::Lossless, Rule::Loop, true),
                n,
            );
        }
        print_throughput("crossbeam threads", &crossbeam(n, false), n);
        print_throughput("tokio mpsc tasks", &tokio_mpsc(n, false), n);
        print_throughput(
            "troupe Loop, lossy",
            &troupe(n, Mode::Lossy, Rule::Loop, false),
            n,
        );
    }
}
