//! Shutdown strategies, reverse-order shutdown of trees, and system
//! shutdown with supervisors.

mod supervision_common;

use std::time::Duration;

use supervision_common::*;
use tokio::sync::mpsc;
use tokio::time::Instant;
use troupe::supervision::{
    process_fn, ChildSpec, ShutdownStrategy, SupervisionEvent, Supervisor, SupervisorConfig,
};
use troupe::{ExitReason, Spawn};

/// A process that needs `delay` to finish once asked to stop.
fn slow(name: &str, delay: Duration, shutdown: ShutdownStrategy) -> ChildSpec {
    let worker = process_fn(name, move |mut s| async move {
        s.wait_for_shutdown().await;
        tokio::time::sleep(delay).await;
        Ok(())
    });
    ChildSpec::worker(worker).shutdown(shutdown)
}

#[tokio::test(start_paused = true)]
async fn graceful_waits_then_kills() {
    let sys = system("graceful");
    let w = Workers::new();
    let (tx, mut ev) = mpsc::unbounded_channel();
    let sup = Supervisor::new("root")
        .with_config(SupervisorConfig::default().observe(tx))
        .with_worker(w.worker("a"))
        .with_worker(w.stubborn("stubborn")) // graceful, 1 s
        .with_worker(slow(
            "polite",
            Duration::from_millis(300),
            ShutdownStrategy::Graceful(Duration::from_secs(1)),
        ))
        .spawn(&sys)
        .await
        .unwrap();
    assert_eq!(take(&mut ev, 3).await.len(), 3);
    let t0 = Instant::now();
    sup.shutdown().await.unwrap();
    assert_eq!(
        take(&mut ev, 3).await,
        [
            "stop polite shutdown",
            "stop stubborn killed",
            "stop a shutdown"
        ]
    );
    assert_eq!(t0.elapsed(), Duration::from_millis(1300));
}

#[tokio::test(start_paused = true)]
async fn brutal_kills_at_once() {
    let sys = system("brutal");
    let (tx, mut ev) = mpsc::unbounded_channel();
    let sup = Supervisor::new("root")
        .with_config(SupervisorConfig::default().observe(tx))
        .with_worker(slow("b", Duration::from_secs(3), ShutdownStrategy::Brutal))
        .spawn(&sys)
        .await
        .unwrap();
    assert_eq!(take(&mut ev, 1).await, ["start b"]);
    let t0 = Instant::now();
    sup.shutdown().await.unwrap();
    assert_eq!(take(&mut ev, 1).await, ["stop b killed"]);
    assert_eq!(t0.elapsed(), Duration::ZERO);
}

#[tokio::test(start_paused = true)]
async fn infinity_waits_as_long_as_it_takes() {
    let sys = system("infinity");
    let (tx, mut ev) = mpsc::unbounded_channel();
    let sup = Supervisor::new("root")
        .with_config(SupervisorConfig::default().observe(tx))
        .with_worker(slow(
            "slow",
            Duration::from_secs(60),
            ShutdownStrategy::Infinity,
        ))
        .spawn(&sys)
        .await
        .unwrap();
    assert_eq!(take(&mut ev, 1).await, ["start slow"]);
    let t0 = Instant::now();
    sup.shutdown().await.unwrap();
    assert_eq!(take(&mut ev, 1).await, ["stop slow shutdown"]);
    assert_eq!(t0.elapsed(), Duration::from_secs(60));
}

fn tree(
    w: &Workers,
    tx: mpsc::UnboundedSender<SupervisionEvent>,
    sub_config: SupervisorConfig,
) -> Supervisor {
    let sub = Supervisor::new("sub")
        .with_config(sub_config.observe(tx.clone()))
        .with_worker(w.worker("x"))
        .with_worker(w.worker("y"));
    Supervisor::new("root")
        .with_config(SupervisorConfig::default().observe(tx))
        .with_worker(w.worker("a"))
        .with_worker(sub)
        .with_worker(w.worker("b"))
}

const TREE_START: [&str; 5] = [
    "start a",
    "sub: start x",
    "sub: start y",
    "start sub",
    "start b",
];
const TREE_STOP: [&str; 5] = [
    "stop b shutdown",
    "sub: stop y shutdown",
    "sub: stop x shutdown",
    "stop sub shutdown",
    "stop a shutdown",
];

#[tokio::test(start_paused = true)]
async fn trees_start_in_order_and_stop_in_reverse_depth_first() {
    let sys = system("tree");
    let w = Workers::new();
    let (tx, mut ev) = mpsc::unbounded_channel();
    let root = tree(&w, tx, SupervisorConfig::default())
        .spawn(&sys)
        .await
        .unwrap();
    assert_eq!(take(&mut ev, 5).await, TREE_START);
    let children = root.children().await.unwrap();
    assert!(children[1].is_supervisor);
    assert_eq!(children[1].shutdown, ShutdownStrategy::Infinity);
    assert_eq!(sys.process_count(), 6);
    root.shutdown().await.unwrap();
    assert_eq!(take(&mut ev, 5).await, TREE_STOP);
    assert_eq!(sys.process_count(), 0);
}

