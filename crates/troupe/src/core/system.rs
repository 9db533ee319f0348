//! The actor system: its config, creation and names, dead letters,
//! supervision events, mounts, termination and runtime placement; the
//! registry of its processes and names is in [`registry`], coordinated
//! shutdown in [`shutdown`].

mod registry;
mod shutdown;

pub use shutdown::{ActorExit, ShutdownReport};

use std::any::Any;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock, Weak};
use std::time::Duration;

use parking_lot::Mutex;
use tokio::runtime::Handle;
use tokio::sync::{broadcast, Notify};

use super::config::ActorConfig;
use super::dead_letter::{DeadLetter, DeadLetterReason, DeadLetters};
use super::instruments::Series;
use super::process::Shared;
use super::runtime::Runtimes;
use crate::addr::{ActorMeta, Addr, NodeNo};
use crate::defaults;
use crate::envelope::Envelope;
use crate::error::SystemError;
use registry::Registry;

/// Settings of an [`ActorSystem`].
#[derive(Clone, Debug)]
pub struct SystemConfig {
    /// This node's number, part of every address (default 0).
    pub node: NodeNo,
    /// How long `shutdown` waits for actors to stop before killing them
    /// (default 10 s).
    pub shutdown_timeout: Duration,
    /// How long `shutdown` waits for each root process before killing it
    /// and asking the next (`None`, the default: only `shutdown_timeout`
    /// bounds it). Roots stop one at a time, so without it a stuck root
    /// takes the whole `shutdown_timeout`, and the roots after it are then
    /// killed; with it, a slow root is killed after its own grace period
    /// while the others still stop gracefully. (OTP's per-child
    /// `shutdown` time, applied to the system's roots.)
    pub actor_shutdown_timeout: Option<Duration>,
    /// The config of actors spawned without one.
    pub actor: ActorConfig,
    /// How many dead letters a slow subscriber may lag behind (default 1024).
    pub dead_letter_buffer: usize,
    /// Whether the system records metrics through the `metrics` facade
    /// (default `false`): see [`crate::metrics`] for what, and at what
    /// cost. Off, nothing is recorded and the hot paths pay nothing for
    /// them.
    pub metrics: bool,
}

impl Default for SystemConfig {
    fn default() -> Self {
        Self {
            node: NodeNo(0),
            shutdown_timeout: defaults::SYSTEM_SHUTDOWN,
            actor_shutdown_timeout: None,
            actor: ActorConfig::default(),
            dead_letter_buffer: defaults::DEAD_LETTER_BUFFER,
            metrics: false,
        }
    }
}

struct SystemInner {
    name: String,
    /// What front-ends mount by name (the topology's groups), dropped at
    /// shutdown.
    mounted: Mutex<HashMap<String, Arc<dyn Any + Send + Sync>>>,
    terminate: Notify,
    terminating: AtomicBool,
    config: SystemConfig,
    registry: Mutex<Registry>,
    dead_letters: DeadLetters,
    shutting_down: AtomicBool,
    runtimes: Runtimes,
    /// How addresses of other nodes are reached, once installed.
    remote: OnceLock<super::remote::Installed>,
    /// What every supervisor of the system does, for subscribers.
    supervision: broadcast::Sender<super::restart::SupervisionEvent>,
    /// Who listens to the statuses processes publish.
    statuses: super::status_reports::StatusHub,
}

/// A running actor system: the registry of its processes and names,
/// lookups, dead letters, and coordinated shutdown.
///
/// Registry semantics follow Erlang's `register/2` and `whereis/1`: a name
/// maps to one live actor; registering a taken name fails
/// ([`SpawnError::NameTaken`](crate::SpawnError::NameTaken)); the name is
/// freed when the actor exits.
///
/// ```
/// use troupe::prelude::*;
///
/// struct Worker;
/// impl Actor for Worker {}
///
/// # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let system = ActorSystem::create("doc-system")?;
/// Worker.spawn().named("w1").on_system(&system).await?;
/// assert_eq!(system.registered(), vec!["w1".to_string()]);
/// let report = system.shutdown().await;
/// assert!(report.all_stopped());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct ActorSystem {
    inner: Arc<SystemInner>,
}

