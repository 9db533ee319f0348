//! The supervision engine: the children of one supervisor, how they join
//! and start, and ordered shutdown (what happens when one exits is in
//! `on_exit.rs`). Both
//! front-ends (struct-actor supervisors and plain [`Supervisor`]s) own one
//! and feed it the [`SupMsg`]s of their system channel.
//!
//! [`Supervisor`]: super::Supervisor

use std::any::Any;
use std::sync::{Arc, Weak};

use parking_lot::Mutex;
use tokio::time::Instant;

use super::budget::RestartBudget;
use super::child::{stop_incarnation, ChildInfo, ChildSpec, ChildState, Link};
use super::children::Children;
use super::retry::Retries;
use super::strategy::{RestartStrategy, ShutdownStrategy, SupervisorConfig};
use super::{ChildExited, ChildId, SupMsg, SupervisionEvent, SupervisorError};
use crate::core::process::Shared;
use crate::core::system::ActorSystem;
use crate::exit::ExitReason;

type MakeChild = dyn Fn(Box<dyn Any + Send>) -> Option<ChildSpec> + Send + Sync;

/// Builds dynamic children from an argument (OTP's `simple_one_for_one`
/// child spec plus `start_child(Sup, Args)`).
#[derive(Clone)]
pub(crate) struct Template {
    make: Arc<MakeChild>,
}

impl Template {
    pub(crate) fn new(make: Arc<MakeChild>) -> Self {
        Self { make }
    }

    pub(crate) fn make(&self, arg: Box<dyn Any + Send>) -> Option<ChildSpec> {
        (self.make)(arg)
    }
}

/// What the engine made of one supervision message.
pub(crate) struct Handled {
    /// `Err`: the supervisor must exit (its restart budget is exceeded).
    pub(crate) result: Result<(), SupervisorError>,
    /// A child that exited by itself, and what the engine did about it.
    pub(crate) exited: Option<ChildExited>,
}

/// Where a supervisor's handle learns why it gave up (a budget exceeded, a
/// child that would not stop).
pub(crate) type Outcome = Arc<Mutex<Option<SupervisorError>>>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum State {
    /// An incarnation runs; exits of other incarnations are stale.
    Running { incarnation: u64 },
    /// Not running, kept (a transient child that ended normally, or a child
    /// whose restart failed and will be retried).
    Stopped,
    /// Waiting for its backoff delay to pass.
    Restarting(Instant),
}

pub(super) struct Child {
    pub(super) id: ChildId,
    pub(super) spec: ChildSpec,
    /// The current or last incarnation.
    pub(super) shared: Arc<Shared>,
    pub(super) state: State,
    pub(super) restarts: u64,
    pub(super) last_exit: Option<ExitReason>,
    /// Its restarts in a row (`retry.rs`).
    pub(super) retries: Retries,
}

impl Child {
    pub(super) fn running(&self) -> bool {
        matches!(self.state, State::Running { .. })
    }

    pub(super) fn state(&self) -> ChildState {
        match self.state {
            State::Running { .. } => ChildState::Running,
            State::Restarting(_) => ChildState::Restarting,
            State::Stopped => ChildState::Terminated,
        }
    }
}

/// One supervisor's children and the rules that govern them.
pub(crate) struct Engine {
    pub(super) name: Arc<str>,
    pub(super) me: Weak<Shared>,
    system: ActorSystem,
    pub(super) config: SupervisorConfig,
    pub(super) budget: RestartBudget,
    /// In start order.
    pub(super) children: Children,
    next_id: u64,
    template: Option<Template>,
    outcome: Option<Outcome>,
    pub(super) stopping: bool,
}

impl Engine {
    pub(crate) fn new(config: SupervisorConfig, me: &Arc<Shared>, name: Arc<str>) -> Self {
        let (max, within) = config.budget();
        me.mark_supervisor();
        Self {
            name,
            me: Arc::downgrade(me),
            system: me.system.clone(),
            budget: RestartBudget::new(max, within),
            config,
            children: Children::default(),
            next_id: 1,
            template: None,
            outcome: None,
            stopping: false,
        }
    }

    pub(crate) fn set_template(&mut self, template: Option<Template>) {
        self.template = template;
    }

    pub(crate) fn set_outcome(&mut self, outcome: Outcome) {
        self.outcome = Some(outcome);
    }

    pub(super) fn record(&self, error: SupervisorError) {
        if let Some(o) = &self.outcome {
            o.lock().get_or_insert(error);
        }
    }

