//! One adapter per framework. Each implements every workload idiomatically for its framework,
//! following the protocols written in [`crate::workloads`], and returns a [`RunResult`].

use std::time::Duration;

use crate::config::Sizes;
use crate::harness::{single_thread, RunResult};
use crate::workloads::Workload;

pub mod actix;
pub mod elfo;
pub mod kameo;
pub mod ractor;
pub mod tokio_actors;
pub mod tokio_raw;
pub mod troupe;
pub mod troupe_recorder;

/// The two tables of the report, each comparing like with like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    /// Multi-thread: a 2-worker Tokio runtime (troupe, its peers on Tokio, the Tokio floor).
    Multi,
    /// Single thread: troupe and the Tokio floor on a current-thread runtime, and actix (whose
    /// actors all run on one single-threaded arbiter).
    Single,
}

impl Table {
    /// Both tables, in report order.
    pub const ALL: [Table; 2] = [Table::Multi, Table::Single];

    /// The table's heading.
    pub fn title(self) -> &'static str {
        match self {
            Table::Multi => "Multi-thread (2-worker Tokio runtime)",
            Table::Single => "Single thread (one current-thread runtime; actix's arbiter)",
        }
    }

    /// The framework the table's ratios are relative to.
    pub fn reference(self) -> Framework {
        match self {
            Table::Multi => Framework::Troupe,
            Table::Single => Framework::TroupeSingle,
        }
    }
}

/// The frameworks compared. troupe is the reference of the ratios; raw Tokio is the floor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framework {
    /// troupe, this workspace's framework.
    Troupe,
    /// troupe on one current-thread runtime (the single-thread table).
    TroupeSingle,
    /// troupe with its metrics on and a recorder installed (ask and tell only).
    TroupeRecorder,
    /// Raw Tokio channels (mpsc + oneshot): the floor.
    Tokio,
    /// Raw Tokio channels on one current-thread runtime: the single-thread floor.
    TokioSingle,
    /// ractor.
    Ractor,
    /// kameo.
    Kameo,
    /// actix.
    Actix,
    /// tokio-actors.
    TokioActors,
    /// elfo.
    Elfo,
}

impl Framework {
    /// All frameworks in report order.
    pub const ALL: [Framework; 10] = [
        Framework::Troupe,
        Framework::TroupeRecorder,
        Framework::Tokio,
        Framework::Ractor,
        Framework::Kameo,
        Framework::TokioActors,
        Framework::Elfo,
        Framework::TroupeSingle,
        Framework::TokioSingle,
        Framework::Actix,
    ];

    /// Which table of the report the framework is in: like is compared with like.
    pub fn table(self) -> Table {
        match self {
            Framework::TroupeSingle | Framework::TokioSingle | Framework::Actix => Table::Single,
            _ => Table::Multi,
        }
    }

    /// Name shown in reports and accepted by `--frameworks`.
    pub fn name(self) -> &'static str {
        match self {
            Framework::Troupe => "troupe",
            Framework::TroupeSingle => "troupe-1t",
            Framework::TokioSingle => "tokio-1t",
            Framework::TroupeRecorder => "troupe+recorder",
            Framework::Tokio => "tokio",
            Framework::Ractor => "ractor",
            Framework::Kameo => "kameo",
            Framework::Actix => "actix",
            Framework::TokioActors => "tokio-actors",
            Framework::Elfo => "elfo",
        }
    }

    /// Name of the crate whose version is reported for this framework.
    pub fn crate_name(self) -> &'static str {
        match self {
            Framework::Tokio | Framework::TokioSingle => "tokio",
            Framework::TroupeRecorder | Framework::TroupeSingle => "troupe",
            other => other.name(),
        }
    }

    /// Finds a framework by name.
    pub fn from_name(name: &str) -> Option<Framework> {
        Self::ALL.into_iter().find(|f| f.name() == name)
    }

    /// How the framework is set up for the benchmarks (shown in the report).
    pub fn notes(self) -> &'static [&'static str] {
        match self {
            Framework::Troupe => troupe::NOTES,
            Framework::TroupeSingle => &[
                "as troupe, on a current-thread Tokio runtime: the driver and every actor on one \
                 thread (the single-thread table, compared with actix's single-threaded arbiter).",
            ],
            Framework::TokioSingle => {
                &["as tokio, on a current-thread Tokio runtime: the single-thread table's floor."]
            }
            Framework::TroupeRecorder => troupe_recorder::NOTES,
            Framework::Tokio => tokio_raw::NOTES,
            Framework::Ractor => ractor::NOTES,
            Framework::Kameo => kameo::NOTES,
            Framework::Actix => actix::NOTES,
            Framework::TokioActors => tokio_actors::NOTES,
            Framework::Elfo => elfo::NOTES,
        }
    }

    /// Whether the framework takes part in this workload at all (troupe with a recorder runs
    /// `ask` and `tell` only; every other framework runs every workload, or says `n/a`).
    pub fn runs(self, workload: Workload) -> bool {
        match self {
            Framework::TroupeRecorder => matches!(workload, Workload::Ask | Workload::Tell),
            _ => true,
        }
    }

    /// Runs one workload once. Blocks the calling thread; bounded by `limit`.
    pub fn run(self, workload: Workload, sizes: &Sizes, limit: Duration) -> RunResult {
        match self {
            Framework::Troupe => troupe::run(workload, sizes, limit),
            Framework::TroupeSingle => single_thread(|| troupe::run(workload, sizes, limit)),
            Framework::TokioSingle => single_thread(|| tokio_raw::run(workload, sizes, limit)),
            Framework::TroupeRecorder => troupe_recorder::run(workload, sizes, limit),
            Framework::Tokio => tokio_raw::run(workload, sizes, limit),
            Framework::Ractor => ractor::run(workload, sizes, limit),
            Framework::Kameo => kameo::run(workload, sizes, limit),
            Framework::Actix => actix::run(workload, sizes, limit),
            Framework::TokioActors => tokio_actors::run(workload, sizes, limit),
            Framework::Elfo => elfo::run(workload, sizes, limit),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harness::{run_isolated, BenchError};
    use crate::workloads::Workload;

    /// Every adapter runs every workload at the quick sizes, and each run either yields finite
    /// figures or says why the framework cannot run it.
    #[test]
    fn every_framework_runs_every_workload_at_quick_size() {
        let _serial = crate::util::TEST_LOCK
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        crate::harness::install_quiet_panic_hook();
        let sizes = Sizes::quick();
        let limit = Duration::from_secs(30);
        let mut failures = Vec::new();
        for workload in Workload::ALL {
            for framework in Framework::ALL {
                if !framework.runs(workload) {
                    continue;
                }
                let s = sizes.clone();
                let name = format!("{}-{}", workload.spec().id, framework.name());
                match run_isolated(name.clone(), limit, move || {
                    framework.run(workload, &s, limit)
                }) {
                    Ok(sample) => {
                        let values = (workload.spec().compute)(&sample, &sizes);
                        if values.iter().any(|v| !v.is_finite()) {
                            failures.push(format!("{name}: non-finite figures {values:?}"));
                        }
                    }
                    Err(BenchError::Unsupported(_)) => {}
                    Err(e) => failures.push(format!("{name}: {e}")),
                }
            }
        }
        assert!(failures.is_empty(), "{failures:#?}");
    }
}
