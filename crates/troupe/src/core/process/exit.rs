//! How a process's incarnation ends: its exit recorded once, the waiters
//! woken, its supervisor, monitors and link partners told, and what was
//! still queued answered.

use std::sync::atomic::Ordering;
use std::sync::Weak;

use super::{reject_all, Shared, SysMsg, RESTARTING, STOPPED};
use crate::core::dead_letter::DeadLetterReason;
use crate::core::release::contain;
use crate::core::restart::SupMsg;
use crate::exit::ExitReason;
use crate::request::RequestError;

impl Shared {
    pub(crate) fn exit_reason(&self) -> Option<ExitReason> {
        self.exit.lock().current().cloned()
    }

    /// Waits until the incarnation running now has exited (and is
    /// unregistered) and returns how, even if a supervisor restarted the
    /// process in place meanwhile.
    pub(crate) fn wait_exit(&self) -> super::exit_wait::ExitWait<'_> {
        self.wait_exit_of(self.incarnation())
    }

    /// Waits until incarnation `incarnation` has exited (it may have been
    /// restarted in place since).
    pub(crate) fn wait_exit_of(&self, incarnation: u64) -> super::exit_wait::ExitWait<'_> {
        super::exit_wait::ExitWait::new(self, incarnation)
    }

    /// Records the exit: answers pending system requests, wakes waiters,
    /// unregisters the process, tells its monitors and link partners (see
    /// `monitor.rs` and `link.rs`) and its supervisor. Idempotent.
    ///
    /// A supervised process keeps its mailbox open, with what was queued,
    /// until its supervisor decides: a restart hands both to the new
    /// incarnation ([`Shared::reset_for_restart`]); otherwise the supervisor
    /// calls [`Shared::close_for_good`]. A process without a supervisor
    /// closes it now: what was queued becomes dead letters.
    ///
    /// The supervisor is told once the process is unregistered, through its
    /// system channel, so that it never restarts a process that is still
    /// being torn down; and before waiters wake, so that once a stop
    /// returned, the supervisor has been told.
    pub(crate) fn finish(&self, reason: ExitReason) {
        self.finish_incarnation(self.incarnation(), reason);
    }

    /// [`Shared::finish`] for incarnation `incarnation` only: a no-op if
    /// it has ended already, or if the process was restarted in place
    /// since (an old task that ends late must not end the new one).
    ///
    /// A supervisor stops its children before it ends; any still running
    /// now (it was killed) end as in OTP, where a killed supervisor's
    /// children get its exit signal: a worker is killed with it, before
    /// anyone learns that it ended (so that a restarted supervisor finds
    /// its name free); a child supervisor, which traps exits, is asked to
    /// shut down and stops its own children in reverse start order, each
    /// by its shutdown strategy, with their stop hooks, on its own time.
    pub(crate) fn finish_incarnation(&self, incarnation: u64, reason: ExitReason) {
        {
            let mut exit = self.exit.lock();
            if exit.incarnation != incarnation || exit.reason_of(incarnation).is_some() {
                return;
            }
            exit.reason = Some(Box::new((incarnation, reason.clone())));
        }
        if let Some(m) = self.instruments() {
            m.exited(&reason);
        }
        // Taken under the lock that new monitors and links check the exit
        // under: whoever is not in these lists learns of it then.
        let (linked, monitors, peers, awaited) = match self.links.lock().as_mut() {
            Some(links) => {
                links.exit_with = None;
                (
                    std::mem::take(&mut links.children),
                    std::mem::take(&mut links.monitors),
                    std::mem::take(&mut links.peers),
                    links.awaited == Some(incarnation),
                )
            }
            None => Default::default(),
        };
        for child in linked.iter().filter_map(Weak::upgrade) {
            if !child.is_alive() {
                child.close_for_good();
            } else if child.is_supervisor() && child.has_task() {
                // On its own from now on: no supervisor decides about its
                // exit (a restart of this one in place is a new parent).
                child.with_links(|l| l.parent = None);
                child.request_shutdown();
            } else {
                child.abort();
                child.finish(ExitReason::Killed);
                child.close_for_good();
            }
        }
        let parent = self.parent();
        let awaits_decision = parent.is_some() && !self.system.is_shutting_down();
        let sys = if awaits_decision {
            self.mailbox.suspend()
        } else {
            self.close_queue()
        };
        // A stopper waits for the exit itself; a dropped veto channel
        // tells it nothing was vetoed.
        reject_all(sys);
        self.system.unregister(self);
        self.lifecycle.store(
            if awaits_decision { RESTARTING } else { STOPPED },
            Ordering::Release,
        );
        self.report_status();
        tracing::debug!(addr = %self.addr, meta = %self.meta, %reason, "stopped");
        // Unregistered first: a watcher that looks the name up on its
        // `Down` finds it free.
        self.end_monitors(monitors, &reason);
        self.end_links(peers, &reason);
        // A supervisor that stops this incarnation waits for its exit: it
        // needs no message about it.
        let told = parent.is_some_and(|parent| {
            if awaited {
                return true;
            }
            let msg = SupMsg::ChildExit {
                addr: self.addr,
                incarnation,
                reason,
            };
            parent
                .mailbox
                .push_sys(SysMsg::Supervision(Box::new(msg)))
                .is_ok()
        });
        if awaits_decision && !told {
            // The supervisor is gone: nobody will restart this process.
            self.close_for_good();
        }
        self.wake_exit_waiters();
        // Whoever was just woken runs next on this worker.
        crate::core::handover::hand_over();
    }

    /// Ends a finished process for good: no restart will come. Its mailbox
    /// refuses everything from now on, and what was queued becomes dead
    /// letters (requests among them resolve with `Gone`). Idempotent.
    pub(crate) fn close_for_good(&self) {
        if self.lifecycle.load(Ordering::Acquire) != RESTARTING {
            return;
        }
        reject_all(self.close_queue());
        self.lifecycle.store(STOPPED, Ordering::Release);
        self.report_status();
        self.wake_exit_waiters();
    }

    /// Wakes whoever waits for an exit, after the exit and the lifecycle
    /// they check have changed (see `process/exit_wait.rs`).
    fn wake_exit_waiters(&self) {
        let waiters = self.exit.lock().waiters.take();
        waiters.wake();
    }

    /// Finishes the mailbox: what was queued becomes dead letters.
    /// Requests among them resolve with `Gone` and the exit reason; a
    /// message whose `Drop` panics does not stop the others (see
    /// `release.rs`).
    fn close_queue(&self) -> Vec<SysMsg> {
        let (queued, sys) = self.mailbox.finish();
        if let Some(m) = self.instruments() {
            m.unqueued(queued.len());
        }
        if queued.is_empty() {
            return sys;
        }
        let reason = self.exit.lock().reason.as_deref().map(|(_, r)| r.clone());
        for env in queued {
            self.system
                .dead_letter_at(self, &env, DeadLetterReason::ActorStopped);
            let gone = RequestError::Gone {
                reason: reason.clone(),
            };
            contain("dropping a dead letter", || env.fail(gone));
        }
        sys
    }
}
