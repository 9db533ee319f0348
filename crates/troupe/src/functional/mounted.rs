//! A mounted group at run time: its keyed actors under the group's
//! supervisor, routing, and how a functional actor runs and restarts.
//!
//! A mounted group is a supervisor process (simple-one-for-one, with the
//! group's [`RestartPolicy`](super::RestartPolicy) as its budget and
//! backoff) whose children are the group's keyed actors. Routing starts a
//! keyed actor on demand, right in the sender's call (so that a send never
//! waits for the supervisor), and hands it to the supervisor, which from
//! then on restarts it, or not, like any other child.

use std::any::TypeId;
use std::borrow::Cow;
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Weak};

use parking_lot::{Mutex, RwLock};

use super::group::{Body, ExecFn};
use super::{Context, Key, Outcome, Schema};
use crate::addr::ActorMeta;
use crate::attached::ContextCore;
use crate::catch::{catch, BoxFuture};
use crate::core::config::ActorConfig;
use crate::core::dead_letter::DeadLetterReason;
use crate::core::delivery::Deliver;
use crate::core::instruments::Series;
use crate::core::introspect::ProcessKind;
use crate::core::launch::{self, ExitGuard};
use crate::core::process::{Shared, SysMsg};
use crate::core::restart::{ChildSpec, Link, ShutdownStrategy, Start, SupMsg, SupervisorError};
use crate::core::run_loop::{end, teardown, NoHooks};
use crate::core::system::ActorSystem;
use crate::envelope::{Envelope, TraceId};
use crate::error::SendError;
use crate::exit::{ExitReason, StopReason};
use crate::request::RequestError;

pub(crate) use super::route::Route;
pub(crate) use supervisor::GroupSupervisor;

mod supervisor;

/// A group mounted in a running system.
pub(crate) struct GroupRuntime {
    pub(crate) name: Cow<'static, str>,
    schema: Schema,
    pub(crate) system: ActorSystem,
    actors: Mutex<HashMap<Key, Arc<Shared>>>,
    pub(crate) routes: RwLock<Vec<Route>>,
    /// The group's supervisor process.
    supervisor: Mutex<Weak<Shared>>,
    /// Settings changed at run time (a configuration), over the schema's.
    live: RwLock<LiveSettings>,
    /// Its series, in a system with metrics on: what is counted for the
    /// group as a whole (requests to it, what its router discards).
    pub(crate) series: Option<Series>,
}

/// A group's settings changed at run time, which win over its schema's.
#[derive(Default)]
struct LiveSettings {
    actor: Option<ActorConfig>,
    restart: Option<super::RestartPolicy>,
    /// The group's own configuration (`ActorGroup::config_type`).
    config: Option<Arc<dyn std::any::Any + Send + Sync>>,
    /// The group's log level, if a configuration set one.
    log_level: Option<tracing::Level>,
    /// Whether the group's metrics are on, if a configuration said.
    metrics: Option<bool>,
}

/// Marks the registry entries of functional actors.
struct Functional;

impl GroupRuntime {
    /// Whether the group's supervisor still runs (messages can reach it).
    pub(crate) fn is_mounted(&self) -> bool {
        self.supervisor
            .lock()
            .upgrade()
            .is_some_and(|s| s.is_alive())
    }

    pub(crate) fn new(name: Cow<'static, str>, schema: Schema, system: ActorSystem) -> Arc<Self> {
        let series = system.metrics_enabled().then(|| Series::new(&name, None));
        Arc::new(Self {
            series,
            name,
            schema,
            system,
            actors: Mutex::default(),
            routes: RwLock::default(),
            supervisor: Mutex::new(Weak::new()),
            live: RwLock::default(),
        })
    }

    #[cfg_attr(not(any(feature = "config", feature = "testkit")), allow(dead_code))]
    /// The actors of the group that are alive now.
    pub(crate) fn live_actors(&self) -> Vec<Arc<Shared>> {
        let actors = self.actors.lock();
        actors.values().filter(|a| a.is_alive()).cloned().collect()
    }

    /// The mailbox and request settings of the group's actors.
    pub(crate) fn actor_config(&self) -> ActorConfig {
        if let Some(config) = &self.live.read().actor {
            return config.clone();
        }
        self.schema
            .config
            .clone()
            .unwrap_or_else(|| self.system.default_actor_config().clone())
    }

    #[cfg_attr(not(feature = "config"), allow(dead_code))]
    /// Changes the settings of the group's actors: those started from now
    /// on get them, and the mailboxes of those alive take the new capacity
    /// and overflow policy at once.
    pub(crate) fn set_actor_config(&self, config: ActorConfig) {
        let (capacity, policy) = (config.mailbox_capacity(), config.overflow());
        self.live.write().actor = Some(config);
        for actor in self.live_actors() {
            actor.mailbox.resize(capacity, policy);
        }
    }

