//! Run configuration: workload sizes, repeats and time limits for the full and quick modes.

use std::time::Duration;

/// Sizes of every workload. Each adapter reads the same values, so all frameworks do the same work.
#[derive(Debug, Clone, PartialEq)]
pub struct Sizes {
    /// Asks sent before latencies are recorded.
    pub ask_warmup: usize,
    /// Asks whose latency is recorded.
    pub ask_n: usize,
    /// Tells in the counting workload.
    pub tell_n: usize,
    /// Round trips in ping-pong.
    pub pingpong_n: usize,
    /// Actors in the ring.
    pub ring_actors: usize,
    /// Hops of the token around the ring.
    pub ring_hops: usize,
    /// Workers fed by the fan-out producer.
    pub fanout_actors: usize,
    /// Messages the fan-out producer sends (round-robin).
    pub fanout_n: usize,
    /// Idle actors spawned beside the fan-out workers and never sent to
    /// (the scaling series where 1% of the actors are active; 0 in the tables).
    pub fanout_idle: usize,
    /// Actors in Savina "big".
    pub big_actors: usize,
    /// Pings each "big" actor sends (each answered by a pong).
    pub big_pings: usize,
    /// Actors spawned in the spawn workload.
    pub spawn_n: usize,
    /// Producers in the backpressure workload.
    pub bp_producers: usize,
    /// Messages sent in total by all producers in the backpressure workload.
    pub bp_n: usize,
    /// Mailbox capacity of the backpressure sink (where the framework lets us set it).
    pub bp_capacity: usize,
    /// Restarts of the panicking child in the supervision churn workload.
    pub restarts: usize,
    /// Longest time the churn workload runs; the rate is then taken over what was done.
    pub restart_window: Duration,
    /// Depth of the supervision tree (levels below the root).
    pub tree_depth: usize,
    /// Children of every inner node of the supervision tree.
    pub tree_breadth: usize,
    /// Trees built and shut down in one run of the tree workload, whose median shutdown is the
    /// run's figure: one shutdown takes a few milliseconds, which one preemption or one late
    /// wake-up of a worker thread changed by a third.
    pub tree_rounds: usize,
}

impl Sizes {
    /// Sizes of the full run, whose results go to `BENCHMARKS.md`.
    pub fn full() -> Self {
        Self {
            ask_warmup: 2_000,
            ask_n: 20_000,
            tell_n: 1_000_000,
            pingpong_n: 100_000,
            ring_actors: 100,
            ring_hops: 100_000,
            fanout_actors: 100,
            fanout_n: 1_000_000,
            fanout_idle: 0,
            big_actors: 100,
            big_pings: 1_000,
            spawn_n: 100_000,
            bp_producers: 8,
            bp_n: 1_000_000,
            bp_capacity: 64,
            restarts: 50_000,
            restart_window: Duration::from_secs(3),
            tree_depth: 4,
            tree_breadth: 5,
            tree_rounds: 11,
        }
    }

    /// Small sizes for CI: every workload runs once, quickly.
    pub fn quick() -> Self {
        Self {
            ask_warmup: 100,
            ask_n: 1_000,
            tell_n: 10_000,
            pingpong_n: 1_000,
            ring_actors: 100,
            ring_hops: 1_000,
            fanout_actors: 100,
            fanout_n: 10_000,
            fanout_idle: 0,
            big_actors: 10,
            big_pings: 100,
            spawn_n: 1_000,
            bp_producers: 8,
            bp_n: 8_000,
            bp_capacity: 64,
            restarts: 50,
            restart_window: Duration::from_secs(1),
            tree_depth: 4,
            tree_breadth: 5,
            tree_rounds: 1,
        }
    }

    /// Number of actors in the supervision tree, root included.
    pub fn tree_size(&self) -> usize {
        (0..=self.tree_depth)
            .map(|level| self.tree_breadth.pow(level as u32))
            .sum()
    }
}

/// Everything a run needs besides the list of frameworks and workloads.
#[derive(Debug, Clone)]
pub struct RunConfig {
    /// Quick mode: small sizes, one repeat, report to stdout only.
    pub quick: bool,
    /// Workload sizes.
    pub sizes: Sizes,
    /// Repeats of every (workload, framework) pair, each in a process of its own; the report
    /// shows their median and spread. Seven in the full run: enough for the median to shrug off
    /// one or two outliers, while the full run stays within about ten minutes on two cores.
    pub repeats: usize,
    /// Time limit of one (workload, framework) run; past it the run is reported as an error.
    pub run_limit: Duration,
    /// Unrecorded runs of every pair before its repeats, each in a process of its own as the
    /// repeats are: the first run of a pair warms the executable's pages, the CPU caches and
    /// clock, and was the outlier that widened the spreads. Every repeat then starts from the
    /// same state, whatever ran before it.
    pub warmups: usize,
}

impl RunConfig {
    /// Configuration of the full or the quick mode.
    pub fn new(quick: bool) -> Self {
        if quick {
            Self {
                quick,
                sizes: Sizes::quick(),
                repeats: 1,
                run_limit: Duration::from_secs(10),
                warmups: 0,
            }
        } else {
            Self {
                quick,
                sizes: Sizes::full(),
                repeats: 7,
                run_limit: Duration::from_secs(30),
                warmups: 1,
            }
        }
    }
}
