//! 8b. Shut down a supervision tree.
//!
//! Protocol: build a tree of depth `tree_depth` and breadth `tree_breadth` (781 actors for
//! 4 × 5): every node spawns its children as supervised (linked) children when it starts. Once
//! every node has started (a shared countdown), the driver asks the root to stop and waits until
//! the root has stopped and every node's stop hook has run (another countdown). Only the stop
//! is timed. A run builds and shuts down `tree_rounds` trees one after the other and reports
//! the median shutdown ([`rounds`]).

use std::future::Future;

use super::{millis, Metric, Sample, Spec, TOTAL_MS};
use crate::config::Sizes;
use crate::harness::RunResult;

/// The workload's description.
pub static SPEC: Spec = Spec {
    id: "tree",
    title: "8b. Supervision tree shutdown",
    // A tree stops in about a millisecond: two decimals, so that frameworks
    // a few percent apart do not print the same figure.
    metrics: &[Metric {
        decimals: 2,
        ..TOTAL_MS
    }],
    describe: |s: &Sizes| {
        format!(
            "Stop the root of a supervision tree of depth {} and breadth {} ({} actors) and wait until all have stopped; median of {} trees built and stopped in turn.",
            s.tree_depth,
            s.tree_breadth,
            s.tree_size(),
            s.tree_rounds.max(1)
        )
    },
    compute: |sample: &Sample, _| vec![millis(sample.elapsed)],
};

/// Runs `round` (build one tree, time its shutdown) `rounds` times, one after the other, and
/// keeps the median shutdown as the run's sample. The first failure ends the run.
pub async fn rounds<F, Fut>(rounds: usize, mut round: F) -> RunResult
where
    F: FnMut() -> Fut,
    Fut: Future<Output = RunResult>,
{
    let mut times = Vec::with_capacity(rounds.max(1));
    for _ in 0..rounds.max(1) {
        times.push(round().await?.elapsed);
    }
    times.sort_unstable();
    Ok(Sample::timed(times[times.len() / 2]))
}