fn systems() -> &'static Mutex<HashMap<String, Weak<SystemInner>>> {
    static SYSTEMS: OnceLock<Mutex<HashMap<String, Weak<SystemInner>>>> = OnceLock::new();
    SYSTEMS.get_or_init(Default::default)
}

impl Default for ActorSystem {
    /// The default system: one per process, named `default`, created on
    /// first use. It is where [`Spawn::spawn`](crate::Spawn::spawn) puts an
    /// actor unless told otherwise (`.on_system(..)`).
    ///
    /// Its [`shutdown`](ActorSystem::shutdown) is final for the process,
    /// as stopping an Erlang node is: the default system is never made
    /// again, so every later spawn on it fails with
    /// [`SpawnError::ShuttingDown`](crate::SpawnError::ShuttingDown). Shut
    /// it down once, at the end of `main`; a test, a library, or anything
    /// that may run next to other code in the same process makes a system
    /// of its own with [`ActorSystem::isolated`].
    ///
    /// ```
    /// use troupe::prelude::*;
    ///
    /// struct Idle;
    /// impl Actor for Idle {}
    ///
    /// # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// Idle.spawn().await?; // on the default system
    /// ActorSystem::default().shutdown().await; // for good
    /// assert_eq!(Idle.spawn().await.err(), Some(SpawnError::ShuttingDown));
    /// # Ok(()) }
    /// ```
    fn default() -> Self {
        static DEFAULT: OnceLock<ActorSystem> = OnceLock::new();
        DEFAULT
            .get_or_init(|| Self::build("default".into(), SystemConfig::default()))
            .clone()
    }
}

impl ActorSystem {
    fn build(name: String, config: SystemConfig) -> Self {
        // Here rather than at the first stamp, which the first spawn or
        // message of the system would take (see `stamp.rs`).
        crate::stamp::calibrate();
        let supervision = broadcast::channel(config.dead_letter_buffer.max(1)).0;
        if config.metrics {
            super::instruments::describe();
        }
        let inner = Arc::new(SystemInner {
            dead_letters: DeadLetters::new(config.dead_letter_buffer),
            name,
            config,
            registry: Mutex::default(),
            mounted: Mutex::default(),
            terminate: Notify::new(),
            terminating: AtomicBool::new(false),
            shutting_down: AtomicBool::new(false),
            runtimes: Runtimes::default(),
            remote: OnceLock::new(),
            supervision,
            statuses: Default::default(),
        });
        systems()
            .lock()
            .insert(inner.name.clone(), Arc::downgrade(&inner));
        Self { inner }
    }

    /// A new system of its own, with the default config and a unique name
    /// (`isolated-N`): one line gives a test (or a library) a system that
    /// nothing else in the process touches, and that it may shut down
    /// without ending the [default system](ActorSystem::default).
    ///
    /// ```
    /// use troupe::prelude::*;
    ///
    /// struct Idle;
    /// impl Actor for Idle {}
    ///
    /// # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let system = ActorSystem::isolated();
    /// Idle.spawn().named("idle").on_system(&system).await?;
    /// assert!(system.shutdown().await.all_stopped());
    /// // Other systems, the default one included, go on.
    /// Idle.spawn().named("idle").on_system(&ActorSystem::isolated()).await?;
    /// # Ok(()) }
    /// ```
    pub fn isolated() -> Self {
        Self::isolated_with(SystemConfig::default())
    }

    /// [`ActorSystem::isolated`] with a config.
    pub fn isolated_with(config: SystemConfig) -> Self {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        loop {
            let n = NEXT.fetch_add(1, Ordering::Relaxed);
            // A name taken by a system created by hand is skipped.
            if let Ok(system) = Self::create_with(format!("isolated-{n}"), config.clone()) {
                return system;
            }
        }
    }

    /// Creates a system with the default config. Fails if a live system
    /// already has that name.
    pub fn create(name: impl Into<String>) -> Result<Self, SystemError> {
        Self::create_with(name, SystemConfig::default())
    }

