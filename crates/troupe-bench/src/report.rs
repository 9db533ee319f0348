//! Aggregating samples into medians and rendering the Markdown report.

use std::collections::HashMap;
use std::fmt::Write as _;

use crate::adapters::{Framework, Table};
use crate::config::RunConfig;
use crate::harness::BenchError;
use crate::workloads::{Sample, Workload};

mod targets;

/// Everything measured for one (workload, framework) pair.
#[derive(Debug, Default)]
pub struct Cell {
    /// One vector of metric values per successful repeat.
    pub values: Vec<Vec<f64>>,
    /// The error that stopped this pair, if any.
    pub error: Option<BenchError>,
}

/// All results of a run.
#[derive(Debug, Default)]
pub struct Results {
    cells: HashMap<(usize, usize), Cell>,
    warnings: Vec<String>,
}

impl Results {
    /// Records the outcome of one run.
    pub fn record(
        &mut self,
        workload: Workload,
        framework: Framework,
        outcome: Result<&Sample, &BenchError>,
        cfg: &RunConfig,
    ) {
        let cell = self.cells.entry(key(workload, framework)).or_default();
        match outcome {
            Ok(sample) => cell
                .values
                .push((workload.spec().compute)(sample, &cfg.sizes)),
            Err(e) => cell.error = Some(e.clone()),
        }
    }

    /// Notes something odd about a run that still produced a result.
    pub fn warn(&mut self, warning: String) {
        self.warnings.push(warning);
    }

    /// Whether this pair has failed (or is unsupported) and should not be run again.
    pub fn is_stopped(&self, workload: Workload, framework: Framework) -> bool {
        self.cells
            .get(&key(workload, framework))
            .is_some_and(|c| c.error.is_some())
    }

    fn cell(&self, workload: Workload, framework: Framework) -> Option<&Cell> {
        self.cells.get(&key(workload, framework))
    }

    /// Median, spread and best of every metric for one pair, when it has at least one sample
    /// and no error.
    fn medians(&self, workload: Workload, framework: Framework) -> Option<Vec<Stat>> {
        let cell = self.cell(workload, framework)?;
        if cell.error.is_some() || cell.values.is_empty() {
            return None;
        }
        let metrics = workload.spec().metrics;
        Some(
            metrics
                .iter()
                .enumerate()
                .map(|(m, metric)| {
                    let column: Vec<f64> = cell.values.iter().map(|v| v[m]).collect();
                    Stat {
                        median: median(&column),
                        spread: spread(&column),
                        best: best(&column, metric.higher_is_better),
                    }
                })
                .collect(),
        )
    }
}

/// What the report shows of one metric's repeats.
#[derive(Debug, Clone, Copy)]
struct Stat {
    median: f64,
    spread: f64,
    best: f64,
}

fn key(workload: Workload, framework: Framework) -> (usize, usize) {
    let w = Workload::ALL
        .iter()
        .position(|x| *x == workload)
        .unwrap_or(0);
    let f = Framework::ALL
        .iter()
        .position(|x| *x == framework)
        .unwrap_or(0);
    (w, f)
}

/// Median of the finite values; NaN when there are none.
pub fn median(values: &[f64]) -> f64 {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let mid = v.len() / 2;
    if v.len() % 2 == 1 {
        v[mid]
    } else {
        (v[mid - 1] + v[mid]) / 2.0
    }
}

/// Share of the machine's CPU time taken by other processes above which the report says that
/// its figures were taken under load.
const UNDER_LOAD: f64 = 0.05;

/// The best of the finite values: the highest for a rate, the lowest for a time or a size;
/// NaN when there are none. A burst of load from other processes mostly makes a run slower,
/// so the best repeat is the one it disturbed least.
pub fn best(values: &[f64], higher_is_better: bool) -> f64 {
    let finite = values.iter().copied().filter(|x| x.is_finite());
    let found = if higher_is_better {
        finite.max_by(|a, b| a.total_cmp(b))
    } else {
        finite.min_by(|a, b| a.total_cmp(b))
    };
    found.unwrap_or(f64::NAN)
}

/// Half the range of the values relative to their median, as a fraction (0.05 = ±5 %).
pub fn spread(values: &[f64]) -> f64 {
    let finite: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    let m = median(&finite);
    if finite.len() < 2 || m == 0.0 || !m.is_finite() {
        return 0.0;
    }
    let lo = finite.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = finite.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (hi - lo) / 2.0 / m.abs()
}

