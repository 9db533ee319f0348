//! `stop_within`: a stop that escalates a tier each time its time passes,
//! on a task of its own (it is not lost if its caller stops waiting). On
//! paused Tokio time, so the escalation's instants are exact.

use std::time::Duration;

use tokio::time::Instant;
use troupe::prelude::*;

const MS: Duration = Duration::from_millis(1);

/// Its handler never returns: only a kill ends it.
#[message]
struct Hang;

/// Vetoes every graceful stop.
struct Stubborn;

impl Actor for Stubborn {
    async fn pre_stop(&mut self, _: &mut ActorContext<Self>, _: StopReason) -> bool {
        false
    }
}

impl Handler<Hang> for Stubborn {
    async fn handle(&mut self, _: Hang, _: &mut ActorContext<Self>) -> HandlerResult {
        std::future::pending::<()>().await;
        Ok(())
    }
}

/// Stops when asked.
struct Polite;

impl Actor for Polite {}

#[tokio::test(start_paused = true)]
async fn a_stuck_actor_is_shut_down_then_killed_a_tier_per_period() {
    let system = ActorSystem::create("within-stuck").unwrap();
    let actor = Stubborn.spawn().on_system(&system).await.unwrap();
    actor.notify(Hang).await.unwrap();
    let t0 = Instant::now();
    let res = actor.stop_within(StopReason::Graceful, 100 * MS).await;
    assert_eq!(res, Ok(()));
    assert_eq!(actor.exit_reason(), Some(ExitReason::Killed));
    // Graceful (its handler never returns) and shutdown each waited 100 ms.
    assert_eq!(t0.elapsed(), 200 * MS);
    system.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn an_actor_that_stops_in_time_is_not_escalated() {
    let system = ActorSystem::create("within-polite").unwrap();
    let actor = Polite.spawn().on_system(&system).await.unwrap();
    let res = actor.stop_within(StopReason::Graceful, 100 * MS).await;
    assert_eq!(res, Ok(()));
    assert_eq!(actor.exit_reason(), Some(ExitReason::Normal));
    system.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_veto_escalates_at_once() {
    let system = ActorSystem::create("within-veto").unwrap();
    let actor = Stubborn.spawn().on_system(&system).await.unwrap();
    let t0 = Instant::now();
    let res = actor.stop_within(StopReason::Graceful, 100 * MS).await;
    assert_eq!(res, Ok(()));
    assert_eq!(actor.exit_reason(), Some(ExitReason::Shutdown));
    assert_eq!(t0.elapsed(), Duration::ZERO, "no wait after the veto");
    system.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn the_escalation_goes_on_when_its_caller_stops_waiting() {
    let system = ActorSystem::create("within-dropped").unwrap();
    let actor = Stubborn.spawn().on_system(&system).await.unwrap();
    actor.notify(Hang).await.unwrap();
    let t0 = Instant::now();
    // The caller gives up after 10 ms; the escalation does not.
    let gave_up =
        tokio::time::timeout(10 * MS, actor.stop_within(StopReason::Shutdown, 100 * MS)).await;
    assert!(gave_up.is_err());
    assert_eq!(actor.wait_for_exit().await, ExitReason::Killed);
    assert_eq!(t0.elapsed(), 100 * MS);
    system.shutdown().await;
}