    /// When the group's actors restart.
    pub(crate) fn restart_policy(&self) -> super::RestartPolicy {
        self.live.read().restart.unwrap_or(self.schema.restart)
    }

    #[cfg_attr(not(feature = "config"), allow(dead_code))]
    /// Changes when the group's actors restart: for actors started from
    /// now on, and the budget at the group supervisor's next start.
    pub(crate) fn set_restart_policy(&self, policy: super::RestartPolicy) {
        self.live.write().restart = Some(policy);
    }

    /// The group's own configuration, if it has one.
    pub(crate) fn config(&self) -> Option<Arc<dyn std::any::Any + Send + Sync>> {
        self.live.read().config.clone()
    }

    #[cfg_attr(not(feature = "config"), allow(dead_code))]
    /// Sets the group's own configuration.
    pub(crate) fn set_config(&self, config: Arc<dyn std::any::Any + Send + Sync>) {
        self.live.write().config = Some(config);
    }

    /// The group's log level, if a configuration set one.
    pub(crate) fn log_level(&self) -> Option<tracing::Level> {
        self.live.read().log_level
    }

    /// Whether the group's metrics are on, if a configuration said.
    pub(crate) fn metrics(&self) -> Option<bool> {
        self.live.read().metrics
    }

    #[cfg_attr(not(feature = "config"), allow(dead_code))]
    /// Sets the group's log level and metrics switch.
    pub(crate) fn set_observability(
        &self,
        log_level: Option<tracing::Level>,
        metrics: Option<bool>,
    ) {
        let mut live = self.live.write();
        live.log_level = log_level;
        live.metrics = metrics;
    }

    #[cfg_attr(not(feature = "config"), allow(dead_code))]
    /// The group's definition.
    pub(crate) fn schema(&self) -> &Schema {
        &self.schema
    }

    pub(crate) fn add_route(&self, route: Route) {
        self.routes.write().push(route);
    }

    pub(crate) fn is_routed(&self) -> bool {
        self.schema.router.is_some()
    }

    /// Where the group's router sends this envelope.
    pub(super) fn route(&self, env: &Envelope) -> Outcome {
        match &self.schema.router {
            None => Outcome::Unicast(Cow::Borrowed("_")),
            Some(router) => match router(env) {
                Outcome::Default => Outcome::Discard,
                other => other,
            },
        }
    }

    /// The targets of an outcome, starting keyed actors on demand (but for
    /// a gentle outcome). (A unicast, the common case, takes no list.)
    pub(super) fn targets(self: &Arc<Self>, outcome: Outcome) -> Vec<Arc<Shared>> {
        match outcome {
            Outcome::Unicast(key) => self.actor(key).into_iter().collect(),
            Outcome::GentleUnicast(key) => self.existing(&key).into_iter().collect(),
            Outcome::Multicast(keys) => keys.into_iter().filter_map(|k| self.actor(k)).collect(),
            Outcome::GentleMulticast(keys) => {
                keys.iter().filter_map(|k| self.existing(k)).collect()
            }
            Outcome::Broadcast => self.actors.lock().values().cloned().collect(),
            Outcome::Discard | Outcome::Default => Vec::new(),
        }
    }

    /// The actor with this key if it exists (alive, or waiting for its
    /// restart); none is started.
    pub(super) fn existing(&self, key: &str) -> Option<Arc<Shared>> {
        let actors = self.actors.lock();
        actors.get(key).filter(|a| a.is_alive()).cloned()
    }

    /// One actor of the group that is alive now and takes `pick`, if any
    /// (for a request to any actor of a broadcast).
    pub(super) fn any_actor(&self, pick: impl Fn(&Shared) -> bool) -> Option<Arc<Shared>> {
        let actors = self.actors.lock();
        actors.values().find(|a| a.is_alive() && pick(a)).cloned()
    }

    /// Delivers an envelope to this group, through its router.
    pub(crate) async fn deliver_routed(
        self: &Arc<Self>,
        env: Envelope,
    ) -> Result<(), SendError<Envelope>> {
        match self.route(&env) {
            Outcome::Unicast(key) => match self.actor(key) {
                Some(target) => target.deliver(env).await,
                None => self.discard(env),
            },
            // A request is answered once: one actor takes it.
            outcome if env.is_request() => match self.responder_of(outcome) {
                Some(target) => target.deliver(env).await,
                None => self.discard(env),
            },
            outcome => {
                let targets = self.targets(outcome);
                self.deliver_to(targets, env).await
            }
        }
    }

