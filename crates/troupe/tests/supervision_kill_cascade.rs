//! A killed supervisor ends as in OTP: its worker children die with it
//! (no hook runs), but a child supervisor traps the exit signal and shuts
//! its own children down in reverse start order, with their stop hooks
//! and by their shutdown strategies, then exits with `shutdown`.

mod supervision_common;

use supervision_common::*;
use tokio::sync::mpsc;
use tokio::time::timeout;
use troupe::prelude::*;
use troupe::supervision::{ChildSpec, Supervisor, SupervisorError};

/// The subtree under the root: a worker `w`, then a supervisor `sub` of
/// `g1`, `g2`, `g3` (struct actors whose hooks report to `events`).
fn sub(events: &mpsc::UnboundedSender<String>) -> Supervisor {
    Supervisor::new("sub")
        .with_worker(ChildSpec::actor("g1", worker_factory(events.clone(), None)))
        .with_worker(ChildSpec::actor("g2", worker_factory(events.clone(), None)))
        .with_worker(ChildSpec::actor("g3", worker_factory(events.clone(), None)))
}

async fn started(events: &mut mpsc::UnboundedReceiver<String>) {
    for who in ["w", "g1", "g2", "g3"] {
        assert_eq!(line(events).await, format!("{who} started #1"));
    }
}

/// After the root was killed: the grandchildren stop in reverse order with
/// their hooks, `sub` exits with `shutdown`, `w` ran no hook.
async fn cascade(
    sys: &ActorSystem,
    down: impl std::future::Future<Output = troupe::Down>,
    events: &mut mpsc::UnboundedReceiver<String>,
) {
    assert_eq!(
        [line(events).await, line(events).await, line(events).await],
        [
            "g3 stopped: shutdown",
            "g2 stopped: shutdown",
            "g1 stopped: shutdown"
        ]
    );
    let down = timeout(BOUND, down).await.expect("sub exits");
    assert_eq!(down.reason, ExitReason::Shutdown);
    assert!(
        events.try_recv().is_err(),
        "the worker was killed: no hook ran in it"
    );
    assert!(sys.whereis("w").is_none());
    for g in ["g1", "g2", "g3"] {
        assert!(sys.whereis(g).is_none(), "{g} unregistered");
    }
}

#[tokio::test(start_paused = true)]
async fn a_killed_plain_supervisor_kills_its_workers_and_its_child_supervisor_shuts_down_in_order()
{
    let sys = system("kill-cascade");
    let (etx, mut events) = mpsc::unbounded_channel();
    let root = Supervisor::new("root")
        .with_worker(ChildSpec::actor("w", worker_factory(etx.clone(), None)))
        .with_worker(sub(&etx))
        .spawn(&sys)
        .await
        .unwrap();
    started(&mut events).await;
    let children = root.children().await.unwrap();
    let (w, sub_addr) = (children[0].addr, children[1].addr);
    let w = sys.get::<Worker>("w").filter(|h| h.addr() == w).expect("w");
    let down = sys.monitor(sub_addr);

    timeout(BOUND, root.kill()).await.unwrap().unwrap();
    assert_eq!(root.exit_reason(), Some(ExitReason::Killed));
    assert_eq!(
        root.wait().await,
        Err(SupervisorError::Exited(ExitReason::Killed))
    );
    // The worker died with it: its exit was published before the root's.
    assert!(!w.is_alive());
    assert_eq!(w.exit_reason(), Some(ExitReason::Killed));
    cascade(&sys, down, &mut events).await;
    assert_eq!(sys.process_count(), 0);
}

/// A supervisor actor starting the same subtree.
struct Root {
    events: mpsc::UnboundedSender<String>,
}

impl Actor for Root {
    async fn pre_start(&mut self, ctx: &mut ActorContext<Self>) -> HandlerResult {
        ctx.spawn_child(worker_factory(self.events.clone(), None))
            .named("w")
            .await?;
        ctx.supervise(sub(&self.events)).await?;
        Ok(())
    }

    async fn on_stopped(&mut self, _: &mut ActorContext<Self>, reason: &ExitReason) {
        let _ = self.events.send(format!("root stopped: {reason}"));
    }
}

#[tokio::test(start_paused = true)]
async fn a_killed_supervisor_actor_does_the_same() {
    let sys = system("kill-cascade-actor");
    let (etx, mut events) = mpsc::unbounded_channel();
    let root = Root {
        events: etx.clone(),
    }
    .spawn()
    .named("root")
    .on_system(&sys)
    .supervised()
    .await
    .unwrap();
    started(&mut events).await;
    let down = sys.monitor(root.children().await.unwrap()[1].addr);
    timeout(BOUND, root.kill()).await.unwrap().unwrap();
    assert_eq!(root.exit_reason(), Some(ExitReason::Killed));
    cascade(&sys, down, &mut events).await;
    assert_eq!(sys.process_count(), 0);
}

#[tokio::test(start_paused = true)]
async fn a_shutdown_still_stops_the_whole_tree_in_order_with_every_hook() {
    let sys = system("shutdown-cascade");
    let (etx, mut events) = mpsc::unbounded_channel();
    let root = Supervisor::new("root")
        .with_worker(ChildSpec::actor("w", worker_factory(etx.clone(), None)))
        .with_worker(sub(&etx))
        .spawn(&sys)
        .await
        .unwrap();
    started(&mut events).await;
    timeout(BOUND, root.shutdown()).await.unwrap().unwrap();
    let mut lines = Vec::new();
    for _ in 0..4 {
        lines.push(line(&mut events).await);
    }
    assert_eq!(
        lines,
        [
            "g3 stopped: shutdown",
            "g2 stopped: shutdown",
            "g1 stopped: shutdown",
            "w stopped: shutdown"
        ]
    );
    assert_eq!(sys.process_count(), 0);
}
