//! The one process core, restarts: a group as a child of a supervisor
//! (restarted with its siblings), a group over its restart budget, and
//! mailboxes kept open between a crash and the restart, for a struct actor
//! and for a group's actor.
//!
//! Every test runs on paused time: the clock advances only when every task
//! is idle, so waits are deterministic, and each one is bounded.

mod one_core_common;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use one_core_common::*;
use tokio::sync::mpsc;
use tokio::time::{timeout, Instant};
use troupe::prelude::*;
use troupe::supervision::{Backoff, ChildSpec, RestartType, Supervisor, SupervisorConfig};
use troupe::{init, Lifecycle, Outcome, RestartPolicy};

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
// 3. Messages sent between a crash and the restart reach the next
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

/// A supervisor that stops a child itself waits for that exit instead of
/// being sent it; the exits of the child's later incarnations (restarted in
/// place, same process) still reach it: a crash of the sibling it stopped
/// and restarted is restarted in turn.
#[tokio::test(start_paused = true)]
async fn a_child_stopped_and_restarted_by_its_supervisor_still_has_its_next_exit_heard() {
    let system = ActorSystem::create("restarts-awaited").unwrap();
    let (events, mut seen) = mpsc::unbounded_channel();
    let config = SupervisorConfig::one_for_all()
        .max_restarts(10, Duration::from_secs(60))
        .observe(events);
    let root = Supervisor::new("root")
        .with_config(config)
        .with_worker(ChildSpec::actor("a", || Sibling))
        .with_worker(ChildSpec::actor("b", || Sibling))
        .spawn(&system)
        .await
        .unwrap();
    let a = system.get::<Sibling>("a").expect("a runs");
    let b = system.get::<Sibling>("b").expect("b runs");
    let restarts_of = |name: &'static str| {
        move |e: &troupe::supervision::SupervisionEvent| {
            matches!(e, troupe::supervision::SupervisionEvent::Started {
                restart: true, name: n, ..
            } if n == name)
        }
    };
    // `a` fails: `b` is stopped by the supervisor, then both start again,
    // `b` in place (same address, next incarnation).
    assert!(timeout(BOUND, a.send(Crash)).await.unwrap().is_err());
    let mut restarted_b = false;
    while !restarted_b {
        let e = timeout(BOUND, seen.recv()).await.unwrap().unwrap();
        restarted_b = restarts_of("b")(&e);
    }
    assert_eq!(system.get::<Sibling>("b").map(|r| r.addr()), Some(b.addr()));
    // Now `b` fails by itself: the supervisor hears it and restarts it.
    assert!(timeout(BOUND, b.send(Crash)).await.unwrap().is_err());
    let mut exits_of_b = 0;
    let mut restarted_b = false;
    while !restarted_b {
        let e = timeout(BOUND, seen.recv())
            .await
            .expect("b's exit heard")
            .unwrap();
        if matches!(&e, troupe::supervision::SupervisionEvent::Exited { name, .. } if name == "b") {
            exits_of_b += 1;
        }
        restarted_b = restarts_of("b")(&e);
    }
    assert_eq!(exits_of_b, 1);
    root.shutdown().await.unwrap();
}
