//! Instructions per operation: every workload's child run under valgrind's callgrind at two
//! sizes, for every framework that runs it.
//!
//! The time figures of the tables move with the machine: from one committed report to the
//! next, every framework took about a third less time on every workload, peers whose code
//! had not changed included (the 2-core machine itself ran faster), and other work on the
//! machine widens their spread.
//! The number of instructions a run executes does not depend on either: on one thread a rerun
//! counts the same to a fraction of a percent, so a change of a few percent in troupe's own
//! code shows, where the time figures hide it in their noise. What the counts do not show is
//! what a time does: cache misses, branch mispredictions, threads waking each other through
//! the kernel. They complement the tables, they do not replace them.
//!
//! Each point runs the child at a small and a large count of its operation; the difference of
//! the two totals over the difference of the counts is the cost of one operation, without the
//! start-up, the warm-up and the teardown, which do not grow with the count. The spawn
//! workload's child ends right after its timed window ([`crate::util::TIMED_ONLY`]), so that
//! the stop of the actors is not counted, and troupe's one-off clock calibration is left out
//! ([`callgrind::LEFT_OUT`]).
//!
//! On a multi-thread runtime valgrind runs one thread at a time, and how often a worker parks,
//! wakes or steals depends on its scheduling: those counts repeat less closely (two runs of
//! the multi-thread table differed by up to about 8% on a cell, kameo's ask for one).

pub mod callgrind;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::adapters::{Framework, Table};
use crate::child::{self, Job};
use crate::config::{RunConfig, Sizes};
use crate::harness::BenchError;
use crate::util::TIMED_ONLY;
use crate::workloads::Workload;

/// A child under callgrind runs about fifty times slower than alone.
const LIMIT: Duration = Duration::from_secs(900);

/// How one workload is counted.
#[derive(Debug, Clone, Copy)]
pub struct Point {
    /// The workload.
    pub workload: Workload,
    /// What one operation is.
    pub per: &'static str,
    /// The small and the large count of the size that grows.
    pub counts: [usize; 2],
    /// The sizes with the growing one set to a count.
    pub sizes: fn(&Sizes, usize) -> Sizes,
    /// Operations at a count, with these sizes.
    pub ops: fn(&Sizes, usize) -> usize,
}

fn same(_: &Sizes, n: usize) -> usize {
    n
}

/// The workloads counted, in the report's order (the tree is left out: its figure is a time
/// per shutdown, not a count of operations).
pub const POINTS: &[Point] = &[
    Point {
        workload: Workload::Ask,
        per: "ask",
        counts: [20_000, 60_000],
        sizes: |s, n| Sizes {
            ask_n: n,
            ..s.clone()
        },
        ops: same,
    },
    Point {
        workload: Workload::Tell,
        per: "message",
        counts: [100_000, 300_000],
        sizes: |s, n| Sizes {
            tell_n: n,
            ..s.clone()
        },
        ops: same,
    },
    Point {
        workload: Workload::PingPong,
        per: "round trip",
        counts: [20_000, 60_000],
        sizes: |s, n| Sizes {
            pingpong_n: n,
            ..s.clone()
        },
        ops: same,
    },
    Point {
        workload: Workload::Ring,
        per: "hop",
        counts: [100_000, 300_000],
        sizes: |s, n| Sizes {
            ring_hops: n,
            ..s.clone()
        },
        ops: same,
    },
    Point {
        workload: Workload::FanOut,
        per: "message",
        counts: [100_000, 300_000],
        sizes: |s, n| Sizes {
            fanout_n: n,
            ..s.clone()
        },
        ops: same,
    },
    Point {
        workload: Workload::Big,
        per: "ping and its pong",
        counts: [300, 900],
        sizes: |s, n| Sizes {
            big_pings: n,
            ..s.clone()
        },
        ops: |s, n| n * s.big_actors,
    },
    Point {
        workload: Workload::Spawn,
        per: "actor spawned and greeted",
        counts: [10_000, 30_000],
        sizes: |s, n| Sizes {
            spawn_n: n,
            ..s.clone()
        },
        ops: same,
    },
    Point {
        workload: Workload::Backpressure,
        per: "message",
        counts: [80_000, 240_000],
        sizes: |s, n| Sizes {
            bp_n: n,
            ..s.clone()
        },
        ops: same,
    },
    Point {
        workload: Workload::Restarts,
        per: "restart",
        counts: [4_000, 12_000],
        sizes: |s, n| Sizes {
            restarts: n,
            // The count, not the window, must end the run.
            restart_window: Duration::from_secs(3_600),
            ..s.clone()
        },
        ops: same,
    },
];

