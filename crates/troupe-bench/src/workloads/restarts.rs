//! 8a. Supervision churn: restarts per second of a panicking child.
//!
//! Protocol: a supervisor starts one child under a one-for-one, always-restart policy with a
//! restart budget large enough never to run out. Every time the child starts it sends itself a
//! `Crash` message and panics while handling it (the panic message carries
//! [`crate::util::CRASH_MARKER`], which the bench's panic hook keeps quiet). The supervisor (the
//! framework) restarts it. Once the child has been restarted `restarts` times, the next
//! incarnation reports completion instead of crashing. Time runs from spawning the supervisor.

use super::{Metric, Sample, Spec};
use crate::config::Sizes;

/// The workload's description.
pub static SPEC: Spec = Spec {
    id: "restarts",
    title: "8a. Supervision churn (restarts of a panicking child)",
    metrics: &[Metric {
        name: "restarts",
        unit: "/s",
        higher_is_better: true,
        decimals: 0,
    }],
    describe: |s: &Sizes| {
        format!(
            "A child panics on its first message after every start; its supervisor restarts it {} times.",
            s.restarts
        )
    },
    compute: |sample: &Sample, s: &Sizes| {
        vec![s.restarts as f64 / sample.elapsed.as_secs_f64().max(1e-12)]
    },
};
