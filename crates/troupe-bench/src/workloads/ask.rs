//! 1. Ask latency: one caller, one actor.
//!
//! Protocol: spawn one counter actor. The caller sends `ask_warmup` requests, then `ask_n`
//! requests one after the other, timing each from the call to the reply. The actor answers
//! each request with its count of requests so far (a `u64`). The caller runs as a task on the
//! same runtime as the actor (for elfo: an actor of the same system).

use super::{Metric, Sample, Spec};
use crate::config::Sizes;

/// The workload's description.
pub static SPEC: Spec = Spec {
    id: "ask",
    title: "1. Ask latency (one caller, one actor)",
    metrics: &[
        Metric {
            name: "p50",
            unit: "µs",
            higher_is_better: false,
            decimals: 2,
        },
        Metric {
            name: "p99",
            unit: "µs",
            higher_is_better: false,
            decimals: 2,
        },
    ],
    describe: |s: &Sizes| {
        format!(
            "{} sequential request/response round trips to one actor, after {} warm-up requests; \
             latency of each round trip as seen by the caller.",
            s.ask_n, s.ask_warmup
        )
    },
    compute: |sample: &Sample, _| {
        vec![
            percentile_us(&sample.latencies, 0.50),
            percentile_us(&sample.latencies, 0.99),
        ]
    },
};

/// The `q` quantile (0..=1) of `latencies`, in microseconds; NaN when empty.
fn percentile_us(latencies: &[std::time::Duration], q: f64) -> f64 {
    if latencies.is_empty() {
        return f64::NAN;
    }
    let mut sorted = latencies.to_vec();
    sorted.sort_unstable();
    let rank = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1].as_secs_f64() * 1e6
}

#[cfg(test)]
mod tests {
    use super::percentile_us;
    use std::time::Duration;

    #[test]
    fn percentiles_use_nearest_rank() {
        let lat: Vec<Duration> = (1..=100).map(Duration::from_micros).collect();
        assert_eq!(percentile_us(&lat, 0.5), 50.0);
        assert_eq!(percentile_us(&lat, 0.99), 99.0);
        assert!(percentile_us(&[], 0.5).is_nan());
    }
}
