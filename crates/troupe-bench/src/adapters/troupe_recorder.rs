//! troupe with its metrics on (`SystemConfig::metrics`) and a real recorder installed: the
//! `ask` and `tell` workloads of the troupe adapter, to set beside troupe with metrics off and
//! show what recording costs.

use std::sync::OnceLock;
use std::time::Duration;

use ::troupe::SystemConfig;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

use super::troupe::{ask, run_in_system_with, tell};
use crate::config::Sizes;
use crate::harness::{BenchError, RunResult};
use crate::workloads::Workload;

/// Setup notes for the report.
pub const NOTES: &[&str] = &[
    "troupe with metrics on (`SystemConfig { metrics: true, .. }`) and the Prometheus \
     recorder of `metrics-exporter-prometheus` (default features off: no HTTP listener) \
     installed as the global `metrics` recorder, its upkeep run every 5 s by a thread of its \
     own and after each run; the same actors, messages and protocol as the troupe column. \
     Runs `ask` and `tell` only. The troupe column, metrics off, touches no recorder; every run \
     is a process of its own, so the recorder is installed only in the runs of this column.",
];

/// How often the recorder's upkeep runs (its builder's default timeout).
const UPKEEP: Duration = Duration::from_secs(5);

/// The recorder, installed on first use, with its upkeep thread.
fn recorder() -> Result<&'static PrometheusHandle, BenchError> {
    static HANDLE: OnceLock<Result<PrometheusHandle, String>> = OnceLock::new();
    let handle = HANDLE.get_or_init(|| {
        let handle = PrometheusBuilder::new()
            .install_recorder()
            .map_err(|e| e.to_string())?;
        let upkept = handle.clone();
        std::thread::Builder::new()
            .name("metrics-upkeep".into())
            .spawn(move || loop {
                std::thread::sleep(UPKEEP);
                upkept.run_upkeep();
            })
            .map_err(|e| e.to_string())?;
        Ok(handle)
    });
    handle
        .as_ref()
        .map_err(|e| BenchError::failed(format!("install the recorder: {e}")))
}

/// Runs `ask` or `tell` on a fresh 2-worker runtime, in a system with metrics on.
pub fn run(workload: Workload, sizes: &Sizes, limit: Duration) -> RunResult {
    let handle = recorder()?;
    let s = sizes.clone();
    let config = SystemConfig {
        metrics: true,
        ..SystemConfig::default()
    };
    let result = match workload {
        Workload::Ask => run_in_system_with(limit, config, |sys| ask(sys, s)),
        Workload::Tell => run_in_system_with(limit, config, |sys| tell(sys, s)),
        _ => Err(BenchError::Unsupported(
            "only ask and tell are run with a recorder".into(),
        )),
    };
    handle.run_upkeep();
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    /// With the recorder, the run records troupe's series.
    #[test]
    fn a_recorded_run_records_troupe_series() {
        let _serial = crate::util::TEST_LOCK
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let sizes = Sizes::quick();
        run(Workload::Tell, &sizes, Duration::from_secs(30)).expect("a tell run");
        let text = recorder().expect("a recorder").render();
        assert!(
            text.contains("troupe_messages_sent_total{group=\"Counter\"}"),
            "{text}"
        );
        assert!(text.contains("troupe_message_handling_seconds"), "{text}");
    }
}
