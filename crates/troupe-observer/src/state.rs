//! What the observer's handlers share: the system, the token, the
//! recorder, the dead-letter log, the rates, and whether it is stopping.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use metrics_exporter_prometheus::PrometheusHandle;
use troupe::ActorSystem;

use crate::api::{self, Extras, Snapshot, API_VERSION};
use crate::dead_letters::DeadLetterLog;
use crate::rates::Rates;
use crate::token::Token;

/// What every handler shares.
pub(crate) struct Shared {
    pub(crate) system: ActorSystem,
    pub(crate) token: Option<Token>,
    pub(crate) prometheus: Option<PrometheusHandle>,
    pub(crate) dead_letters: Option<Arc<DeadLetterLog>>,
    pub(crate) refresh: Duration,
    pub(crate) started: Instant,
    /// The port of a loopback listener: requests must then name a
    /// loopback host (see `server.rs`).
    pub(crate) loopback_port: Option<u16>,
    rates: Rates,
    stopping: AtomicBool,
}

impl Shared {
    pub(crate) fn new(
        system: ActorSystem,
        token: Option<Token>,
        prometheus: Option<PrometheusHandle>,
        dead_letters: Option<Arc<DeadLetterLog>>,
        refresh: Duration,
        local_addr: std::net::SocketAddr,
    ) -> Self {
        Self {
            system,
            token,
            prometheus,
            dead_letters,
            refresh,
            started: Instant::now(),
            loopback_port: local_addr.ip().is_loopback().then_some(local_addr.port()),
            rates: Rates::default(),
            stopping: AtomicBool::new(false),
        }
    }

    pub(crate) fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::Acquire)
    }

    pub(crate) fn set_stopping(&self) {
        self.stopping.store(true, Ordering::Release);
    }

    /// Reads the system now, and the rates since the last reading.
    pub(crate) fn read(
        &self,
    ) -> (
        troupe::SystemSnapshot,
        HashMap<troupe::Addr, f64>,
        Option<f64>,
    ) {
        let snapshot = self.system.snapshot();
        let (rates, total) = self.rates.update(&snapshot, Instant::now());
        (snapshot, rates, total)
    }

    pub(crate) fn extras<'a>(
        &self,
        rates: &'a HashMap<troupe::Addr, f64>,
        total: Option<f64>,
    ) -> Extras<'a> {
        Extras {
            rates,
            total_rate: total,
            observer_uptime_ms: u64::try_from(self.started.elapsed().as_millis())
                .unwrap_or(u64::MAX),
            actions_enabled: self.token.is_some(),
            metrics_enabled: self.prometheus.is_some(),
        }
    }

    /// The whole snapshot of the API.
    pub(crate) fn snapshot(&self) -> Snapshot {
        let (s, rates, total) = self.read();
        let x = self.extras(&rates, total);
        Snapshot {
            version: API_VERSION,
            system: api::system_view(&s, &x),
            processes: api::process_views(&s, &x),
            roots: s.roots().map(|r| r.addr().to_string()).collect(),
            dead_letters: self.recent_dead_letters(),
        }
    }

    pub(crate) fn recent_dead_letters(&self) -> Vec<crate::DeadLetterView> {
        self.dead_letters
            .as_ref()
            .map(|log| log.recent())
            .unwrap_or_default()
    }
}
