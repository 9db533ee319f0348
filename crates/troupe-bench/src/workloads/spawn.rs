//! 6. Spawn, and memory per idle actor.
//!
//! Protocol: the driver spawns `spawn_n` actors one after the other, telling each a `Hello`
//! right after spawning it; each actor counts down a shared [`crate::util::Countdown`] when it
//! handles `Hello`. The time runs until the last actor has handled its message. Then, with all
//! actors alive and idle, memory is read through a [`crate::util::mem::Probe`] started just
//! before the first spawn, and divided by `spawn_n`:
//! - RSS growth (`/proc/self/statm`; freed heap is returned to the OS with `malloc_trim` before
//!   the baseline). In one long process the allocator reuses memory freed by earlier runs, so
//!   this figure can understate; it is also rounded to pages.
//! - live heap growth, counted by the bench's global allocator while the probe runs (exact
//!   bytes requested from the allocator, without its own overhead). The counting costs two
//!   uncontended atomic adds per allocation, in every framework alike.

use super::{millis, Metric, Sample, Spec, TOTAL_MS};
use crate::config::Sizes;

/// The workload's description.
pub static SPEC: Spec = Spec {
    id: "spawn",
    title: "6. Spawn + first message, memory per idle actor",
    metrics: &[
        TOTAL_MS,
        Metric {
            name: "per actor",
            unit: "µs",
            higher_is_better: false,
            decimals: 2,
        },
        Metric {
            name: "heap per idle actor",
            unit: "bytes",
            higher_is_better: false,
            decimals: 0,
        },
        Metric {
            name: "RSS per idle actor",
            unit: "bytes",
            higher_is_better: false,
            decimals: 0,
        },
    ],
    describe: |s: &Sizes| {
        format!(
            "Spawn {} actors and deliver one message to each; then live heap growth and RSS growth \
             divided by {}, with all of them idle. The heap figure is exact (bytes requested from \
             the allocator, counted by the bench's global allocator); the RSS figure is \
             page-granular and can be lowered by memory an earlier run freed.",
            s.spawn_n, s.spawn_n
        )
    },
    compute: |sample: &Sample, s: &Sizes| {
        let per = sample.elapsed.as_secs_f64() / s.spawn_n.max(1) as f64 * 1e6;
        vec![
            millis(sample.elapsed),
            per,
            sample.heap_bytes.unwrap_or(f64::NAN),
            sample.mem_bytes.unwrap_or(f64::NAN),
        ]
    },
};
