//! 7. Backpressure: many producers, one actor with a small mailbox.
//!
//! Protocol: spawn one counting actor with a mailbox of capacity `bp_capacity` (where the
//! framework lets a mailbox be bounded). `bp_producers` producer tasks each send
//! `bp_n / bp_producers` increments, waiting whenever the mailbox is full; when all are done
//! one request reads the count, which must equal `bp_n`. Peak memory: the highest live heap seen
//! during the run minus the live heap at its start (the bench's counting allocator, sampled
//! every millisecond). With a bounded mailbox it stays near zero; an unbounded one shows its
//! queue. (RSS is not used, for the reason given in [`super::spawn`].)

use std::future::Future;
use std::time::Instant;

use super::{mega_per_sec, millis, Metric, Sample, Spec, MMSG_PER_S, TOTAL_MS};
use crate::config::Sizes;
use crate::harness::{check_count, BenchError, Context as _, RunResult};
use crate::util::mem;

/// The workload's description.
pub static SPEC: Spec = Spec {
    id: "backpressure",
    title: "7. Backpressure (8 producers, mailbox capacity 64)",
    metrics: &[
        TOTAL_MS,
        MMSG_PER_S,
        Metric {
            name: "peak heap growth",
            unit: "MiB",
            higher_is_better: false,
            decimals: 2,
        },
    ],
    describe: |s: &Sizes| {
        format!(
            "{} producers send {} messages in total into one actor whose mailbox holds {} \
             (where the framework can bound it). Peak heap growth: highest live heap during the \
             run minus the live heap at its start, sampled every millisecond from the bench's \
             counting allocator.",
            s.bp_producers, s.bp_n, s.bp_capacity
        )
    },
    compute: |sample: &Sample, s: &Sizes| {
        vec![
            millis(sample.elapsed),
            mega_per_sec(s.bp_n, sample.elapsed),
            sample
                .heap_bytes
                .map_or(f64::NAN, |b| b / (1024.0 * 1024.0)),
        ]
    },
};

/// The measured part of the workload for frameworks whose producers are
/// Tokio tasks: `bp_producers` tasks each call `produce(target, n)`, which
/// sends `n` increments (waiting while the mailbox is full), then `get` reads
/// the count. Only how increments are sent and the count read differs
/// between those frameworks.
pub async fn run_on_tokio<H, P, PF, G, GF>(target: H, s: &Sizes, produce: P, get: G) -> RunResult
where
    H: Clone + Send + 'static,
    P: Fn(H, usize) -> PF,
    PF: Future<Output = Result<(), BenchError>> + Send + 'static,
    G: FnOnce(H) -> GF,
    GF: Future<Output = Result<u64, BenchError>>,
{
    let per_producer = s.bp_n / s.bp_producers;
    let probe = mem::Probe::start_with_peak();
    let start = Instant::now();
    let producers: Vec<_> = (0..s.bp_producers)
        .map(|_| tokio::spawn(produce(target.clone(), per_producer)))
        .collect();
    for p in producers {
        p.await.ctx("producer task failed")??;
    }
    let count = get(target).await?;
    let elapsed = start.elapsed();
    let growth = probe.finish(1);
    check_count("counter", count, per_producer * s.bp_producers)?;
    Ok(Sample::timed(elapsed).with_peaks(growth))
}
