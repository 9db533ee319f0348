//! Run configuration: workload sizes, repeats and time limits for the full and quick modes.

use std::time::Duration;

use crate::wire::WireError;

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
        }
    }

    /// Number of actors in the supervision tree, root included.
    pub fn tree_size(&self) -> usize {
        (0..=self.tree_depth)
            .map(|level| self.tree_breadth.pow(level as u32))
            .sum()
    }
}

/// Encodes and decodes every field of [`Sizes`] as `name=value` pairs joined by commas: how
/// the parent passes the sizes of a run to the child process that makes it. The list of
/// fields is written once, here, for both directions.
macro_rules! sizes_codec {
    ($($field:ident),* $(,)?) => {
        impl Sizes {
            /// The sizes as one command-line argument (see [`Sizes::decode`]).
            pub fn encode(&self) -> String {
                let mut parts = vec![$(format!("{}={}", stringify!($field), self.$field)),*];
                parts.push(format!("restart_window_ms={}", self.restart_window.as_millis()));
                parts.join(",")
            }

            /// Sizes from [`Sizes::encode`]'s text; every field must be given exactly once.
            pub fn decode(text: &str) -> Result<Self, WireError> {
                let mut sizes = Sizes::quick();
                let mut seen: Vec<&str> = Vec::new();
                for part in text.split(',') {
                    let (name, value) = part
                        .split_once('=')
                        .ok_or_else(|| WireError::malformed(part, ""))?;
                    let n: u64 = value
                        .parse()
                        .map_err(|_| WireError::malformed(name, value))?;
                    let count = usize::try_from(n).map_err(|_| WireError::malformed(name, value));
                    match name {
                        $(stringify!($field) => sizes.$field = count?,)*
                        "restart_window_ms" => sizes.restart_window = Duration::from_millis(n),
                        other => return Err(WireError::Unknown(other.to_string())),
                    }
                    if seen.contains(&name) {
                        return Err(WireError::Duplicate(name.to_string()));
                    }
                    seen.push(name);
                }
                for name in [$(stringify!($field)),*, "restart_window_ms"] {
                    if !seen.contains(&name) {
                        return Err(WireError::Missing(name));
                    }
                }
                Ok(sizes)
            }
        }
    };
}

sizes_codec!(
    ask_warmup,
    ask_n,
    tell_n,
    pingpong_n,
    ring_actors,
    ring_hops,
    fanout_actors,
    fanout_n,
    big_actors,
    big_pings,
    spawn_n,
    bp_producers,
    bp_n,
    bp_capacity,
    restarts,
    tree_depth,
    tree_breadth,
);

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

#[cfg(test)]
mod tests {
    use super::*;

    /// Decoding starts from the quick sizes, so a field left out of `sizes_codec!` would come
    /// back with its quick value and fail this test on the full sizes.
    #[test]
    fn sizes_come_back_unchanged() {
        for sizes in [
            Sizes::full(),
            Sizes::quick(),
            Sizes {
                spawn_n: 1_000_000,
                restart_window: Duration::from_millis(1_500),
                ..Sizes::full()
            },
        ] {
            assert_eq!(Sizes::decode(&sizes.encode()), Ok(sizes));
        }
    }

    #[test]
    fn bad_sizes_are_typed_errors() {
        let full = Sizes::full().encode();
        let without_ring = full
            .split(',')
            .filter(|p| !p.starts_with("ring_hops="))
            .collect::<Vec<_>>()
            .join(",");
        let cases = [
            (without_ring, WireError::Missing("ring_hops")),
            (
                full.replace("tell_n=1000000", "tell_n=lots"),
                WireError::malformed("tell_n", "lots"),
            ),
            (
                format!("{full},colour=7"),
                WireError::Unknown("colour".into()),
            ),
            (
                format!("{full},ask_n=1"),
                WireError::Duplicate("ask_n".into()),
            ),
            (format!("{full},ask_n"), WireError::malformed("ask_n", "")),
        ];
        for (text, want) in cases {
            assert_eq!(Sizes::decode(&text), Err(want), "{text}");
        }
    }
}
