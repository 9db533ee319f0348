//! 3. Ping-pong between two actors.
//!
//! Protocol: spawn actors `ping` and `pong`. The driver tells `ping` to start `pingpong_n`
//! round trips: `ping` tells `pong` a `Ping`, `pong` tells `ping` a `Pong` back (plain
//! messages, not requests), and after the last `Pong` `ping` reports completion to the driver.

use super::{millis, Metric, Sample, Spec, TOTAL_MS};
use crate::config::Sizes;

/// The workload's description.
pub static SPEC: Spec = Spec {
    id: "pingpong",
    title: "3. Ping-pong (two actors)",
    metrics: &[
        TOTAL_MS,
        Metric {
            name: "round trip",
            unit: "µs",
            higher_is_better: false,
            decimals: 2,
        },
    ],
    describe: |s: &Sizes| {
        format!(
            "Two actors exchange {} ping/pong round trips with one-way messages.",
            s.pingpong_n
        )
    },
    compute: |sample: &Sample, s: &Sizes| {
        let per_us = sample.elapsed.as_secs_f64() / s.pingpong_n.max(1) as f64 * 1e6;
        vec![millis(sample.elapsed), per_us]
    },
};