/// Facts about the machine and the build, for the report's header.
#[derive(Debug)]
pub struct Environment {
    /// Human-readable lines.
    pub lines: Vec<String>,
    /// Versions of the compared crates, in framework order.
    pub versions: Vec<(String, String)>,
}

impl Environment {
    /// Reads the machine's description from `/proc` and the build's from build-time variables.
    pub fn detect() -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let model = cpuinfo
            .lines()
            .find(|l| l.starts_with("model name"))
            .and_then(|l| l.split(':').nth(1))
            .map_or_else(|| "unknown CPU".to_string(), |s| s.trim().to_string());
        let logical = cpuinfo
            .lines()
            .filter(|l| l.starts_with("processor"))
            .count();
        let usable = std::thread::available_parallelism().map_or(0, |n| n.get());
        let mem_gib = std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|s| {
                let line = s.lines().find(|l| l.starts_with("MemTotal:"))?.to_string();
                line.split_whitespace().nth(1)?.parse::<f64>().ok()
            })
            .map_or(0.0, |kib| kib / 1024.0 / 1024.0);
        let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map_or_else(|_| "unknown".to_string(), |s| s.trim().to_string());
        let versions = env!("BENCH_CRATE_VERSIONS")
            .split(';')
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Self {
            lines: vec![
                format!(
                    "Machine: {usable} usable cores ({logical} in /proc/cpuinfo), CPU `{model}`, \
                     {mem_gib:.1} GiB RAM, Linux {kernel}"
                ),
                format!(
                    "Toolchain: {}, release profile",
                    env!("BENCH_RUSTC_VERSION")
                ),
            ],
            versions,
        }
    }

    fn version_of(&self, krate: &str) -> String {
        self.versions
            .iter()
            .find(|(k, _)| k == krate)
            .map_or_else(|| "?".to_string(), |(_, v)| v.clone())
    }
}

/// Everything the renderer needs.
pub struct ReportInput<'a> {
    /// The run's configuration.
    pub cfg: &'a RunConfig,
    /// The workloads run, in order.
    pub workloads: &'a [Workload],
    /// The frameworks run, in order.
    pub frameworks: &'a [Framework],
    /// The measurements.
    pub results: &'a Results,
    /// Machine and build facts.
    pub env: &'a Environment,
    /// The command that produced the report.
    pub command: &'a str,
    /// The UTC date of the run.
    pub date: &'a str,
    /// Wall time of the whole run.
    pub total_secs: f64,
    /// How busy the machine was with other work.
    pub load: Load,
}

/// How busy the machine was with other work than the bench.
#[derive(Debug, Clone, Copy, Default)]
pub struct Load {
    /// One-minute load average when the run started.
    pub average_at_start: Option<f64>,
    /// Share of the machine's CPU time during the run that went to other processes.
    pub others_share: Option<f64>,
}

