//! Restart types, the sliding-window restart budget, backoff, and failed
//! restarts.

mod supervision_common;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use supervision_common::*;
use tokio::sync::mpsc;
use troupe::supervision::{
    Backoff, ChildSpec, ProcessShutdown, RestartType, Supervisable, SupervisionEvent, Supervisor,
    SupervisorConfig, SupervisorError, SupervisorFuture, SupervisorRef,
};
use troupe::{BoxError, ExitReason};

type Events = mpsc::UnboundedReceiver<SupervisionEvent>;

async fn start(config: SupervisorConfig, children: Vec<ChildSpec>) -> (SupervisorRef, Events) {
    let sys = system("restart");
    let (tx, ev) = mpsc::unbounded_channel();
    let mut sup = Supervisor::new("root").with_config(config.observe(tx));
    for c in children {
        sup.add_worker(c);
    }
    (sup.spawn(&sys).await.expect("starts"), ev)
}

#[tokio::test(start_paused = true)]
async fn permanent_children_restart_after_any_exit() {
    let w = Workers::new();
    let (sup, mut ev) = start(SupervisorConfig::one_for_one(), vec![w.worker("p").into()]).await;
    assert_eq!(take(&mut ev, 1).await, ["start p"]);
    w.send("p", Cmd::Exit);
    assert_eq!(take(&mut ev, 2).await, ["exit p normal", "restart p"]);
    w.send("p", Cmd::Fail);
    assert_eq!(take(&mut ev, 2).await, ["exit p failed: boom", "restart p"]);
    sup.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn transient_children_restart_only_after_abnormal_exits() {
    let w = Workers::new();
    let (sup, mut ev) = start(
        SupervisorConfig::one_for_all(),
        vec![
            ChildSpec::worker(w.worker("t")).restart(RestartType::Transient),
            w.worker("p").into(),
        ],
    )
    .await;
    assert_eq!(take(&mut ev, 2).await, ["start t", "start p"]);
    w.send("t", Cmd::Fail);
    assert_eq!(
        take(&mut ev, 4).await,
        [
            "exit t failed: boom",
            "stop p shutdown",
            "restart t",
            "restart p"
        ]
    );
    w.send("t", Cmd::Exit);
    assert_eq!(take(&mut ev, 1).await, ["exit t normal"]);
    quiet(&mut ev).await;
    // Kept, not running.
    let t = &sup.children().await.unwrap()[0];
    assert_eq!(
        (t.alive, t.last_exit.clone()),
        (false, Some(ExitReason::Normal))
    );
    // A later group restart starts it again (as OTP's start_children does).
    w.send("p", Cmd::Fail);
    assert_eq!(
        take(&mut ev, 3).await,
        ["exit p failed: boom", "restart t", "restart p"]
    );
    sup.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn temporary_children_are_never_restarted_not_even_by_a_sibling() {
    let w = Workers::new();
    let (sup, mut ev) = start(
        SupervisorConfig::one_for_all(),
        vec![
            ChildSpec::worker(w.worker("tmp1")).restart(RestartType::Temporary),
            ChildSpec::worker(w.worker("tmp2")).restart(RestartType::Temporary),
            w.worker("p").into(),
        ],
    )
    .await;
    assert_eq!(
        take(&mut ev, 3).await,
        ["start tmp1", "start tmp2", "start p"]
    );
    w.send("tmp1", Cmd::Fail);
    assert_eq!(take(&mut ev, 1).await, ["exit tmp1 failed: boom"]);
    quiet(&mut ev).await;
    assert_eq!(sup.children().await.unwrap().len(), 2, "forgotten");
    w.send("p", Cmd::Fail);
    assert_eq!(
        take(&mut ev, 3).await,
        ["exit p failed: boom", "stop tmp2 shutdown", "restart p"]
    );
    let names: Vec<String> = sup
        .children()
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(names, ["p"]);
    sup.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn exceeding_the_budget_stops_all_children_and_fails_the_supervisor() {
    let w = Workers::new();
    let (sup, mut ev) = start(
        SupervisorConfig::one_for_one().max_restarts(2, Duration::from_secs(10)),
        vec![w.worker("a").into(), w.worker("b").into()],
    )
    .await;
    assert_eq!(take(&mut ev, 2).await, ["start a", "start b"]);
    for _ in 0..2 {
        w.send("b", Cmd::Fail);
        assert_eq!(take(&mut ev, 2).await, ["exit b failed: boom", "restart b"]);
    }
    w.send("b", Cmd::Fail);
    assert_eq!(
        take(&mut ev, 3).await,
        ["exit b failed: boom", "gave up", "stop a shutdown"]
    );
    let expected = SupervisorError::RestartBudgetExceeded {
        max_restarts: 2,
        within: Duration::from_secs(10),
    };
    assert_eq!(sup.wait().await, Err(expected.clone()));
    // The handle tells why; the exit reason is `shutdown`, as in OTP.
    assert_eq!(sup.exit_reason(), Some(ExitReason::Shutdown));
}

#[tokio::test(start_paused = true)]
async fn the_budget_window_slides_and_is_inclusive() {
    let w = Workers::new();
    let (sup, mut ev) = start(
        SupervisorConfig::one_for_one().max_restarts(2, Duration::from_secs(5)),
        vec![w.worker("a").into()],
    )
    .await;
    assert_eq!(take(&mut ev, 1).await, ["start a"]);
    // Two restarts at t = 0 s: the budget is full.
    for _ in 0..2 {
        w.send("a", Cmd::Fail);
        assert_eq!(take(&mut ev, 2).await, ["exit a failed: boom", "restart a"]);
    }
    // At t = 5.001 s they are more than 5 s old: forgotten, two more fit.
    tokio::time::advance(Duration::from_millis(5001)).await;
    for _ in 0..2 {
        w.send("a", Cmd::Fail);
        assert_eq!(take(&mut ev, 2).await, ["exit a failed: boom", "restart a"]);
    }
    // At t = 10.001 s those two are exactly 5 s old: they still count
    // (OTP's window is inclusive), so a third restart exceeds the budget.
    tokio::time::advance(Duration::from_secs(5)).await;
    w.send("a", Cmd::Fail);
    assert_eq!(take(&mut ev, 2).await, ["exit a failed: boom", "gave up"]);
    assert!(matches!(
        sup.wait().await,
        Err(SupervisorError::RestartBudgetExceeded { .. })
    ));
}

#[tokio::test(start_paused = true)]
async fn a_zero_budget_never_restarts() {
    let w = Workers::new();
    let (sup, mut ev) = start(
        SupervisorConfig::one_for_one().max_restarts(0, Duration::from_secs(5)),
        vec![w.worker("a").into()],
    )
    .await;
    assert_eq!(take(&mut ev, 1).await, ["start a"]);
    w.send("a", Cmd::Exit);
    assert_eq!(take(&mut ev, 2).await, ["exit a normal", "gave up"]);
    assert!(sup.wait().await.is_err());
}

#[tokio::test(start_paused = true)]
async fn backoff_delays_restarts_without_blocking_the_supervisor() {
    let w = Workers::new();
    let backoff = Backoff::exponential(Duration::from_millis(100), Duration::from_secs(1));
    let (sup, mut ev) = start(
        SupervisorConfig::one_for_one()
            .max_restarts(5, Duration::from_secs(60))
            .with_backoff(backoff),
        vec![w.worker("a").into()],
    )
    .await;
    assert_eq!(take(&mut ev, 1).await, ["start a"]);
    for delay in [100u64, 200, 400] {
        let t0 = tokio::time::Instant::now();
        w.send("a", Cmd::Fail);
        assert_eq!(take(&mut ev, 1).await, ["exit a failed: boom"]);
        // Waiting: the supervisor still answers, the child is not running.
        let a = &sup.children().await.unwrap()[0];
        assert!(!a.alive);
        assert_eq!(take(&mut ev, 1).await, ["restart a"]);
        assert_eq!(t0.elapsed(), Duration::from_millis(delay));
    }
    // A shutdown during a backoff restarts nothing.
    w.send("a", Cmd::Fail);
    assert_eq!(take(&mut ev, 1).await, ["exit a failed: boom"]);
    sup.shutdown().await.unwrap();
    quiet(&mut ev).await;
}

/// A process whose starts fail from the `fail_from`-th on.
struct Flaky {
    starts: Arc<AtomicU32>,
    fail_from: u32,
}

impl Supervisable for Flaky {
    fn name(&self) -> &str {
        "flaky"
    }

    fn initialize(&self, mut shutdown: ProcessShutdown) -> Result<SupervisorFuture, BoxError> {
        let n = self.starts.fetch_add(1, Ordering::Relaxed) + 1;
        if n >= self.fail_from {
            return Err(format!("start #{n} refused").into());
        }
        Ok(Box::pin(async move {
            tokio::select! {
                _ = shutdown.wait_for_shutdown() => Ok(()),
                _ = tokio::time::sleep(Duration::from_secs(1)) => Err("crashed on purpose".into()),
            }
        }))
    }
}

#[tokio::test(start_paused = true)]
async fn failed_restarts_are_retried_and_count_against_the_budget() {
    let w = Workers::new();
    let starts = Arc::new(AtomicU32::new(0));
    let flaky = Flaky {
        starts: starts.clone(),
        fail_from: 2,
    };
    let (sup, mut ev) = start(
        SupervisorConfig::one_for_one().max_restarts(3, Duration::from_secs(5)),
        vec![w.worker("a").into(), flaky.into()],
    )
    .await;
    assert_eq!(take(&mut ev, 2).await, ["start a", "start flaky"]);
    // The first run crashes after 1 s; every restart then fails to start:
    // three attempts fit the budget, the fourth exceeds it.
    assert_eq!(
        take(&mut ev, 6).await,
        [
            "exit flaky failed: crashed on purpose",
            "start-failed flaky",
            "start-failed flaky",
            "start-failed flaky",
            "gave up",
            "stop a shutdown",
        ]
    );
    quiet(&mut ev).await;
    assert_eq!(starts.load(Ordering::Relaxed), 4);
    assert!(matches!(
        sup.wait().await,
        Err(SupervisorError::RestartBudgetExceeded { .. })
    ));
}

#[tokio::test(start_paused = true)]
async fn a_child_that_cannot_start_fails_the_supervisor_start_and_stops_the_others() {
    let sys = system("init-fail");
    let w = Workers::new();
    let (tx, mut ev) = mpsc::unbounded_channel();
    let flaky = Flaky {
        starts: Arc::default(),
        fail_from: 1,
    };
    let res = Supervisor::new("root")
        .with_config(SupervisorConfig::default().observe(tx))
        .with_worker(w.worker("a"))
        .with_worker(flaky)
        .with_worker(w.worker("never"))
        .spawn(&sys)
        .await;
    assert_eq!(
        res.unwrap_err(),
        SupervisorError::StartFailed {
            child: "flaky".into(),
            reason: "start #1 refused".into()
        }
    );
    assert_eq!(
        take(&mut ev, 3).await,
        ["start a", "start-failed flaky", "stop a shutdown"]
    );
    assert_eq!(sys.process_count(), 0);
}

#[tokio::test(start_paused = true)]
async fn each_run_of_a_plain_process_is_a_new_registered_process() {
    let (runs_tx, mut runs) = mpsc::unbounded_channel();
    let worker = troupe::supervision::process_fn("x", move |mut shutdown| {
        let _ = runs_tx.send((shutdown.process_id(), shutdown.process_name().to_string()));
        async move {
            tokio::select! {
                _ = shutdown.wait_for_shutdown() => Ok(()),
                _ = tokio::time::sleep(Duration::from_secs(1)) => Err("tired".into()),
            }
        }
    });
    let sys = system("identity");
    let (tx, mut ev) = mpsc::unbounded_channel();
    let sup = Supervisor::new("root")
        .with_config(SupervisorConfig::default().observe(tx))
        .with_worker(worker)
        .spawn(&sys)
        .await
        .unwrap();
    assert_eq!(sys.process_count(), 2, "the supervisor and its process");
    let (first, name) = runs.recv().await.unwrap();
    assert_eq!(name, "root/x");
    assert_eq!(sup.children().await.unwrap()[0].addr, first);
    assert_eq!(
        take(&mut ev, 3).await,
        ["start x", "exit x failed: tired", "restart x"]
    );
    let (second, name) = runs.recv().await.unwrap();
    assert_eq!(name, "root/x");
    assert_ne!(first, second, "a new id for every run");
    let child = &sup.children().await.unwrap()[0];
    assert_eq!((child.addr, child.restarts), (second, 1));
    assert_eq!(sys.process_count(), 2);
    sup.shutdown().await.unwrap();
}

/// An actor whose `pre_start` never finishes.
struct Hangs;

impl troupe::Actor for Hangs {
    async fn pre_start(&mut self, _: &mut troupe::ActorContext<Self>) -> troupe::HandlerResult {
        std::future::pending::<()>().await;
        Ok(())
    }
}

#[tokio::test(start_paused = true)]
async fn a_start_that_hangs_is_bounded_and_killed() {
    let sys = system("hangs");
    let (tx, mut ev) = mpsc::unbounded_channel();
    let t0 = tokio::time::Instant::now();
    let res = Supervisor::new("root")
        .with_config(SupervisorConfig::default().observe(tx))
        .with_worker(
            ChildSpec::actor("hangs", || Hangs).start_timeout(Some(Duration::from_secs(2))),
        )
        .spawn(&sys)
        .await;
    assert_eq!(
        res.unwrap_err(),
        SupervisorError::StartFailed {
            child: "hangs".into(),
            reason: "did not start within 2s".into()
        }
    );
    assert_eq!(t0.elapsed(), Duration::from_secs(2));
    assert_eq!(take(&mut ev, 1).await, ["start-failed hangs"]);
    assert_eq!(sys.process_count(), 0);
    assert!(sys.whereis("hangs").is_none());
}

#[troupe::message]
struct Crash;

/// An actor whose first incarnation fails after 1 s, and whose later
/// starts never finish.
struct HangsOnRestart(Arc<AtomicU32>);

impl troupe::Actor for HangsOnRestart {
    async fn pre_start(&mut self, ctx: &mut troupe::ActorContext<Self>) -> troupe::HandlerResult {
        if self.0.fetch_add(1, Ordering::Relaxed) > 0 {
            std::future::pending::<()>().await;
        }
        let me = ctx.self_handle();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(1)).await;
            let _ = me.notify(Crash).await;
        });
        Ok(())
    }

    async fn handle_failure(
        &mut self,
        ctx: &mut troupe::ActorContext<Self>,
        failure: troupe::Failure,
    ) {
        ctx.stop_with(failure.into());
    }
}

