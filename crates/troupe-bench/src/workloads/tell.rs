//! 2. Tell throughput (Savina "counting").
//!
//! Protocol: spawn one counter actor. One producer sends `tell_n` fire-and-forget increments,
//! then one request reading the count, which must equal `tell_n`. The time covers the sends
//! and the final request. Each framework uses its default mailbox and its plain send
//! (`await`ing the send where the framework's send is async, so bounded mailboxes push back).

use super::{mega_per_sec, millis, Sample, Spec, MMSG_PER_S, TOTAL_MS};
use crate::config::Sizes;

/// The workload's description.
pub static SPEC: Spec = Spec {
    id: "tell",
    title: "2. Tell throughput (Savina counting)",
    metrics: &[TOTAL_MS, MMSG_PER_S],
    describe: |s: &Sizes| {
        format!(
            "One producer sends {} increments to one actor, then one request reads the count.",
            s.tell_n
        )
    },
    compute: |sample: &Sample, s: &Sizes| {
        vec![
            millis(sample.elapsed),
            mega_per_sec(s.tell_n, sample.elapsed),
        ]
    },
};