/// The counts of one (workload, framework) pair.
#[derive(Debug, Clone, PartialEq)]
pub enum Count {
    /// Instructions per operation.
    PerOp(f64),
    /// The framework has no way to run the workload (`n/a` in the tables too).
    Unsupported,
    /// The pair could not be counted.
    Failed(String),
}

/// All the counts of a run, and why there are none if valgrind is missing.
#[derive(Debug, Default)]
pub struct Counts {
    /// Per point (by workload), per framework.
    pub cells: Vec<(Workload, Framework, Count)>,
    /// Why nothing was counted.
    pub missing: Option<String>,
}

impl Counts {
    /// No counts, and why.
    fn none(why: String) -> Counts {
        Counts {
            cells: Vec::new(),
            missing: Some(why),
        }
    }

    fn get(&self, workload: Workload, framework: Framework) -> Option<&Count> {
        self.cells
            .iter()
            .find(|(w, f, _)| *w == workload && *f == framework)
            .map(|(_, _, c)| c)
    }
}

/// Counts every point of `workloads` for `frameworks`.
pub fn run(cfg: &RunConfig, workloads: &[Workload], frameworks: &[Framework]) -> Counts {
    if !callgrind::available() {
        return Counts::none(
            "valgrind was not found: install it (Debian: `apt-get install valgrind`) and run \
             the bench again"
                .to_string(),
        );
    }
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => return Counts::none(format!("cannot find the bench's own executable: {e}")),
    };
    let dir = std::env::temp_dir().join(format!("troupe-bench-callgrind-{}", std::process::id()));
    if let Err(e) = std::fs::create_dir_all(&dir) {
        return Counts::none(format!("cannot create {}: {e}", dir.display()));
    }
    let mut counts = Counts::default();
    for point in POINTS.iter().filter(|p| workloads.contains(&p.workload)) {
        for &framework in frameworks.iter().filter(|f| f.runs(point.workload)) {
            let started = Instant::now();
            let count = count(&exe, &dir, point, framework, &cfg.sizes);
            match &count {
                Count::PerOp(n) => eprintln!(
                    "[instructions] {:<12} {:<14} {n:>9.0} per {} ({:.1}s)",
                    point.workload.spec().id,
                    framework.name(),
                    point.per,
                    started.elapsed().as_secs_f64()
                ),
                Count::Unsupported => {}
                Count::Failed(e) => eprintln!(
                    "[instructions] {:<12} {:<14} failed: {e}",
                    point.workload.spec().id,
                    framework.name()
                ),
            }
            counts.cells.push((point.workload, framework, count));
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    counts
}

/// One pair: the child at both counts, then the difference per operation.
fn count(exe: &Path, dir: &Path, point: &Point, framework: Framework, base: &Sizes) -> Count {
    let mut kept = [0u64; 2];
    let mut ops = [0usize; 2];
    for (i, &n) in point.counts.iter().enumerate() {
        let sizes = (point.sizes)(base, n);
        ops[i] = (point.ops)(&sizes, n);
        let out: PathBuf = dir.join(format!(
            "{}.{}.{n}.out",
            point.workload.spec().id,
            framework.name()
        ));
        match counted_run(exe, &out, point.workload, framework, sizes) {
            Ok(k) => kept[i] = k,
            Err(e) => return e,
        }
    }
    per_op(kept, ops).map_or_else(
        || Count::Failed("the large count did not count more than the small one".into()),
        Count::PerOp,
    )
}

/// Instructions per operation from the counts at two sizes (`None` unless the large one is
/// larger in both).
pub fn per_op(kept: [u64; 2], ops: [usize; 2]) -> Option<f64> {
    (kept[1] > kept[0] && ops[1] > ops[0])
        .then(|| (kept[1] - kept[0]) as f64 / (ops[1] - ops[0]) as f64)
}

/// One child under callgrind; its instructions without the calibration.
fn counted_run(
    exe: &Path,
    out: &Path,
    workload: Workload,
    framework: Framework,
    sizes: Sizes,
) -> Result<u64, Count> {
    let job = Job {
        workload,
        framework,
        sizes,
        limit: LIMIT,
    };
    let mut command = callgrind::command(out, exe);
    command
        .env(TIMED_ONLY, "1")
        .arg(child::CHILD_FLAG)
        .args(job.to_args());
    let report = child::run_command(command, LIMIT);
    match report.result {
        Ok(_) => {}
        Err(BenchError::Unsupported(_)) => return Err(Count::Unsupported),
        Err(e) => return Err(Count::Failed(e.to_string())),
    }
    let counted = callgrind::read(out).map_err(|e| Count::Failed(e.to_string()))?;
    let _ = std::fs::remove_file(out);
    Ok(counted.kept())
}

/// Renders the report's section.
pub fn render(counts: &Counts, frameworks: &[Framework]) -> String {
    let mut out = String::from("## Instructions per operation\n\n");
    out.push_str(
        "Counted by valgrind's callgrind: each workload's run at a small and a large count of \
         its operation, the difference of the two totals over the difference of the counts, \
         so that start-up and teardown cancel out (the spawn run ends with its timed part; \
         troupe's one-off clock calibration is left out). Unlike the times above, these \
         counts do not move with the machine's speed or load: on one thread a rerun counts \
         the same within a fraction of a percent, so compare them from one report to the \
         next to see a change in the code. On 2 workers valgrind runs one thread at a time, \
         and the counts include the workers' parking and stealing as its scheduling made \
         them: they repeat less closely (up to about 8% apart on a cell). They do not show \
         what the times do (cache misses, mispredicted branches, wake-ups through the \
         kernel), and a framework with fewer instructions can be slower. `× troupe` as in the tables.\n\n",
    );
    if let Some(why) = &counts.missing {
        let _ = writeln!(out, "Not measured: {why}.\n");
        return out;
    }
    for table in [Table::Multi, Table::Single] {
        let cols: Vec<Framework> = frameworks
            .iter()
            .copied()
            .filter(|f| f.table() == table)
            .filter(|f| counts.cells.iter().any(|(_, g, _)| g == f))
            .collect();
        if cols.is_empty() {
            continue;
        }
        let reference = table.reference();
        let _ = writeln!(out, "*{}*\n", table.title());
        let _ = write!(out, "| workload | instructions per |");
        for f in &cols {
            let _ = write!(out, " {} |", f.name());
        }
        out.push_str("\n| --- | --- |");
        out.push_str(&" ---: |".repeat(cols.len()));
        out.push('\n');
        for point in POINTS {
            if !cols
                .iter()
                .any(|f| counts.get(point.workload, *f).is_some())
            {
                continue;
            }
            let base = match counts.get(point.workload, reference) {
                Some(Count::PerOp(n)) => Some(*n),
                _ => None,
            };
            let _ = write!(out, "| {} | {} |", point.workload.spec().id, point.per);
            for f in &cols {
                let cell = match counts.get(point.workload, *f) {
                    None | Some(Count::Unsupported) => "n/a".to_string(),
                    Some(Count::Failed(_)) => "error".to_string(),
                    Some(Count::PerOp(n)) => match base {
                        Some(b) if *f != reference && b > 0.0 => {
                            format!("{} · {:.2}×", thousands(*n), n / b)
                        }
                        _ => thousands(*n),
                    },
                };
                let _ = write!(out, " {cell} |");
            }
            out.push('\n');
        }
        out.push('\n');
    }
    let failures: Vec<String> = counts
        .cells
        .iter()
        .filter_map(|(w, f, c)| match c {
            Count::Failed(e) => Some(format!("- {} / {}: {e}", w.spec().id, f.name())),
            Count::PerOp(_) | Count::Unsupported => None,
        })
        .collect();
    if !failures.is_empty() {
        out.push_str("Not counted:\n\n");
        out.push_str(&failures.join("\n"));
        out.push_str("\n\n");
    }
    out
}

/// `n` rounded, with thousands separators.
fn thousands(n: f64) -> String {
    let digits = format!("{:.0}", n.max(0.0));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cost_per_operation_is_the_difference_over_the_difference() {
        assert_eq!(per_op([1_000, 5_000], [10, 30]), Some(200.0));
        assert_eq!(per_op([5_000, 5_000], [10, 30]), None);
        assert_eq!(per_op([1_000, 5_000], [30, 30]), None);
    }

    #[test]
    fn every_point_grows_its_own_size_and_counts_its_operations() {
        let base = Sizes::full();
        for point in POINTS {
            let [small, large] = point.counts;
            assert!(small < large, "{:?}", point.workload);
            let (a, b) = ((point.sizes)(&base, small), (point.sizes)(&base, large));
            assert_ne!(a, b, "{:?}: the count changes no size", point.workload);
            assert!((point.ops)(&a, small) < (point.ops)(&b, large));
        }
        let big = POINTS.iter().find(|p| p.workload == Workload::Big).unwrap();
        assert_eq!((big.ops)(&base, 10), 10 * base.big_actors);
    }

    #[test]
    fn thousands_are_separated() {
        assert_eq!(thousands(0.4), "0");
        assert_eq!(thousands(999.0), "999");
        assert_eq!(thousands(1_000.0), "1,000");
        assert_eq!(thousands(47_333.2), "47,333");
        assert_eq!(thousands(1_234_567.0), "1,234,567");
    }

    #[test]
    fn the_section_shows_each_table_with_ratios_to_troupe_and_names_failures() {
        let counts = Counts {
            cells: vec![
                (Workload::Ask, Framework::Troupe, Count::PerOp(3_000.0)),
                (Workload::Ask, Framework::Tokio, Count::PerOp(2_250.0)),
                (
                    Workload::Ask,
                    Framework::TroupeSingle,
                    Count::PerOp(3_100.0),
                ),
                (
                    Workload::Ask,
                    Framework::Actix,
                    Count::Failed("boom".into()),
                ),
                (
                    Workload::Restarts,
                    Framework::TroupeSingle,
                    Count::PerOp(45_000.0),
                ),
                (Workload::Restarts, Framework::Actix, Count::Unsupported),
            ],
            missing: None,
        };
        let frameworks = [
            Framework::Troupe,
            Framework::Tokio,
            Framework::Ractor,
            Framework::TroupeSingle,
            Framework::Actix,
        ];
        let md = render(&counts, &frameworks);
        assert!(md.contains("| ask | ask | 3,000 | 2,250 · 0.75× |"), "{md}");
        assert!(md.contains("| ask | ask | 3,100 | error |"), "{md}");
        assert!(md.contains("| restarts | restart | 45,000 | n/a |"), "{md}");
        assert!(!md.contains("restarts / actix"), "{md}");
        // A framework with no count at all has no column.
        assert!(!md.contains("ractor"), "{md}");
        assert!(md.contains("- ask / actix: boom"), "{md}");
    }

    #[test]
    fn without_valgrind_the_section_says_why() {
        let counts = Counts {
            cells: Vec::new(),
            missing: Some("valgrind was not found".into()),
        };
        let md = render(&counts, &[Framework::Troupe]);
        assert!(md.contains("Not measured: valgrind was not found."), "{md}");
        assert!(!md.contains('|'), "{md}");
    }
}
