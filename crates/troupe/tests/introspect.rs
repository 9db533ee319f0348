//! Introspection: processes by address (kind, name, parent, children,
//! mailbox, restarts, last exit), runtimes and their threads, and stop and
//! kill by address, including of an anonymous actor whose handle was
//! dropped.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, Semaphore};
use tokio::time::timeout;
use troupe::prelude::*;
use troupe::supervision::{process_fn, ChildSpec, SupervisionEvent, Supervisor, SupervisorConfig};
use troupe::{Lifecycle, ProcessKind, StopError};

const BOUND: Duration = Duration::from_secs(10);

#[message]
struct Work;

/// A request whose handler fails: the actor exits with the failure.
#[message(ret = ())]
struct Crash;

#[message]
struct Hello;

/// Handles `Work` once its gate gives a permit (so its mailbox fills);
/// fails (and exits) on the request `Crash`.
struct Gated {
    gate: Arc<Semaphore>,
    stopped: Option<mpsc::UnboundedSender<ExitReason>>,
}

impl Gated {
    fn new(gate: &Arc<Semaphore>) -> Self {
        Self {
            gate: gate.clone(),
            stopped: None,
        }
    }
}

impl Actor for Gated {
    async fn on_stopped(&mut self, _: &mut ActorContext<Self>, reason: &ExitReason) {
        if let Some(tx) = &self.stopped {
            let _ = tx.send(reason.clone());
        }
    }
}

impl Handler<Work> for Gated {
    async fn handle(&mut self, _: Work, _: &mut ActorContext<Self>) -> HandlerResult {
        self.gate.acquire().await?.forget();
        Ok(())
    }
}

impl Handler<Crash> for Gated {
    async fn handle(&mut self, _: Crash, _: &mut ActorContext<Self>) -> HandlerResult {
        Err("crash requested".into())
    }
}

/// Vetoes graceful stops.
struct Stubborn;

impl Actor for Stubborn {
    async fn pre_stop(&mut self, _: &mut ActorContext<Self>, _: StopReason) -> bool {
        false
    }
}

fn idle_worker(name: &'static str) -> impl troupe::supervision::Supervisable {
    process_fn(name, |mut shutdown| async move {
        shutdown.wait_for_shutdown().await;
        Ok(())
    })
}

async fn next_event(rx: &mut mpsc::UnboundedReceiver<SupervisionEvent>) -> SupervisionEvent {
    let e = timeout(BOUND, rx.recv())
        .await
        .expect("an event in time")
        .expect("the supervisor is alive");
    e
}

/// Issue 19: an anonymous actor whose handle was dropped is listed, found
/// by its address, and killed by it.
#[tokio::test]
async fn an_anonymous_actor_is_found_and_killed_by_id_after_its_handle_is_dropped() {
    let system = ActorSystem::create("introspect-anonymous").unwrap();
    let gate = Arc::new(Semaphore::new(0));
    let (tx, mut stopped) = mpsc::unbounded_channel();
    let actor = Gated {
        gate: gate.clone(),
        stopped: Some(tx),
    };
    let handle = actor.spawn().on_system(&system).await.unwrap();
    let addr = handle.addr();
    drop(handle);

    let listed = system.processes();
    assert_eq!(listed.len(), 1, "{listed:?}");
    let found = &listed[0];
    assert_eq!(found.addr(), addr);
    assert_eq!(found.kind, ProcessKind::Actor);
    assert_eq!(found.name(), None);
    assert_eq!(found.parent, None);
    assert_eq!(found.lifecycle(), Lifecycle::Running);
    assert_eq!(found.meta().group, "Gated");

    let info = system.process(addr).expect("found by its address");
    assert_eq!(info.addr(), addr);

    timeout(BOUND, system.kill_process(addr))
        .await
        .expect("in time")
        .expect("killed");
    assert!(system.process(addr).is_none(), "gone from the registry");
    assert!(system.processes().is_empty());
    assert!(
        stopped.try_recv().is_err(),
        "a kill runs no hook (on_stopped)"
    );
    assert_eq!(
        system.kill_process(addr).await,
        Err(StopError::NoProcess(addr)),
        "a second kill finds nothing"
    );
}

