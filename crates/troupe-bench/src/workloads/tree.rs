//! 8b. Shut down a supervision tree.
//!
//! Protocol: build a tree of depth `tree_depth` and breadth `tree_breadth` (781 actors for
//! 4 × 5): every node spawns its children as supervised (linked) children when it starts. Once
//! every node has started (a shared countdown), the driver asks the root to stop and waits until
//! the root has stopped and every node's stop hook has run (another countdown). Only the stop
//! is timed.

use super::{millis, Sample, Spec, TOTAL_MS};
use crate::config::Sizes;

/// The workload's description.
pub static SPEC: Spec = Spec {
    id: "tree",
    title: "8b. Supervision tree shutdown",
    metrics: &[TOTAL_MS],
    describe: |s: &Sizes| {
        format!(
            "Stop the root of a supervision tree of depth {} and breadth {} ({} actors) and wait until all have stopped.",
            s.tree_depth,
            s.tree_breadth,
            s.tree_size()
        )
    },
    compute: |sample: &Sample, _| vec![millis(sample.elapsed)],
};
