//! Coordinated shutdown of a system.
//!
//! As OTP stops an application's top supervisor, which stops its children
//! one at a time in reverse start order: every root process (one without a
//! live supervisor) is asked to stop (a tier-2 stop, `on_stopped` runs) in
//! reverse start order, *each finishing before the next is asked*;
//! supervisors stop their own children the same way. A root still running
//! after its own grace period ([`SystemConfig::actor_shutdown_timeout`](super::SystemConfig::actor_shutdown_timeout),
//! if set) is killed and the next one is asked; whatever still runs when
//! the overall `shutdown_timeout` ends is killed.
//!
//! The shutdown runs on a task of its own: once begun it goes to its end,
//! kills included, even if whoever asked for it stops waiting (a
//! `tokio::time::timeout` around `shutdown`, an aborted task).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use super::ActorSystem;
use crate::addr::{ActorMeta, Addr};
use crate::core::process::Shared;
use crate::defaults;
use crate::exit::ExitReason;

impl ActorSystem {
    /// Stops every actor: roots one at a time, newest first, each given a
    /// tier-2 stop; supervisors stop their children themselves, in reverse start
    /// order, and restart nothing from the start of the shutdown. Processes
    /// still running after the system's `shutdown_timeout` are killed, and
    /// a root past its own `actor_shutdown_timeout` earlier. Returns how
    /// each one ended. New spawns are refused from the start of the
    /// shutdown, and for good: a system is not restarted (for the
    /// [default system](ActorSystem::default), that is the rest of the
    /// process). The shutdown runs to its end even if this future is
    /// dropped.
    pub async fn shutdown(&self) -> ShutdownReport {
        self.shutdown_with(self.inner.config.shutdown_timeout).await
    }

    /// [`ActorSystem::shutdown`] with an explicit overall graceful period.
    pub async fn shutdown_with(&self, timeout: Duration) -> ShutdownReport {
        let system = self.clone();
        let per_root = self.inner.config.actor_shutdown_timeout;
        let shutdown = tokio::spawn(async move { system.shut_down(timeout, per_root).await });
        // The task ends only by running to its end (it is never aborted).
        shutdown.await.unwrap_or_default()
    }

    async fn shut_down(&self, timeout: Duration, per_root: Option<Duration>) -> ShutdownReport {
        let started = Instant::now();
        let deadline = started + timeout;
        self.inner
            .shutting_down
            .store(true, std::sync::atomic::Ordering::Release);
        let mut procs: Vec<Arc<Shared>> = self
            .inner
            .registry
            .lock()
            .procs
            .values()
            .map(|e| e.shared.clone())
            .collect();
        // Addresses are handed out in spawn order: newest first.
        procs.sort_by_key(|s| std::cmp::Reverse(s.addr.id()));
        let alive: HashSet<Addr> = procs.iter().map(|s| s.addr).collect();
        let mut escalated = HashSet::new();

        // The roots, one at a time.
        for root in procs
            .iter()
            .filter(|s| s.parent_addr().is_none_or(|p| !alive.contains(&p)))
        {
            root.request_shutdown();
            let bound = per_root.map_or(deadline, |t| deadline.min(Instant::now() + t));
            if tokio::time::timeout_at(bound, root.wait_exit())
                .await
                .is_err()
            {
                root.kill();
                escalated.insert(root.addr);
                let _ = tokio::time::timeout(defaults::KILL_WAIT, root.wait_exit()).await;
            }
        }
        // What the roots' supervisors stop, by the overall deadline.
        for shared in &procs {
            if tokio::time::timeout_at(deadline, shared.wait_exit())
                .await
                .is_err()
            {
                // A kill, not an abort: a process whose `pre_start` runs in
                // its spawner's task has no task of its own to abort.
                shared.kill();
                escalated.insert(shared.addr);
            }
        }
        // A killed task ends at its next await point; give it a short bound.
        let kill_deadline = Instant::now() + defaults::KILL_WAIT;
        let mut actors = Vec::with_capacity(procs.len());
        for shared in &procs {
            let reason = tokio::time::timeout_at(kill_deadline, shared.wait_exit())
                .await
                .ok();
            actors.push(ActorExit {
                addr: shared.addr,
                meta: ActorMeta::clone(&shared.meta),
                name: shared.name().map(str::to_owned),
                reason,
                escalated: escalated.contains(&shared.addr),
            });
        }
        // Groups hold the system; drop them so nothing keeps it alive.
        self.inner.mounted.lock().clear();
        ShutdownReport {
            actors,
            elapsed: started.elapsed(),
        }
    }
}

/// How one actor ended during a shutdown.
#[derive(Clone, Debug)]
pub struct ActorExit {
    /// Its address.
    pub addr: Addr,
    /// Its group and key.
    pub meta: ActorMeta,
    /// Its registered name, if any.
    pub name: Option<String>,
    /// How it ended; `None` if it was still running after being killed
    /// (stuck in blocking code that never yields).
    pub reason: Option<ExitReason>,
    /// Whether it had to be killed after the graceful period.
    pub escalated: bool,
}

/// What `ActorSystem::shutdown` did.
#[derive(Clone, Debug, Default)]
pub struct ShutdownReport {
    /// Every actor that was alive when the shutdown began, newest first.
    pub actors: Vec<ActorExit>,
    /// How long the shutdown took.
    pub elapsed: Duration,
}

impl ShutdownReport {
    /// Whether every actor stopped within the graceful period.
    pub fn all_stopped(&self) -> bool {
        self.actors
            .iter()
            .all(|a| !a.escalated && a.reason.is_some())
    }

    /// The actors that had to be killed.
    pub fn escalated(&self) -> impl Iterator<Item = &ActorExit> {
        self.actors.iter().filter(|a| a.escalated)
    }
}
