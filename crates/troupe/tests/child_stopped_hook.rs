//! `Actor::on_child_stopped`: a supervisor actor hears of its children's
//! own exits in its loop, after the restart engine acted on them.
//!
//! Paused Tokio time; every wait is a channel receive bounded by a
//! (virtual) timeout.

use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::timeout;
use troupe::prelude::*;
use troupe::supervision::{
    Backoff, ChildExited, ChildInfo, RestartDecision, RestartType, SupervisorConfig,
};

const BOUND: Duration = Duration::from_secs(5);

/// Fails the worker: a request whose handler errs stops it with `Failed`.
#[message]
struct Crash;

/// Stops the worker normally.
#[message]
struct Quit;

struct Worker;

impl Actor for Worker {}

impl Handler<Crash> for Worker {
    async fn handle(&mut self, _: Crash, _: &mut ActorContext<Self>) -> HandlerResult {
        Err("boom".into())
    }
}

impl Handler<Quit> for Worker {
    async fn handle(&mut self, _: Quit, ctx: &mut ActorContext<Self>) -> HandlerResult {
        ctx.stop();
        Ok(())
    }
}

/// What the hook saw: the exit, and the children as the context showed
/// them then.
#[derive(Debug)]
struct Seen {
    child: ChildExited,
    children: Vec<ChildInfo>,
}

struct Sup {
    seen: mpsc::UnboundedSender<Seen>,
    b_restart: RestartType,
    /// The hook panics on its first call.
    panic_once: bool,
}

impl Actor for Sup {
    async fn pre_start(&mut self, ctx: &mut ActorContext<Self>) -> HandlerResult {
        ctx.spawn_child(|| Worker).named("a").await?;
        ctx.spawn_child(|| Worker)
            .named("b")
            .restart_type(self.b_restart)
            .await?;
        Ok(())
    }

    async fn on_child_stopped(&mut self, ctx: &mut ActorContext<Self>, child: ChildExited) {
        let children = ctx.children();
        let _ = self.seen.send(Seen { child, children });
        if std::mem::take(&mut self.panic_once) {
            panic!("the hook panics");
        }
    }
}

#[message(ret = Vec<ChildInfo>)]
struct List;

impl Handler<List> for Sup {
    async fn handle(
        &mut self,
        _: List,
        ctx: &mut ActorContext<Self>,
    ) -> HandlerResult<Vec<ChildInfo>> {
        Ok(ctx.children())
    }
}

struct Setup {
    system: ActorSystem,
    sup: ActorRef<Sup>,
    seen: mpsc::UnboundedReceiver<Seen>,
}

async fn setup(
    name: &str,
    config: SupervisorConfig,
    b_restart: RestartType,
    panic_once: bool,
) -> Setup {
    let system = ActorSystem::create(name).unwrap();
    let (tx, seen) = mpsc::unbounded_channel();
    let sup = Sup {
        seen: tx,
        b_restart,
        panic_once,
    }
    .spawn()
    .on_system(&system)
    .with_supervision(config)
    .await
    .unwrap();
    Setup { system, sup, seen }
}

impl Setup {
    fn worker(&self, name: &str) -> ActorRef<Worker> {
        self.system
            .get::<Worker>(name)
            .expect("the worker is registered")
    }

    async fn next_seen(&mut self) -> Seen {
        timeout(BOUND, self.seen.recv())
            .await
            .expect("the hook runs")
            .expect("the supervisor is alive")
    }
}

fn child<'a>(children: &'a [ChildInfo], name: &str) -> Option<&'a ChildInfo> {
    children.iter().find(|c| c.name == name)
}

#[tokio::test(start_paused = true)]
async fn the_hook_sees_a_failed_child_restarted_and_its_sibling_untouched() {
    let mut s = setup(
        "hook-one-for-one",
        SupervisorConfig::one_for_one(),
        RestartType::Permanent,
        false,
    )
    .await;
    let a = s.worker("a");
    let a_addr = a.addr();
    assert!(a.send(Crash).await.is_err());

    let Seen {
        child: exited,
        children,
    } = s.next_seen().await;
    assert_eq!(exited.name, "a");
    assert_eq!(exited.addr, a_addr);
    assert!(
        matches!(exited.reason, ExitReason::Failed(_)),
        "{:?}",
        exited.reason
    );
    assert_eq!(exited.decision, RestartDecision::Restarted);
    assert!(exited.will_restart());
    // The context already shows the engine's decision.
    let a_info = child(&children, "a").unwrap();
    assert_eq!(a_info.id, exited.id);
    assert!(a_info.alive);
    assert_eq!(a_info.restarts, 1);
    let b_info = child(&children, "b").unwrap();
    assert!(b_info.alive);
    assert_eq!(b_info.restarts, 0);

    // Exactly one call: the sibling did not exit.
    assert!(a.is_alive());
    assert_eq!(s.sup.send(List).await.unwrap().len(), 2);
    assert!(s.seen.try_recv().is_err());
    s.system.shutdown().await;
    // Children the supervisor stops itself are not reported.
    assert!(s.seen.try_recv().is_err());
}

