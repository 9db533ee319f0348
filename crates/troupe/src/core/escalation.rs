//! Stops that escalate by themselves: [`StopReason`]'s tiers tried in
//! turn, each given the same time, until the process has exited.
//!
//! As an OTP supervisor's shutdown (a `shutdown` exit, then `kill` past the
//! child's shutdown time), generalised to every tier: a drain or a graceful
//! stop that does not finish in time becomes a shutdown, and a shutdown a
//! kill. The escalation runs on a task of its own, so it goes to its end
//! even if whoever asked stops waiting.

use std::sync::Arc;
use std::time::Duration;

use super::process::Shared;
use crate::error::StopError;
use crate::exit::StopReason;

/// The tier a stop escalates to when its time is up.
fn next_tier(reason: StopReason) -> Option<StopReason> {
    match reason {
        StopReason::Drain | StopReason::Graceful => Some(StopReason::Shutdown),
        StopReason::Shutdown => Some(StopReason::Kill),
        StopReason::Kill => None,
    }
}

impl Shared {
    /// Stops the process with `first`, escalating a tier each time `each`
    /// passes without its exit (a veto of a graceful stop escalates at
    /// once). Runs on a task of its own: the escalation continues if the
    /// returned future is dropped.
    pub(crate) async fn stop_within(
        self: &Arc<Self>,
        first: StopReason,
        each: Duration,
    ) -> Result<(), StopError> {
        let shared = self.clone();
        let escalation = tokio::spawn(async move { shared.escalate(first, each).await });
        escalation.await.unwrap_or(Err(StopError::Timeout(each)))
    }

    async fn escalate(&self, first: StopReason, each: Duration) -> Result<(), StopError> {
        let mut tier = Some(first);
        let mut spent = Duration::ZERO;
        while let Some(reason) = tier {
            let stopped = match reason {
                // Drain's own escalation is this one, with `each` per tier.
                StopReason::Drain => {
                    let Some(incarnation) = self.ask_drain() else {
                        return Ok(()); // already gone
                    };
                    tokio::time::timeout(each, self.wait_exit_of(incarnation))
                        .await
                        .is_ok()
                }
                reason => self.stop(reason, each).await.is_ok(),
            };
            if stopped {
                return Ok(());
            }
            spent += each;
            tracing::debug!(addr = %self.addr, ?reason, ?each, "stop past its time: escalating");
            tier = next_tier(reason);
        }
        Err(StopError::Timeout(spent))
    }
}
