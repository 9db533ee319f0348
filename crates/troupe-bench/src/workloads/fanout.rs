//! 5a. Fan-out / fan-in.
//!
//! Protocol: spawn `fanout_actors` counting workers. One producer tells them `fanout_n`
//! increments in round-robin order, then asks every worker for its count (fan-in); the sum
//! must equal `fanout_n`. The time covers the sends and the final requests. With
//! `fanout_idle` (the scaling series where 1% of the actors are active), that many more workers
//! are spawned first and never sent to.

use super::{mega_per_sec, millis, Sample, Spec, MMSG_PER_S, TOTAL_MS};
use crate::config::Sizes;

/// The workload's description.
pub static SPEC: Spec = Spec {
    id: "fanout",
    title: "5a. Fan-out / fan-in (one producer, round-robin)",
    metrics: &[TOTAL_MS, MMSG_PER_S],
    describe: |s: &Sizes| {
        format!(
            "One producer sends {} messages round-robin to {} actors, then asks each for its count.",
            s.fanout_n, s.fanout_actors
        )
    },
    compute: |sample: &Sample, s: &Sizes| {
        vec![
            millis(sample.elapsed),
            mega_per_sec(s.fanout_n, sample.elapsed),
        ]
    },
};