    /// Reports a supervision event to whoever watches: the debug log, the
    /// system's subscribers, the supervisor's observer. The event is built
    /// only if one of them does (a restart builds none otherwise: its names
    /// and reasons cost a few allocations).
    pub(super) fn emit(&self, event: impl FnOnce() -> SupervisionEvent) {
        let observer = self.config.observer();
        if observer.is_none()
            && !self.system.supervision_watched()
            && !tracing::enabled!(tracing::Level::DEBUG)
        {
            return;
        }
        let event = event();
        tracing::debug!(supervisor = %self.name, ?event, "supervision");
        self.system.report_supervision(&event);
        if let Some(o) = observer {
            let _ = o.send(event);
        }
    }

    pub(super) fn no_restarts(&self) -> bool {
        self.stopping || self.system.is_shutting_down()
    }

    pub(super) fn index(&self, id: ChildId) -> Option<usize> {
        self.children.index_of(id)
    }

    /// Handles one supervision message. `result` is `Err` when the
    /// supervisor must exit abnormally (its budget is exceeded; its
    /// children are stopped); `exited` says which child exited by itself
    /// and what the engine did about it, for the front-end's hook.
    pub(crate) async fn handle(&mut self, msg: SupMsg) -> Handled {
        let result = match msg {
            SupMsg::ChildExit {
                addr,
                incarnation,
                reason,
            } => return self.on_exit(addr, incarnation, reason).await,
            SupMsg::Tick => self.on_tick().await,
            SupMsg::Children(tx) => {
                let _ = tx.send(Ok(self.children()));
                Ok(())
            }
            SupMsg::StopChild(key, tx) => {
                let _ = tx.send(self.stop_child(key).await);
                Ok(())
            }
            SupMsg::TerminateChild(key, tx) => {
                let _ = tx.send(self.terminate_child(key).await);
                Ok(())
            }
            SupMsg::RestartChild(key, tx) => {
                let _ = tx.send(self.restart_child(key).await.map(|s| s.addr));
                Ok(())
            }
            SupMsg::DeleteChild(key, tx) => {
                let _ = tx.send(self.delete_child(key));
                Ok(())
            }
            SupMsg::CountChildren(tx) => {
                let _ = tx.send(Ok(self.count_children()));
                Ok(())
            }
            SupMsg::AddChild(spec, tx) => {
                let _ = tx.send(self.add_child(spec).await.map(|(id, _)| id));
                Ok(())
            }
            SupMsg::Adopt(spec, shared) => {
                self.adopt(spec, shared);
                Ok(())
            }
            SupMsg::FromTemplate(arg, type_name, tx) => {
                let spec = self.template.as_ref().and_then(|t| t.make(arg));
                let res = match spec {
                    Some(spec) => self.add_child(spec).await.map(|(id, _)| id),
                    None => Err(SupervisorError::NoTemplate(type_name)),
                };
                let _ = tx.send(res);
                Ok(())
            }
        };
        Handled {
            result,
            exited: None,
        }
    }

    /// Introspection, in start order.
    pub(crate) fn children(&self) -> Vec<ChildInfo> {
        self.children
            .iter()
            .map(|c| ChildInfo {
                id: c.id,
                name: c.spec.name.to_string(),
                addr: c.shared.addr,
                restart_type: c.spec.restart,
                shutdown: c.spec.shutdown,
                restarts: c.restarts,
                alive: c.running(),
                state: c.state(),
                is_supervisor: c.spec.supervisor,
                last_exit: c.last_exit.clone(),
            })
            .collect()
    }

    /// What a start of `spec` begun at `begun` needs to know.
    pub(super) fn link(
        &self,
        spec: &ChildSpec,
        previous: Option<Arc<Shared>>,
        begun: Instant,
    ) -> Link {
        Link {
            system: self.system.clone(),
            parent: self.me.clone(),
            supervisor: self.name.clone(),
            name: spec.name.clone(),
            previous,
            start_timeout: spec.start_timeout,
            begun,
        }
    }

    /// Starts a new child now (OTP `start_child`): on success it joins the
    /// children, last; on failure it is not added.
    pub(crate) async fn add_child(
        &mut self,
        spec: ChildSpec,
    ) -> Result<(ChildId, Arc<Shared>), SupervisorError> {
        if self.no_restarts() {
            return Err(SupervisorError::ShuttingDown);
        }
        let id = ChildId(self.next_id);
        self.next_id += 1;
        let begun = Instant::now();
        let shared = match spec.start.start(self.link(&spec, None, begun)).await {
            Ok(shared) => shared,
            Err(e) => {
                self.emit(|| SupervisionEvent::StartFailed {
                    supervisor: self.name.to_string(),
                    child: id,
                    name: spec.name.to_string(),
                    reason: e.to_string(),
                });
                return Err(e);
            }
        };
        self.join(id, spec, shared.clone(), begun);
        Ok((id, shared))
    }

