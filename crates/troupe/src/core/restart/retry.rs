//! Retries of one child: its restarts in a row, counted against a maximum
//! and reset by a run that went well for long enough (elfo's
//! `max_retries` and `auto_reset`), and the backoff they set.
//!
//! A supervisor's budget limits the restarts of all its children together
//! over a window; a child with a [`Retry`] is, in addition, retried on
//! its own terms: its backoff grows with its own restarts in a row
//! (instead of the supervisor's recent ones), a run of at least
//! `auto_reset` starts the count again from one, and past `max_retries`
//! in a row it is not restarted (its supervisor goes on).
//!
//! A process may set its own retry terms while it runs
//! ([`Shared::set_restart_override`]): its supervisor takes them when the
//! process next exits, and keeps them for the restarts after that.

use std::time::Duration;

use tokio::time::Instant;

use super::engine::Engine;
use super::strategy::{Backoff, RestartType};
use super::ChildId;
use crate::core::process::Shared;

/// How one child is retried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Retry {
    /// The delay before its `n`-th restart in a row.
    pub(crate) backoff: Backoff,
    /// At most this many restarts in a row (`None`: no limit of its own).
    pub(crate) max_retries: Option<u64>,
    /// A run at least this long resets the count (`None`: never).
    pub(crate) auto_reset: Option<Duration>,
}

/// The restarts in a row of one child, and when its running incarnation
/// started.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Retries {
    in_row: u64,
    since: Instant,
}

impl Retries {
    /// The first incarnation's start began at `since`.
    pub(crate) fn new(since: Instant) -> Self {
        Self { in_row: 0, since }
    }

    /// An incarnation started, its start begun at `since`: a run counts
    /// from there (its start included).
    pub(crate) fn started(&mut self, since: Instant) {
        self.since = since;
    }

    /// Counts one more restart after an exit now: `false` if it would be
    /// more than `retry.max_retries` in a row. A run of at least
    /// `auto_reset` makes it the first again.
    fn record(&mut self, retry: &Retry) -> bool {
        let ran = Instant::now().saturating_duration_since(self.since);
        if retry.auto_reset.is_some_and(|healthy| ran >= healthy) {
            self.in_row = 0;
        }
        self.in_row = self.in_row.saturating_add(1);
        retry.max_retries.is_none_or(|max| self.in_row <= max)
    }
}

impl Shared {
    /// Sets how this process is restarted from its next exit on (see the
    /// module docs); its supervisor takes it then.
    pub(crate) fn set_restart_override(&self, restart: RestartType, retry: Retry) {
        self.with_links(|l| l.restart_override = Some((restart, retry)));
    }

    fn take_restart_override(&self) -> Option<(RestartType, Retry)> {
        self.links.lock().as_mut()?.restart_override.take()
    }
}

impl Engine {
    /// Takes the restart terms the child at `idx` set for itself, if any,
    /// into its spec: they hold for its restarts from now on.
    pub(super) fn take_override(&mut self, idx: usize) {
        let child = &mut self.children[idx];
        if let Some((restart, retry)) = child.shared.take_restart_override() {
            child.spec.restart = restart;
            child.spec.retry = Some(retry);
        }
    }

    /// Counts a restart of the child at `idx` against its own retries:
    /// `false` if it has used them up (it is not restarted).
    pub(super) fn retry_allowed(&mut self, idx: usize) -> bool {
        let child = &mut self.children[idx];
        let Some(retry) = child.spec.retry else {
            return true;
        };
        let allowed = child.retries.record(&retry);
        if !allowed {
            tracing::warn!(
                supervisor = %self.name,
                child = %child.spec.name,
                retries = child.retries.in_row - 1,
                "retries in a row used up: not restarted"
            );
        }
        allowed
    }

    /// The delay before restarting `failed`: its own backoff by its
    /// restarts in a row, else the supervisor's by its recent restarts.
    pub(super) fn restart_delay(&self, failed: ChildId) -> Option<Duration> {
        let own = self.index(failed).and_then(|idx| {
            let child = &self.children[idx];
            let n = usize::try_from(child.retries.in_row.max(1)).unwrap_or(usize::MAX);
            child.spec.retry.map(|r| r.backoff.delay(n))
        });
        own.or_else(|| {
            let backoff = self.config.backoff()?;
            Some(backoff.delay(self.budget.recent()))
        })
    }
}
