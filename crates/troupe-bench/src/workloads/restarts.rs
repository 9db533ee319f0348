//! 8a. Supervision churn: restarts per second of a panicking child.
//!
//! Protocol: a supervisor starts one child under a one-for-one, always-restart policy with a
//! restart budget large enough never to run out. Every time the child starts it sends itself a
//! `Crash` message and panics while handling it (the panic message carries
//! [`crate::util::CRASH_MARKER`], which the bench's panic hook keeps quiet). The supervisor (the
//! framework) restarts it. Once the child has been restarted `restarts` times, the next
//! incarnation reports completion instead of crashing ([`crate::util::Churn`]). Time runs from
//! spawning the supervisor (or, for group-based frameworks, the first message to the child's
//! group). A run stops after `restart_window` even if not all restarts are done; the rate is
//! then the restarts made within the window over the window.

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
            "A child panics on its first message after every start; its supervisor restarts it {} \
             times (or as often as it can within {:?}).",
            s.restarts, s.restart_window
        )
    },
    compute: |sample: &Sample, s: &Sizes| {
        let restarts = sample.events.unwrap_or(s.restarts);
        vec![restarts as f64 / sample.elapsed.as_secs_f64().max(1e-12)]
    },
};
