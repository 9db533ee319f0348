//! What the engine does when a child exits: OTP's restart strategies
//! (which children restart with the one that failed), the restart budget,
//! restarts in start order, and retries that are due later (a tick).

use std::sync::Arc;

use tokio::time::Instant;

use super::engine::{Engine, Handled, State};
use super::strategy::{RestartStrategy, RestartType};
use super::{ChildExited, ChildId, RestartDecision, SupMsg, SupervisionEvent, SupervisorError};
use crate::addr::Addr;
use crate::core::process::{Shared, SysMsg};
use crate::exit::ExitReason;

impl Engine {
    /// A linked child ended. Stale reports (an incarnation the engine
    /// already stopped or replaced) are ignored.
    pub(super) async fn on_exit(
        &mut self,
        addr: Addr,
        incarnation: u64,
        reason: ExitReason,
    ) -> Handled {
        let Some(idx) = self
            .children
            .index_by_addr(addr)
            .filter(|&idx| self.children[idx].state == State::Running { incarnation })
        else {
            return Handled {
                result: Ok(()),
                exited: None,
            };
        };
        self.take_override(idx);
        let child = &mut self.children[idx];
        child.state = State::Stopped;
        child.last_exit = Some(reason.clone());
        let (id, restart) = (child.id, child.spec.restart);
        let name = String::from(&*child.spec.name);
        self.emit(|| SupervisionEvent::Exited {
            supervisor: self.name.to_string(),
            child: id,
            name: name.clone(),
            reason: reason.clone(),
        });
        let restarts = !self.no_restarts() && restart.restarts_after(&reason);
        let (result, decision) = if !restarts || !self.retry_allowed(idx) {
            // No restart: what waits in its mailbox will never be handled.
            self.children[idx].shared.close_for_good();
            let forget = restart == RestartType::Temporary
                || self.config.strategy() == RestartStrategy::SimpleOneForOne;
            if forget && !self.stopping {
                self.children.remove(idx);
            }
            (Ok(()), RestartDecision::NotRestarted)
        } else {
            let result = self.restart(id).await;
            let state = self.index(id).map(|i| self.children[i].state);
            let decision = match (&result, state) {
                (Err(_), _) => RestartDecision::GaveUp,
                (Ok(()), Some(State::Running { .. })) => RestartDecision::Restarted,
                (Ok(()), Some(State::Restarting(_))) => RestartDecision::RestartPending,
                (Ok(()), Some(State::Stopped) | None) => RestartDecision::NotRestarted,
            };
            (result, decision)
        };
        Handled {
            result,
            exited: Some(ChildExited {
                id,
                name,
                addr,
                reason,
                decision,
            }),
        }
    }

    /// The children a restart of `failed` involves, in start order.
    fn group(&self, failed: ChildId) -> Group {
        match self.config.strategy() {
            RestartStrategy::OneForOne | RestartStrategy::SimpleOneForOne => Group::One([failed]),
            RestartStrategy::OneForAll => Group::Many(self.children.iter().map(|c| c.id).collect()),
            RestartStrategy::RestForOne => {
                let from = self.index(failed).unwrap_or(usize::MAX);
                Group::Many(self.children.ids_from(from))
            }
        }
    }

    /// Restarts `failed` (and its group), counting each attempt against the
    /// budget; a failed start is handled like an exit of that child.
    async fn restart(&mut self, failed: ChildId) -> Result<(), SupervisorError> {
        let mut failed = failed;
        loop {
            if self.no_restarts() {
                return Ok(());
            }
            // The one clock read of a restart: its start, its timeout and
            // its run's beginning (for `auto_reset`) are counted from it.
            let now = Instant::now();
            if !self.budget.record(now) {
                let (max_restarts, within) = self.config.budget();
                tracing::warn!(supervisor = %self.name, "restart budget exceeded: giving up");
                self.emit(|| SupervisionEvent::BudgetExceeded {
                    supervisor: self.name.to_string(),
                });
                self.shutdown().await;
                let error = SupervisorError::RestartBudgetExceeded {
                    max_restarts,
                    within,
                };
                self.record(error.clone());
                return Err(error);
            }
            let group = self.group(failed);
            for &id in group.iter().rev() {
                let Some(idx) = self.index(id) else { continue };
                let child = &mut self.children[idx];
                if child.running() {
                    // Restarted with its siblings: its mailbox stays open.
                    self.stop_at(idx, false).await;
                } else if matches!(child.state, State::Restarting(_)) {
                    // (What `stop_at` does, without cloning its last exit.)
                    child.state = State::Stopped;
                }
            }
            // Temporary children are never restarted, even by a sibling.
            self.children.retain(|c| {
                let kept = c.spec.restart != RestartType::Temporary || !group.contains(&c.id);
                if !kept {
                    c.shared.close_for_good();
                }
                kept
            });
            if let Some(delay) = self.restart_delay(failed) {
                // Through a timer even when it is zero: each restart
                // yields to the scheduler, and a child failing forever
                // does not spin (its budget ends it). The clock is read
                // again, not `now`: the delay runs from the group's stop,
                // and stopping its running siblings above may take long.
                let due = Instant::now() + delay;
                for c in self.children.iter_mut().filter(|c| group.contains(&c.id)) {
                    c.state = State::Restarting(due);
                }
                self.schedule_tick(due);
                return Ok(());
            }
            match self.start_group(&group, now).await {
                Some(id) => failed = id,
                None => return Ok(()),
            }
        }
    }

