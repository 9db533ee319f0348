//! A mounted group at run time: its keyed actors, routing, and the run loop
//! of a functional actor with its restart policy.

use std::any::TypeId;
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, Weak};

use parking_lot::{Mutex, RwLock};

use super::{Key, Outcome, Schema};
use crate::addr::ActorMeta;
use crate::catch::catch;
use crate::dead_letter::DeadLetterReason;
use crate::envelope::{Envelope, TraceId};
use crate::error::SendError;
use crate::fn_context::{Context, StopState};
use crate::process::{launch, ExitGuard, ExitReason, Shared, StopReason};
use crate::request::RequestError;
use crate::system::ActorSystem;

type RouteFilter = Box<dyn Fn(&Envelope) -> bool + Send + Sync>;

/// An outgoing connection of the topology.
pub(crate) struct Route {
    pub(crate) to: Weak<GroupRuntime>,
    pub(crate) filter: RouteFilter,
}

/// A group mounted in a running system.
pub(crate) struct GroupRuntime {
    pub(crate) name: Cow<'static, str>,
    schema: Schema,
    system: ActorSystem,
    actors: Mutex<HashMap<Key, Arc<Shared>>>,
    routes: RwLock<Vec<Route>>,
}

impl GroupRuntime {
    pub(crate) fn new(name: Cow<'static, str>, schema: Schema, system: ActorSystem) -> Arc<Self> {
        Arc::new(Self {
            name,
            schema,
            system,
            actors: Mutex::default(),
            routes: RwLock::default(),
        })
    }

    pub(crate) fn add_route(&self, route: Route) {
        self.routes.write().push(route);
    }

    pub(crate) fn is_routed(&self) -> bool {
        self.schema.router.is_some()
    }

    /// Where the group's router sends this envelope.
    fn route(&self, env: &Envelope) -> Outcome {
        match &self.schema.router {
            None => Outcome::Unicast(Cow::Borrowed("_")),
            Some(router) => match router(env) {
                Outcome::Default => Outcome::Discard,
                other => other,
            },
        }
    }

    /// The targets of a multicast or broadcast outcome, starting keyed
    /// actors on demand. (A unicast, the common case, takes no list.)
    fn targets(self: &Arc<Self>, outcome: Outcome) -> Vec<Arc<Shared>> {
        match outcome {
            Outcome::Unicast(key) => self.actor(key).into_iter().collect(),
            Outcome::Multicast(keys) => keys.into_iter().filter_map(|k| self.actor(k)).collect(),
            Outcome::Broadcast => self.actors.lock().values().cloned().collect(),
            Outcome::Discard | Outcome::Default => Vec::new(),
        }
    }

