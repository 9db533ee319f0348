//! The workloads: what each one measures, how its metrics come out of a [`Sample`], and the
//! protocol every adapter must follow so that all frameworks do the same work.

use std::time::Duration;

use crate::config::Sizes;

pub mod ask;
pub mod backpressure;
pub mod big;
pub mod fanout;
pub mod pingpong;
pub mod restarts;
pub mod ring;
pub mod spawn;
pub mod tell;
pub mod tree;

/// What one adapter run returns: timings and, for some workloads, a memory figure.
#[derive(Debug, Clone, Default)]
pub struct Sample {
    /// Wall time of the measured part of the run.
    pub elapsed: Duration,
    /// Per-request latencies (ask latency only).
    pub latencies: Vec<Duration>,
    /// Live heap bytes, from the bench's counting allocator: per idle actor (spawn) or peak
    /// growth (backpressure).
    pub heap_bytes: Option<f64>,
    /// Events achieved when the workload stops at a time limit (restarts).
    pub events: Option<usize>,
}

impl Sample {
    /// A sample holding only a wall time.
    pub fn timed(elapsed: Duration) -> Self {
        Self {
            elapsed,
            ..Self::default()
        }
    }

    /// A sample with per-request latencies.
    pub fn with_latencies(elapsed: Duration, latencies: Vec<Duration>) -> Self {
        Self {
            elapsed,
            latencies,
            ..Self::default()
        }
    }

    /// Records how many events the run achieved.
    pub fn with_events(mut self, events: usize) -> Self {
        self.events = Some(events);
        self
    }

    /// Adds the live heap growth per unit measured by a [`crate::util::mem::Probe`].
    pub fn with_growth(mut self, growth: crate::util::mem::Growth) -> Self {
        self.heap_bytes = Some(growth.heap);
        self
    }

    /// Adds the peak live heap growth measured by a
    /// [`crate::util::mem::Probe::start_with_peak`] probe.
    pub fn with_peaks(mut self, growth: crate::util::mem::Growth) -> Self {
        self.heap_bytes = Some(growth.peak_heap);
        self
    }
}

/// One figure reported for a workload.
#[derive(Debug, Clone, Copy)]
pub struct Metric {
    /// Column title.
    pub name: &'static str,
    /// Unit shown after the title.
    pub unit: &'static str,
    /// Whether a bigger value is better (rates) or worse (times, bytes).
    pub higher_is_better: bool,
    /// Decimals shown in the report.
    pub decimals: usize,
}

/// Static description of a workload.
pub struct Spec {
    /// Short id used on the command line (`--only`).
    pub id: &'static str,
    /// Title of the report section.
    pub title: &'static str,
    /// The figures reported, in column order.
    pub metrics: &'static [Metric],
    /// One paragraph saying what is measured, with the sizes of this run.
    pub describe: fn(&Sizes) -> String,
    /// Turns a sample into one value per metric.
    pub compute: fn(&Sample, &Sizes) -> Vec<f64>,
}

/// Every workload, in report order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workload {
    /// 1. Ask latency.
    Ask,
    /// 2. Tell throughput (Savina "counting").
    Tell,
    /// 3. Ping-pong between two actors.
    PingPong,
    /// 4. Token ring (Savina "thread ring").
    Ring,
    /// 5a. Fan-out / fan-in.
    FanOut,
    /// 5b. Savina "big".
    Big,
    /// 6. Spawn and memory per idle actor.
    Spawn,
    /// 7. Backpressure: many producers, one bounded mailbox.
    Backpressure,
    /// 8a. Supervision churn: restarts of a panicking child.
    Restarts,
    /// 8b. Shut down a supervision tree.
    Tree,
}

impl Workload {
    /// All workloads in report order.
    pub const ALL: [Workload; 10] = [
        Workload::Ask,
        Workload::Tell,
        Workload::PingPong,
        Workload::Ring,
        Workload::FanOut,
        Workload::Big,
        Workload::Spawn,
        Workload::Backpressure,
        Workload::Restarts,
        Workload::Tree,
    ];

    /// The static description of this workload.
    pub fn spec(self) -> &'static Spec {
        match self {
            Workload::Ask => &ask::SPEC,
            Workload::Tell => &tell::SPEC,
            Workload::PingPong => &pingpong::SPEC,
            Workload::Ring => &ring::SPEC,
            Workload::FanOut => &fanout::SPEC,
            Workload::Big => &big::SPEC,
            Workload::Spawn => &spawn::SPEC,
            Workload::Backpressure => &backpressure::SPEC,
            Workload::Restarts => &restarts::SPEC,
            Workload::Tree => &tree::SPEC,
        }
    }

    /// Finds a workload by its id.
    pub fn from_id(id: &str) -> Option<Workload> {
        Self::ALL.into_iter().find(|w| w.spec().id == id)
    }
}

/// Milliseconds of a duration, as a float.
pub fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Rate in millions per second of `n` events over `d`.
pub fn mega_per_sec(n: usize, d: Duration) -> f64 {
    n as f64 / d.as_secs_f64().max(1e-12) / 1e6
}

/// Metric: the whole measured wall time in milliseconds.
pub const TOTAL_MS: Metric = Metric {
    name: "time",
    unit: "ms",
    higher_is_better: false,
    decimals: 1,
};

/// Metric: millions of messages per second.
pub const MMSG_PER_S: Metric = Metric {
    name: "throughput",
    unit: "Mmsg/s",
    higher_is_better: true,
    decimals: 2,
};