/// Renders the Markdown report.
pub fn render(input: &ReportInput<'_>) -> String {
    let mut out = String::new();
    let cfg = input.cfg;
    let _ = writeln!(out, "# troupe benchmarks\n");
    let _ = writeln!(
        out,
        "Generated by `troupe-bench` ({} mode) on {} (UTC) in {:.0} s with:\n\n```sh\n{}\n```\n",
        if cfg.quick { "quick" } else { "full" },
        input.date,
        input.total_secs,
        input.command
    );
    for line in &input.env.lines {
        let _ = writeln!(out, "- {line}");
    }
    let versions: Vec<String> = input
        .frameworks
        .iter()
        .filter(|f| **f != Framework::TroupeRecorder)
        .map(|f| {
            format!(
                "{} {}",
                f.crate_name(),
                input.env.version_of(f.crate_name())
            )
        })
        .chain(std::iter::once(format!(
            "actix-rt {}",
            input.env.version_of("actix-rt")
        )))
        .collect();
    let _ = writeln!(out, "- Crates: {}", versions.join(", "));
    let _ = writeln!(
        out,
        "- Other work on the machine: {} of its CPU time during the run went to other \
         processes than the bench (load average {} at the start, {} usable cores); when it is \
         more than a few %, the figures were taken under load{}",
        input
            .load
            .others_share
            .map_or_else(|| "?".to_string(), |s| format!("{:.0} %", s * 100.0)),
        input
            .load
            .average_at_start
            .map_or_else(|| "?".to_string(), |l| format!("{l:.2}")),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        if input.load.others_share.is_some_and(|s| s > UNDER_LOAD) {
            ". **These figures were taken under load: do not compare them with a report taken \
             on a quiet machine** (see below)"
        } else {
            ""
        }
    );
    let _ = writeln!(
        out,
        "- Method: every run is a process of its own (the bench starts itself again for it), \
         so no run inherits the heap, the allocator arenas or the threads of another: each \
         starts from the same state. Every (workload, framework) pair runs {} time(s), after {} \
         unrecorded warm-up run(s); within each repeat the \
         frameworks take turns in an order that rotates by one place per repeat, so machine noise \
         is spread over all of them. Every run gets a fresh Tokio runtime, \
         and a {} s limit (past it, the bench kills the run's process). Each workload has two \
         tables, so that like is compared with like: \
         *multi-thread* (a 2-worker runtime: troupe, its peers on Tokio and the Tokio floor) and \
         *single thread* (a current-thread runtime: `troupe-1t` and the floor `tokio-1t`, \
         against actix, whose actors all run on its single-threaded arbiter). `n/a`: the \
         framework has no idiomatic way to run the workload; `error`: the run failed (reason \
         in the notes).\n",
        cfg.repeats,
        cfg.warmups,
        cfg.run_limit.as_secs()
    );
    let _ = writeln!(out, "### How to read the figures\n");
    let _ = writeln!(
        out,
        "- A cell is the median of its repeats. `±x%` is its spread: half the range \
         (max − min) of the repeats, relative to the median; the repeats all lie within a band, \
         2·x % of the median wide, that holds the median. It is the noise of this cell on this machine \
         during this run.\n\
         - **A difference under the spread is noise.** Two cells (or the same cell in two \
         reports) differ only when their medians are further apart than the larger of their \
         two spreads; a regression is a median that moved past its spread, for the worse.\n\
         - `best` is the best repeat: the lowest time or size, the highest rate. A burst of \
         other work on the machine mostly slows a run down, so the best repeat is the one it \
         disturbed least, and it holds from one run to the next when medians do not: with half of a \
         2-core machine taken by another build, the bests of two runs (and their ratios to \
         troupe) agreed within ±10% for most cells, their medians for about half. When the \
         share of other work above is more than a few %, compare bests.\n\
         - Load does not only add noise, it changes what is measured: the 2 workers of the \
         multi-thread table then share fewer cores than they have, and a workload whose \
         messages cross between workers can get faster (troupe's backpressure on 2 idle cores: \
         478 ms; confined to one core: 214 ms). Compare reports only when both were taken on a \
         quiet machine, or both under load.\n\
         - `× troupe` (`× troupe-1t`) is the value divided by that of troupe in the same \
         table (the median by troupe's median, the best by troupe's best): for times and memory below 1 beats troupe, for rates above 1 beats troupe. \
         These ratios hold better from one run to the next than the absolute figures: both \
         sides ran interleaved, under the same machine load. When the \
         share of other work above is high, compare ratios rather than absolute figures.\n\
         - To see a change in the code from one report to the next, compare the \
         *Instructions per operation* section (when the report has it): those counts do not \
         depend on the machine's speed or load.\n"
    );
    targets::render(&mut out, input.results, input.workloads);
    let mut errors = Vec::new();
    for &w in input.workloads {
        let spec = w.spec();
        let _ = writeln!(
            out,
            "## {}\n\n{}\n",
            spec.title,
            (spec.describe)(&cfg.sizes)
        );
        for table in Table::ALL {
            let rows: Vec<Framework> = input
                .frameworks
                .iter()
                .copied()
                .filter(|f| f.runs(w) && f.table() == table)
                .collect();
            if rows.is_empty() {
                continue;
            }
            render_table(&mut out, input, w, table, &rows, &mut errors);
        }
        let _ = writeln!(out);
    }

    if !errors.is_empty() || !input.results.warnings.is_empty() {
        let _ = writeln!(out, "## Errors, n/a cells and warnings\n");
        for e in errors.iter().chain(&input.results.warnings) {
            let _ = writeln!(out, "- {e}");
        }
        let _ = writeln!(out);
    }

    let _ = writeln!(out, "## How each framework is set up\n");
    for &f in input.frameworks {
        for note in f.notes() {
            let _ = writeln!(out, "- **{}**: {note}", f.name());
        }
    }
    out
}

