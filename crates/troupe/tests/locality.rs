//! Locality: thread-per-core core sets, dedicated runtimes on a plain
//! system, and children placed beside their parent.

use std::collections::BTreeSet;
use std::time::Duration;

use troupe::prelude::*;
use troupe::{init, CoreSet};

const BOUND: Duration = Duration::from_secs(10);

#[message(ret = String)]
struct WhichThread;

#[message(ret = String)]
struct ChildThread;

#[message(ret = ())]
struct Crash;

/// Makes the child fail a request; answers whether the request failed.
#[message(ret = bool)]
struct CrashChild;

/// The runtime that drives a topology: one worker thread named `main#0`.
fn main_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .thread_name("main#0")
        .build()
        .unwrap()
}

fn thread_name() -> String {
    std::thread::current().name().unwrap_or("?").to_owned()
}

/// Answers with the thread it runs on; as a supervisor, spawns a child and
/// asks it the same.
#[derive(Default)]
struct Placed {
    child: Option<ActorRef<Placed>>,
}

impl Actor for Placed {}

impl Handler<WhichThread> for Placed {
    async fn handle(
        &mut self,
        _: WhichThread,
        _: &mut ActorContext<Self>,
    ) -> HandlerResult<String> {
        Ok(thread_name())
    }
}

impl Handler<ChildThread> for Placed {
    async fn handle(
        &mut self,
        _: ChildThread,
        ctx: &mut ActorContext<Self>,
    ) -> HandlerResult<String> {
        if self.child.is_none() {
            self.child = Some(ctx.spawn_child(Placed::default).await?);
        }
        match &self.child {
            Some(child) => Ok(child.send(WhichThread).await?),
            None => Err("no child".into()),
        }
    }
}

impl Handler<Crash> for Placed {
    async fn handle(&mut self, _: Crash, _: &mut ActorContext<Self>) -> HandlerResult {
        panic!("crash on purpose")
    }
}

impl Handler<CrashChild> for Placed {
    async fn handle(&mut self, _: CrashChild, _: &mut ActorContext<Self>) -> HandlerResult<bool> {
        match &self.child {
            Some(child) => Ok(child.send(Crash).await.is_err()),
            None => Err("no child".into()),
        }
    }
}

async fn ask(actor: &ActorRef<Placed>) -> String {
    tokio::time::timeout(BOUND, actor.send(WhichThread))
        .await
        .expect("an answer in time")
        .expect("an answer")
}

#[test]
fn a_core_set_needs_a_runtime() {
    let err = CoreSet::new("none", 0).expect_err("zero runtimes");
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
}

#[test]
fn a_core_set_runs_one_named_thread_per_runtime_and_stops_them() {
    let cores = CoreSet::new("cs", 3).unwrap();
    assert_eq!(cores.len(), 3);
    let mut names = BTreeSet::new();
    for i in 0..3 {
        let (tx, rx) = std::sync::mpsc::channel();
        cores.handle(i).unwrap().spawn(async move {
            let _ = tx.send(thread_name());
        });
        names.insert(rx.recv_timeout(BOUND).unwrap());
    }
    assert_eq!(
        names,
        BTreeSet::from(["cs-0".into(), "cs-1".into(), "cs-2".into()])
    );
    assert!(cores.handle(3).is_none());
    let handle = cores.handle(0).unwrap().clone();
    cores.shutdown();
    // Its runtime is gone: a task spawned now never runs.
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    drop(handle.spawn(async move {
        let _ = tx.send(());
    }));
    assert!(rx.recv_timeout(Duration::from_millis(100)).is_err());
}

#[tokio::test]
async fn actors_a_filter_selects_spread_over_the_core_set() {
    let cores = CoreSet::new("venue", 2).unwrap();
    let system = ActorSystem::isolated();
    system.add_core_set(|meta| meta.key.starts_with("venue-"), &cores);
    let mut threads = BTreeSet::new();
    let mut actors = Vec::new();
    for i in 0..4 {
        let actor = Placed::default()
            .spawn()
            .on_system(&system)
            .named(format!("venue-{i}"))
            .await
            .unwrap();
        threads.insert(ask(&actor).await);
        actors.push(actor);
    }
    // Consecutive actors go to consecutive runtimes: both threads are used.
    assert_eq!(
        threads,
        BTreeSet::from(["venue-0".into(), "venue-1".into()])
    );
    // An actor no filter selects runs where it is spawned (this test's
    // runtime), not on the set.
    let other = Placed::default()
        .spawn()
        .on_system(&system)
        .named("other")
        .await
        .unwrap();
    assert!(!ask(&other).await.starts_with("venue-"));
    system.shutdown().await;
    cores.shutdown();
}

