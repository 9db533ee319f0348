//! The test kit on a supervisor tree, under a paused clock: injected
//! faults, supervision events, dead letters and `testkit::sync`.

use std::time::Duration;

use troupe::prelude::*;
use troupe::supervision::{ChildSpec, SupervisionEvent, Supervisor, SupervisorConfig};
use troupe::testkit::{self, Fault, Subscription};
use troupe::DeadLetterReason;

#[message]
struct Add(u32);

#[message(ret = u32)]
struct Total;

#[derive(Default)]
struct Worker(u32);

impl Actor for Worker {}

impl Handler<Add> for Worker {
    async fn handle(&mut self, msg: Add, _: &mut ActorContext<Self>) -> HandlerResult {
        self.0 += msg.0;
        Ok(())
    }
}

impl Handler<Total> for Worker {
    async fn handle(&mut self, _: Total, _: &mut ActorContext<Self>) -> HandlerResult<u32> {
        Ok(self.0)
    }
}

async fn tree(name: &str, max: usize) -> (ActorSystem, troupe::supervision::SupervisorRef) {
    let system = ActorSystem::create(name).unwrap();
    let root = Supervisor::new("root")
        .with_config(SupervisorConfig::one_for_one().max_restarts(max, Duration::from_secs(5)))
        .with_worker(ChildSpec::actor("a", Worker::default))
        .with_worker(ChildSpec::actor("b", Worker::default))
        .spawn(&system)
        .await
        .unwrap();
    (system, root)
}

#[tokio::test(start_paused = true)]
async fn a_fault_in_a_child_shows_in_the_supervision_events() {
    let (system, root) = tree("tk-tree-fault", 3).await;
    let mut events = Subscription::supervision(&system);
    let a: ActorRef<Worker> = system.get("a").unwrap();
    a.notify(Add(4)).await.unwrap();
    testkit::sync(&system, a.addr()).await.unwrap();
    assert_eq!(a.send(Total).await, Ok(4));

    // A struct actor's handler that panics on a request ends the actor
    // (on a fire-and-forget message, `handle_failure` decides).
    testkit::inject(a.addr(), Fault::Panic("child".into()));
    assert!(a.send(Total).await.is_err());
    let exited = events.recv().await;
    assert!(
        matches!(&exited, SupervisionEvent::Exited { name, reason: ExitReason::Failed(r), .. } if name == "a" && r == "troupe::Total: panic: child"),
        "{exited:?}"
    );
    let started = events.recv().await;
    assert!(
        matches!(&started, SupervisionEvent::Started { name, restart: true, .. } if name == "a"),
        "{started:?}"
    );
    assert_eq!(a.send(Total).await, Ok(0), "a starts afresh");
    let b: ActorRef<Worker> = system.get("b").unwrap();
    assert_eq!(b.send(Total).await, Ok(0), "one-for-one: b untouched");
    root.shutdown().await.unwrap();
    assert!(system.shutdown().await.all_stopped());
}

#[tokio::test(start_paused = true)]
async fn repeated_faults_exceed_the_budget() {
    let (system, root) = tree("tk-tree-budget", 1).await;
    let mut events = Subscription::supervision(&system);
    let a: ActorRef<Worker> = system.get("a").unwrap();
    for _ in 0..2 {
        testkit::inject(a.addr(), Fault::Panic("again".into()));
        assert!(a.send(Total).await.is_err());
        events
            .find(|e| matches!(e, SupervisionEvent::Exited { .. }))
            .await
            .unwrap();
    }
    events
        .find(|e| matches!(e, SupervisionEvent::BudgetExceeded { .. }))
        .await
        .unwrap();
    root.wait().await.ok();
    assert!(!root.is_alive());
    let _ = system.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_stalled_child_is_killed_at_shutdown() {
    let (system, root) = tree("tk-tree-stall", 3).await;
    let mut events = Subscription::supervision(&system);
    let b: ActorRef<Worker> = system.get("b").unwrap();
    testkit::inject(b.addr(), Fault::Stall(None));
    b.notify(Add(1)).await.unwrap();
    // Once b has taken the message, it stalls in its handling.
    testkit::within(testkit::DEFAULT_TIMEOUT, async {
        while testkit::is_armed(b.addr()) {
            tokio::task::yield_now().await;
        }
    })
    .await
    .unwrap();
    root.shutdown().await.unwrap();
    let stopped = events
        .find(|e| matches!(e, SupervisionEvent::Stopped { name, .. } if name == "b"))
        .await
        .unwrap();
    assert!(
        matches!(
            &stopped,
            SupervisionEvent::Stopped {
                reason: Some(ExitReason::Killed),
                ..
            }
        ),
        "{stopped:?}"
    );
    let _ = system.shutdown().await;
}

#[message]
struct Unknown;

#[tokio::test(start_paused = true)]
async fn dead_letters_of_a_group_in_a_tree() {
    let system = ActorSystem::create("tk-tree-dead").unwrap();
    let counter = ActorGroup::new().exec(|mut ctx| async move {
        let mut value = 0;
        while let Some(envelope) = ctx.recv().await {
            msg!(match envelope {
                Add(n) => value += n,
                (Total, token) => {
                    ctx.respond(token, value);
                }
            })
        }
    });
    let root = Supervisor::new("root")
        .with_worker(ChildSpec::group("counter", counter))
        .spawn(&system)
        .await
        .unwrap();
    let mut dead = Subscription::dead_letters(&system);
    let group = system.group("counter").unwrap();
    group.notify(Add(2)).await.unwrap();
    group.notify(Unknown).await.unwrap();
    let letter = dead.recv().await;
    assert_eq!(letter.reason, DeadLetterReason::Unhandled);
    assert_eq!(letter.message, "troupe::Unknown");
    assert_eq!(group.send(Total).await, Ok(2));
    assert!(dead.try_recv().is_none());
    root.shutdown().await.unwrap();
    let _ = system.shutdown().await;
}