    /// Starts the children of `group` that are not running, in start order,
    /// as begun at `begun`. Returns the first that failed to start.
    async fn start_group(&mut self, group: &[ChildId], begun: Instant) -> Option<ChildId> {
        for &id in group {
            let Some(idx) = self.index(id) else { continue };
            if self.children[idx].running() {
                continue;
            }
            let child = &self.children[idx];
            let previous = Some(child.shared.clone());
            let ended = child.shared.restart_reason();
            let link = self.link(&child.spec, previous, begun);
            let start = child.spec.start.clone();
            let result = start.start(link).await;
            let child = &mut self.children[idx];
            match result {
                Ok(shared) => {
                    shared.count_restart(ended);
                    child.restarts += 1;
                    shared.note_restart(child.restarts, child.last_exit.clone());
                    self.restarted(idx, shared, begun);
                }
                Err(SupervisorError::ShuttingDown) => {
                    child.state = State::Stopped;
                    child.shared.close_for_good();
                    return None;
                }
                Err(e) => {
                    child.state = State::Stopped;
                    self.start_failed(idx, &e);
                    return Some(id);
                }
            }
        }
        None
    }

    /// Child `idx` runs again as `shared` (its start begun at `begun`),
    /// which replaces its old process if it is a new one; a
    /// [`SupervisionEvent::Started`] (a restart) says so.
    pub(super) fn restarted(&mut self, idx: usize, shared: Arc<Shared>, begun: Instant) {
        let child = &mut self.children[idx];
        child.retries.started(begun);
        child.state = State::Running {
            incarnation: shared.incarnation(),
        };
        let (id, addr) = (child.id, shared.addr);
        let old = self.children.set_shared(idx, shared);
        if !Arc::ptr_eq(&old, &self.children[idx].shared) {
            // A new process replaces the old one for good.
            old.close_for_good();
        }
        self.emit(|| SupervisionEvent::Started {
            supervisor: self.name.to_string(),
            child: id,
            name: self.children[idx].spec.name.to_string(),
            addr,
            restart: true,
        });
    }

    /// Child `idx` failed to start with `e`: its last exit says so, and a
    /// [`SupervisionEvent::StartFailed`].
    pub(super) fn start_failed(&mut self, idx: usize, e: &SupervisorError) {
        let child = &mut self.children[idx];
        child.last_exit = Some(ExitReason::StartFailed(e.to_string()));
        let id = child.id;
        self.emit(|| SupervisionEvent::StartFailed {
            supervisor: self.name.to_string(),
            child: id,
            name: self.children[idx].spec.name.to_string(),
            reason: e.to_string(),
        });
    }

    /// Asks for a [`SupMsg::Tick`] on this supervisor's system channel at
    /// `due` (a timer task; the supervisor keeps working meanwhile).
    fn schedule_tick(&self, due: Instant) {
        let me = self.me.clone();
        tokio::spawn(async move {
            tokio::time::sleep_until(due).await;
            if let Some(me) = me.upgrade() {
                let tick = Box::new(SupMsg::Tick);
                let _ = me.mailbox.push_sys(SysMsg::Supervision(tick));
            }
        });
    }

    /// Restarts the children whose backoff delay has passed.
    pub(super) async fn on_tick(&mut self) -> Result<(), SupervisorError> {
        let now = Instant::now();
        let due: Vec<ChildId> = self
            .children
            .iter()
            .filter(|c| matches!(c.state, State::Restarting(d) if d <= now))
            .map(|c| c.id)
            .collect();
        if due.is_empty() || self.no_restarts() {
            return Ok(());
        }
        match self.start_group(&due, now).await {
            Some(failed) => self.restart(failed).await,
            None => Ok(()),
        }
    }
}

/// The children one restart involves: the failed one alone (one-for-one,
/// the usual case, without an allocation) or several.
enum Group {
    One([ChildId; 1]),
    Many(Vec<ChildId>),
}

impl std::ops::Deref for Group {
    type Target = [ChildId];

    fn deref(&self) -> &[ChildId] {
        match self {
            Group::One(one) => one,
            Group::Many(many) => many,
        }
    }
}
