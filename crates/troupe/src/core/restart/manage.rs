//! Child management by hand, as OTP's `supervisor` module has it:
//! `terminate_child`, `restart_child`, `delete_child`, `count_children`,
//! and `stop_child` (terminate then delete, in one step).

use std::sync::Arc;

use tokio::time::Instant;

use super::child::{ChildCounts, ChildState};
use super::engine::Engine;
use super::strategy::{RestartStrategy, RestartType};
use super::{ChildKey, SupervisorError};
use crate::core::process::Shared;

impl Engine {
    /// The index of the child `key` names.
    fn find(&self, key: ChildKey) -> Result<usize, SupervisorError> {
        let idx = match key {
            ChildKey::Id(id) => self.index(id),
            ChildKey::Addr(addr) => self.children.index_by_addr(addr),
        };
        idx.ok_or(SupervisorError::UnknownChild(key))
    }

    fn simple(&self) -> bool {
        self.config.strategy() == RestartStrategy::SimpleOneForOne
    }

    /// Fails unless the child at `idx` is terminated.
    fn terminated(&self, idx: usize, key: ChildKey) -> Result<(), SupervisorError> {
        match self.children[idx].state() {
            ChildState::Running => Err(SupervisorError::Running(key)),
            ChildState::Restarting => Err(SupervisorError::Restarting(key)),
            ChildState::Terminated => Ok(()),
        }
    }

    /// Stops a child by its shutdown strategy and keeps its spec (OTP
    /// `terminate_child`): it is not restarted until `restart_child`. A
    /// temporary child, and every child of a simple-one-for-one
    /// supervisor, is forgotten at once, as in OTP. A child that waits for
    /// its restart is terminated without running; one already terminated
    /// stays so (`Ok`).
    pub(crate) async fn terminate_child(&mut self, key: ChildKey) -> Result<(), SupervisorError> {
        let idx = self.find(key)?;
        let was_running = self.children[idx].running();
        let reason = self.stop_at(idx, true).await;
        let child = &self.children[idx];
        let stuck = was_running && reason.is_none();
        let name = child.spec.name.to_string();
        if child.spec.restart == RestartType::Temporary || self.simple() {
            self.children.remove(idx);
        }
        if stuck {
            return Err(SupervisorError::ShutdownTimedOut { child: name });
        }
        Ok(())
    }

    /// Starts a terminated child again from its spec (OTP
    /// `restart_child`). This is not a restart after a failure: it does
    /// not count against the restart budget nor in
    /// [`ChildInfo::restarts`](super::ChildInfo::restarts); its
    /// [`SupervisionEvent::Started`] says `restart: true`. A struct actor
    /// keeps its address; a plain process is a new process.
    pub(crate) async fn restart_child(
        &mut self,
        key: ChildKey,
    ) -> Result<Arc<Shared>, SupervisorError> {
        if self.simple() {
            return Err(SupervisorError::SimpleOneForOne);
        }
        let idx = self.find(key)?;
        self.terminated(idx, key)?;
        if self.no_restarts() {
            return Err(SupervisorError::ShuttingDown);
        }
        let child = &self.children[idx];
        let begun = Instant::now();
        let link = self.link(&child.spec, Some(child.shared.clone()), begun);
        let start = child.spec.start.clone();
        let result = start.start(link).await;
        // The child list may not change while it starts: this engine
        // handles one message at a time.
        match result {
            Ok(shared) => {
                self.restarted(idx, shared.clone(), begun);
                Ok(shared)
            }
            Err(e) => {
                self.children[idx].shared.close_for_good();
                if e != SupervisorError::ShuttingDown {
                    self.start_failed(idx, &e);
                }
                Err(e)
            }
        }
    }

    /// Forgets a terminated child's spec (OTP `delete_child`).
    pub(crate) fn delete_child(&mut self, key: ChildKey) -> Result<(), SupervisorError> {
        if self.simple() {
            return Err(SupervisorError::SimpleOneForOne);
        }
        let idx = self.find(key)?;
        self.terminated(idx, key)?;
        let child = self.children.remove(idx);
        child.shared.close_for_good();
        Ok(())
    }

    /// Stops a child for good, by its shutdown strategy, and forgets it:
    /// OTP `terminate_child` then `delete_child`, in one step, for a child
    /// in any state (a simple-one-for-one supervisor's too).
    pub(crate) async fn stop_child(&mut self, key: ChildKey) -> Result<(), SupervisorError> {
        let idx = self.find(key)?;
        let was_running = self.children[idx].running();
        let reason = self.stop_at(idx, true).await;
        let child = self.children.remove(idx);
        if was_running && reason.is_none() {
            return Err(SupervisorError::ShutdownTimedOut {
                child: child.spec.name.to_string(),
            });
        }
        Ok(())
    }

    /// How many children it has, by kind (OTP `count_children`).
    pub(crate) fn count_children(&self) -> ChildCounts {
        let mut counts = ChildCounts {
            specs: self.children.len(),
            ..ChildCounts::default()
        };
        for c in self.children.iter() {
            if c.running() {
                counts.active += 1;
            }
            if c.spec.supervisor {
                counts.supervisors += 1;
            } else {
                counts.workers += 1;
            }
        }
        counts
    }
}
