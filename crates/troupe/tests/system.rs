//! The actor system: registry, lookups, shutdown with escalation.

mod common;

use std::time::Duration;

use common::*;
use troupe::prelude::*;
use troupe::{SpawnError, StopError, SystemError};

struct Other;
impl Actor for Other {}

#[tokio::test]
async fn registry_lookups_and_name_conflicts() {
    let system = ActorSystem::create("registry").unwrap();
    assert_eq!(
        ActorSystem::create("registry").unwrap_err(),
        SystemError::NameTaken("registry".into())
    );
    let (probe, _events, _) = Probe::new();
    let h = probe.spawn().named("p").on_system(&system).await.unwrap();
    let (again, _e2, _) = Probe::new();
    assert_eq!(
        again
            .spawn()
            .named("p")
            .on_system(&system)
            .await
            .unwrap_err(),
        SpawnError::NameTaken("p".into())
    );
    Other.spawn().named("o").on_system(&system).await.unwrap();
    assert_eq!(system.registered(), vec!["o".to_string(), "p".to_string()]);
    assert_eq!(system.get::<Probe>("p"), Some(h.clone()));
    assert!(
        system.get::<Other>("p").is_none(),
        "typed lookup checks the type"
    );
    assert!(system.get::<Probe>("missing").is_none());
    assert_eq!(system.whereis("p"), Some(h.addr()));
    // The same name is free in another system.
    let (third, _e3, _) = Probe::new();
    third.spawn().named("p").await.unwrap();
}

#[tokio::test]
async fn stop_and_kill_by_name() {
    let system = ActorSystem::create("by-name").unwrap();
    let (probe, mut events, _) = Probe::new();
    let h = probe.spawn().named("a").on_system(&system).await.unwrap();
    assert_eq!(next(&mut events).await, Event::Started);
    system.stop("a").await.unwrap();
    assert_eq!(
        next(&mut events).await,
        Event::PreStop(StopReason::Graceful)
    );
    assert!(!h.is_alive());
    assert_eq!(system.stop("a").await, Err(StopError::NotFound("a".into())));
    // The name is free again once the actor has exited.
    let (probe, _events, _) = Probe::new();
    let h = probe.spawn().named("a").on_system(&system).await.unwrap();
    system.kill("a").await.unwrap();
    assert_eq!(h.exit_reason(), Some(ExitReason::Killed));
    assert!(system.registered().is_empty());
}

#[tokio::test(start_paused = true)]
async fn shutdown_stops_everyone_escalates_and_reports() {
    // Roots stop one at a time: without a grace period of its own, the
    // stuck one would take the whole 2 s and leave none to the other.
    let config = troupe::SystemConfig {
        actor_shutdown_timeout: Some(Duration::from_secs(1)),
        ..troupe::SystemConfig::default()
    };
    let system = ActorSystem::create_with("shutdown", config).unwrap();
    let (polite, mut polite_events, _) = Probe::new();
    let polite = polite
        .spawn()
        .named("polite")
        .on_system(&system)
        .await
        .unwrap();
    let (stuck, mut stuck_events, _gate) = Probe::new();
    let stuck = stuck
        .spawn()
        .named("stuck")
        .on_system(&system)
        .await
        .unwrap();
    assert_eq!(next(&mut stuck_events).await, Event::Started);
    stuck.notify(Block).await.unwrap();
    assert_eq!(next(&mut stuck_events).await, Event::Blocked);

    let report = system.shutdown_with(Duration::from_secs(2)).await;
    assert!(!report.all_stopped());
    assert_eq!(report.actors.len(), 2);
    // Newest first.
    assert_eq!(report.actors[0].name.as_deref(), Some("stuck"));
    assert_eq!(report.actors[0].reason, Some(ExitReason::Killed));
    assert!(report.actors[0].escalated);
    assert_eq!(report.actors[1].name.as_deref(), Some("polite"));
    assert_eq!(report.actors[1].reason, Some(ExitReason::Shutdown));
    assert!(!report.actors[1].escalated);
    assert_eq!(report.escalated().count(), 1);
    assert!(report.elapsed >= Duration::from_secs(1));
    assert!(report.elapsed < Duration::from_secs(2));
    assert!(!polite.is_alive() && !stuck.is_alive());
    assert_eq!(next(&mut polite_events).await, Event::Started);
    assert_eq!(
        next(&mut polite_events).await,
        Event::Stopped(ExitReason::Shutdown)
    );
    assert_eq!(system.process_count(), 0);

    let (late, _e, _) = Probe::new();
    assert_eq!(
        late.spawn().on_system(&system).await.unwrap_err(),
        SpawnError::ShuttingDown
    );
}

#[tokio::test]
async fn default_system_is_a_lazy_singleton() {
    let a = ActorSystem::default();
    let b = ActorSystem::default();
    assert_eq!(a.name(), "default");
    assert_eq!(b.name(), "default");
    assert_eq!(
        ActorSystem::create("default").unwrap_err(),
        SystemError::NameTaken("default".into())
    );
    let h = Other.spawn().named("default-other").await.unwrap();
    assert_eq!(a.get::<Other>("default-other"), Some(h));
}
