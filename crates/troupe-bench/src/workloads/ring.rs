//! 4. Token ring (Savina "thread ring").
//!
//! Protocol: spawn `ring_actors` actors, each knowing the next one (the last knows the first).
//! The driver gives actor 0 a token with `ring_hops` hops left; every actor passes it on with
//! one hop less; the actor that receives it with zero hops left reports completion.

use super::{millis, Metric, Sample, Spec, TOTAL_MS};
use crate::config::Sizes;

/// The workload's description.
pub static SPEC: Spec = Spec {
    id: "ring",
    title: "4. Ring (Savina thread ring)",
    metrics: &[
        TOTAL_MS,
        Metric {
            name: "per hop",
            unit: "ns",
            higher_is_better: false,
            decimals: 0,
        },
    ],
    describe: |s: &Sizes| {
        format!(
            "{} actors in a ring pass one token for {} hops.",
            s.ring_actors, s.ring_hops
        )
    },
    compute: |sample: &Sample, s: &Sizes| {
        let per = sample.elapsed.as_secs_f64() / s.ring_hops.max(1) as f64 * 1e9;
        vec![millis(sample.elapsed), per]
    },
};
