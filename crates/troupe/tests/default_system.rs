//! The default system is one per process, and its shutdown is final; a
//! system per test is one line (`ActorSystem::isolated`).
//!
//! One test only in this file: it ends the default system of its process
//! (a test binary), which any other test here would then find shut down.

use troupe::prelude::*;

struct Idle;
impl Actor for Idle {}

#[tokio::test]
async fn default_shutdown_is_final_and_isolated_systems_go_on() {
    let isolated = ActorSystem::isolated();
    Idle.spawn()
        .named("idle")
        .on_system(&isolated)
        .await
        .expect("spawn on an isolated system");
    // Two isolated systems never share a name: each can register "idle".
    let other = ActorSystem::isolated();
    assert_ne!(isolated.name(), other.name());
    Idle.spawn()
        .named("idle")
        .on_system(&other)
        .await
        .expect("the same name on another isolated system");

    let on_default = Idle.spawn().await.expect("spawn on the default system");
    let report = ActorSystem::default().shutdown().await;
    assert!(report.all_stopped());
    assert!(!on_default.is_alive());

    // Final for the process: the default system is not made again.
    assert!(ActorSystem::default().is_shutting_down());
    assert_eq!(Idle.spawn().await.err(), Some(SpawnError::ShuttingDown));

    // The isolated systems were not touched, and go on.
    assert_eq!(isolated.registered(), vec!["idle".to_string()]);
    Idle.spawn()
        .on_system(&isolated)
        .await
        .expect("an isolated system outlives the default one");
    // Shutting one down leaves the other running.
    isolated.shutdown().await;
    assert_eq!(other.registered(), vec!["idle".to_string()]);
    other.shutdown().await;
}
