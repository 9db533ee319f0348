//! The one process core: groups as supervisor children, group restart
//! budgets, request deadlines covering the wait for mailbox space, mailboxes
//! kept open between a crash and the restart, requests to oneself, and
//! status snapshots while a handler is stuck.
//!
//! Every test runs on paused time: the clock advances only when every task
//! is idle, so waits are deterministic, and each one is bounded.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, Notify};
use tokio::time::{timeout, Instant};
use troupe::prelude::*;
use troupe::supervision::{
    Backoff, ChildSpec, RestartType, SupervisionEvent, Supervisor, SupervisorConfig,
};
use troupe::{init, GroupRef, Lifecycle, Outcome, RestartPolicy};

/// The bound of every wait (virtual time).
const BOUND: Duration = Duration::from_secs(30);

/// How far past its deadline a timed-out request may resolve (the timer
/// wheel rounds up to the millisecond).
const EPSILON: Duration = Duration::from_millis(2);

/// A fresh system with a unique name.
fn system(prefix: &str) -> ActorSystem {
    static N: AtomicU32 = AtomicU32::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    ActorSystem::create(format!("{prefix}-{n}")).expect("unique system name")
}

/// The next item of a channel, within [`BOUND`].
async fn next<T>(rx: &mut mpsc::UnboundedReceiver<T>) -> T {
    timeout(BOUND, rx.recv())
        .await
        .expect("nothing within the bound")
        .expect("channel closed")
}

/// Asserts that nothing more comes (virtual time: only once every task is
/// idle).
async fn quiet<T: std::fmt::Debug>(rx: &mut mpsc::UnboundedReceiver<T>) {
    if let Ok(Some(item)) = timeout(Duration::from_secs(1), rx.recv()).await {
        panic!("unexpected: {item:?}");
    }
}

/// One line per supervision event.
fn brief(ev: &SupervisionEvent) -> String {
    match ev {
        SupervisionEvent::Started { name, restart, .. } => {
            format!("{} {name}", if *restart { "restart" } else { "start" })
        }
        SupervisionEvent::StartFailed { name, .. } => format!("start-failed {name}"),
        SupervisionEvent::Exited { name, reason, .. } => format!("exit {name} {reason}"),
        SupervisionEvent::Stopped { name, reason, .. } => match reason {
            Some(r) => format!("stop {name} {r}"),
            None => format!("stop {name} stuck"),
        },
        SupervisionEvent::BudgetExceeded { .. } => "gave up".to_string(),
    }
}

/// The next `n` supervision events, in brief.
async fn events(rx: &mut mpsc::UnboundedReceiver<SupervisionEvent>, n: usize) -> Vec<String> {
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(brief(&next(rx).await));
    }
    out
}

// ---------------------------------------------------------------------------
// Messages and actors shared by the tests.

/// Answered with the number of the run that handles it.
#[message(ret = u32)]
struct Ping;

/// A request whose handler fails: the struct actor stops with `Failed`.
#[message(ret = ())]
struct Crash;

/// A struct actor that crashes on request.
struct Sibling;

impl Actor for Sibling {}

impl Handler<Crash> for Sibling {
    async fn handle(&mut self, _: Crash, _: &mut ActorContext<Self>) -> HandlerResult<()> {
        Err("crash requested".into())
    }
}

/// A singleton group that reports each run's number when its `exec`
/// starts and answers [`Ping`] with it.
fn recording_group(runs: mpsc::UnboundedSender<u32>) -> Schema {
    let counter = Arc::new(AtomicU32::new(0));
    ActorGroup::new().exec(move |mut ctx| {
        let runs = runs.clone();
        let run = counter.fetch_add(1, Ordering::Relaxed) + 1;
        async move {
            let _ = runs.send(run);
            while let Some(envelope) = ctx.recv().await {
                msg!(match envelope {
                    (Ping, token) => {
                        ctx.respond(token, run);
                    }
                })
            }
        }
    })
}

// ---------------------------------------------------------------------------
// 1. A group as a child of a one-for-all supervisor.

