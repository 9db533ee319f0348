//! [`Observer`], the builder of an observer server, and
//! [`ObserverHandle`], the running server.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use metrics_exporter_prometheus::PrometheusHandle;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use troupe::ActorSystem;

use crate::actions::MIN_TOKEN_LEN;
use crate::dead_letters::DeadLetterLog;
use crate::error::ObserverError;
use crate::prometheus::{upkeep, DEFAULT_UPKEEP};
use crate::server::router;
use crate::state::Shared;
use crate::token::Token;

/// Where an observer listens unless told otherwise: the loopback
/// interface, on a port the system picks (see [`ObserverHandle::local_addr`]).
pub const DEFAULT_BIND: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 0);

/// How often a connected page gets a new snapshot by default, and at most.
pub const DEFAULT_REFRESH: Duration = Duration::from_secs(1);

/// How many dead letters the feed keeps by default.
pub const DEFAULT_DEAD_LETTERS: usize = 256;

/// An observer of one [`ActorSystem`], to configure and then
/// [`serve`](Observer::serve).
///
/// Defaults: it binds `127.0.0.1` on a port the system picks; stop and
/// kill are off; no Prometheus endpoint; the last 256 dead letters are
/// kept; a connected page is refreshed every second.
///
/// ```
/// use troupe::prelude::*;
/// use troupe_observer::Observer;
///
/// struct Worker;
/// impl Actor for Worker {}
///
/// # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let system = ActorSystem::create("doc-observer")?;
/// Worker.spawn().named("worker").on_system(&system).await?;
/// let observer = Observer::new(&system)
///     .enable_actions("a-long-secret-token")
///     .serve()
///     .await?;
/// assert!(observer.local_addr().ip().is_loopback());
/// println!("open {}", observer.url());
/// observer.shutdown().await;
/// system.shutdown().await;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Observer {
    system: ActorSystem,
    bind: SocketAddr,
    token: Option<String>,
    prometheus: Option<PrometheusHandle>,
    upkeep: Duration,
    dead_letters: usize,
    refresh: Duration,
}

impl Observer {
    /// An observer of `system`, with the defaults.
    pub fn new(system: &ActorSystem) -> Self {
        Self {
            system: system.clone(),
            bind: DEFAULT_BIND,
            token: None,
            prometheus: None,
            upkeep: DEFAULT_UPKEEP,
            dead_letters: DEFAULT_DEAD_LETTERS,
            refresh: DEFAULT_REFRESH,
        }
    }

    /// Listens on `addr` (port 0: one the system picks). Binding anything
    /// but a loopback address shows the system to the network: do it only
    /// behind something that restricts who reaches it.
    pub fn bind(mut self, addr: impl Into<SocketAddr>) -> Self {
        self.bind = addr.into();
        self
    }

