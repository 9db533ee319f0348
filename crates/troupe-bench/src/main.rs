//! `troupe-bench`: benchmarks of troupe against peer actor frameworks and raw Tokio channels.
//!
//! Full run (writes `BENCHMARKS.md` at the workspace root):
//! `cargo run --release -p troupe-bench`
//!
//! Quick run for CI (small sizes, once each, report on stdout only):
//! `cargo run --release -p troupe-bench -- --quick` or `TROUPE_BENCH_QUICK=1 cargo run ...`
//!
//! Every run, warm-ups and scaling points included, is a process of its own: the bench starts
//! its own executable again in a hidden child mode (`--child <workload> <framework> <sizes>
//! <limit-ms>`, see [`child`]), which makes the one run, prints its sample as one line on
//! stdout ([`wire`]) and exits. In one long process a run's figures depended on what had run
//! before it (the allocator's arenas and kept pages, runtimes still tearing down): troupe's
//! restarts/s was half as high in a full run as alone. The parent kills a child past its time
//! limit; a child that crashes becomes an error cell with the tail of its stderr.
//!
//! Reading the figures: each cell is the median of its repeats, `±` its spread (half the range
//! over the median), and a difference under the spread is noise; `best` is the best repeat,
//! the one other work on the machine disturbed least (see the report's header).
//!
//! A full run also counts each workload's instructions per operation under valgrind's
//! callgrind ([`instructions`]), figures that a rerun reproduces whatever the machine's speed
//! and load: `cargo run --release -p troupe-bench -- --instructions` makes that part alone.

mod adapters;
mod child;
mod config;
mod harness;
mod instructions;
mod load;
mod report;
mod scaling;
mod util;
mod wire;
mod workloads;

use std::path::PathBuf;
use std::time::Instant;

use adapters::Framework;
use config::RunConfig;
use report::{Environment, ReportInput, Results};
use workloads::Workload;

#[global_allocator]
static ALLOC: util::mem::CountingAlloc = util::mem::CountingAlloc;

const USAGE: &str = "\
troupe-bench: benchmarks of troupe against ractor, kameo, actix, tokio-actors, elfo and raw Tokio

USAGE: troupe-bench [--quick] [--repeats N] [--only W1,W2] [--frameworks F1,F2] [--out PATH]
                    [--scaling | --no-scaling] [--instructions | --no-instructions]

  --quick          small sizes, one repeat, report on stdout only (also TROUPE_BENCH_QUICK=1)
  --repeats N      repeats per (workload, framework) pair (full: 7 after one
                   unrecorded warm-up run, quick: 1); every run is a process of its own
  --only LIST      run only these workloads: ask, tell, pingpong, ring, fanout, big, spawn,
                   backpressure, restarts, tree
  --frameworks L   run only these frameworks: troupe, troupe+recorder (troupe with its
                   metrics on and a Prometheus recorder; ask and tell only), tokio,
                   ractor, kameo, tokio-actors, elfo (multi-thread table); troupe-1t,
                   tokio-1t, actix (single-thread table)
  --out PATH       write the report to PATH (default: BENCHMARKS.md at the workspace root,
                   only for a full, unfiltered run); the scaling charts go to docs/bench/
                   beside it
  --scaling        run only the scaling series (cost against size, with SVG charts)
  --no-scaling     skip the scaling series
  --instructions   count only the instructions per operation, under valgrind's callgrind
                   (with --only and --frameworks: of those); with --scaling, both
  --no-instructions  skip the instruction counts (a full run makes them when valgrind is
                   installed, and says so in the report when it is not; --quick skips them)
";

/// Parsed command line.
struct Args {
    cfg: RunConfig,
    workloads: Vec<Workload>,
    frameworks: Vec<Framework>,
    out: Option<PathBuf>,
    filtered: bool,
    /// Run the tables (false with `--scaling`).
    tables: bool,
    /// Run the scaling series (false with `--no-scaling`, or `--only`).
    scaling: bool,
    /// Count the instructions per operation (false with `--no-instructions`, `--only` or
    /// `--quick`).
    instructions: bool,
}