    /// Creates a system with a config. Fails if a live system already has
    /// that name.
    pub fn create_with(name: impl Into<String>, config: SystemConfig) -> Result<Self, SystemError> {
        let name = name.into();
        let taken = name == "default"
            || systems()
                .lock()
                .get(&name)
                .is_some_and(|w| w.strong_count() > 0);
        if taken {
            return Err(SystemError::NameTaken(name));
        }
        Ok(Self::build(name, config))
    }

    /// The system's name.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// This node's number.
    pub fn node(&self) -> NodeNo {
        self.inner.config.node
    }

    /// The config actors get when spawned without one.
    pub fn default_actor_config(&self) -> &ActorConfig {
        &self.inner.config.actor
    }

    /// Whether this system records metrics ([`SystemConfig::metrics`]).
    pub fn metrics_enabled(&self) -> bool {
        self.inner.config.metrics
    }

    /// What a front-end mounted under `name`, if it is a `T`.
    pub(crate) fn mounted<T: Any + Send + Sync>(&self, name: &str) -> Option<Arc<T>> {
        let mounted = self.inner.mounted.lock().get(name)?.clone();
        mounted.downcast().ok()
    }

    #[cfg_attr(not(feature = "config"), allow(dead_code))]
    /// The names of what front-ends mounted, sorted.
    pub(crate) fn mounted_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.inner.mounted.lock().keys().cloned().collect();
        names.sort();
        names
    }

    pub(crate) fn mount(&self, name: String, what: Arc<dyn Any + Send + Sync>) {
        self.inner.mounted.lock().insert(name, what);
    }

    /// Asks whoever runs the system (`init::start`) to shut it down. Returns
    /// at once; safe to call from inside an actor.
    pub fn terminate(&self) {
        self.inner.terminating.store(true, Ordering::Release);
        self.inner.terminate.notify_waiters();
    }

    /// Resolves once [`ActorSystem::terminate`] has been called.
    pub async fn terminated(&self) {
        loop {
            let notified = self.inner.terminate.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.inner.terminating.load(Ordering::Acquire) {
                return;
            }
            notified.await;
        }
    }

    /// Subscribes to this system's dead letters (reports from now on).
    pub fn dead_letters(&self) -> broadcast::Receiver<DeadLetter> {
        self.inner.dead_letters.subscribe()
    }

    /// Subscribes to what every supervisor of this system does from now on
    /// (children started, exited, stopped, budgets exceeded), the groups'
    /// supervisors included; a subscriber that lags more than the
    /// dead-letter buffer behind loses the oldest events (`Lagged`). Per
    /// supervisor, [`SupervisorConfig::observe`](crate::supervision::SupervisorConfig::observe)
    /// gives the same events without loss.
    pub fn supervision_events(&self) -> broadcast::Receiver<super::restart::SupervisionEvent> {
        self.inner.supervision.subscribe()
    }

    /// Tells subscribers of [`ActorSystem::supervision_events`].
    /// Whether anybody subscribed to this system's supervision events.
    pub(crate) fn supervision_watched(&self) -> bool {
        self.inner.supervision.receiver_count() > 0
    }

    pub(crate) fn report_supervision(&self, event: &super::restart::SupervisionEvent) {
        if self.inner.supervision.receiver_count() > 0 {
            let _ = self.inner.supervision.send(event.clone());
        }
    }

    /// Reports `env` as a dead letter for `recipient`: for a layer that
    /// carries envelopes elsewhere and could not deliver this one (a
    /// transport to another node).
    pub fn report_dead_letter(&self, recipient: Addr, env: &Envelope, reason: DeadLetterReason) {
        self.dead_letter(recipient, env, reason);
    }

    /// Reports a dead letter whose envelope is not at hand: for a transport
    /// that took the message apart for the wire (and learns that the other
    /// node refused it) or could not decode what came in.
    pub fn report_dead_letter_of(&self, letter: DeadLetter) {
        self.inner.dead_letters.report_letter(letter);
    }

    /// How many dead letters this system has reported so far.
    pub fn dead_letter_count(&self) -> u64 {
        self.inner.dead_letters.count()
    }

    /// Whether `shutdown` has begun.
    pub fn is_shutting_down(&self) -> bool {
        self.inner.shutting_down.load(Ordering::Acquire)
    }

    /// The installed transport, if any.
    pub(crate) fn transport(&self) -> Option<&Arc<dyn super::remote::Transport>> {
        self.inner.remote.get().map(|i| &i.transport)
    }

    /// Installs a transport; `false` if one is installed already.
    pub(crate) fn install_transport(&self, installed: super::remote::Installed) -> bool {
        self.inner.remote.set(installed).is_ok()
    }

    /// Reports a dead letter for the process at `recipient` (the null
    /// address: none was found).
    pub(crate) fn dead_letter(&self, recipient: Addr, env: &Envelope, reason: DeadLetterReason) {
        let shared = match self.metrics_enabled() && !recipient.is_null() {
            true => self.lookup_registered(recipient),
            false => None,
        };
        let series = shared.as_ref().and_then(|s| s.instruments());
        self.dead_letter_in(series.map(|i| &i.series), recipient, env, reason);
    }

    /// Reports a dead letter for `recipient`, a process at hand.
    pub(crate) fn dead_letter_at(
        &self,
        recipient: &Shared,
        env: &Envelope,
        reason: DeadLetterReason,
    ) {
        let series = recipient.instruments().map(|i| &i.series);
        self.dead_letter_in(series, recipient.addr, env, reason);
    }

    /// Reports a dead letter, counted in `series` (`None`: in group
    /// `none`) in a system with metrics on.
    pub(crate) fn dead_letter_in(
        &self,
        series: Option<&Series>,
        recipient: Addr,
        env: &Envelope,
        reason: DeadLetterReason,
    ) {
        if self.metrics_enabled() {
            match series {
                Some(series) => series.dead_letter(reason),
                None => super::instruments::dead_letter_nowhere(reason),
            }
        }
        self.inner.dead_letters.report(recipient, env, reason);
    }

    pub(crate) fn runtime_for(&self, shared: &Shared) -> Option<Handle> {
        self.inner.runtimes.select(shared)
    }

    /// Runs the actors that start from now on and whose meta matches
    /// `filter` on the runtime of `handle` (as
    /// [`Topology::add_dedicated_rt`](crate::Topology::add_dedicated_rt)
    /// does for a topology's system): filters are checked in the order
    /// they were added, the first match wins; an actor no filter matches
    /// runs beside its nearest placed ancestor, or else on the runtime that
    /// spawns it. Actors already running stay where they are.
    ///
    /// ```
    /// use troupe::prelude::*;
    ///
    /// struct Feed;
    /// impl Actor for Feed {}
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let io = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build()?;
    /// let system = ActorSystem::isolated();
    /// system.add_dedicated_rt(|meta| meta.key == "feed", io.handle().clone());
    /// let feed = Feed.spawn().on_system(&system).named("feed").await?;
    /// assert!(feed.is_alive());
    /// system.shutdown().await;
    /// # io.shutdown_background(); Ok(()) }
    /// ```
    pub fn add_dedicated_rt(
        &self,
        filter: impl Fn(&ActorMeta) -> bool + Send + Sync + 'static,
        handle: Handle,
    ) {
        let placement = super::runtime::Placement::One(handle);
        self.inner.runtimes.add(Box::new(filter), placement);
    }

    /// Runs the actors that start from now on and whose meta matches
    /// `filter` on the single-threaded runtimes of `cores`, each on one of
    /// them, with their children on the same thread (thread-per-core; see
    /// [`CoreSet`](crate::CoreSet) for an example and when to choose it).
    pub fn add_core_set(
        &self,
        filter: impl Fn(&ActorMeta) -> bool + Send + Sync + 'static,
        cores: &crate::CoreSet,
    ) {
        let placement = super::runtime::Placement::Spread(cores.handles());
        self.inner.runtimes.add(Box::new(filter), placement);
    }

    pub(crate) fn status_hub(&self) -> &super::status_reports::StatusHub {
        &self.inner.statuses
    }

    pub(crate) fn runtimes(&self) -> &Runtimes {
        &self.inner.runtimes
    }
}

impl std::fmt::Debug for ActorSystem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActorSystem")
            .field("name", &self.inner.name)
            .finish()
    }
}
