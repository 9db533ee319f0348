//! A local recorder per test, so that metric tests run in parallel: each
//! test runs on its own current-thread runtime (paused time) inside
//! `metrics::with_local_recorder`, and reads what was recorded through a
//! [`Probe`].
#![allow(dead_code)]

pub mod worker;

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};
use troupe::SystemConfig;

/// A system config with metrics on.
pub fn on() -> SystemConfig {
    SystemConfig {
        metrics: true,
        ..SystemConfig::default()
    }
}

/// Runs `test` on a current-thread runtime with paused time, with a
/// recorder of its own.
pub fn run<F: Future>(test: impl FnOnce(Arc<Probe>) -> F) -> F::Output {
    let recorder = DebuggingRecorder::new();
    let probe = Arc::new(Probe {
        snapshotter: recorder.snapshotter(),
        seen: Mutex::default(),
    });
    metrics::with_local_recorder(&recorder, || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .start_paused(true)
            .build()
            .expect("a runtime");
        let out = rt.block_on(test(probe));
        drop(rt);
        out
    })
}

/// What was recorded so far, summed over snapshots (the debugging
/// recorder resets counters and gauges at each snapshot; this adds them
/// up again, which holds for gauges that are only moved up and down).
#[derive(Default)]
struct Seen {
    counters: HashMap<String, u64>,
    gauges: HashMap<String, f64>,
    histograms: HashMap<String, Vec<f64>>,
}

/// Reads the test's recorder.
pub struct Probe {
    snapshotter: Snapshotter,
    seen: Mutex<Seen>,
}

/// `name{k=v,...}` with the labels sorted.
fn key(name: &str, labels: &[(&str, &str)]) -> String {
    let mut labels: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
    labels.sort();
    format!("{name}{{{}}}", labels.join(","))
}

impl Probe {
    fn update(&self) -> std::sync::MutexGuard<'_, Seen> {
        let mut seen = self.seen.lock().expect("not poisoned");
        for (ck, _, _, value) in self.snapshotter.snapshot().into_vec() {
            let k = ck.key();
            let labels: Vec<(&str, &str)> = k.labels().map(|l| (l.key(), l.value())).collect();
            let name = key(k.name(), &labels);
            match value {
                DebugValue::Counter(n) => *seen.counters.entry(name).or_default() += n,
                DebugValue::Gauge(g) => *seen.gauges.entry(name).or_default() += g.into_inner(),
                DebugValue::Histogram(h) => seen
                    .histograms
                    .entry(name)
                    .or_default()
                    .extend(h.into_iter().map(|v| v.into_inner())),
            }
        }
        seen
    }

    /// The counter with exactly these labels (0 if never registered).
    pub fn counter(&self, name: &str, labels: &[(&str, &str)]) -> u64 {
        let key = key(name, labels);
        self.update().counters.get(&key).copied().unwrap_or(0)
    }

    /// The gauge with exactly these labels (0 if never registered).
    pub fn gauge(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        let key = key(name, labels);
        self.update().gauges.get(&key).copied().unwrap_or(0.0)
    }

    /// The samples of the histogram with exactly these labels.
    pub fn histogram(&self, name: &str, labels: &[(&str, &str)]) -> Vec<f64> {
        let key = key(name, labels);
        self.update()
            .histograms
            .get(&key)
            .cloned()
            .unwrap_or_default()
    }

    /// Every series of `name` (as `name{labels}`), sorted.
    pub fn series(&self, name: &str) -> Vec<String> {
        let seen = self.update();
        let prefix = format!("{name}{{");
        let mut all: Vec<String> = seen
            .counters
            .keys()
            .chain(seen.gauges.keys())
            .chain(seen.histograms.keys())
            .filter(|k| k.starts_with(&prefix))
            .cloned()
            .collect();
        all.sort();
        all
    }

    /// Every series recorded, of any metric.
    pub fn everything(&self) -> Vec<String> {
        let seen = self.update();
        let mut all: Vec<String> = seen
            .counters
            .keys()
            .chain(seen.gauges.keys())
            .chain(seen.histograms.keys())
            .cloned()
            .collect();
        all.sort();
        all
    }
}
