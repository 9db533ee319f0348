//! One adapter per framework. Each implements every workload idiomatically for its framework,
//! following the protocols written in [`crate::workloads`], and returns a [`RunResult`].

use std::time::Duration;

use crate::config::Sizes;
use crate::harness::RunResult;
use crate::workloads::Workload;

pub mod actix;
pub mod elfo;
pub mod kameo;
pub mod ractor;
pub mod tokio_actors;
pub mod tokio_raw;
pub mod troupe;
pub mod troupe_recorder;

/// The frameworks compared. troupe is the reference of the ratios; raw Tokio is the floor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framework {
    /// troupe, this workspace's framework.
    Troupe,
    /// troupe with its metrics on and a recorder installed (ask and tell only).
    TroupeRecorder,
    /// Raw Tokio channels (mpsc + oneshot): the floor.
    Tokio,
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
    pub const ALL: [Framework; 8] = [
        Framework::Troupe,
        Framework::TroupeRecorder,
        Framework::Tokio,
        Framework::Ractor,
        Framework::Kameo,
        Framework::Actix,
        Framework::TokioActors,
        Framework::Elfo,
    ];

    /// Name shown in reports and accepted by `--frameworks`.
    pub fn name(self) -> &'static str {
        match self {
            Framework::Troupe => "troupe",
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
            Framework::Tokio => "tokio",
            Framework::TroupeRecorder => "troupe",
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