/// A rule added after actors were spawned without one places the actors
/// spawned after it: a system with no rule yet chooses no runtime, and
/// must notice the first one.
#[tokio::test]
async fn a_rule_added_after_the_first_spawns_places_the_next_ones() {
    let cores = CoreSet::new("late", 1).unwrap();
    let system = ActorSystem::isolated();
    let before = Placed::default()
        .spawn()
        .on_system(&system)
        .named("late-0")
        .await
        .unwrap();
    assert!(!ask(&before).await.starts_with("late-"));
    system.add_core_set(|meta| meta.key.starts_with("late-"), &cores);
    let after = Placed::default()
        .spawn()
        .on_system(&system)
        .named("late-1")
        .await
        .unwrap();
    assert_eq!(ask(&after).await, "late-0");
    // The one spawned before stays where it started: processes never move.
    assert!(!ask(&before).await.starts_with("late-"));
    system.shutdown().await;
    cores.shutdown();
}

/// A topology's system has a default runtime (the one that drives
/// `init::start`): a child no filter selects still runs beside its parent,
/// not there.
#[test]
fn children_run_beside_their_parent_not_on_the_default_runtime() {
    let cores = CoreSet::new("tree", 2).unwrap();
    let default = main_runtime();
    let topology = Topology::empty();
    topology.add_core_set(|meta| meta.key.starts_with("parent-"), &cores);
    let pairs = default.block_on(async move {
        let system = init::try_start(topology).unwrap();
        let mut pairs = Vec::new();
        for i in 0..2 {
            let parent = Placed::default()
                .spawn()
                .on_system(&system)
                .named(format!("parent-{i}"))
                .supervised()
                .await
                .unwrap();
            let home = ask(&parent).await;
            let child = tokio::time::timeout(BOUND, parent.send(ChildThread))
                .await
                .unwrap()
                .unwrap();
            pairs.push((home, child));
        }
        let unplaced = Placed::default()
            .spawn()
            .on_system(&system)
            .named("elsewhere")
            .await
            .unwrap();
        let elsewhere = ask(&unplaced).await;
        system.shutdown().await;
        (pairs, elsewhere)
    });
    let (pairs, elsewhere) = pairs;
    for (home, child) in pairs {
        assert!(home.starts_with("tree-"), "{home}");
        assert_eq!(child, home, "the child runs on its parent's thread");
    }
    assert_eq!(
        elsewhere, "main#0",
        "unplaced actors run on the default runtime"
    );
    cores.shutdown();
    default.shutdown_background();
}

#[tokio::test]
async fn a_restarted_child_stays_on_its_thread() {
    let cores = CoreSet::new("again", 2).unwrap();
    let system = ActorSystem::isolated();
    system.add_core_set(|meta| meta.key == "boss", &cores);
    let boss = Placed::default()
        .spawn()
        .on_system(&system)
        .named("boss")
        .supervised()
        .await
        .unwrap();
    let before = tokio::time::timeout(BOUND, boss.send(ChildThread))
        .await
        .unwrap()
        .unwrap();
    assert!(before.starts_with("again-"), "{before}");
    // The child fails a request and is restarted in place by its parent;
    // the parent's next question reaches the new incarnation.
    let crashed = tokio::time::timeout(BOUND, boss.send(CrashChild))
        .await
        .unwrap()
        .unwrap();
    assert!(crashed, "the child's request failed");
    let after = tokio::time::timeout(BOUND, boss.send(ChildThread))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(after, before);
    system.shutdown().await;
    cores.shutdown();
}

#[test]
fn a_topology_pins_a_group_to_a_core_set() {
    let cores = CoreSet::new("grp", 2).unwrap();
    let default = main_runtime();
    let topology = Topology::empty();
    topology
        .local("plain")
        .mount(ActorGroup::new().exec(|mut ctx| async move {
            while let Some(envelope) = ctx.recv().await {
                msg!(match envelope {
                    (WhichThread, token) => {
                        ctx.respond(token, thread_name());
                    }
                })
            }
        }));
    topology.add_core_set(|meta| meta.group == "plain", &cores);
    let plain = default.block_on(async move {
        let system = init::try_start(topology).unwrap();
        let plain = tokio::time::timeout(BOUND, system.group("plain").unwrap().send(WhichThread))
            .await
            .unwrap()
            .unwrap();
        system.shutdown().await;
        plain
    });
    assert!(plain.starts_with("grp-"), "{plain}");
    cores.shutdown();
    default.shutdown_background();
}