/// A graceful stop by address runs the hooks and honours a veto; an
/// unknown address is a typed error.
#[tokio::test]
async fn stop_by_address_is_graceful_and_can_be_vetoed() {
    let system = ActorSystem::create("introspect-stop").unwrap();
    let gate = Arc::new(Semaphore::new(0));
    let (tx, mut stopped) = mpsc::unbounded_channel();
    let addr = Gated {
        gate,
        stopped: Some(tx),
    }
    .spawn()
    .on_system(&system)
    .await
    .unwrap()
    .addr();
    timeout(BOUND, system.stop_process(addr))
        .await
        .expect("in time")
        .expect("stopped");
    assert_eq!(stopped.try_recv(), Ok(ExitReason::Normal), "on_stopped ran");

    let stubborn = Stubborn.spawn().on_system(&system).await.unwrap().addr();
    assert_eq!(system.stop_process(stubborn).await, Err(StopError::Vetoed));
    assert!(system.process(stubborn).is_some(), "a veto keeps it alive");
    system
        .stop_process_with(stubborn, StopReason::Shutdown)
        .await
        .expect("a shutdown cannot be vetoed");
    assert!(system.process(stubborn).is_none());

    let nobody = Addr::new(system.node(), u64::MAX >> 20);
    assert_eq!(
        system.stop_process(nobody).await,
        Err(StopError::NoProcess(nobody))
    );
    assert_eq!(
        StopError::NoProcess(nobody).to_string(),
        format!("no process lives at {nobody}")
    );
}