fn parse_args() -> Result<Args, String> {
    let raw: Vec<String> = std::env::args().skip(1).collect();
    let env_quick = std::env::var("TROUPE_BENCH_QUICK").is_ok_and(|v| v == "1" || v == "true");
    let quick = env_quick || raw.iter().any(|a| a == "--quick");
    let mut cfg = RunConfig::new(quick);
    let mut workloads = Workload::ALL.to_vec();
    let mut frameworks = Framework::ALL.to_vec();
    let mut out = None;
    let mut filtered = false;
    let (mut scaling, mut only) = (true, false);
    let (mut only_scaling, mut only_instructions, mut instructions) = (false, false, true);
    let mut it = raw.iter();
    while let Some(arg) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match arg.as_str() {
            "--quick" => {}
            "--scaling" => {
                only_scaling = true;
                filtered = true;
            }
            "--no-scaling" => scaling = false,
            "--instructions" => {
                only_instructions = true;
                filtered = true;
            }
            "--no-instructions" => instructions = false,
            "-h" | "--help" => return Err(String::new()),
            "--repeats" => {
                cfg.repeats = value("--repeats")?
                    .parse::<usize>()
                    .map_err(|e| format!("--repeats: {e}"))?
                    .max(1);
            }
            "--only" => {
                filtered = true;
                only = true;
                workloads = value("--only")?
                    .split(',')
                    .map(|id| Workload::from_id(id.trim()).ok_or(format!("unknown workload {id}")))
                    .collect::<Result<_, _>>()?;
            }
            "--frameworks" => {
                filtered = true;
                frameworks = value("--frameworks")?
                    .split(',')
                    .map(|n| Framework::from_name(n.trim()).ok_or(format!("unknown framework {n}")))
                    .collect::<Result<_, _>>()?;
            }
            "--out" => out = Some(PathBuf::from(value("--out")?)),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    // `--scaling` and `--instructions` each ask for their part alone (both: the two parts);
    // without either, the tables run, and the other parts unless skipped or filtered out.
    let tables = !only_scaling && !only_instructions;
    let quick = cfg.quick;
    Ok(Args {
        cfg,
        workloads,
        frameworks,
        out,
        filtered,
        tables,
        scaling: only_scaling || (tables && scaling && !only),
        instructions: only_instructions || (tables && instructions && !only && !quick),
    })
}

/// Where the scaling charts go, relative to the report.
const CHARTS: &str = "docs/bench";

/// Puts the scaling section before the report's last section (how each framework is set up).
fn insert_before_setup(markdown: &str, section: &str) -> String {
    match markdown.find("## How each framework is set up") {
        Some(at) => format!("{}{section}{}", &markdown[..at], &markdown[at..]),
        None => format!("{markdown}\n{section}"),
    }
}

fn command_line() -> String {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut cmd = String::new();
    if std::env::var("TROUPE_BENCH_QUICK").is_ok() {
        cmd.push_str("TROUPE_BENCH_QUICK=1 ");
    }
    cmd.push_str("cargo run --release -p troupe-bench");
    if !args.is_empty() {
        cmd.push_str(" -- ");
        cmd.push_str(&args.join(" "));
    }
    cmd
}

fn main() {
    let raw: Vec<String> = std::env::args().skip(1).collect();
    if raw.first().map(String::as_str) == Some(child::CHILD_FLAG) {
        child::child_main(&raw[1..]);
    }
    let args = match parse_args() {
        Ok(a) => a,
        Err(msg) => {
            if msg.is_empty() {
                print!("{USAGE}");
                return;
            }
            eprintln!("error: {msg}\n\n{USAGE}");
            std::process::exit(2);
        }
    };
    let cfg = &args.cfg;
    let started = Instant::now();
    let load_at_start = report::load_average();
    let cpu_at_start = load::CpuTimes::now();
    let mut results = Results::default();

    let workloads: &[Workload] = if args.tables { &args.workloads } else { &[] };
    for &workload in workloads {
        let spec = workload.spec();
        for round in 0..cfg.warmups + cfg.repeats {
            let n = args.frameworks.len();
            // Warm-up rounds run every pair once, unrecorded.
            let warmup = round < cfg.warmups;
            let repeat = round.saturating_sub(cfg.warmups);
            for k in 0..n {
                let framework = args.frameworks[(k + round) % n];
                if !framework.runs(workload) || results.is_stopped(workload, framework) {
                    continue;
                }
                let job = child::Job {
                    workload,
                    framework,
                    sizes: cfg.sizes.clone(),
                    limit: cfg.run_limit,
                };
                let t = Instant::now();
                let cpu_before = load::CpuTimes::now();
                let report = child::run(&job);
                let took = t.elapsed();
                // How much of the machine other processes took during this run, to tell a slow
                // repeat due to them from one due to the framework.
                let others = cpu_before
                    .zip(load::CpuTimes::now())
                    .and_then(|(before, after)| before.others_share(&after))
                    .map_or_else(String::new, |s| format!(", others {:.0}%", s * 100.0));
                eprint!("{}", report.stderr);
                let what = if warmup {
                    "warm-up".to_string()
                } else {
                    format!("repeat {}/{}", repeat + 1, cfg.repeats)
                };
                if report.other_panics > 0 && !warmup {
                    results.warn(format!(
                        "{} / {}: {} panic(s) other than the workload's deliberate ones \
                         during the {what} (printed on stderr)",
                        spec.id,
                        framework.name(),
                        report.other_panics,
                    ));
                }
                match &report.result {
                    Ok(sample) => {
                        let values = (spec.compute)(sample, &cfg.sizes);
                        let shown: Vec<String> = spec
                            .metrics
                            .iter()
                            .zip(&values)
                            .map(|(m, v)| format!("{}={v:.2}{}", m.name, m.unit))
                            .collect();
                        eprintln!(
                            "[{}] {what} {:<12} {} ({:.2}s{others})",
                            spec.id,
                            framework.name(),
                            shown.join(" "),
                            took.as_secs_f64()
                        );
                    }
                    Err(e) => eprintln!("[{}] {what} {:<12} {e}", spec.id, framework.name()),
                }
                // A warm-up's figures are dropped, but an error stops the pair all the same:
                // a pair that cannot run is not run again.
                match (&report.result, warmup) {
                    (Ok(_), true) => {}
                    (outcome, _) => results.record(workload, framework, outcome.as_ref(), cfg),
                }
            }
        }
    }

    let env = Environment::detect();
    let command = command_line();
    let date = report::utc_date();
    let scaled = if args.scaling {
        scaling::run(cfg, &args.frameworks)
    } else {
        Vec::new()
    };
    let mut markdown = report::render(&ReportInput {
        cfg,
        workloads,
        frameworks: &args.frameworks,
        results: &results,
        env: &env,
        command: &command,
        date: &date,
        total_secs: started.elapsed().as_secs_f64(),
        load: report::Load {
            average_at_start: load_at_start,
            others_share: cpu_at_start
                .zip(load::CpuTimes::now())
                .and_then(|(start, end)| start.others_share(&end)),
        },
    });
    let target = match (&args.out, cfg.quick, args.filtered) {
        (Some(path), _, _) => Some(path.clone()),
        (None, false, false) => {
            Some(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../BENCHMARKS.md"))
        }
        _ => None,
    };
    if !scaled.is_empty() {
        let charts = target.as_ref().map(|path| {
            path.parent()
                .unwrap_or_else(|| std::path::Path::new("."))
                .join(CHARTS)
        });
        if let Some(dir) = &charts {
            if let Err(e) = scaling::write_charts(&scaled, dir) {
                eprintln!("error: cannot write the charts to {}: {e}", dir.display());
                std::process::exit(1);
            }
        }
        let section = scaling::render(&scaled, charts.as_ref().map(|_| CHARTS));
        markdown = insert_before_setup(&markdown, &section);
    }
    if args.instructions {
        let counts = instructions::run(cfg, &args.workloads, &args.frameworks);
        let section = instructions::render(&counts, &args.frameworks);
        markdown = insert_before_setup(&markdown, &section);
    }
    println!("{markdown}");

    if let Some(path) = target {
        match std::fs::write(&path, &markdown) {
            Ok(()) => eprintln!("report written to {}", path.display()),
            Err(e) => {
                eprintln!("error: cannot write {}: {e}", path.display());
                std::process::exit(1);
            }
        }
    }
    eprintln!("total time: {:.1}s", started.elapsed().as_secs_f64());
}
