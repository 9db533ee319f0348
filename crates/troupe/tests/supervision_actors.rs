//! The struct-actor front-end: supervisor actors, `spawn_child`, handles
//! that survive restarts, introspection, `stop_child`, nested supervisor
//! actors, exit notices on a full mailbox, kills.

mod supervision_common;

use std::sync::Arc;
use std::time::Duration;

use supervision_common::*;
use tokio::sync::{mpsc, Semaphore};
use troupe::prelude::*;
use troupe::supervision::{
    ChildInfo, ChildKey, RestartType, SupervisionEvent, SupervisorConfig, SupervisorError,
};
use troupe::{OverflowPolicy, RequestError};

/// A supervisor actor: spawns its workers in `pre_start`.
struct Boss {
    lines: mpsc::UnboundedSender<String>,
    workers: Vec<(&'static str, RestartType, Option<u32>)>,
    gate: Arc<Semaphore>,
}

impl Boss {
    fn new(
        lines: &mpsc::UnboundedSender<String>,
        workers: Vec<(&'static str, RestartType, Option<u32>)>,
    ) -> Self {
        Self {
            lines: lines.clone(),
            workers,
            gate: Arc::new(Semaphore::new(0)),
        }
    }
}

impl Actor for Boss {
    async fn pre_start(&mut self, ctx: &mut ActorContext<Self>) -> HandlerResult {
        for (name, restart, fail_from) in self.workers.clone() {
            ctx.spawn_child(worker_factory(self.lines.clone(), fail_from))
                .named(name)
                .restart_type(restart)
                .await?;
        }
        Ok(())
    }