/// Mailbox depth and capacity and the messages handled, read while the
/// actor is stuck in a handler.
#[tokio::test]
async fn mailbox_depth_and_messages_handled_are_read_while_the_actor_is_stuck() {
    let system = ActorSystem::create("introspect-mailbox").unwrap();
    let gate = Arc::new(Semaphore::new(0));
    let config = ActorConfig::default().with_mailbox_capacity(16);
    let handle = Gated::new(&gate)
        .spawn()
        .with_config(config)
        .on_system(&system)
        .await
        .unwrap();
    for _ in 0..5 {
        handle.notify(Work).await.unwrap();
    }
    // The first `Work` is taken (its handler waits at the gate), four wait.
    let info = timeout(BOUND, async {
        loop {
            let info = system.process(handle.addr()).expect("alive");
            if info.status.processed == 1 {
                return info;
            }
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the first message is taken");
    assert_eq!(info.status.mailbox_len, 4);
    assert_eq!(info.status.mailbox_capacity, 16);

    gate.add_permits(5);
    let info = timeout(BOUND, async {
        loop {
            let info = system.process(handle.addr()).expect("alive");
            if info.status.processed == 5 && info.status.mailbox_len == 0 {
                return info;
            }
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("all five are handled");
    assert_eq!(info.status.failures, 0);
    handle.stop(StopReason::Graceful).await.unwrap();
}

/// Kinds, parents and children of a tree with every kind of child: a
/// plain supervisor over a plain process, a struct actor, a nested
/// supervisor and a group with one keyed actor.
#[tokio::test]
async fn the_supervision_tree_shows_every_kind_with_parents_and_children() {
    let system = ActorSystem::create("introspect-tree").unwrap();
    let gate = Arc::new(Semaphore::new(0));
    let actor_gate = gate.clone();
    let group =
        ActorGroup::new().exec(|mut ctx| async move { while ctx.recv().await.is_some() {} });
    let root = Supervisor::new("root")
        .with_worker(idle_worker("ticker"))
        .with_worker(ChildSpec::actor("gated", move || Gated::new(&actor_gate)))
        .with_worker(ChildSpec::supervisor(
            Supervisor::new("inner").with_worker(idle_worker("leaf")),
        ))
        .with_worker(ChildSpec::group("g", group))
        .spawn(&system)
        .await
        .unwrap();
    let g = system.group("g").expect("mounted");
    g.notify(Hello).await.unwrap(); // starts the keyed actor `_`

    let snapshot = timeout(BOUND, async {
        loop {
            let s = system.snapshot();
            if s.processes.len() == 7 {
                return s;
            }
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("seven processes");
    let roots: Vec<_> = snapshot.roots().collect();
    assert_eq!(roots.len(), 1, "{roots:?}");
    let top = roots[0];
    assert_eq!(top.addr(), root.addr());
    assert_eq!(top.kind, ProcessKind::Supervisor);
    assert!(top.supervises);
    let kinds: Vec<ProcessKind> = snapshot.children_of(top.addr()).map(|c| c.kind).collect();
    assert_eq!(
        kinds,
        [
            ProcessKind::Process,
            ProcessKind::Actor,
            ProcessKind::Supervisor,
            ProcessKind::Group
        ]
    );
    for child in snapshot.children_of(top.addr()) {
        assert_eq!(child.parent, Some(top.addr()));
    }
    let gated = system.whereis("gated").expect("registered");
    assert_eq!(snapshot.get(gated).and_then(|p| p.name()), Some("gated"));
    assert!(!snapshot.get(gated).unwrap().supervises);

    let inner = snapshot
        .children_of(top.addr())
        .find(|c| c.kind == ProcessKind::Supervisor)
        .unwrap();
    let leaves: Vec<_> = snapshot.children_of(inner.addr()).collect();
    assert_eq!(leaves.len(), 1);
    assert_eq!(leaves[0].kind, ProcessKind::Process);
    assert_eq!(leaves[0].meta().group, "leaf");

    let group_sup = snapshot
        .children_of(top.addr())
        .find(|c| c.kind == ProcessKind::Group)
        .unwrap();
    assert_eq!(group_sup.meta().key, "g");
    let keyed: Vec<_> = snapshot.children_of(group_sup.addr()).collect();
    assert_eq!(keyed.len(), 1);
    assert_eq!(keyed[0].kind, ProcessKind::GroupActor);
    assert_eq!(keyed[0].meta().group, "g");

    root.shutdown().await.unwrap();
    assert!(system.processes().is_empty());
}

/// A struct actor restarted in place counts its restarts and keeps the
/// reason of the exit before the restart; killing it by address from
/// outside the tree is an exit its supervisor restarts it after.
#[tokio::test]
async fn restarts_and_last_exit_are_counted_across_restarts() {
    let system = ActorSystem::create("introspect-restarts").unwrap();
    let gate = Arc::new(Semaphore::new(0));
    let actor_gate = gate.clone();
    let (ev_tx, mut ev) = mpsc::unbounded_channel();
    let config = SupervisorConfig::one_for_one()
        .max_restarts(10, Duration::from_secs(60))
        .observe(ev_tx);
    let root = Supervisor::new("root")
        .with_config(config)
        .with_worker(ChildSpec::actor("crashy", move || Gated::new(&actor_gate)))
        .with_worker(idle_worker("plain"))
        .spawn(&system)
        .await
        .unwrap();
    let crashy = system.get::<Gated>("crashy").expect("registered");
    let addr = crashy.addr();
    let info = system.process(addr).unwrap();
    assert_eq!(info.restarts, 0);
    assert_eq!(info.last_exit, None);

    for _ in 0..2 {
        let crashed = timeout(BOUND, crashy.send(Crash)).await.expect("in time");
        assert!(crashed.is_err());
        loop {
            if let SupervisionEvent::Started { restart: true, .. } = next_event(&mut ev).await {
                break;
            }
        }
    }
    let info = system.process(addr).expect("restarted in place");
    assert_eq!(info.restarts, 2);
    assert_eq!(
        info.last_exit,
        Some(ExitReason::Failed("troupe::Crash: crash requested".into())),
        "{:?}",
        info.last_exit
    );
    assert_eq!(info.parent, Some(root.addr()));
    let children = system.process(root.addr()).unwrap().children;
    assert_eq!(children.len(), 2);
    assert_eq!(children[0], addr, "restarted in place, it keeps its place");

    // A plain process gets a new address at each restart: the count
    // follows it there.
    let plain = system
        .processes()
        .into_iter()
        .find(|p| p.kind == ProcessKind::Process)
        .unwrap();
    timeout(BOUND, system.kill_process(plain.addr()))
        .await
        .expect("in time")
        .expect("killed");
    loop {
        if let SupervisionEvent::Started {
            restart: true,
            name,
            ..
        } = next_event(&mut ev).await
        {
            assert_eq!(name, "plain");
            break;
        }
    }
    let again = system
        .processes()
        .into_iter()
        .find(|p| p.kind == ProcessKind::Process)
        .unwrap();
    assert_ne!(again.addr(), plain.addr());
    assert_eq!(again.restarts, 1);
    assert_eq!(again.last_exit, Some(ExitReason::Killed));
    root.shutdown().await.unwrap();
}

/// The runtimes and their worker threads, and which one runs each process.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runtimes_and_their_threads_are_listed() {
    let system = ActorSystem::create("introspect-runtimes").unwrap();
    let gate = Arc::new(Semaphore::new(0));
    let handle = Gated::new(&gate).spawn().on_system(&system).await.unwrap();
    let snapshot = system.snapshot();
    assert_eq!(snapshot.name, "introspect-runtimes");
    assert_eq!(snapshot.runtimes.len(), 1);
    let rt = &snapshot.runtimes[0];
    assert!(!rt.dedicated);
    assert_eq!(rt.flavor, "multi_thread");
    assert_eq!(rt.workers.len(), 2);
    assert_eq!(rt.processes, 1);
    assert!(rt.alive_tasks >= 1, "the actor's task at least");
    assert_eq!(snapshot.processes[0].runtime, 0);
    assert!(!snapshot.shutting_down);
    handle.stop(StopReason::Graceful).await.unwrap();
}

/// A dedicated runtime of the topology is listed after the default one,
/// with its worker threads, and the processes its filter selects say so.
#[test]
fn dedicated_runtimes_are_listed_with_the_processes_they_run() {
    let dedicated = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let default = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let idle =
        || ActorGroup::new().exec(|mut ctx| async move { while ctx.recv().await.is_some() {} });
    let topology = troupe::Topology::empty();
    topology.local("pinned").mount(idle());
    topology.local("free").mount(idle());
    topology.add_dedicated_rt(|meta| meta.group == "pinned", dedicated.handle().clone());
    default.block_on(async move {
        let system = troupe::init::try_start(topology).unwrap();
        let group_actors = |s: &troupe::SystemSnapshot| {
            s.processes
                .iter()
                .filter(|p| p.kind == ProcessKind::GroupActor)
                .count()
        };
        let snapshot = timeout(BOUND, async {
            loop {
                let s = system.snapshot();
                if group_actors(&s) == 2 {
                    return s;
                }
                tokio::task::yield_now().await;
            }
        })
        .await
        .expect("both singletons start");
        assert_eq!(snapshot.runtimes.len(), 2);
        let (main, pinned) = (&snapshot.runtimes[0], &snapshot.runtimes[1]);
        assert!(!main.dedicated && pinned.dedicated);
        assert_eq!((main.index, pinned.index), (0, 1));
        assert_eq!(main.workers.len(), 2);
        assert_eq!(pinned.workers.len(), 1);
        assert_eq!(pinned.processes, 1, "the pinned group's actor");
        assert_eq!(main.processes, snapshot.processes.len() - 1);
        let on = |group: &str| {
            snapshot
                .processes
                .iter()
                .find(|p| p.kind == ProcessKind::GroupActor && p.meta().group == group)
                .map(|p| p.runtime)
        };
        assert_eq!(on("pinned"), Some(1));
        assert_eq!(on("free"), Some(0));
        system.shutdown().await;
    });
    dedicated.shutdown_background();
}