    /// Delivers without waiting for mailbox space.
    pub(crate) fn try_deliver_routed(
        self: &Arc<Self>,
        env: Envelope,
    ) -> Result<(), SendError<Envelope>> {
        let targets = match self.route(&env) {
            Outcome::Unicast(key) => {
                return match self.actor(key) {
                    Some(target) => target.try_deliver(env),
                    None => self.discard(env),
                };
            }
            outcome if env.is_request() => {
                return match self.responder_of(outcome) {
                    Some(target) => target.try_deliver(env),
                    None => self.discard(env),
                };
            }
            outcome => self.targets(outcome),
        };
        let Some((last, others)) = targets.split_last() else {
            return self.discard(env);
        };
        for target in others {
            if let Some(copy) = self.copy_for(target, &env) {
                target.try_deliver(copy)?;
            }
        }
        last.try_deliver(env)
    }

    async fn deliver_to(
        &self,
        targets: Vec<Arc<Shared>>,
        env: Envelope,
    ) -> Result<(), SendError<Envelope>> {
        let Some((last, others)) = targets.split_last() else {
            return self.discard(env);
        };
        for target in others {
            if let Some(copy) = self.copy_for(target, &env) {
                target.deliver(copy).await?;
            }
        }
        last.deliver(env).await
    }

    /// A copy of the envelope for one of several targets, or a dead letter
    /// when it cannot be copied.
    fn copy_for(&self, target: &Shared, env: &Envelope) -> Option<Envelope> {
        let copy = env.try_clone();
        if copy.is_none() {
            self.system
                .dead_letter_at(target, env, DeadLetterReason::NoRecipient);
        }
        copy
    }

    /// What becomes of an envelope no actor of the group takes. A group
    /// whose supervisor is gone (it gave up, or the system shut it down)
    /// refuses it as a dead actor's mailbox does: the sender gets
    /// [`SendError::Closed`] (a requester, `Gone`). A running group whose
    /// router discards the envelope takes it as a dead letter; the sender
    /// gets `Ok`, as an actor that drops a message it does not want.
    fn discard(&self, env: Envelope) -> Result<(), SendError<Envelope>> {
        if !self.is_mounted() {
            return Err(SendError::Closed(env));
        }
        // Counted for the group; the dead letter has no recipient.
        let (nobody, reason) = (crate::addr::Addr::NULL, DeadLetterReason::NoRecipient);
        self.system
            .dead_letter_in(self.series.as_ref(), nobody, &env, reason);
        env.fail(RequestError::gone());
        Ok(())
    }

    /// The running actor with this key, started if needed and handed to
    /// the group's supervisor. `None` once the group's supervisor is gone
    /// (the system shuts down, or the group gave up).
    pub(crate) fn actor(self: &Arc<Self>, key: Key) -> Option<Arc<Shared>> {
        let mut actors = self.actors.lock();
        if let Some(shared) = actors.get(&key) {
            if shared.is_alive() {
                return Some(shared.clone());
            }
        }
        let supervisor = self.supervisor.lock().upgrade()?;
        let meta = ActorMeta {
            group: self.name.clone(),
            key: key.clone(),
        };
        let config = self.actor_config();
        let shared = Shared::new(self.system.clone(), Arc::new(meta), false, &config);
        shared.set_parent(Arc::downgrade(&supervisor));
        // The supervisor learns of the child before the child can exit.
        let spec = ChildSpec::new(
            Arc::from(&*key),
            ShutdownStrategy::WORKER_DEFAULT,
            None,
            false,
            Arc::new(KeyedStart {
                group: Arc::downgrade(self),
            }),
        )
        .restart(self.restart_policy().restart_type())
        .with_retry(self.restart_policy().retry());
        let adopt = SupMsg::Adopt(spec, shared.clone());
        if supervisor
            .mailbox
            .push_sys(SysMsg::Supervision(Box::new(adopt)))
            .is_err()
        {
            return None;
        }
        if let Err(e) = start_keyed(self.clone(), shared.clone()) {
            tracing::debug!(group = %self.name, %key, error = %e, "cannot start a keyed actor");
            shared.finish(ExitReason::StartFailed(e.to_string()));
            return None;
        }
        actors.insert(key, shared.clone());
        Some(shared)
    }

    /// Starts the singleton actor of a group without a router.
    pub(crate) fn start_singleton(self: &Arc<Self>) {
        if !self.is_routed() {
            let _ = self.actor(Cow::Borrowed("_"));
        }
    }

    fn remove(&self, key: &str, shared: &Shared) {
        let mut actors = self.actors.lock();
        if actors.get(key).is_some_and(|s| s.addr == shared.addr) {
            actors.remove(key);
        }
    }

