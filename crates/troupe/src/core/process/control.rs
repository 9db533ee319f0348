//! Stopping a process from outside: a stop request through its system
//! channel (bounded wait), a drain, a kill, a shutdown request.

use std::time::Duration;

use tokio::sync::oneshot;

use super::{Shared, SysMsg};
use crate::error::StopError;
use crate::exit::{ExitReason, StopReason};

impl Shared {
    /// Sends a stop request through the system channel and waits (bounded)
    /// for the incarnation running now to end.
    pub(crate) async fn stop(&self, reason: StopReason, wait: Duration) -> Result<(), StopError> {
        if self.system.is_remote(self.addr) {
            // A proxy: the stop is for the process it stands for.
            return self.system.stop_remote(self.addr, reason, wait).await;
        }
        if reason == StopReason::Drain {
            return self.drain(wait).await;
        }
        // The incarnation stopped here: a supervisor may restart the
        // process in place before this waits, and then the new one runs.
        let incarnation = self.incarnation();
        if self.exit.lock().reason_of(incarnation).is_some() {
            return Ok(()); // already ended: stopping is idempotent
        }
        let vetoed = if reason == StopReason::Kill {
            self.kill();
            None
        } else {
            let (tx, rx) = oneshot::channel();
            let msg = SysMsg::Stop {
                reason,
                veto: Some(tx),
            };
            if self.mailbox.push_sys(msg).is_err() {
                return Ok(());
            }
            Some(rx)
        };
        let outcome = async {
            // The run loop answers only a veto; the sender is dropped when
            // the stop is accepted or the process ends first.
            if let Some(Ok(e)) = match vetoed {
                Some(rx) => Some(rx.await),
                None => None,
            } {
                return Err(e);
            }
            self.wait_exit_of(incarnation).await;
            Ok(())
        };
        match tokio::time::timeout(wait, outcome).await {
            Ok(res) => res,
            Err(_) => Err(StopError::Timeout(wait)),
        }
    }

    /// Asks the running incarnation to drain (see [`StopReason::Drain`]);
    /// `None` if it is gone, else the incarnation whose exit to wait for.
    pub(crate) fn ask_drain(&self) -> Option<u64> {
        let incarnation = self.incarnation();
        let msg = SysMsg::Stop {
            reason: StopReason::Drain,
            veto: None,
        };
        self.mailbox.push_sys(msg).ok().map(|_| incarnation)
    }

    /// Drains the running incarnation (see [`StopReason::Drain`]) and waits
    /// for its exit; past `deadline`, escalates to a shutdown, and past one
    /// more control wait, to a kill.
    pub(crate) async fn drain(&self, deadline: Duration) -> Result<(), StopError> {
        let Some(incarnation) = self.ask_drain() else {
            return Ok(()); // already gone
        };
        if tokio::time::timeout(deadline, self.wait_exit_of(incarnation))
            .await
            .is_ok()
        {
            return Ok(());
        }
        tracing::debug!(addr = %self.addr, ?deadline, "drain past its deadline: shutdown");
        let wait = self.control_wait();
        let shutdown = SysMsg::Stop {
            reason: StopReason::Shutdown,
            veto: None,
        };
        if self.mailbox.push_sys(shutdown).is_ok()
            && tokio::time::timeout(wait, self.wait_exit_of(incarnation))
                .await
                .is_ok()
        {
            return Ok(());
        }
        tracing::debug!(addr = %self.addr, ?wait, "shutdown past its wait: kill");
        self.kill();
        match tokio::time::timeout(wait, self.wait_exit_of(incarnation)).await {
            Ok(_) => Ok(()),
            Err(_) => Err(StopError::Timeout(deadline + wait * 2)),
        }
    }

    /// Kills the running incarnation: its task is aborted at its next await
    /// point, or, if it has no task yet (it is being started, or its
    /// `pre_start` runs in its spawner's task), it is finished here, at
    /// once. A task recorded meanwhile is aborted (see
    /// [`Shared::set_abort`]).
    pub(crate) fn kill(&self) {
        self.request_stop(StopReason::Kill);
        self.abort();
        if !self.has_task() {
            self.finish(ExitReason::Killed);
            self.abort();
        }
    }

    /// Asks the process to stop with [`StopReason::Shutdown`] without waiting.
    pub(crate) fn request_shutdown(&self) {
        let _ = self.mailbox.push_sys(SysMsg::Stop {
            reason: StopReason::Shutdown,
            veto: None,
        });
    }
}
