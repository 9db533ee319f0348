//! 6. Spawn, and memory per idle actor.
//!
//! Protocol: the driver spawns `spawn_n` actors one after the other, telling each a `Hello`
//! right after spawning it; each actor counts down a shared [`crate::util::Countdown`] when it
//! handles `Hello`. The time runs until the last actor has handled its message. Then, with all
//! actors alive and idle, the live heap growth since just before the first spawn, counted by the
//! bench's global allocator ([`crate::util::mem::Probe`]), is divided by `spawn_n`: the exact
//! bytes the framework asked the allocator for, per actor (task, mailbox, state, handle), without
//! the allocator's own overhead. The counting costs two uncontended atomic adds per allocation,
//! in every framework alike.
//!
//! RSS growth (`/proc/self/statm`) was measured first and dropped: inside one long process the
//! allocator refills memory that earlier runs freed (fragmented pages it cannot give back), so
//! the RSS delta of a run ranged from 0 to the true figure depending on what ran before (8 bytes
//! per actor for raw Tokio, whose heap count is 808).

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
    ],
    describe: |s: &Sizes| {
        format!(
            "Spawn {} actors and deliver one message to each; then the live heap growth divided \
             by {}, with all of them idle: exact bytes requested from the allocator (counted by \
             the bench's global allocator), without the allocator's own overhead.",
            s.spawn_n, s.spawn_n
        )
    },
    compute: |sample: &Sample, s: &Sizes| {
        let per = sample.elapsed.as_secs_f64() / s.spawn_n.max(1) as f64 * 1e6;
        vec![
            millis(sample.elapsed),
            per,
            sample.heap_bytes.unwrap_or(f64::NAN),
        ]
    },
};
