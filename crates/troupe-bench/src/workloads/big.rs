//! 5b. Savina "big": many actors messaging random peers.
//!
//! Protocol: spawn `big_actors` actors that all know each other. On `Start`, each actor sends
//! a `Ping` to a peer drawn from its own deterministic generator ([`crate::util::Rng`] seeded
//! with its index); the peer answers with a `Pong`; on each `Pong` the actor sends its next
//! `Ping` until it has had `big_pings` answers, then reports completion. The run ends when all
//! actors have reported.

use super::{mega_per_sec, millis, Sample, Spec, MMSG_PER_S, TOTAL_MS};
use crate::config::Sizes;

/// The workload's description.
pub static SPEC: Spec = Spec {
    id: "big",
    title: "5b. Savina big (N actors, random peers)",
    metrics: &[TOTAL_MS, MMSG_PER_S],
    describe: |s: &Sizes| {
        format!(
            "{} actors each send {} pings to random peers and wait for each pong ({} messages).",
            s.big_actors,
            s.big_pings,
            messages(s)
        )
    },
    compute: |sample: &Sample, s: &Sizes| {
        vec![
            millis(sample.elapsed),
            mega_per_sec(messages(s), sample.elapsed),
        ]
    },
};

/// Messages exchanged in one run: a ping and a pong per ping.
fn messages(s: &Sizes) -> usize {
    s.big_actors * s.big_pings * 2
}