    /// Delivers an envelope to this group, through its router.
    pub(crate) async fn deliver(
        self: &Arc<Self>,
        env: Envelope,
    ) -> Result<(), SendError<Envelope>> {
        match self.route(&env) {
            Outcome::Unicast(key) => match self.actor(key) {
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
    pub(crate) fn try_deliver(self: &Arc<Self>, env: Envelope) -> Result<(), SendError<Envelope>> {
        let targets = match self.route(&env) {
            Outcome::Unicast(key) => {
                return match self.actor(key) {
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
                .dead_letter(target.addr, env, DeadLetterReason::NoRecipient);
        }
        copy
    }

    fn discard(&self, env: Envelope) -> Result<(), SendError<Envelope>> {
        self.system
            .dead_letter(crate::addr::Addr::NULL, &env, DeadLetterReason::NoRecipient);
        env.fail(RequestError::Gone);
        Ok(())
    }

    /// Sends through this group's outgoing routes (`Context::send`): every
    /// route whose filter accepts the envelope gets it.
    pub(crate) async fn send_routed(&self, env: Envelope) -> Result<(), SendError<Envelope>> {
        let (first, rest) = self.destinations(&env);
        let Some(first) = first else {
            self.system
                .dead_letter(crate::addr::Addr::NULL, &env, DeadLetterReason::NoRecipient);
            return Err(SendError::NoRecipient(env));
        };
        // A request goes to the first accepting route only (any-semantics).
        let (Some((last, others)), false) = (rest.split_last(), env.is_request()) else {
            return first.deliver(env).await;
        };
        for dest in std::iter::once(&first).chain(others) {
            if let Some(copy) = self.copy_to_group(dest, &env) {
                dest.deliver(copy).await?;
            }
        }
        last.deliver(env).await
    }

    pub(crate) fn try_send_routed(&self, env: Envelope) -> Result<(), SendError<Envelope>> {
        let (first, rest) = self.destinations(&env);
        let Some(first) = first else {
            return Err(SendError::NoRecipient(env));
        };
        let (Some((last, others)), false) = (rest.split_last(), env.is_request()) else {
            return first.try_deliver(env);
        };
        for dest in std::iter::once(&first).chain(others) {
            if let Some(copy) = self.copy_to_group(dest, &env) {
                dest.try_deliver(copy)?;
            }
        }
        last.try_deliver(env)
    }

    /// A copy of the envelope for one of several routes, or a dead letter
    /// when it cannot be copied (its type is not `Clone`).
    fn copy_to_group(&self, dest: &GroupRuntime, env: &Envelope) -> Option<Envelope> {
        let copy = env.try_clone();
        if copy.is_none() {
            tracing::debug!(group = %dest.name, "a message that is not Clone reaches one route only");
            self.system
                .dead_letter(crate::addr::Addr::NULL, env, DeadLetterReason::NoRecipient);
        }
        copy
    }

    /// The groups whose route accepts the envelope: the first, then the
    /// others (a list that stays empty, so unallocated, for the usual
    /// single route).
    fn destinations(&self, env: &Envelope) -> (Option<Arc<GroupRuntime>>, Vec<Arc<GroupRuntime>>) {
        let routes = self.routes.read();
        let mut accepted = routes
            .iter()
            .filter(|r| (r.filter)(env))
            .filter_map(|r| r.to.upgrade());
        let first = accepted.next();
        (first, accepted.collect())
    }

    /// The running actor with this key, started if needed. `None` once the
    /// system shuts down or when no runtime is available.
    pub(crate) fn actor(self: &Arc<Self>, key: Key) -> Option<Arc<Shared>> {
        let mut actors = self.actors.lock();
        if let Some(shared) = actors.get(&key) {
            if shared.is_alive() {
                return Some(shared.clone());
            }
        }
        let meta = ActorMeta {
            group: self.name.clone(),
            key: key.clone(),
        };
        let runtime = self.system.runtime_for(&meta)?;
        let config = self
            .schema
            .config
            .clone()
            .unwrap_or_else(|| self.system.default_actor_config().clone());
        let shared = Shared::new(self.system.clone(), meta, None, &config);
        if self
            .system
            .register(&shared, TypeId::of::<Context>)
            .is_err()
        {
            return None;
        }
        actors.insert(key, shared.clone());
        drop(actors);

        let group = self.clone();
        let process = shared.clone();
        launch(&shared, &runtime, TraceId::generate(), |guard| {
            run(group, process, guard)
        });
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
}

/// Runs one functional actor: its `exec`, again and again as the restart
/// policy says, on the same address and mailbox.
async fn run(group: Arc<GroupRuntime>, shared: Arc<Shared>, guard: ExitGuard) {
    if shared.exit_reason().is_some() {
        return;
    }
    tracing::info!(
        addr = %shared.addr,
        thread = std::thread::current().name().unwrap_or("?"),
        "started"
    );
    shared.set_running();
    let stop = Arc::new(Mutex::new(StopState::default()));
    let policy = group.schema.restart;
    let mut streak = 0usize;
    let reason = loop {
        let ctx = Context::new(shared.clone(), group.clone(), stop.clone());
        let started = tokio::time::Instant::now();
        let failure = match catch((group.schema.exec)(ctx)).await {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(e),
            Err(panic) => Some(format!("panic: {panic}")),
        };
        let requested = stop.lock().reason;
        if let Some(requested) = requested {
            break match (requested, failure) {
                (_, Some(e)) => ExitReason::Failed(e),
                (StopReason::Graceful, None) => ExitReason::Normal,
                (_, None) => ExitReason::Shutdown,
            };
        }
        let exit = failure.map_or(ExitReason::Normal, ExitReason::Failed);
        if shared.system.is_shutting_down() || !policy.restarts_after(&exit) {
            break exit;
        }
        if started.elapsed() > policy.max_backoff() {
            streak = 0;
        }
        streak = streak.saturating_add(1);
        let delay = policy.backoff(streak);
        match &exit {
            ExitReason::Failed(e) => tracing::warn!(error = %e, ?delay, "actor failed; restarting"),
            _ => tracing::info!(?delay, "actor finished; restarting"),
        }
        if delay.is_zero() {
            // A zero sleep would still wait for the timer wheel's next tick
            // (1 ms): restart at once, letting other tasks run first.
            tokio::task::yield_now().await;
        } else {
            tokio::time::sleep(delay).await;
        }
    };
    if let ExitReason::Failed(e) = &reason {
        tracing::error!(error = %e, "actor failed");
    }
    shared.finish(reason);
    group.remove(&shared.meta.key, &shared);
    for reply in std::mem::take(&mut stop.lock().replies) {
        let _ = reply.send(Ok(()));
    }
    drop(guard);
}
