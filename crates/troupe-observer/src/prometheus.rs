//! The Prometheus endpoint: the `troupe_*` metrics (and every other metric
//! of the `metrics` facade) in the Prometheus text format, from
//! `metrics-exporter-prometheus`'s recorder.
//!
//! The recorder is built without the exporter's own HTTP listener and push
//! gateway (`default-features = false`): the observer serves the text at
//! `/metrics` itself, and runs the recorder's upkeep (which drains its
//! histograms' buckets) on a timer while it serves.

use std::time::Duration;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

use crate::error::ObserverError;

/// How often the observer runs the recorder's upkeep by default.
pub const DEFAULT_UPKEEP: Duration = Duration::from_secs(5);

/// Builds a Prometheus recorder and installs it as the process's global
/// `metrics` recorder; returns the handle to give to
/// [`Observer::with_prometheus`](crate::Observer::with_prometheus).
///
/// A process has one global recorder: this fails with
/// [`ObserverError::Recorder`] if one is installed already (install your
/// own `PrometheusBuilder` then, and pass its handle).
///
/// ```no_run
/// # fn main() -> Result<(), troupe_observer::ObserverError> {
/// let handle = troupe_observer::install_prometheus()?;
/// metrics::counter!("my_events_total").increment(1);
/// assert!(handle.render().contains("my_events_total 1"));
/// # Ok(()) }
/// ```
pub fn install_prometheus() -> Result<PrometheusHandle, ObserverError> {
    PrometheusBuilder::new()
        .install_recorder()
        .map_err(|e| ObserverError::Recorder(e.to_string()))
}

/// Runs the recorder's upkeep every `every`, until dropped.
pub(crate) async fn upkeep(handle: PrometheusHandle, every: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        handle.run_upkeep();
    }
}