#[tokio::test(start_paused = true)]
async fn a_nested_supervisor_that_gives_up_is_restarted_by_its_parent() {
    let sys = system("nested-fail");
    let w = Workers::new();
    let (tx, mut ev) = mpsc::unbounded_channel();
    let sub_config = SupervisorConfig::one_for_one().max_restarts(0, Duration::from_secs(5));
    let root = tree(&w, tx, sub_config).spawn(&sys).await.unwrap();
    assert_eq!(take(&mut ev, 5).await, TREE_START);
    w.send("x", Cmd::Fail);
    let events = take(&mut ev, 7).await;
    assert_eq!(
        events[..3],
        [
            "sub: exit x failed: boom",
            "sub: gave up",
            "sub: stop y shutdown"
        ]
    );
    // It exits with reason `shutdown` (OTP); its parent restarts it, as a
    // permanent child.
    assert_eq!(events[3], "exit sub shutdown");
    assert_eq!(events[4..], ["sub: start x", "sub: start y", "restart sub"]);
    assert_eq!((w.runs("x"), w.runs("y"), w.runs("a")), (2, 2, 1));
    root.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn system_shutdown_lets_supervisors_stop_their_children_in_reverse() {
    let sys = system("sys-shutdown");
    let w = Workers::new();
    let (tx, mut ev) = mpsc::unbounded_channel();
    let root = tree(&w, tx, SupervisorConfig::default())
        .spawn(&sys)
        .await
        .unwrap();
    assert_eq!(take(&mut ev, 5).await, TREE_START);
    let report = sys.shutdown_with(Duration::from_secs(10)).await;
    assert!(report.all_stopped(), "{report:?}");
    assert_eq!(report.actors.len(), 6);
    assert_eq!(take(&mut ev, 5).await, TREE_STOP);
    quiet(&mut ev).await;
    assert_eq!(root.exit_reason(), Some(ExitReason::Shutdown));
    assert_eq!(sys.process_count(), 0);
}

#[tokio::test(start_paused = true)]
async fn nothing_is_restarted_while_the_system_shuts_down() {
    let sys = system("no-restart");
    let (tx, mut ev) = mpsc::unbounded_channel();
    // `crasher` fails 1 s after it starts; `slow` (stopped first) takes 2 s.
    let crasher = process_fn("crasher", |mut s| async move {
        tokio::select! {
            _ = s.wait_for_shutdown() => Ok(()),
            _ = tokio::time::sleep(Duration::from_secs(1)) => Err("late crash".into()),
        }
    });
    let root = Supervisor::new("root")
        .with_config(SupervisorConfig::default().observe(tx))
        .with_worker(crasher)
        .with_worker(slow(
            "slow",
            Duration::from_secs(2),
            ShutdownStrategy::Graceful(Duration::from_secs(5)),
        ))
        .spawn(&sys)
        .await
        .unwrap();
    assert_eq!(take(&mut ev, 2).await, ["start crasher", "start slow"]);
    let report = sys.shutdown_with(Duration::from_secs(10)).await;
    assert_eq!(
        take(&mut ev, 2).await,
        ["stop slow shutdown", "stop crasher failed: late crash"]
    );
    quiet(&mut ev).await;
    assert_eq!(report.actors.len(), 3);
    assert!(!root.is_alive());
}

#[tokio::test(start_paused = true)]
async fn system_shutdown_stops_root_actors_and_supervisors_alike() {
    let sys = system("mixed");
    let (lines, mut rx) = mpsc::unbounded_channel();
    let solo = worker_factory(lines.clone(), None)()
        .spawn()
        .named("solo")
        .on_system(&sys)
        .await
        .unwrap();
    assert_eq!(line(&mut rx).await, "solo started #1");
    let w = Workers::new();
    let (tx, mut ev) = mpsc::unbounded_channel();
    let _root = Supervisor::new("root")
        .with_config(SupervisorConfig::default().observe(tx))
        .with_worker(w.worker("a"))
        .with_worker(ChildSpec::actor("member", worker_factory(lines, None)))
        .spawn(&sys)
        .await
        .unwrap();
    assert_eq!(take(&mut ev, 2).await, ["start a", "start member"]);
    assert_eq!(line(&mut rx).await, "member started #1");
    let report = sys.shutdown().await;
    assert!(report.all_stopped());
    assert_eq!(report.actors.len(), 4);
    assert_eq!(
        take(&mut ev, 2).await,
        ["stop member shutdown", "stop a shutdown"]
    );
    let mut stopped = vec![line(&mut rx).await, line(&mut rx).await];
    stopped.sort();
    assert_eq!(
        stopped,
        ["member stopped: shutdown", "solo stopped: shutdown"]
    );
    assert!(!solo.is_alive());
}

#[tokio::test(start_paused = true)]
async fn an_idle_supervisor_does_not_restart_while_the_system_shuts_down() {
    let sys = system("idle-sub");
    let (tx, mut ev) = mpsc::unbounded_channel();
    let crasher = process_fn("crasher", |mut s| async move {
        tokio::select! {
            _ = s.wait_for_shutdown() => Ok(()),
            _ = tokio::time::sleep(Duration::from_secs(1)) => Err("late crash".into()),
        }
    });
    // `sub` is not a root: the system does not ask it to stop; it is idle
    // while `root` stops `slow` (2 s), when `crasher` fails (1 s).
    let sub = Supervisor::new("sub")
        .with_config(SupervisorConfig::default().observe(tx.clone()))
        .with_worker(crasher);
    let _root = Supervisor::new("root")
        .with_config(SupervisorConfig::default().observe(tx))
        .with_worker(sub)
        .with_worker(slow(
            "slow",
            Duration::from_secs(2),
            ShutdownStrategy::Graceful(Duration::from_secs(5)),
        ))
        .spawn(&sys)
        .await
        .unwrap();
    assert_eq!(
        take(&mut ev, 3).await,
        ["sub: start crasher", "start sub", "start slow"]
    );
    let report = sys.shutdown_with(Duration::from_secs(10)).await;
    assert!(report.all_stopped());
    assert_eq!(
        take(&mut ev, 3).await,
        [
            "sub: exit crasher failed: late crash",
            "stop slow shutdown",
            "stop sub shutdown"
        ]
    );
    quiet(&mut ev).await;
}
