//! Lifecycle hooks and the three tiers of termination.

mod common;

use common::*;
use troupe::prelude::*;
use troupe::{SpawnError, StopError};

#[tokio::test]
async fn pre_stop_veto_blocks_a_graceful_stop_only() {
    let (mut probe, mut events, _) = Probe::new();
    probe.veto = true;
    let h = probe.spawn().await.unwrap();
    assert_eq!(next(&mut events).await, Event::Started);

    assert_eq!(h.stop(StopReason::Graceful).await, Err(StopError::Vetoed));
    assert_eq!(
        next(&mut events).await,
        Event::PreStop(StopReason::Graceful)
    );
    assert!(h.is_alive());
    h.notify(Push(1)).await.unwrap();
    assert_eq!(next(&mut events).await, Event::Handled(1));

    // Tier 2 is not vetoable: pre_stop is not even asked; on_stopped runs.
    h.stop(StopReason::Shutdown).await.unwrap();
    assert_eq!(
        next(&mut events).await,
        Event::Stopped(ExitReason::Shutdown)
    );
    assert!(!h.is_alive());
}

#[tokio::test]
async fn graceful_stop_runs_pre_stop_and_on_stopped() {
    let (probe, mut events, _) = Probe::new();
    let h = probe.spawn().await.unwrap();
    assert_eq!(next(&mut events).await, Event::Started);
    h.stop(StopReason::Graceful).await.unwrap();
    assert_eq!(
        next(&mut events).await,
        Event::PreStop(StopReason::Graceful)
    );
    assert_eq!(next(&mut events).await, Event::Stopped(ExitReason::Normal));
    assert_eq!(h.exit_reason(), Some(ExitReason::Normal));
    // Stopping again is idempotent.
    h.stop(StopReason::Graceful).await.unwrap();
}

#[tokio::test]
async fn kill_bypasses_every_hook_even_inside_a_handler() {
    let (mut probe, mut events, _gate) = Probe::new();
    probe.veto = true;
    let h = probe.spawn().await.unwrap();
    assert_eq!(next(&mut events).await, Event::Started);
    h.notify(Block).await.unwrap();
    assert_eq!(next(&mut events).await, Event::Blocked);
    h.stop(StopReason::Kill).await.unwrap();
    assert_eq!(h.exit_reason(), Some(ExitReason::Killed));
    assert!(!h.is_alive());
    // The actor was dropped without any hook: its event channel closed.
    assert_eq!(events.recv().await, None);
}

#[tokio::test]
async fn failing_pre_start_fails_the_spawn() {
    let (mut probe, mut events, _) = Probe::new();
    probe.fail_start = true;
    let err = probe.spawn().named("never").await.unwrap_err();
    assert_eq!(err, SpawnError::StartFailed("refusing to start".into()));
    assert_eq!(events.recv().await, None, "no hook ran");
    assert!(ActorSystem::default().whereis("never").is_none());
}

struct SelfStopper;
impl Actor for SelfStopper {}

#[troupe::message]
struct StopNow;

impl Handler<StopNow> for SelfStopper {
    async fn handle(&mut self, _: StopNow, ctx: &mut ActorContext<Self>) -> HandlerResult {
        ctx.stop();
        Ok(())
    }
}

#[tokio::test]
async fn an_actor_can_stop_itself() {
    let h = SelfStopper.spawn().await.unwrap();
    h.notify(StopNow).await.unwrap();
    assert_eq!(h.wait_for_exit().await, ExitReason::Normal);
}

#[tokio::test]
async fn status_reports_lifecycle_and_counters() {
    let (probe, mut events, _) = Probe::new();
    let h = probe.spawn().named("status-probe").await.unwrap();
    assert_eq!(next(&mut events).await, Event::Started);
    h.notify(Push(1)).await.unwrap();
    assert_eq!(next(&mut events).await, Event::Handled(1));
    let status = h.get_status().await.unwrap();
    assert_eq!(status.lifecycle, troupe::Lifecycle::Running);
    assert_eq!(status.processed, 1);
    assert_eq!(status.name.as_deref(), Some("status-probe"));
    assert_eq!(status.meta.group, "Probe");
    assert_eq!(status.meta.key, "status-probe");
    assert_eq!(status.mailbox_capacity, troupe::DEFAULT_CAPACITY);
    h.stop(StopReason::Shutdown).await.unwrap();
}