#[tokio::test(start_paused = true)]
async fn under_one_for_all_the_hook_sees_the_whole_group_restarted() {
    let mut s = setup(
        "hook-one-for-all",
        SupervisorConfig::one_for_all(),
        RestartType::Permanent,
        false,
    )
    .await;
    assert!(s.worker("b").send(Crash).await.is_err());
    let seen = s.next_seen().await;
    assert_eq!(seen.child.name, "b");
    assert_eq!(seen.child.decision, RestartDecision::Restarted);
    assert!(seen.children.iter().all(|c| c.alive && c.restarts == 1));
    assert!(
        s.seen.try_recv().is_err(),
        "a was stopped by the supervisor"
    );
    s.system.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_temporary_child_that_ends_is_reported_not_restarted_and_gone() {
    let mut s = setup(
        "hook-temporary",
        SupervisorConfig::one_for_one(),
        RestartType::Temporary,
        false,
    )
    .await;
    s.worker("b").send(Quit).await.unwrap();
    let seen = s.next_seen().await;
    assert_eq!(seen.child.name, "b");
    assert_eq!(seen.child.reason, ExitReason::Normal);
    assert_eq!(seen.child.decision, RestartDecision::NotRestarted);
    assert!(!seen.child.will_restart());
    assert!(
        child(&seen.children, "b").is_none(),
        "a temporary child is forgotten"
    );
    assert!(child(&seen.children, "a").unwrap().alive);
    s.system.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn with_a_backoff_the_restart_is_pending_when_the_hook_runs() {
    let config =
        SupervisorConfig::one_for_one().with_backoff(Backoff::fixed(Duration::from_millis(100)));
    let mut s = setup("hook-backoff", config, RestartType::Permanent, false).await;
    assert!(s.worker("a").send(Crash).await.is_err());
    let seen = s.next_seen().await;
    assert_eq!(seen.child.decision, RestartDecision::RestartPending);
    assert!(seen.child.will_restart());
    assert!(!child(&seen.children, "a").unwrap().alive);
    s.system.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn over_budget_the_hook_hears_gave_up_then_the_supervisor_exits() {
    let config = SupervisorConfig::one_for_one().max_restarts(1, Duration::from_secs(60));
    let mut s = setup("hook-budget", config, RestartType::Permanent, false).await;
    let a = s.worker("a");
    assert!(a.send(Crash).await.is_err());
    assert_eq!(
        s.next_seen().await.child.decision,
        RestartDecision::Restarted
    );
    assert!(a.send(Crash).await.is_err());
    let seen = s.next_seen().await;
    assert_eq!(seen.child.decision, RestartDecision::GaveUp);
    assert!(
        seen.children.iter().all(|c| !c.alive),
        "the children are stopped"
    );
    let exit = timeout(BOUND, s.sup.wait_for_exit()).await.unwrap();
    assert_eq!(exit, ExitReason::Shutdown);
}

#[tokio::test(start_paused = true)]
async fn a_panic_in_the_hook_does_not_kill_the_supervisor() {
    let mut s = setup(
        "hook-panic",
        SupervisorConfig::one_for_one(),
        RestartType::Permanent,
        true,
    )
    .await;
    let a = s.worker("a");
    assert!(a.send(Crash).await.is_err());
    assert_eq!(
        s.next_seen().await.child.decision,
        RestartDecision::Restarted
    );
    // The hook panicked: the supervisor goes on, and so does supervision.
    let children = timeout(BOUND, s.sup.send(List)).await.unwrap().unwrap();
    assert!(children.iter().all(|c| c.alive));
    assert!(s.sup.is_alive());
    assert!(a.send(Crash).await.is_err());
    let seen = s.next_seen().await;
    assert_eq!(seen.child.decision, RestartDecision::Restarted);
    assert_eq!(child(&seen.children, "a").unwrap().restarts, 2);
    s.system.shutdown().await;
}