/// One table of one workload: the frameworks of `table`, ratios to its reference.
fn render_table(
    out: &mut String,
    input: &ReportInput<'_>,
    w: Workload,
    table: Table,
    rows: &[Framework],
    errors: &mut Vec<String>,
) {
    let spec = w.spec();
    let reference_name = table.reference().name();
    let _ = writeln!(out, "*{}*\n", table.title());
    let mut header = String::from("| framework |");
    let mut rule = String::from("| --- |");
    for m in spec.metrics {
        let better = if m.higher_is_better {
            "higher is better"
        } else {
            "lower is better"
        };
        let _ = write!(
            header,
            " {} ({}, {better}) | × {reference_name} |",
            m.name, m.unit
        );
        rule.push_str(" ---: | ---: |");
    }
    let _ = writeln!(out, "{header}\n{rule}");
    let reference = input.results.medians(w, table.reference());
    {
        for &f in rows {
            let mut row = format!("| {} |", f.name());
            match (input.results.medians(w, f), input.results.cell(w, f)) {
                (Some(medians), _) => {
                    for (i, (m, stat)) in spec.metrics.iter().zip(medians.iter()).enumerate() {
                        let of = |value: f64, pick: fn(&Stat) -> f64| {
                            reference
                                .as_ref()
                                .and_then(|r| r.get(i))
                                .map(pick)
                                .filter(|r| r.is_finite() && *r != 0.0)
                                .map_or_else(|| "–".to_string(), |r| format!("{:.2}", value / r))
                        };
                        let (ratio, best_ratio) =
                            (of(stat.median, |r| r.median), of(stat.best, |r| r.best));
                        let ratios = if reference.is_some() {
                            format!("{ratio} · best {best_ratio}")
                        } else {
                            ratio
                        };
                        let _ = write!(
                            row,
                            " {} ±{:.0}% · best {} | {ratios} |",
                            fmt_value(stat.median, m.decimals),
                            stat.spread * 100.0,
                            fmt_value(stat.best, m.decimals),
                        );
                    }
                }
                (None, Some(Cell { error: Some(e), .. })) => {
                    let text = match e {
                        BenchError::Unsupported(_) => "n/a",
                        _ => "error",
                    };
                    for _ in spec.metrics {
                        let _ = write!(row, " {text} | – |");
                    }
                    errors.push(format!("{} / {}: {e}", spec.id, f.name()));
                }
                (None, _) => {
                    for _ in spec.metrics {
                        let _ = write!(row, " not run | – |");
                    }
                }
            }
            let _ = writeln!(out, "{row}");
        }
    }
    let _ = writeln!(out);
}

/// The machine's one-minute load average, from `/proc/loadavg` (`None` where there is none).
pub fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

fn fmt_value(v: f64, decimals: usize) -> String {
    if !v.is_finite() {
        return "?".to_string();
    }
    let s = format!("{v:.decimals$}");
    // Thousands separators for the integer part, to keep big numbers readable.
    let (int, frac) = s.split_once('.').map_or((s.as_str(), ""), |(i, f)| (i, f));
    let (sign, digits) = int.strip_prefix('-').map_or(("", int), |d| ("-", d));
    let mut grouped = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    if frac.is_empty() {
        format!("{sign}{grouped}")
    } else {
        format!("{sign}{grouped}.{frac}")
    }
}

/// Today's date (UTC) as `YYYY-MM-DD`, from the system clock.
pub fn utc_date() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let days = (secs / 86_400) as i64;
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert!(median(&[]).is_nan());
    }

    #[test]
    fn best_is_the_highest_rate_or_the_lowest_time() {
        let values = [120.0, f64::NAN, 80.0, 100.0];
        assert_eq!(best(&values, true), 120.0);
        assert_eq!(best(&values, false), 80.0);
        assert!(best(&[], true).is_nan());
    }

    #[test]
    fn spread_is_half_range_over_median() {
        assert!((spread(&[90.0, 100.0, 110.0]) - 0.1).abs() < 1e-9);
        assert_eq!(spread(&[5.0]), 0.0);
    }

    #[test]
    fn values_get_thousands_separators() {
        assert_eq!(fmt_value(1234567.891, 1), "1,234,567.9");
        assert_eq!(fmt_value(999.0, 0), "999");
        assert_eq!(fmt_value(-1234.5, 1), "-1,234.5");
    }

    #[test]
    fn date_is_well_formed() {
        let d = utc_date();
        assert_eq!(d.len(), 10);
        assert!(d.starts_with("20"));
    }
}