    async fn on_stopped(&mut self, ctx: &mut ActorContext<Self>, reason: &ExitReason) {
        let alive = ctx.children().iter().filter(|c| c.alive).count();
        let _ = self
            .lines
            .send(format!("boss stopped: {reason}; {alive} children alive"));
    }
}

#[message(ret = Vec<ChildInfo>)]
struct List;

impl Handler<List> for Boss {
    async fn handle(
        &mut self,
        _: List,
        ctx: &mut ActorContext<Self>,
    ) -> HandlerResult<Vec<ChildInfo>> {
        Ok(ctx.children())
    }
}

#[message(ret = Result<(), SupervisorError>)]
struct StopChild(ChildKey);

impl Handler<StopChild> for Boss {
    async fn handle(
        &mut self,
        msg: StopChild,
        ctx: &mut ActorContext<Self>,
    ) -> HandlerResult<Result<(), SupervisorError>> {
        Ok(ctx.stop_child(msg.0).await)
    }
}

/// Spawns one more worker; `fail_from` as in [`worker_factory`].
#[message(ret = Result<ActorRef<Worker>, SupervisorError>)]
struct Hire(&'static str, Option<u32>);

impl Handler<Hire> for Boss {
    async fn handle(
        &mut self,
        msg: Hire,
        ctx: &mut ActorContext<Self>,
    ) -> HandlerResult<Result<ActorRef<Worker>, SupervisorError>> {
        Ok(ctx
            .spawn_child(worker_factory(self.lines.clone(), msg.1))
            .named(msg.0)
            .await)
    }
}

/// Blocks the boss until its gate opens.
#[message]
struct Hold;

impl Handler<Hold> for Boss {
    async fn handle(&mut self, _: Hold, _: &mut ActorContext<Self>) -> HandlerResult {
        self.gate.acquire().await?.forget();
        Ok(())
    }
}

type Events = mpsc::UnboundedReceiver<SupervisionEvent>;

async fn boss(
    sys: &ActorSystem,
    config: SupervisorConfig,
    workers: Vec<(&'static str, RestartType, Option<u32>)>,
) -> (ActorRef<Boss>, Events, mpsc::UnboundedReceiver<String>) {
    let (lines, rx) = mpsc::unbounded_channel();
    let (tx, ev) = mpsc::unbounded_channel();
    let h = Boss::new(&lines, workers)
        .spawn()
        .named("boss")
        .on_system(sys)
        .with_supervision(config.observe(tx))
        .await
        .expect("boss starts");
    (h, ev, rx)
}

const PERM: RestartType = RestartType::Permanent;

#[tokio::test(start_paused = true)]
async fn handles_taken_before_a_restart_reach_the_new_incarnation() {
    let sys = system("handles");
    let config = SupervisorConfig::one_for_all().max_restarts(5, Duration::from_secs(10));
    let (_boss, mut ev, mut lines) =
        boss(&sys, config, vec![("w1", PERM, None), ("w2", PERM, None)]).await;
    assert_eq!(take(&mut ev, 2).await, ["start w1", "start w2"]);
    assert_eq!(line(&mut lines).await, "w1 started #1");
    assert_eq!(line(&mut lines).await, "w2 started #1");

    let w1 = sys.get::<Worker>("w1").expect("registered");
    w1.notify(Add(5)).await.unwrap();
    assert_eq!(w1.send(Query).await, Ok((1, 5)));
    let addr = w1.addr();

    // A failed request stops the actor; one-for-all restarts both.
    assert!(matches!(w1.send(Crash).await, Err(RequestError::Failed(_))));
    let events = take(&mut ev, 4).await;
    assert!(events[0].starts_with("exit w1 failed:"), "{events:?}");
    assert_eq!(
        events[1..],
        ["stop w2 shutdown", "restart w1", "restart w2"]
    );

    // The same handle reaches the new incarnation (fresh state), through
    // the same address, name and (reopened) mailbox.
    assert_eq!(w1.send(Query).await, Ok((2, 0)));
    w1.notify(Add(1)).await.unwrap();
    assert_eq!(w1.send(Query).await, Ok((2, 1)));
    assert_eq!(sys.get::<Worker>("w1").map(|h| h.addr()), Some(addr));
    assert!(w1.is_alive());
    sys.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn children_introspection_and_stop_child() {
    let sys = system("introspect");
    let (boss, mut ev, _lines) = boss(
        &sys,
        SupervisorConfig::default(),
        vec![("w1", PERM, None), ("w2", RestartType::Transient, None)],
    )
    .await;
    assert_eq!(take(&mut ev, 2).await, ["start w1", "start w2"]);
    let w1 = sys.get::<Worker>("w1").unwrap();
    w1.kill().await.unwrap();
    // `kill` returned: the boss was told, and answers after restarting w1.
    let children = boss.send(List).await.unwrap();
    let view: Vec<_> = children
        .iter()
        .map(|c| (c.name.as_str(), c.restart_type, c.restarts, c.alive))
        .collect();
    assert_eq!(
        view,
        [
            ("w1", PERM, 1, true),
            ("w2", RestartType::Transient, 0, true)
        ]
    );
    assert_eq!(children[0].addr, w1.addr());
    assert!(!children[0].is_supervisor);
    assert_eq!(boss.children().await.unwrap(), children, "from outside");

    // stop_child: stopped for good and forgotten (by id or by address).
    let w2 = sys.get::<Worker>("w2").unwrap();
    assert_eq!(
        boss.send(StopChild(children[1].id.into())).await,
        Ok(Ok(()))
    );
    assert!(!w2.is_alive());
    assert_eq!(boss.send(StopChild(w1.addr().into())).await, Ok(Ok(())));
    assert_eq!(
        boss.send(StopChild(w1.addr().into())).await,
        Ok(Err(SupervisorError::UnknownChild(w1.addr().into())))
    );
    let events = take(&mut ev, 4).await;
    assert_eq!(events[3], "stop w1 shutdown");
    quiet(&mut ev).await;
    assert!(boss.send(List).await.unwrap().is_empty());
    sys.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn spawn_child_requires_a_supervisor() {
    let sys = system("not-sup");
    let (lines, _rx) = mpsc::unbounded_channel();
    let plain = Boss::new(&lines, vec![])
        .spawn()
        .on_system(&sys)
        .await
        .unwrap();
    assert_eq!(
        plain.send(Hire("x", None)).await,
        Ok(Err(SupervisorError::NotASupervisor))
    );
    assert_eq!(plain.children().await, Err(SupervisorError::NotASupervisor));
    let failing = Boss::new(&lines, vec![("y", PERM, None)])
        .spawn()
        .on_system(&sys)
        .await;
    assert!(matches!(failing, Err(troupe::SpawnError::StartFailed(_))));
}

#[tokio::test(start_paused = true)]
async fn transient_and_permanent_struct_children() {
    let sys = system("types");
    let (_boss, mut ev, _lines) = boss(
        &sys,
        SupervisorConfig::default(),
        vec![("p", PERM, None), ("t", RestartType::Transient, None)],
    )
    .await;
    assert_eq!(take(&mut ev, 2).await, ["start p", "start t"]);
    let (p, t) = (
        sys.get::<Worker>("p").unwrap(),
        sys.get::<Worker>("t").unwrap(),
    );
    p.notify(Quit).await.unwrap();
    assert_eq!(take(&mut ev, 2).await, ["exit p normal", "restart p"]);
    t.notify(Quit).await.unwrap();
    assert_eq!(take(&mut ev, 1).await, ["exit t normal"]);
    quiet(&mut ev).await;
    assert!(!t.is_alive());
    // Messages to a child that is not running fail; nothing is lost silently.
    assert!(t.notify(Add(1)).await.is_err());
    assert_eq!(
        t.send(Query).await,
        Err(RequestError::gone_with(ExitReason::Normal))
    );
    assert!(p.is_alive());
    sys.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_child_that_cannot_start_is_reported_and_not_added() {
    let sys = system("bad-child");
    let (boss, mut ev, _lines) = boss(&sys, SupervisorConfig::default(), vec![]).await;
    let res = boss.send(Hire("bad", Some(1))).await.unwrap();
    assert_eq!(
        res,
        Err(SupervisorError::StartFailed {
            child: "bad".into(),
            reason: "cannot start".into()
        })
    );
    assert_eq!(take(&mut ev, 1).await, ["start-failed bad"]);
    assert!(sys.get::<Worker>("bad").is_none());
    assert!(boss.children().await.unwrap().is_empty());
    sys.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn restarts_that_fail_exhaust_the_budget_and_the_supervisor_exits_abnormally() {
    let sys = system("exhaust");
    let config = SupervisorConfig::one_for_one().max_restarts(2, Duration::from_secs(5));
    let (boss, mut ev, mut lines) =
        boss(&sys, config, vec![("ok", PERM, None), ("w", PERM, Some(2))]).await;
    assert_eq!(take(&mut ev, 2).await, ["start ok", "start w"]);
    let w = sys.get::<Worker>("w").unwrap();
    let _ = w.send(Crash).await;
    let events = take(&mut ev, 5).await;
    assert_eq!(
        events[1..],
        [
            "start-failed w",
            "start-failed w",
            "gave up",
            "stop ok shutdown"
        ]
    );
    let reason = tokio::time::timeout(BOUND, boss.wait_for_exit())
        .await
        .unwrap();
    // As an OTP supervisor: a budget exceeded is an exit with reason
    // `shutdown`, so that a transient parent does not restart it.
    assert_eq!(reason, ExitReason::Shutdown);
    let mut all = Vec::new();
    while let Ok(l) = lines.try_recv() {
        all.push(l);
    }
    assert_eq!(
        all.last().map(String::as_str),
        Some(format!("boss stopped: {reason}; 0 children alive").as_str())
    );
}

#[tokio::test(start_paused = true)]
async fn exit_notices_do_not_need_mailbox_space() {
    let sys = system("full");
    let (lines, _rx) = mpsc::unbounded_channel();
    let (tx, mut ev) = mpsc::unbounded_channel();
    let b = Boss::new(&lines, vec![("w", PERM, None)]);
    let gate = b.gate.clone();
    let boss = b
        .spawn()
        .on_system(&sys)
        .with_config(
            ActorConfig::default()
                .with_mailbox_capacity(1)
                .with_overflow(OverflowPolicy::Wait),
        )
        .with_supervision(SupervisorConfig::default().observe(tx))
        .await
        .unwrap();
    assert_eq!(take(&mut ev, 1).await, ["start w"]);
    boss.notify(Hold).await.unwrap(); // the boss blocks on it
    for _ in 0..100 {
        if boss.mailbox_len() == 0 {
            break;
        }
        tokio::task::yield_now().await;
    }
    boss.try_notify(Hold).unwrap(); // fills the mailbox
    assert!(boss.try_notify(Hold).unwrap_err().is_full());

    let w = sys.get::<Worker>("w").unwrap();
    w.kill().await.unwrap();
    gate.add_permits(2);
    assert_eq!(take(&mut ev, 2).await, ["exit w killed", "restart w"]);
    sys.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn on_stopped_runs_before_the_children_stop_in_reverse_order() {
    let sys = system("order");
    let (boss, _ev, mut lines) = boss(
        &sys,
        SupervisorConfig::default(),
        vec![("w1", PERM, None), ("w2", PERM, None), ("w3", PERM, None)],
    )
    .await;
    for _ in 0..3 {
        line(&mut lines).await;
    }
    boss.stop(StopReason::Graceful).await.unwrap();
    let mut got = Vec::new();
    for _ in 0..4 {
        got.push(line(&mut lines).await);
    }
    assert_eq!(
        got,
        [
            "boss stopped: normal; 3 children alive",
            "w3 stopped: shutdown",
            "w2 stopped: shutdown",
            "w1 stopped: shutdown"
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn killing_a_supervisor_kills_its_children() {
    let sys = system("kill-sup");
    let (boss, _ev, _lines) = boss(
        &sys,
        SupervisorConfig::default(),
        vec![("k1", PERM, None), ("k2", PERM, None)],
    )
    .await;
    let (k1, k2) = (
        sys.get::<Worker>("k1").unwrap(),
        sys.get::<Worker>("k2").unwrap(),
    );
    boss.kill().await.unwrap();
    assert_eq!(k1.exit_reason(), Some(ExitReason::Killed));
    assert_eq!(k2.exit_reason(), Some(ExitReason::Killed));
    assert!(sys.registered().is_empty());
    assert_eq!(sys.process_count(), 0);
}

/// A supervisor actor nested in [`Top`].
struct Team {
    lines: mpsc::UnboundedSender<String>,
}

impl Actor for Team {
    async fn pre_start(&mut self, ctx: &mut ActorContext<Self>) -> HandlerResult {
        ctx.spawn_child(worker_factory(self.lines.clone(), None))
            .named("t1")
            .await?;
        ctx.spawn_child(worker_factory(self.lines.clone(), None))
            .named("t2")
            .await?;
        Ok(())
    }
}

struct Top {
    lines: mpsc::UnboundedSender<String>,
    team_events: mpsc::UnboundedSender<SupervisionEvent>,
}

impl Actor for Top {
    async fn pre_start(&mut self, ctx: &mut ActorContext<Self>) -> HandlerResult {
        let lines = self.lines.clone();
        let config = SupervisorConfig::one_for_all().observe(self.team_events.clone());
        let team = ctx
            .spawn_child(move || Team {
                lines: lines.clone(),
            })
            .named("team")
            .with_supervision(config)
            .await?;
        let _ = team;
        Ok(())
    }
}

#[tokio::test(start_paused = true)]
async fn nested_supervisor_actors_restart_whole_subtrees() {
    let sys = system("nested-actors");
    let (lines, _rx) = mpsc::unbounded_channel();
    let (tx, mut ev) = mpsc::unbounded_channel();
    let top = Top {
        lines,
        team_events: tx.clone(),
    }
    .spawn()
    .named("top")
    .on_system(&sys)
    .with_supervision(SupervisorConfig::default().observe(tx))
    .await
    .unwrap();
    assert_eq!(
        take(&mut ev, 3).await,
        ["team: start t1", "team: start t2", "start team"]
    );
    let info = &top.children().await.unwrap()[0];
    assert!(info.is_supervisor);
    assert_eq!(
        info.shutdown,
        troupe::supervision::ShutdownStrategy::Infinity
    );

    // The team (one-for-all) restarts its own workers.
    let t2 = sys.get::<Worker>("t2").unwrap();
    t2.kill().await.unwrap();
    assert_eq!(
        take(&mut ev, 4).await,
        [
            "team: exit t2 killed",
            "team: stop t1 shutdown",
            "team: restart t1",
            "team: restart t2"
        ]
    );
    // Killing the team kills its workers; top restarts the whole subtree.
    // The team keeps its handle (top restarted it in place); its workers are
    // new processes (the new team spawned them), found by name.
    let team = sys.get::<Team>("team").unwrap();
    team.kill().await.unwrap();
    assert_eq!(
        take(&mut ev, 4).await,
        [
            "exit team killed",
            "team: start t1",
            "team: start t2",
            "restart team"
        ]
    );
    assert!(team.is_alive() && !t2.is_alive());
    let new_t2 = sys.get::<Worker>("t2").unwrap();
    assert_ne!(new_t2.addr(), t2.addr());
    assert_eq!(
        new_t2.send(Query).await,
        Ok((1, 0)),
        "a new team's first worker"
    );
    let report = sys.shutdown().await;
    assert!(report.all_stopped());
    assert_eq!(report.actors.len(), 4);
}

mod config_supervision {
    use std::time::Duration;

    use troupe::prelude::*;
    use troupe::supervision::SupervisorConfig;

    struct Leaf;
    impl Actor for Leaf {}

    #[troupe::message(ret = ())]
    struct Fall;

    impl Handler<Fall> for Leaf {
        async fn handle(&mut self, _: Fall, _: &mut ActorContext<Self>) -> HandlerResult<()> {
            Err("fell".into())
        }
    }

    struct Tree;
    impl Actor for Tree {
        async fn pre_start(&mut self, ctx: &mut ActorContext<Self>) -> HandlerResult {
            ctx.spawn_child(|| Leaf).named("config-leaf").await?;
            Ok(())
        }
    }

    /// A supervision config in `ActorConfig` (the seed's
    /// `ActorConfig::default().supervised()`) makes the actor a supervisor,
    /// as `.with_supervision()` on the spawn builder does.
    #[tokio::test(start_paused = true)]
    async fn actor_config_supervised_makes_a_supervisor() {
        let system = ActorSystem::create("config-supervised").unwrap();
        let (observer, mut events) = tokio::sync::mpsc::unbounded_channel();
        let config = ActorConfig::default()
            .with_mailbox_capacity(8)
            .with_supervision(SupervisorConfig::default().observe(observer));
        assert!(config.supervision().is_some());
        let tree = Tree
            .spawn()
            .on_system(&system)
            .with_config(config)
            .await
            .unwrap();
        let leaf = system.get::<Leaf>("config-leaf").unwrap();
        assert!(leaf.send(Fall).await.is_err());
        loop {
            match tokio::time::timeout(Duration::from_secs(5), events.recv()).await {
                Ok(Some(troupe::supervision::SupervisionEvent::Started {
                    restart: true, ..
                })) => break,
                Ok(Some(_)) => continue,
                other => panic!("no restart: {other:?}"),
            }
        }
        let children = tokio::time::timeout(Duration::from_secs(5), tree.children())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(children.len(), 1);
        assert_eq!(children[0].restarts, 1);
        assert!(children[0].alive);
        assert!(ActorConfig::default().supervised().supervision().is_some());
        system.shutdown().await;
    }
}