    /// The group's supervisor process, while it runs.
    pub(super) fn supervisor(&self) -> Option<Arc<Shared>> {
        self.supervisor.lock().upgrade().filter(|s| s.is_alive())
    }
}

/// Delivering to a group goes through its router.
impl Deliver for Arc<GroupRuntime> {
    fn deliver(
        &self,
        env: Envelope,
    ) -> impl Future<Output = Result<(), SendError<Envelope>>> + Send {
        self.deliver_routed(env)
    }

    fn try_deliver(&self, env: Envelope) -> Result<(), SendError<Envelope>> {
        self.try_deliver_routed(env)
    }

    fn request_series(&self, _: &Envelope) -> Option<Cow<'_, Series>> {
        self.series.as_ref().map(Cow::Borrowed)
    }
}

/// A group's outgoing routes (`Context::send`): every route whose filter
/// accepts an envelope gets it; a request goes to the first route that
/// takes it (see `route.rs`).
pub(crate) struct Routes<'a>(pub(crate) &'a GroupRuntime);

impl Deliver for Routes<'_> {
    fn deliver(
        &self,
        env: Envelope,
    ) -> impl Future<Output = Result<(), SendError<Envelope>>> + Send {
        self.0.send_routed(env)
    }

    fn try_deliver(&self, env: Envelope) -> Result<(), SendError<Envelope>> {
        self.0.try_send_routed(env)
    }

    /// The series of the group the request's first route leads to (a
    /// group of this node; a group of another node counts nothing here).
    fn request_series(&self, env: &Envelope) -> Option<Cow<'_, Series>> {
        self.0.series.as_ref()?;
        self.0.first_route_series(env).map(Cow::Owned)
    }
}

/// Registers a keyed actor's process (new, or reset for a restart) and
/// runs one incarnation of its `exec`.
fn start_keyed(
    group: Arc<GroupRuntime>,
    shared: Arc<Shared>,
) -> Result<(), crate::error::SpawnError> {
    shared.set_kind(ProcessKind::GROUP_ACTOR);
    let exec = match &group.schema.body {
        Body::Exec(exec) => exec.clone(),
        Body::Actor(start) => return start(shared),
    };
    let process = shared.clone();
    launch::start(
        &shared,
        TypeId::of::<Functional>,
        TraceId::generate(),
        |guard| run(group, exec, process, guard),
    )
}

/// Runs one incarnation of a functional actor: its `exec`, then the
/// teardown. Its restart is the group supervisor's decision.
async fn run(group: Arc<GroupRuntime>, exec: ExecFn, shared: Arc<Shared>, guard: ExitGuard) {
    if shared.exit_reason().is_some() {
        return;
    }
    tracing::info!(
        addr = %shared.addr,
        thread = std::thread::current().name().unwrap_or("?"),
        "started"
    );
    shared.set_running();
    let ctx = Context::new(shared.clone(), group.clone());
    let failure = match catch(exec(ctx)).await {
        Ok(Ok(())) => None,
        Ok(Err(e)) => Some(e),
        Err(panic) => Some(format!("panic: {panic}")),
    };
    // A reason it asked for (`stop_with`, a link partner's exit) wins
    // over the stop that closed its mailbox.
    let reason = match (failure, shared.requested_exit(), shared.stop_requested()) {
        (Some(e), _, _) => ExitReason::Failed(e),
        (None, Some(requested), _) => requested,
        (None, None, Some(StopReason::Graceful | StopReason::Drain) | None) => ExitReason::Normal,
        (None, None, Some(_)) => ExitReason::Shutdown,
    };
    let mut core = ContextCore::new(shared.clone(), TraceId::generate());
    let reason = teardown(&mut core, &mut NoHooks, reason).await;
    end(core, NoHooks, reason, guard);
    if !shared.is_alive() {
        group.remove(&shared.meta.key, &shared);
    }
}

/// Restarts a keyed actor in place: same address, same mailbox.
struct KeyedStart {
    group: Weak<GroupRuntime>,
}

impl Start for KeyedStart {
    fn start(&self, link: Link) -> BoxFuture<'static, Result<Arc<Shared>, SupervisorError>> {
        let started = (|| {
            let group = self.group.upgrade().ok_or(SupervisorError::ShuttingDown)?;
            let Some(previous) = link.previous.clone() else {
                return Err(link.failed("a keyed actor is started by routing"));
            };
            previous.reset_for_restart();
            previous.set_parent(link.parent.clone());
            start_keyed(group, previous.clone()).map_err(|e| link.spawn_error(e))?;
            Ok(previous)
        })();
        Box::pin(async move { started })
    }
}

#[cfg(test)]
mod tests;