#[tokio::test(start_paused = true)]
async fn a_group_is_a_child_of_a_one_for_all_supervisor_and_restarts_with_its_siblings() {
    let system = system("group-child");
    let (ev_tx, mut ev) = mpsc::unbounded_channel();
    let (runs_tx, mut runs) = mpsc::unbounded_channel();
    let root = Supervisor::new("root")
        .with_config(SupervisorConfig::one_for_all().observe(ev_tx))
        .with_worker(ChildSpec::actor("sib", || Sibling))
        .with_worker(ChildSpec::group("g", recording_group(runs_tx)))
        .spawn(&system)
        .await
        .expect("the supervisor starts");
    assert_eq!(events(&mut ev, 2).await, ["start sib", "start g"]);
    assert_eq!(next(&mut runs).await, 1);
    let group = system.group("g").expect("the group is mounted");
    let answer = timeout(BOUND, group.send(Ping)).await.expect("in time");
    assert_eq!(answer, Ok(1));

    // The sibling fails: one-for-all stops the group's supervisor (with its
    // actor) and starts both again, in start order.
    let sib = system.get::<Sibling>("sib").expect("the sibling runs");
    let crashed = timeout(BOUND, sib.send(Crash)).await.expect("in time");
    assert!(
        matches!(crashed, Err(RequestError::Failed(_))),
        "{crashed:?}"
    );
    assert_eq!(
        events(&mut ev, 4).await,
        [
            "exit sib failed: troupe::Crash: crash requested",
            "stop g shutdown",
            "restart sib",
            "restart g",
        ]
    );
    // The group's exec ran again.
    assert_eq!(next(&mut runs).await, 2);

    // The mounted group routes to the new incarnation.
    let group = system.group("g").expect("still mounted");
    let answer = timeout(BOUND, group.send(Ping)).await.expect("in time");
    assert_eq!(answer, Ok(2));
    let children = timeout(BOUND, root.children())
        .await
        .expect("in time")
        .expect("children");
    assert!(children.iter().all(|c| c.alive && c.restarts == 1));
    assert!(children[1].is_supervisor);
    quiet(&mut ev).await;
    timeout(BOUND, system.shutdown()).await.expect("in time");
}

// ---------------------------------------------------------------------------
// 2. A group over its restart budget.

fn explode() {
    panic!("fails forever")
}

#[tokio::test(start_paused = true)]
async fn a_group_whose_actor_fails_forever_exhausts_its_budget_and_its_supervisor_sees_it() {
    let system = system("group-budget");
    let (ev_tx, mut ev) = mpsc::unbounded_channel();
    let (runs_tx, mut runs) = mpsc::unbounded_channel();
    let policy = RestartPolicy::on_failure()
        .with_budget(2, Duration::from_secs(10))
        .with_backoff(Duration::from_millis(1), Duration::from_millis(1));
    let schema = ActorGroup::new().restart_policy(policy).exec(move |_ctx| {
        let runs = runs_tx.clone();
        async move {
            let _ = runs.send(());
            explode()
        }
    });
    // Transient: a supervisor over budget exits `shutdown` (as in OTP), which
    // is not abnormal, so the parent does not restart the group.
    let root = Supervisor::new("root")
        .with_config(SupervisorConfig::one_for_one().observe(ev_tx))
        .with_worker(ChildSpec::actor("sib", || Sibling))
        .with_worker(ChildSpec::group("g", schema).restart(RestartType::Transient))
        .spawn(&system)
        .await
        .expect("the supervisor starts");
    assert_eq!(events(&mut ev, 2).await, ["start sib", "start g"]);
    assert_eq!(events(&mut ev, 1).await, ["exit g shutdown"]);
    // The first run and two restarts; the third restart exceeds the budget.
    for _ in 0..3 {
        next(&mut runs).await;
    }
    quiet(&mut runs).await;
    quiet(&mut ev).await;

    let children = timeout(BOUND, root.children())
        .await
        .expect("in time")
        .expect("children");
    let g = children.iter().find(|c| c.name == "g").expect("kept");
    assert!(!g.alive);
    assert_eq!(g.restarts, 0);
    assert_eq!(g.last_exit, Some(ExitReason::Shutdown));
    assert!(root.is_alive(), "the parent keeps running");
    // What is routed to the group now has no recipient.
    let group = system.group("g").expect("still mounted");
    let answer = timeout(BOUND, group.send(Ping)).await.expect("in time");
    assert_eq!(answer, Err(RequestError::gone()));
    timeout(BOUND, system.shutdown()).await.expect("in time");
}

// ---------------------------------------------------------------------------
// 3. Request deadlines cover the wait for mailbox space.

#[message(ret = u32)]
struct Req;

