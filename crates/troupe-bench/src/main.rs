//! `troupe-bench`: benchmarks of troupe against peer actor frameworks and raw Tokio channels.
//!
//! Full run (writes `BENCHMARKS.md` at the workspace root):
//! `cargo run --release -p troupe-bench`
//!
//! Quick run for CI (small sizes, once each, report on stdout only):
//! `cargo run --release -p troupe-bench -- --quick` or `TROUPE_BENCH_QUICK=1 cargo run ...`

mod adapters;
mod config;
mod harness;
mod report;
mod scaling;
mod util;
mod workloads;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use adapters::Framework;
use config::RunConfig;
use harness::{install_quiet_panic_hook, run_isolated};
use report::{Environment, ReportInput, Results};
use workloads::Workload;

#[global_allocator]
static ALLOC: util::mem::CountingAlloc = util::mem::CountingAlloc;

const USAGE: &str = "\
troupe-bench: benchmarks of troupe against ractor, kameo, actix, tokio-actors, elfo and raw Tokio

USAGE: troupe-bench [--quick] [--repeats N] [--only W1,W2] [--frameworks F1,F2] [--out PATH]
                    [--scaling | --no-scaling]

  --quick          small sizes, one repeat, report on stdout only (also TROUPE_BENCH_QUICK=1)
  --repeats N      repeats per (workload, framework) pair (full: 5, quick: 1)
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
    let (mut tables, mut scaling, mut only) = (true, true, false);
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
                tables = false;
                filtered = true;
            }
            "--no-scaling" => scaling = false,
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
    Ok(Args {
        cfg,
        workloads,
        frameworks,
        out,
        filtered,
        tables,
        scaling: scaling && (!only || !tables),
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
    install_quiet_panic_hook();
    let cfg = &args.cfg;
    let started = Instant::now();
    let mut results = Results::default();

    let workloads: &[Workload] = if args.tables { &args.workloads } else { &[] };
    for &workload in workloads {
        let spec = workload.spec();
        for repeat in 0..cfg.repeats {
            let n = args.frameworks.len();
            for k in 0..n {
                let framework = args.frameworks[(k + repeat) % n];
                if !framework.runs(workload) || results.is_stopped(workload, framework) {
                    continue;
                }
                let sizes = cfg.sizes.clone();
                let limit = cfg.run_limit;
                let panics_before = harness::other_panics();
                let t = Instant::now();
                let outcome = run_isolated(
                    format!("{}-{}", spec.id, framework.name()),
                    limit,
                    move || framework.run(workload, &sizes, limit),
                );
                let took = t.elapsed();
                let panics = harness::other_panics() - panics_before;
                if panics > 0 {
                    results.warn(format!(
                        "{} / {}: {panics} panic(s) other than the workload's deliberate ones \
                         during repeat {} (printed on stderr)",
                        spec.id,
                        framework.name(),
                        repeat + 1
                    ));
                }
                match &outcome {
                    Ok(sample) => {
                        let values = (spec.compute)(sample, &cfg.sizes);
                        let shown: Vec<String> = spec
                            .metrics
                            .iter()
                            .zip(&values)
                            .map(|(m, v)| format!("{}={v:.2}{}", m.name, m.unit))
                            .collect();
                        eprintln!(
                            "[{}] repeat {}/{} {:<12} {} ({:.2}s)",
                            spec.id,
                            repeat + 1,
                            cfg.repeats,
                            framework.name(),
                            shown.join(" "),
                            took.as_secs_f64()
                        );
                    }
                    Err(e) => eprintln!(
                        "[{}] repeat {}/{} {:<12} {e}",
                        spec.id,
                        repeat + 1,
                        cfg.repeats,
                        framework.name()
                    ),
                }
                results.record(workload, framework, outcome.as_ref(), cfg);
                std::thread::sleep(Duration::from_millis(20));
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
