//! One test per restart strategy, on plain processes (the struct-actor
//! front-end runs the same engine; see `supervision_actors.rs`).

mod supervision_common;

use supervision_common::*;
use tokio::sync::mpsc;
use troupe::supervision::{ChildSpec, RestartType, Supervisor, SupervisorConfig, SupervisorError};

async fn three(
    config: SupervisorConfig,
) -> (
    Workers,
    troupe::supervision::SupervisorRef,
    mpsc::UnboundedReceiver<troupe::supervision::SupervisionEvent>,
) {
    let sys = system("strategy");
    let w = Workers::new();
    let (tx, mut ev) = mpsc::unbounded_channel();
    let sup = Supervisor::new("root")
        .with_config(config.observe(tx))
        .with_worker(w.worker("a"))
        .with_worker(w.worker("b"))
        .with_worker(w.worker("c"))
        .spawn(&sys)
        .await
        .expect("starts");
    assert_eq!(take(&mut ev, 3).await, ["start a", "start b", "start c"]);
    (w, sup, ev)
}

#[tokio::test(start_paused = true)]
async fn one_for_one_restarts_only_the_child_that_failed() {
    let (w, sup, mut ev) = three(SupervisorConfig::one_for_one()).await;
    w.send("b", Cmd::Fail);
    assert_eq!(take(&mut ev, 2).await, ["exit b failed: boom", "restart b"]);
    w.send("a", Cmd::Panic);
    assert_eq!(
        take(&mut ev, 2).await,
        ["exit a failed: panic: kaboom", "restart a"]
    );
    quiet(&mut ev).await;
    let restarts: Vec<u64> = sup
        .children()
        .await
        .unwrap()
        .iter()
        .map(|c| c.restarts)
        .collect();
    assert_eq!(restarts, [1, 1, 0]);
    assert_eq!((w.runs("a"), w.runs("b"), w.runs("c")), (2, 2, 1));
    sup.shutdown().await.unwrap();
    assert_eq!(
        take(&mut ev, 3).await,
        ["stop c shutdown", "stop b shutdown", "stop a shutdown"]
    );
}

#[tokio::test(start_paused = true)]
async fn one_for_all_stops_the_others_in_reverse_and_restarts_all_in_order() {
    let (w, sup, mut ev) = three(SupervisorConfig::one_for_all()).await;
    w.send("b", Cmd::Fail);
    assert_eq!(
        take(&mut ev, 6).await,
        [
            "exit b failed: boom",
            "stop c shutdown",
            "stop a shutdown",
            "restart a",
            "restart b",
            "restart c"
        ]
    );
    quiet(&mut ev).await;
    assert!(sup.children().await.unwrap().iter().all(|c| c.alive));
    sup.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn rest_for_one_restarts_the_failed_child_and_those_started_after_it() {
    let (w, sup, mut ev) = three(SupervisorConfig::rest_for_one()).await;
    w.send("b", Cmd::Fail);
    assert_eq!(
        take(&mut ev, 4).await,
        [
            "exit b failed: boom",
            "stop c shutdown",
            "restart b",
            "restart c"
        ]
    );
    w.send("c", Cmd::Fail);
    assert_eq!(take(&mut ev, 2).await, ["exit c failed: boom", "restart c"]);
    quiet(&mut ev).await;
    assert_eq!((w.runs("a"), w.runs("b"), w.runs("c")), (1, 2, 3));
    sup.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn simple_one_for_one_starts_dynamic_children_from_one_template() {
    let sys = system("simple");
    let w = Workers::new();
    let (tx, mut ev) = mpsc::unbounded_channel();
    let template_workers = w.clone();
    let sup = Supervisor::new("root")
        .with_config(SupervisorConfig::simple_one_for_one().observe(tx))
        .with_template(move |n: u32| {
            ChildSpec::worker(template_workers.worker(&format!("conn-{n}")))
                .restart(RestartType::Transient)
        })
        .spawn(&sys)
        .await
        .unwrap();
    assert!(sup.children().await.unwrap().is_empty());
    for n in 1..=3u32 {
        sup.start_child(n).await.unwrap();
    }
    assert_eq!(
        take(&mut ev, 3).await,
        ["start conn-1", "start conn-2", "start conn-3"]
    );
    assert_eq!(
        sup.start_child("not a u32").await,
        Err(SupervisorError::NoTemplate("&str"))
    );

    // Restarted as one-for-one.
    w.send("conn-2", Cmd::Fail);
    assert_eq!(
        take(&mut ev, 2).await,
        ["exit conn-2 failed: boom", "restart conn-2"]
    );
    // A dynamic child that ends for good is forgotten.
    w.send("conn-3", Cmd::Exit);
    assert_eq!(take(&mut ev, 1).await, ["exit conn-3 normal"]);
    let names: Vec<String> = sup
        .children()
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(names, ["conn-1", "conn-2"]);

    // Shutdown asks everyone at once.
    sup.shutdown().await.unwrap();
    let mut stops = take(&mut ev, 2).await;
    stops.sort();
    assert_eq!(stops, ["stop conn-1 shutdown", "stop conn-2 shutdown"]);
    assert_eq!(sys.process_count(), 0);
}

#[tokio::test(start_paused = true)]
async fn a_child_added_later_joins_the_restart_order() {
    let (w, sup, mut ev) = three(SupervisorConfig::rest_for_one()).await;
    let id = sup.add_child(w.worker("d")).await.unwrap();
    assert_eq!(take(&mut ev, 1).await, ["start d"]);
    w.send("c", Cmd::Fail);
    assert_eq!(
        take(&mut ev, 4).await,
        [
            "exit c failed: boom",
            "stop d shutdown",
            "restart c",
            "restart d"
        ]
    );
    sup.stop_child(id).await.unwrap();
    assert_eq!(take(&mut ev, 1).await, ["stop d shutdown"]);
    assert_eq!(
        sup.stop_child(id).await,
        Err(SupervisorError::UnknownChild(id.into()))
    );
    quiet(&mut ev).await;
    assert_eq!(sup.children().await.unwrap().len(), 3);
    sup.shutdown().await.unwrap();
}