/// Blocks the actor until released.
#[message]
struct Hold;

/// Fills the mailbox.
#[message]
struct Fill;

/// Asks the caller to request `Req` from this address.
#[message]
struct Probe(Addr);

const DEADLINE: Duration = Duration::from_millis(100);

/// A group whose singleton (mailbox capacity 1) reports its address, and
/// whose handling of [`Hold`] reports `held` and waits for `release`.
fn blocking_group(
    report: mpsc::UnboundedSender<&'static str>,
    addrs: mpsc::UnboundedSender<Addr>,
    release: Arc<Notify>,
) -> Schema {
    ActorGroup::new()
        .config(ActorConfig::default().with_mailbox_capacity(1))
        .exec(move |mut ctx| {
            let report = report.clone();
            let release = release.clone();
            let _ = addrs.send(ctx.addr());
            async move {
                while let Some(envelope) = ctx.recv().await {
                    msg!(match envelope {
                        Hold => {
                            let _ = report.send("held");
                            release.notified().await;
                        }
                        Fill => {}
                        (Req, token) => {
                            ctx.respond(token, 0);
                        }
                    })
                }
            }
        })
}

type Timed = (Result<u32, RequestError>, Duration);

/// A group whose singleton, given a [`Probe`], requests `Req` from that
/// address with [`DEADLINE`] and reports the result and the time it took.
fn caller_group(results: mpsc::UnboundedSender<Timed>) -> Schema {
    ActorGroup::new().exec(move |mut ctx| {
        let results = results.clone();
        async move {
            while let Some(envelope) = ctx.recv().await {
                msg!(match envelope {
                    Probe(addr) => {
                        let started = Instant::now();
                        let res = ctx
                            .request_to(addr, Req)
                            .timeout(Some(DEADLINE))
                            .resolve()
                            .await;
                        let _ = results.send((res, started.elapsed()));
                    }
                })
            }
        }
    })
}

struct Blocked {
    system: ActorSystem,
    group: GroupRef,
    addr: Addr,
    release: Arc<Notify>,
    results: mpsc::UnboundedReceiver<Timed>,
}

/// Starts a blocking group and a caller group, then blocks the former's
/// actor in a handler with one message queued: its mailbox is full.
async fn blocked() -> Blocked {
    let (report_tx, mut report) = mpsc::unbounded_channel();
    let (addr_tx, mut addrs) = mpsc::unbounded_channel();
    let (results_tx, results) = mpsc::unbounded_channel();
    let release = Arc::new(Notify::new());
    let topology = Topology::empty();
    topology
        .local("blocked")
        .mount(blocking_group(report_tx, addr_tx, release.clone()));
    topology.local("caller").mount(caller_group(results_tx));
    let system = init::try_start(topology).expect("the topology starts");
    let group = system.group("blocked").expect("mounted");
    let addr = next(&mut addrs).await;
    timeout(BOUND, group.notify(Hold))
        .await
        .expect("in time")
        .expect("queued");
    assert_eq!(next(&mut report).await, "held");
    timeout(BOUND, group.notify(Fill))
        .await
        .expect("in time")
        .expect("queued");
    assert!(matches!(group.try_notify(Fill), Err(SendError::Full(_))));
    Blocked {
        system,
        group,
        addr,
        release,
        results,
    }
}

