//! 6. Spawn, and memory per idle actor.
//!
//! Protocol: the driver spawns `spawn_n` actors one after the other, telling each a `Hello`
//! right after spawning it; each actor counts down a shared [`crate::util::Countdown`] when it
//! handles `Hello`. The time runs until the last actor has handled its message. Then, with all
//! actors alive and idle, resident memory is read; the figure is (RSS now − RSS before the
//! first spawn) / `spawn_n`. Freed heap is returned to the OS (`malloc_trim`) before the
//! baseline is read, so memory left over by an earlier run does not hide this one's.

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
            name: "memory per idle actor",
            unit: "bytes",
            higher_is_better: false,
            decimals: 0,
        },
    ],
    describe: |s: &Sizes| {
        format!(
            "Spawn {} actors and deliver one message to each; then RSS growth / {} with all of them idle.",
            s.spawn_n, s.spawn_n
        )
    },
    compute: |sample: &Sample, s: &Sizes| {
        let per = sample.elapsed.as_secs_f64() / s.spawn_n.max(1) as f64 * 1e6;
        vec![
            millis(sample.elapsed),
            per,
            sample.mem_bytes.unwrap_or(f64::NAN),
        ]
    },
};
