//! Exit reasons of the program's own, and failures in `on_stopped`: both
//! reach monitors and supervisors; only `Normal` and `Shutdown` keep a
//! transient child from being restarted.
//!
//! Every test runs on paused time, and every wait is bounded.

mod signals_common;

use signals_common::*;
use tokio::sync::mpsc;
use troupe::prelude::*;
use troupe::supervision::{
    process_fn, ChildSpec, RestartType, SupervisionEvent, Supervisor, SupervisorConfig,
};

/// What a supervisor reports about its child `t`, in short: `exit REASON`,
/// `restart`.
async fn events(rx: &mut mpsc::UnboundedReceiver<SupervisionEvent>, n: usize) -> Vec<String> {
    let mut out = Vec::new();
    while out.len() < n {
        match next(rx).await {
            SupervisionEvent::Exited { reason, .. } => out.push(format!("exit {reason}")),
            SupervisionEvent::Started { restart: true, .. } => out.push("restart".into()),
            _ => {}
        }
    }
    out
}

/// A one-for-one supervisor with a transient struct-actor child `t`.
async fn transient_target(
    system: &ActorSystem,
    panic_on_stop: bool,
) -> (ActorRef<Target>, mpsc::UnboundedReceiver<SupervisionEvent>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let child =
        ChildSpec::actor("t", move || Target { panic_on_stop }).restart(RestartType::Transient);
    Supervisor::new("sup")
        .with_config(SupervisorConfig::one_for_one().observe(tx))
        .with_worker(child)
        .spawn(system)
        .await
        .unwrap();
    (system.get::<Target>("t").expect("started"), rx)
}

#[tokio::test(start_paused = true)]
async fn a_custom_reason_reaches_a_monitor_and_the_supervisor_which_restarts_a_transient_child() {
    let system = system("reason-custom");
    let (target, mut ev) = transient_target(&system, false).await;
    let down = system.monitor(target.addr());
    target
        .notify(QuitWith(ExitReason::custom("lease lost")))
        .await
        .unwrap();
    let down = tokio::time::timeout(BOUND, down).await.unwrap();
    assert_eq!(down.reason, ExitReason::custom("lease lost"));
    assert_eq!(events(&mut ev, 2).await, ["exit lease lost", "restart"]);
    assert!(
        target.is_alive(),
        "the same handle reaches the restarted child"
    );
    system.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn only_normal_and_shutdown_keep_a_transient_child_down() {
    for (reason, restarted) in [
        (ExitReason::Normal, false),
        (ExitReason::Shutdown, false),
        (ExitReason::custom("mine"), true),
    ] {
        let system = system("reason-transient");
        let (target, mut ev) = transient_target(&system, false).await;
        target.notify(QuitWith(reason.clone())).await.unwrap();
        assert_eq!(events(&mut ev, 1).await, [format!("exit {reason}")]);
        if restarted {
            assert_eq!(events(&mut ev, 1).await, ["restart"]);
        } else {
            quiet(&mut ev).await;
            assert!(!target.is_alive());
        }
        system.shutdown().await;
    }
}

#[tokio::test(start_paused = true)]
async fn a_panicking_on_stopped_is_a_failed_exit() {
    let system = system("reason-on-stopped");
    let target = Target {
        panic_on_stop: true,
    }
    .spawn()
    .on_system(&system)
    .await
    .unwrap();
    let down = system.monitor(target.addr());
    target.stop(StopReason::Graceful).await.unwrap();
    let expected = ExitReason::Failed("on_stopped panicked: cleanup went wrong".into());
    assert_eq!(target.exit_reason(), Some(expected.clone()));
    let down = tokio::time::timeout(BOUND, down).await.unwrap();
    assert_eq!(down.reason, expected);
    system.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_supervisor_sees_a_panicking_on_stopped_as_a_failure_and_restarts_a_transient_child() {
    let system = system("reason-on-stopped-sup");
    let (target, mut ev) = transient_target(&system, true).await;
    let down = system.monitor(target.addr());
    // A normal stop, but the cleanup fails: the child failed.
    target.notify(Quit).await.unwrap();
    assert_eq!(
        events(&mut ev, 2).await,
        [
            "exit failed: on_stopped panicked: cleanup went wrong",
            "restart"
        ]
    );
    let down = tokio::time::timeout(BOUND, down).await.unwrap();
    assert!(down.reason.is_abnormal());
    system.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_plain_process_exits_with_the_reason_it_returns() {
    let system = system("reason-plain");
    let (tx, mut ev) = mpsc::unbounded_channel();
    let plain = process_fn("p", |_| async {
        Err(ExitReason::custom("no more work").into())
    });
    Supervisor::new("sup")
        .with_config(SupervisorConfig::one_for_one().observe(tx))
        .with_worker(ChildSpec::worker(plain).restart(RestartType::Temporary))
        .spawn(&system)
        .await
        .unwrap();
    assert_eq!(events(&mut ev, 1).await, ["exit no more work"]);
    system.shutdown().await;
}

#[test]
fn reasons_display_as_in_otp() {
    assert_eq!(ExitReason::NoProc.to_string(), "noproc");
    assert!(ExitReason::NoProc.is_abnormal());
    assert_eq!(ExitReason::custom("x").to_string(), "x");
    assert!(ExitReason::custom("normal").is_abnormal());
}
