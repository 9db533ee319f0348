//! Scaling: how the cost grows with the work. Each series reruns one workload of the tables at
//! growing sizes, for every framework that can run it, and reports a per-unit cost (which should
//! stay flat) as a table and a small SVG chart.
//!
//! - **actors**: the spawn workload with 10 → 1,000,000 actors: heap per idle actor, and spawn
//!   time per actor;
//! - **mailbox capacity**: the backpressure workload with a sink mailbox of 1 → 4,096: time per
//!   message;
//! - **fan-out width**: the fan-out workload over 1 → 10,000 actors, the same number of messages
//!   in total: time per message;
//! - **population, 1% active**: the fan-out workload among 100 → 1,000,000 live actors, of which
//!   1% receive the messages (the others idle): time per message, which should not grow with the
//!   idle population;
//! - **supervisor width**: the tree workload with one supervisor of 10 → 100,000 children: time
//!   per child to stop them all, which should not grow with their number.
//!
//! The memory cap of a series whose workload measures no heap uses the heap per actor that the
//! actors series measured for that framework.
//!
//! Every run is a process of its own, as in the tables, so that the million actors of one
//! point leave nothing behind for the next.
//!
//! A framework stops at the size where a run fails, or where its heap per actor at the previous
//! size says the next one would need more than [`HEAP_CAP`].

pub mod svg;

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use crate::adapters::Framework;
use crate::child;
use crate::config::{RunConfig, Sizes};
use crate::report::median;
use crate::workloads::Workload;

/// Largest heap a scaling run may need (estimated from the previous size).
pub const HEAP_CAP: f64 = 4.0 * 1024.0 * 1024.0 * 1024.0;

/// One figure of a series, taken from a workload's sample.
#[derive(Clone, Copy)]
pub struct Figure {
    /// File name part and anchor.
    pub id: &'static str,
    /// Chart title.
    pub title: &'static str,
    /// Y axis label.
    pub unit: &'static str,
    /// The per-unit value from the workload's computed metrics and the sizes of the run.
    pub value: fn(&[f64], &Sizes, Duration) -> f64,
}

/// A series: one workload, the size it varies, and the figures it reports.
pub struct Series {
    /// Heading.
    pub title: &'static str,
    /// X axis label.
    pub x_label: &'static str,
    /// The workload rerun at each size.
    pub workload: Workload,
    /// The sizes of one point.
    pub sizes: fn(&Sizes, usize) -> Sizes,
    /// Actors alive at once at this point (for the memory cap), if that grows with it.
    pub actors: fn(usize) -> Option<usize>,
    /// What is reported.
    pub figures: &'static [Figure],
}