impl troupe::Handler<Crash> for HangsOnRestart {
    async fn handle(
        &mut self,
        _: Crash,
        _: &mut troupe::ActorContext<Self>,
    ) -> troupe::HandlerResult {
        Err("crashed on purpose".into())
    }
}

/// A restart's start is bounded by the child's start timeout, counted
/// from the restart: the supervisor gives up on it exactly that long after
/// the exit that caused it.
#[tokio::test(start_paused = true)]
async fn a_restart_that_hangs_is_bounded_by_the_start_timeout() {
    let starts = Arc::new(AtomicU32::new(0));
    let spec = ChildSpec::actor("hangs", {
        let starts = starts.clone();
        move || HangsOnRestart(starts.clone())
    })
    .start_timeout(Some(Duration::from_secs(2)));
    let t0 = tokio::time::Instant::now();
    let (sup, mut ev) = start(
        SupervisorConfig::one_for_one().max_restarts(1, Duration::from_secs(60)),
        vec![spec],
    )
    .await;
    assert_eq!(take(&mut ev, 1).await, ["start hangs"]);
    assert_eq!(
        take(&mut ev, 1).await,
        ["exit hangs failed: troupe::Crash: error: crashed on purpose"]
    );
    assert_eq!(t0.elapsed(), Duration::from_secs(1));
    assert_eq!(take(&mut ev, 1).await, ["start-failed hangs"]);
    assert_eq!(t0.elapsed(), Duration::from_secs(3));
    assert_eq!(take(&mut ev, 1).await, ["gave up"]);
    assert_eq!(starts.load(Ordering::Relaxed), 2);
    assert!(matches!(
        sup.wait().await,
        Err(SupervisorError::RestartBudgetExceeded { .. })
    ));
}