fn assert_at_deadline(elapsed: Duration) {
    assert!(
        elapsed >= DEADLINE && elapsed < DEADLINE + EPSILON,
        "resolved after {elapsed:?}, the deadline is {DEADLINE:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_functional_request_into_a_full_mailbox_times_out_at_its_deadline() {
    let mut b = blocked().await;
    let caller = b.system.group("caller").expect("mounted");
    timeout(BOUND, caller.notify(Probe(b.addr)))
        .await
        .expect("in time")
        .expect("queued");
    let (res, elapsed) = next(&mut b.results).await;
    assert_eq!(res, Err(RequestError::Timeout(DEADLINE)));
    assert_at_deadline(elapsed);
    b.release.notify_one();
    timeout(BOUND, b.system.shutdown()).await.expect("in time");
}

#[tokio::test(start_paused = true)]
async fn a_group_ref_request_into_a_full_mailbox_times_out_at_its_deadline() {
    let b = blocked().await;
    let started = Instant::now();
    let res = timeout(BOUND, b.group.send_timeout(Req, Some(DEADLINE)))
        .await
        .expect("in time");
    let elapsed = started.elapsed();
    assert_eq!(res, Err(RequestError::Timeout(DEADLINE)));
    assert_at_deadline(elapsed);
    b.release.notify_one();
    timeout(BOUND, b.system.shutdown()).await.expect("in time");
}

// ---------------------------------------------------------------------------
// 4. Messages sent between a crash and the restart reach the next
// incarnation.

#[message]
struct Record(u32);

/// Answers `(incarnation, recorded)`.
#[message(ret = (u32, Vec<u32>))]
struct Query;

struct Recorder {
    incarnation: u32,
    recorded: Vec<u32>,
}

impl Actor for Recorder {}

impl Handler<Record> for Recorder {
    async fn handle(&mut self, msg: Record, _: &mut ActorContext<Self>) -> HandlerResult {
        self.recorded.push(msg.0);
        Ok(())
    }
}

impl Handler<Query> for Recorder {
    async fn handle(
        &mut self,
        _: Query,
        _: &mut ActorContext<Self>,
    ) -> HandlerResult<(u32, Vec<u32>)> {
        Ok((self.incarnation, self.recorded.clone()))
    }
}

impl Handler<Crash> for Recorder {
    async fn handle(&mut self, _: Crash, _: &mut ActorContext<Self>) -> HandlerResult<()> {
        Err("crash requested".into())
    }
}

/// A supervisor actor whose one child is a [`Recorder`] named `w`.
struct Boss;

impl Actor for Boss {
    async fn pre_start(&mut self, ctx: &mut ActorContext<Self>) -> HandlerResult {
        let incarnations = Arc::new(AtomicU32::new(0));
        ctx.spawn_child(move || Recorder {
            incarnation: incarnations.fetch_add(1, Ordering::Relaxed) + 1,
            recorded: Vec::new(),
        })
        .named("w")
        .await?;
        Ok(())
    }
}

const BACKOFF: Duration = Duration::from_secs(1);

#[tokio::test(start_paused = true)]
async fn a_message_sent_between_a_crash_and_the_restart_is_handled_by_the_new_incarnation() {
    let system = system("restart-window");
    let (ev_tx, mut ev) = mpsc::unbounded_channel();
    let config = SupervisorConfig::one_for_one()
        .with_backoff(Backoff::fixed(BACKOFF))
        .observe(ev_tx);
    let boss = Boss
        .spawn()
        .named("boss")
        .on_system(&system)
        .with_supervision(config)
        .await
        .expect("the boss starts");
    assert_eq!(events(&mut ev, 1).await, ["start w"]);
    let w = system.get::<Recorder>("w").expect("w runs");
    timeout(BOUND, w.notify(Record(1)))
        .await
        .expect("in time")
        .expect("queued");

    let crashed_at = Instant::now();
    let crashed = timeout(BOUND, w.send(Crash)).await.expect("in time");
    assert!(
        matches!(crashed, Err(RequestError::Failed(_))),
        "{crashed:?}"
    );
    assert_eq!(
        events(&mut ev, 1).await,
        ["exit w failed: troupe::Crash: crash requested"]
    );
    // Waiting for its backoff: its mailbox is open.
    let status = w.get_status().await.expect("not gone");
    assert_eq!(status.lifecycle, Lifecycle::Restarting);
    assert!(w.is_alive());
    let dead_letters = system.dead_letter_count();
    timeout(BOUND, w.notify(Record(7)))
        .await
        .expect("in time")
        .expect("taken during the backoff");
    assert_eq!(w.mailbox_len(), 1);
    // The request waits for the restart (time advances to the backoff's end).
    let answer = timeout(BOUND, w.send(Query)).await.expect("in time");
    assert_eq!(answer, Ok((2, vec![7])));
    assert!(
        crashed_at.elapsed() >= BACKOFF,
        "restarted before its backoff"
    );
    assert_eq!(events(&mut ev, 1).await, ["restart w"]);
    assert_eq!(system.dead_letter_count(), dead_letters);
    timeout(BOUND, boss.stop(StopReason::Graceful))
        .await
        .expect("in time")
        .expect("stops");
    timeout(BOUND, system.shutdown()).await.expect("in time");
}

#[message]
#[derive(Clone)]
struct Hit {
    key: String,
    n: u32,
}

#[message]
#[derive(Clone)]
struct Boom {
    key: String,
}

/// Answers `(run, hits)` of the actor with this key.
#[message(ret = (u32, Vec<u32>))]
struct Hits {
    key: String,
}

/// A run of a keyed actor: its key, its run number, when it started.
type Run = (String, u32, Instant);

/// A keyed group whose actors record their hits; [`Boom`] makes one report
/// `crashing` and panic.
fn keyed_group(runs: mpsc::UnboundedSender<Run>, crashes: mpsc::UnboundedSender<String>) -> Schema {
    let counter = Arc::new(AtomicU32::new(0));
    ActorGroup::new()
        .router(|envelope| {
            msg!(match envelope {
                Hit { key, .. } => Outcome::unicast(key.clone()),
                Boom { key } => Outcome::unicast(key.clone()),
                Hits { key } => Outcome::unicast(key.clone()),
                _ => Outcome::Discard,
            })
        })
        .restart_policy(RestartPolicy::on_failure().with_backoff(BACKOFF, BACKOFF))
        .exec(move |mut ctx| {
            let runs = runs.clone();
            let crashes = crashes.clone();
            let run = counter.fetch_add(1, Ordering::Relaxed) + 1;
            async move {
                let _ = runs.send((ctx.key().to_string(), run, Instant::now()));
                let mut hits = Vec::new();
                while let Some(envelope) = ctx.recv().await {
                    msg!(match envelope {
                        Hit { n, .. } => hits.push(n),
                        (Hits { .. }, token) => {
                            ctx.respond(token, (run, hits.clone()));
                        }
                        Boom { key } => {
                            let _ = crashes.send(key);
                            panic!("boom requested");
                        }
                    })
                }
            }
        })
}

#[tokio::test(start_paused = true)]
async fn a_message_sent_between_a_crash_and_the_restart_is_handled_by_the_new_incarnation_for_a_group_actor(
) {
    let (runs_tx, mut runs) = mpsc::unbounded_channel();
    let (crash_tx, mut crashes) = mpsc::unbounded_channel();
    let topology = Topology::empty();
    topology
        .local("keyed")
        .mount(keyed_group(runs_tx, crash_tx));
    let system = init::try_start(topology).expect("the topology starts");
    let group = system.group("keyed").expect("mounted");
    let key = || "a".to_string();

    timeout(BOUND, group.notify(Hit { key: key(), n: 1 }))
        .await
        .expect("in time")
        .expect("routed");
    let (k, run, _) = next(&mut runs).await;
    assert_eq!((k.as_str(), run), ("a", 1));
    let answer = timeout(BOUND, group.send(Hits { key: key() }))
        .await
        .expect("in time");
    assert_eq!(answer, Ok((1, vec![1])));

    timeout(BOUND, group.notify(Boom { key: key() }))
        .await
        .expect("in time")
        .expect("routed");
    assert_eq!(next(&mut crashes).await, "a");
    let crashed_at = Instant::now();
    // Paused time advances only once every task is idle: when this sleep
    // ends, the actor has exited and its supervisor has scheduled the
    // restart (due a full backoff after the crash, so not yet).
    tokio::time::sleep(BACKOFF / 2).await;
    let dead_letters = system.dead_letter_count();
    timeout(BOUND, group.notify(Hit { key: key(), n: 2 }))
        .await
        .expect("in time")
        .expect("taken during the backoff");
    let answer = timeout(BOUND, group.send(Hits { key: key() }))
        .await
        .expect("in time");
    assert_eq!(answer, Ok((2, vec![2])));
    let (k, run, started) = next(&mut runs).await;
    assert_eq!((k.as_str(), run), ("a", 2));
    assert!(
        started.duration_since(crashed_at) >= BACKOFF,
        "restarted before its backoff"
    );
    assert_eq!(system.dead_letter_count(), dead_letters);
    timeout(BOUND, system.shutdown()).await.expect("in time");
}

// ---------------------------------------------------------------------------
// 5. Requesting oneself.

#[message(ret = u32)]
struct Other;

/// Answers with what requesting itself gave, and how long it took.
#[message(ret = (Result<u32, RequestError>, Duration))]
struct AskSelf;

struct Selfish;

impl Actor for Selfish {}

impl Handler<Other> for Selfish {
    async fn handle(&mut self, _: Other, _: &mut ActorContext<Self>) -> HandlerResult<u32> {
        Ok(1)
    }
}

impl Handler<AskSelf> for Selfish {
    async fn handle(
        &mut self,
        _: AskSelf,
        ctx: &mut ActorContext<Self>,
    ) -> HandlerResult<(Result<u32, RequestError>, Duration)> {
        let started = Instant::now();
        let res = ctx.self_handle().send(Other).await;
        Ok((res, started.elapsed()))
    }
}

#[tokio::test(start_paused = true)]
async fn requesting_oneself_fails_at_once() {
    let system = system("calling-self");
    let actor = Selfish.spawn().on_system(&system).await.expect("starts");
    let answer = timeout(BOUND, actor.send(AskSelf))
        .await
        .expect("in time")
        .expect("answered");
    assert_eq!(answer, (Err(RequestError::CallingSelf), Duration::ZERO));
    // The actor is unharmed.
    let other = timeout(BOUND, actor.send(Other)).await.expect("in time");
    assert_eq!(other, Ok(1));
    timeout(BOUND, system.shutdown()).await.expect("in time");
}

// ---------------------------------------------------------------------------
// 6. Status while a handler is stuck.

#[message]
struct Block;

#[message]
struct Noop;

struct Stuck {
    gate: Arc<Notify>,
    entered: mpsc::UnboundedSender<()>,
}

impl Actor for Stuck {}

impl Handler<Block> for Stuck {
    async fn handle(&mut self, _: Block, _: &mut ActorContext<Self>) -> HandlerResult {
        let _ = self.entered.send(());
        self.gate.notified().await;
        Ok(())
    }
}

impl Handler<Noop> for Stuck {
    async fn handle(&mut self, _: Noop, _: &mut ActorContext<Self>) -> HandlerResult {
        Ok(())
    }
}

#[tokio::test(start_paused = true)]
async fn status_answers_while_a_handler_is_stuck() {
    let system = system("stuck-status");
    let gate = Arc::new(Notify::new());
    let (entered_tx, mut entered) = mpsc::unbounded_channel();
    let actor = Stuck {
        gate: gate.clone(),
        entered: entered_tx,
    }
    .spawn()
    .on_system(&system)
    .await
    .expect("starts");
    timeout(BOUND, actor.notify(Block))
        .await
        .expect("in time")
        .expect("queued");
    next(&mut entered).await;
    timeout(BOUND, actor.notify(Noop))
        .await
        .expect("in time")
        .expect("queued");

    let asked = Instant::now();
    let status = timeout(BOUND, actor.get_status())
        .await
        .expect("in time")
        .expect("not gone");
    assert_eq!(asked.elapsed(), Duration::ZERO);
    assert_eq!(status.lifecycle, Lifecycle::Running);
    assert_eq!(status.processed, 1);
    assert_eq!(status.mailbox_len, 1);

    gate.notify_one();
    timeout(BOUND, actor.stop(StopReason::Graceful))
        .await
        .expect("in time")
        .expect("stops");
    assert_eq!(actor.exit_reason(), Some(ExitReason::Normal));
    timeout(BOUND, system.shutdown()).await.expect("in time");
}

struct Leaf;
impl Actor for Leaf {}

struct Parent;
impl Actor for Parent {
    async fn pre_start(&mut self, ctx: &mut ActorContext<Self>) -> HandlerResult {
        ctx.spawn_child(|| Leaf)
            .named("leaf-1")
            .restart_type(RestartType::Temporary)
            .await?;
        ctx.spawn_child(|| Leaf).named("leaf-2").await?;
        Ok(())
    }
}

#[tokio::test(start_paused = true)]
async fn status_reports_the_number_of_live_children() {
    let system = ActorSystem::create("one-core-status-children").unwrap();
    let parent = Parent
        .spawn()
        .on_system(&system)
        .supervised()
        .await
        .unwrap();
    assert_eq!(parent.get_status().await.unwrap().children, 2);
    let leaf = system.get::<Leaf>("leaf-1").unwrap();
    leaf.stop(StopReason::Graceful).await.unwrap();
    // Answered once the supervisor handled the exit (a temporary child is
    // not restarted).
    assert_eq!(parent.children().await.unwrap().len(), 1);
    assert_eq!(parent.get_status().await.unwrap().children, 1);
    let lonely = Leaf.spawn().on_system(&system).await.unwrap();
    assert_eq!(lonely.get_status().await.unwrap().children, 0);
    system.shutdown().await;
}