/// The series of a run, with their sizes (small ones in quick mode).
pub fn series(quick: bool) -> Vec<(Series, Vec<usize>)> {
    let pick = |full: &[usize], quick_sizes: &[usize]| {
        if quick {
            quick_sizes.to_vec()
        } else {
            full.to_vec()
        }
    };
    vec![
        (
            Series {
                title: "Actors: 10 → 1,000,000 idle actors",
                x_label: "actors",
                workload: Workload::Spawn,
                sizes: |base, n| Sizes {
                    spawn_n: n,
                    ..base.clone()
                },
                actors: Some,
                figures: &[
                    Figure {
                        id: "actors-memory",
                        title: "Heap per idle actor",
                        unit: "bytes",
                        value: |v, _, _| v[2],
                    },
                    Figure {
                        id: "actors-spawn",
                        title: "Spawn + first message, per actor",
                        unit: "µs",
                        value: |v, _, _| v[1],
                    },
                ],
            },
            pick(
                &[10, 100, 1_000, 10_000, 100_000, 1_000_000],
                &[10, 100, 1_000],
            ),
        ),
        (
            Series {
                title: "Mailbox capacity: 1 → 4,096 (8 producers, one sink)",
                x_label: "mailbox capacity",
                workload: Workload::Backpressure,
                sizes: |base, c| Sizes {
                    bp_capacity: c,
                    ..base.clone()
                },
                actors: |_| None,
                figures: &[Figure {
                    id: "capacity",
                    title: "Backpressure: time per message",
                    unit: "ns",
                    value: |_, s, elapsed| per_message(elapsed, s.bp_n),
                }],
            },
            pick(&[1, 4, 16, 64, 256, 1_024, 4_096], &[1, 64, 4_096]),
        ),
        (
            Series {
                title: "Fan-out width: 1 → 10,000 actors, the same messages in total",
                x_label: "actors fed",
                workload: Workload::FanOut,
                sizes: |base, w| Sizes {
                    fanout_actors: w,
                    ..base.clone()
                },
                actors: Some,
                figures: &[Figure {
                    id: "fanout",
                    title: "Fan-out: time per message",
                    unit: "ns",
                    value: |_, s, elapsed| per_message(elapsed, s.fanout_n),
                }],
            },
            pick(&[1, 10, 100, 1_000, 10_000], &[1, 100, 1_000]),
        ),
        (
            Series {
                title: "Population: 100 → 1,000,000 actors, 1% of them active",
                x_label: "actors alive",
                workload: Workload::FanOut,
                sizes: |base, n| {
                    let active = (n / 100).max(1);
                    Sizes {
                        fanout_actors: active,
                        fanout_idle: n - active,
                        ..base.clone()
                    }
                },
                actors: Some,
                figures: &[Figure {
                    id: "population",
                    title: "Tell to 1% of the actors: time per message",
                    unit: "ns",
                    value: |_, s, elapsed| per_message(elapsed, s.fanout_n),
                }],
            },
            pick(
                &[100, 1_000, 10_000, 100_000, 1_000_000],
                &[100, 1_000, 10_000],
            ),
        ),
        (
            Series {
                title: "Supervisor width: one supervisor of 10 → 100,000 children, stopped",
                x_label: "children",
                workload: Workload::Tree,
                sizes: |base, n| Sizes {
                    tree_depth: 1,
                    tree_breadth: n,
                    tree_rounds: 1,
                    ..base.clone()
                },
                actors: |n| Some(n + 1),
                figures: &[Figure {
                    id: "supervisor-width",
                    title: "Shutdown: time per child",
                    unit: "µs",
                    value: |_, s, elapsed| elapsed.as_secs_f64() * 1e6 / s.tree_breadth as f64,
                }],
            },
            pick(&[10, 100, 1_000, 10_000, 100_000], &[10, 100, 1_000]),
        ),
    ]
}

fn per_message(elapsed: Duration, n: usize) -> f64 {
    elapsed.as_secs_f64() * 1e9 / n.max(1) as f64
}

/// The values of one figure: per framework, per size, the median over repeats (`None`: not
/// run, failed, or over the memory cap).
pub struct Measured {
    /// Frameworks, in run order.
    pub frameworks: Vec<Framework>,
    /// Sizes, increasing.
    pub xs: Vec<usize>,
    /// `values[f][x]`.
    pub values: Vec<Vec<Option<f64>>>,
    /// Why a framework stopped early, if it did.
    pub notes: Vec<String>,
}