    /// A started child (its start begun at `begun`) joins the children,
    /// last.
    fn join(&mut self, id: ChildId, spec: ChildSpec, shared: Arc<Shared>, begun: Instant) {
        self.emit(|| SupervisionEvent::Started {
            supervisor: self.name.to_string(),
            child: id,
            name: spec.name.to_string(),
            addr: shared.addr,
            restart: false,
        });
        self.children.push(Child {
            id,
            state: State::Running {
                incarnation: shared.incarnation(),
            },
            shared,
            spec,
            restarts: 0,
            last_exit: None,
            retries: Retries::new(begun),
        });
    }

    /// Supervises a child started elsewhere (a group's keyed actor).
    fn adopt(&mut self, spec: ChildSpec, shared: Arc<Shared>) {
        if self.stopping {
            // Its children were stopped already: so is this one.
            shared.request_shutdown();
            return;
        }
        let id = ChildId(self.next_id);
        self.next_id += 1;
        self.join(id, spec, shared, Instant::now());
    }

    /// Stops the child at `idx` if it runs, by its shutdown strategy.
    /// `for_good`: no restart follows, so its mailbox closes (what waits
    /// in it becomes dead letters); otherwise it stays open for the next
    /// incarnation.
    pub(super) async fn stop_at(&mut self, idx: usize, for_good: bool) -> Option<ExitReason> {
        let child = &mut self.children[idx];
        if !child.running() {
            if matches!(child.state, State::Restarting(_)) {
                child.state = State::Stopped;
            }
            if for_good {
                child.shared.close_for_good();
            }
            return child.last_exit.clone();
        }
        child.state = State::Stopped;
        let shared = child.shared.clone();
        let reason = stop_incarnation(&shared, child.spec.shutdown).await;
        if for_good {
            shared.close_for_good();
        }
        self.stopped(idx, reason.clone());
        reason
    }

    fn stopped(&mut self, idx: usize, reason: Option<ExitReason>) {
        self.children[idx].last_exit = reason.clone();
        let child = &self.children[idx];
        self.emit(|| SupervisionEvent::Stopped {
            supervisor: self.name.to_string(),
            child: child.id,
            name: child.spec.name.to_string(),
            reason,
        });
    }

    /// Stops every child, in reverse start order (simple-one-for-one: all at
    /// once), and restarts nothing from now on. Idempotent. Returns the
    /// names of children that did not end even after being killed.
    pub(crate) async fn shutdown(&mut self) -> Vec<String> {
        self.stopping = true;
        let mut stuck = Vec::new();
        if self.config.strategy() == RestartStrategy::SimpleOneForOne {
            let started = Instant::now();
            for c in self.children.iter().filter(|c| c.running()) {
                c.shared.exit_awaited();
                match c.spec.shutdown {
                    ShutdownStrategy::Brutal => c.shared.abort(),
                    _ => c.shared.request_shutdown(),
                }
            }
            for idx in self.children.indices() {
                let child = &mut self.children[idx];
                if !child.running() {
                    continue;
                }
                child.state = State::Stopped;
                let shared = child.shared.clone();
                let strategy = match child.spec.shutdown {
                    ShutdownStrategy::Graceful(t) => ShutdownStrategy::Graceful(
                        t.saturating_sub(Instant::now().saturating_duration_since(started)),
                    ),
                    other => other,
                };
                let reason = stop_incarnation(&shared, strategy).await;
                shared.close_for_good();
                if reason.is_none() {
                    stuck.push(self.children[idx].spec.name.to_string());
                }
                self.stopped(idx, reason);
            }
            for c in self.children.iter() {
                c.shared.close_for_good();
            }
        } else {
            for idx in self.children.indices().into_iter().rev() {
                let was_running = self.children[idx].running();
                if self.stop_at(idx, true).await.is_none() && was_running {
                    stuck.push(self.children[idx].spec.name.to_string());
                }
            }
        }
        if let Some(child) = stuck.first() {
            self.record(SupervisorError::ShutdownTimedOut {
                child: child.clone(),
            });
        }
        stuck
    }
}