    /// Enables the stop and kill actions, for requests that carry `token`
    /// as a bearer token (`Authorization: Bearer TOKEN`; the page asks for
    /// it). The token must have at least [`MIN_TOKEN_LEN`] printable ASCII
    /// characters, or [`serve`](Observer::serve) fails with
    /// [`ObserverError::WeakToken`].
    pub fn enable_actions(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// Serves the metrics of this Prometheus recorder at `/metrics` (see
    /// [`install_prometheus`](crate::install_prometheus)), and runs its
    /// upkeep while the observer runs.
    pub fn with_prometheus(mut self, handle: PrometheusHandle) -> Self {
        self.prometheus = Some(handle);
        self
    }

    /// How often the recorder's upkeep runs (default 5 s).
    pub fn upkeep_every(mut self, every: Duration) -> Self {
        self.upkeep = every.max(Duration::from_millis(100));
        self
    }

    /// How many dead letters the feed keeps (default 256; 0 turns the
    /// feed off, and with it the observer's subscription to dead letters).
    pub fn keep_dead_letters(mut self, n: usize) -> Self {
        self.dead_letters = n;
        self
    }

    /// How often a connected page gets a new snapshot: at least one
    /// second apart (a shorter interval is raised to one second).
    pub fn refresh_every(mut self, every: Duration) -> Self {
        self.refresh = every.max(DEFAULT_REFRESH);
        self
    }

    /// Binds and starts serving on the current Tokio runtime; returns once
    /// it listens. The handle says where, and stops it.
    pub async fn serve(self) -> Result<ObserverHandle, ObserverError> {
        let token = match &self.token {
            Some(t) => {
                let printable = t.bytes().all(|b| b.is_ascii_graphic());
                if t.len() < MIN_TOKEN_LEN || !printable {
                    return Err(ObserverError::WeakToken { min: MIN_TOKEN_LEN });
                }
                Some(Token::new(t))
            }
            None => None,
        };
        let listener =
            TcpListener::bind(self.bind)
                .await
                .map_err(|source| ObserverError::Bind {
                    addr: self.bind,
                    source,
                })?;
        let local_addr = listener
            .local_addr()
            .map_err(|source| ObserverError::Bind {
                addr: self.bind,
                source,
            })?;
        let (stop_tx, stop_rx) = watch::channel(false);
        let stopped = |mut rx: watch::Receiver<bool>| async move {
            let _ = rx.wait_for(|stop| *stop).await;
        };
        let log = (self.dead_letters > 0).then(|| DeadLetterLog::new(self.dead_letters));
        let mut tasks = Vec::new();
        if let Some(log) = &log {
            let collector = log.collector(&self.system, stopped(stop_rx.clone()));
            tasks.push(tokio::spawn(collector));
        }
        if let Some(handle) = &self.prometheus {
            let (handle, every, stop) = (handle.clone(), self.upkeep, stopped(stop_rx.clone()));
            tasks.push(tokio::spawn(async move {
                tokio::select! {
                    () = upkeep(handle, every) => {}
                    () = stop => {}
                }
            }));
        }
        let shared = Arc::new(Shared::new(
            self.system.clone(),
            token.clone(),
            self.prometheus.clone(),
            log,
            self.refresh,
            local_addr,
        ));
        let app = router(shared.clone());
        let stop = stopped(stop_rx);
        let server = tokio::spawn(async move {
            let served = axum::serve(listener, app)
                .with_graceful_shutdown(stop)
                .await;
            if let Err(e) = served {
                tracing::warn!(error = %e, "the observer's server ended");
            }
        });
        tracing::info!(%local_addr, actions = token.is_some(), "observer listening");
        Ok(ObserverHandle {
            local_addr,
            shared,
            stop: stop_tx,
            server: Some(server),
            tasks,
        })
    }
}

/// A running observer. Dropping it stops it (without waiting);
/// [`shutdown`](ObserverHandle::shutdown) stops it and waits.
#[derive(Debug)]
pub struct ObserverHandle {
    local_addr: SocketAddr,
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    server: Option<JoinHandle<()>>,
    tasks: Vec<JoinHandle<()>>,
}

impl ObserverHandle {
    /// The address it listens on (with the port the system picked, if
    /// port 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The page's URL, `http://ADDR:PORT/`.
    pub fn url(&self) -> String {
        format!("http://{}/", self.local_addr)
    }

    /// Stops serving: open pages' event streams end within one refresh
    /// interval, and the server waits at most that long (plus a second)
    /// for requests in flight.
    pub async fn shutdown(mut self) {
        self.signal();
        let bound = self.shared.refresh + Duration::from_secs(1);
        if let Some(server) = self.server.take() {
            let abort = server.abort_handle();
            if tokio::time::timeout(bound, server).await.is_err() {
                abort.abort();
            }
        }
        for task in std::mem::take(&mut self.tasks) {
            let _ = task.await;
        }
    }

    fn signal(&self) {
        self.shared.set_stopping();
        let _ = self.stop.send(true);
    }
}

impl Drop for ObserverHandle {
    fn drop(&mut self) {
        self.signal();
    }
}

impl std::fmt::Debug for Observer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the token itself.
        f.debug_struct("Observer")
            .field("system", &self.system)
            .field("bind", &self.bind)
            .field("actions", &self.token.is_some())
            .field("prometheus", &self.prometheus.is_some())
            .field("dead_letters", &self.dead_letters)
            .field("refresh", &self.refresh)
            .finish()
    }
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("system", &self.system)
            .finish_non_exhaustive()
    }
}