/// Runs every series for these frameworks; returns, per series, the measured figures.
pub fn run(cfg: &RunConfig, frameworks: &[Framework]) -> Vec<(Series, Vec<Measured>)> {
    let repeats = cfg.repeats.min(3);
    let frameworks: Vec<Framework> = frameworks
        .iter()
        .copied()
        .filter(|f| *f != Framework::TroupeRecorder)
        .collect();
    let mut out = Vec::new();
    // Heap per idle actor, per framework, as the actors series measured it.
    let mut known_heap: Vec<(Framework, f64)> = Vec::new();
    for (series, xs) in series(cfg.quick) {
        let spec = series.workload.spec();
        let mut measured: Vec<Measured> = series
            .figures
            .iter()
            .map(|_| Measured {
                frameworks: frameworks.clone(),
                xs: xs.clone(),
                values: vec![vec![None; xs.len()]; frameworks.len()],
                notes: Vec::new(),
            })
            .collect();
        for (fi, &framework) in frameworks.iter().enumerate() {
            let mut heap_per_actor: Option<f64> = known_heap
                .iter()
                .find(|(f, _)| *f == framework)
                .map(|(_, h)| *h);
            for (xi, &x) in xs.iter().enumerate() {
                if let (Some(actors), Some(per)) = ((series.actors)(x), heap_per_actor) {
                    if per * actors as f64 > HEAP_CAP {
                        measured[0].notes.push(format!(
                            "{}: stopped before {x} (about {:.1} GiB of heap at {per:.0} B per \
                             actor)",
                            framework.name(),
                            per * actors as f64 / (1u64 << 30) as f64
                        ));
                        break;
                    }
                }
                let sizes = (series.sizes)(&cfg.sizes, x);
                let mut samples: Vec<(Vec<f64>, Duration)> = Vec::new();
                let mut failed = None;
                for _ in 0..repeats {
                    let report = child::run(&child::Job {
                        workload: series.workload,
                        framework,
                        sizes: sizes.clone(),
                        limit: cfg.run_limit,
                    });
                    eprint!("{}", report.stderr);
                    match report.result {
                        Ok(sample) => {
                            // Only the spawn workload's heap is per actor (the
                            // others report their peak heap, in total).
                            if let (Workload::Spawn, Some(heap)) =
                                (series.workload, sample.heap_bytes)
                            {
                                heap_per_actor = Some(heap);
                                known_heap.retain(|(f, _)| *f != framework);
                                known_heap.push((framework, heap));
                            }
                            samples.push(((spec.compute)(&sample, &sizes), sample.elapsed));
                        }
                        Err(e) => {
                            failed = Some(e);
                            break;
                        }
                    }
                }
                if let Some(e) = failed {
                    measured[0]
                        .notes
                        .push(format!("{} at {x}: {e}", framework.name()));
                    break;
                }
                for (figure, m) in series.figures.iter().zip(measured.iter_mut()) {
                    let values: Vec<f64> = samples
                        .iter()
                        .map(|(v, elapsed)| (figure.value)(v, &sizes, *elapsed))
                        .collect();
                    let value = median(&values);
                    m.values[fi][xi] = value.is_finite().then_some(value);
                    eprintln!(
                        "[scaling {}] {:<12} {x:>9}: {value:.2} {}",
                        figure.id,
                        framework.name(),
                        figure.unit
                    );
                }
            }
        }
        out.push((series, measured));
    }
    out
}

/// Renders the report's scaling section; `charts` is the folder (relative to the report) where
/// the SVG files are, if they are written.
pub fn render(results: &[(Series, Vec<Measured>)], charts: Option<&str>) -> String {
    let mut out = String::from("## Scaling\n\n");
    out.push_str(
        "Each series reruns a workload above at growing sizes (one to three repeats, medians); \
         the cost per unit should stay flat.\n\n",
    );
    for (series, measured) in results {
        let _ = writeln!(out, "### {}\n", series.title);
        for (figure, m) in series.figures.iter().zip(measured) {
            let _ = writeln!(out, "*{} ({})*\n", figure.title, figure.unit);
            if let Some(dir) = charts {
                let _ = writeln!(
                    out,
                    "![{}]({dir}/scaling-{}.svg)\n",
                    figure.title, figure.id
                );
            }
            let mut header = format!("| {} |", series.x_label);
            let mut rule = String::from("| ---: |");
            for f in &m.frameworks {
                let _ = write!(header, " {} |", f.name());
                rule.push_str(" ---: |");
            }
            let _ = writeln!(out, "{header}\n{rule}");
            for (xi, x) in m.xs.iter().enumerate() {
                let mut row = format!("| {x} |");
                for fv in &m.values {
                    match fv[xi] {
                        Some(v) if v >= 100.0 => {
                            let _ = write!(row, " {v:.0} |");
                        }
                        Some(v) => {
                            let _ = write!(row, " {v:.2} |");
                        }
                        None => row.push_str(" – |"),
                    }
                }
                let _ = writeln!(out, "{row}");
            }
            out.push('\n');
            for note in &m.notes {
                let _ = writeln!(out, "- {note}");
            }
            if !m.notes.is_empty() {
                out.push('\n');
            }
        }
    }
    out
}

/// Writes one SVG chart per figure into `dir`.
pub fn write_charts(results: &[(Series, Vec<Measured>)], dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for (series, measured) in results {
        for (figure, m) in series.figures.iter().zip(measured) {
            let lines: Vec<svg::Line> = m
                .frameworks
                .iter()
                .zip(&m.values)
                .map(|(f, values)| svg::Line {
                    name: f.name().to_string(),
                    points: m
                        .xs
                        .iter()
                        .zip(values)
                        .filter_map(|(x, v)| v.map(|v| (*x as f64, v)))
                        .collect(),
                })
                .collect();
            let chart = svg::chart(figure.title, series.x_label, figure.unit, &lines);
            std::fs::write(dir.join(format!("scaling-{}.svg", figure.id)), chart)?;
        }
    }
    Ok(())
}
