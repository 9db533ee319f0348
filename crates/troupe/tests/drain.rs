//! Drain then stop: new messages are refused at once, everything queued is
//! handled, then the process stops; past the deadline the stop escalates.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot, Semaphore};
use tokio::time::timeout;
use troupe::prelude::*;
use troupe::supervision::{SupervisionEvent, Supervisor, SupervisorConfig};

const BOUND: Duration = Duration::from_secs(5);

/// Handled once the gate gives a permit; reports its number first.
#[message]
struct Job(u32);

#[message(ret = u32)]
struct Count;

struct Gated {
    gate: Arc<Semaphore>,
    seen: mpsc::UnboundedSender<u32>,
    handled: u32,
    stopped: Option<oneshot::Sender<u32>>,
}

impl Actor for Gated {
    async fn on_stopped(&mut self, _: &mut ActorContext<Self>, _: &ExitReason) {
        if let Some(tx) = self.stopped.take() {
            let _ = tx.send(self.handled);
        }
    }
}

impl Handler<Job> for Gated {
    async fn handle(&mut self, msg: Job, _: &mut ActorContext<Self>) -> HandlerResult {
        let _ = self.seen.send(msg.0);
        self.gate.acquire().await?.forget();
        self.handled += 1;
        Ok(())
    }
}

impl Handler<Count> for Gated {
    async fn handle(&mut self, _: Count, _: &mut ActorContext<Self>) -> HandlerResult<u32> {
        Ok(self.handled)
    }
}

fn gated() -> (
    Gated,
    Arc<Semaphore>,
    mpsc::UnboundedReceiver<u32>,
    oneshot::Receiver<u32>,
) {
    let gate = Arc::new(Semaphore::new(0));
    let (seen_tx, seen) = mpsc::unbounded_channel();
    let (stopped_tx, stopped) = oneshot::channel();
    let actor = Gated {
        gate: gate.clone(),
        seen: seen_tx,
        handled: 0,
        stopped: Some(stopped_tx),
    };
    (actor, gate, seen, stopped)
}

async fn next(rx: &mut mpsc::UnboundedReceiver<u32>) -> u32 {
    timeout(BOUND, rx.recv())
        .await
        .expect("in time")
        .expect("open")
}

#[tokio::test]
async fn drain_handles_everything_queued_and_refuses_new_messages() {
    let (actor, gate, mut seen, stopped) = gated();
    let handle = actor.spawn().await.unwrap();
    for i in 0..6 {
        handle.notify(Job(i)).await.unwrap();
    }
    // The first job holds the actor; five wait in the mailbox.
    assert_eq!(next(&mut seen).await, 0);
    let drainer = {
        let handle = handle.clone();
        tokio::spawn(async move { handle.drain(BOUND).await })
    };
    // Once the first job is done, the drain is taken before the next job
    // (the system channel goes first): when job 1 starts, the mailbox is
    // closed.
    gate.add_permits(1);
    assert_eq!(next(&mut seen).await, 1);
    assert!(handle.is_alive());
    assert!(matches!(
        handle.notify(Job(99)).await,
        Err(SendError::Closed(Job(99)))
    ));
    assert!(matches!(
        handle.try_notify(Job(98)),
        Err(SendError::Closed(Job(98)))
    ));
    assert!(matches!(
        handle.send(Count).await,
        Err(RequestError::Gone { reason: None })
    ));

    // Everything that was queued is handled, in order, then it stops.
    gate.add_permits(5);
    for i in 2..6 {
        assert_eq!(next(&mut seen).await, i);
    }
    timeout(BOUND, drainer)
        .await
        .expect("in time")
        .expect("no panic")
        .expect("drained");
    assert_eq!(stopped.await, Ok(6), "on_stopped after all six jobs");
    assert_eq!(handle.exit_reason(), Some(ExitReason::Normal));
    assert!(seen.try_recv().is_err(), "the refused jobs never ran");
}

#[tokio::test(start_paused = true)]
async fn drain_past_its_deadline_escalates_to_shutdown() {
    let (actor, gate, mut seen, stopped) = gated();
    let handle = actor.spawn().await.unwrap();
    for i in 0..10 {
        handle.notify(Job(i)).await.unwrap();
    }
    assert_eq!(next(&mut seen).await, 0);
    let drainer = {
        let handle = handle.clone();
        tokio::spawn(async move { handle.drain(Duration::from_millis(100)).await })
    };
    gate.add_permits(1);
    assert_eq!(next(&mut seen).await, 1);
    // Job 1 is stuck past the deadline: the drain escalates to a shutdown,
    // which takes effect once job 1 returns; the rest is not handled.
    tokio::time::sleep(Duration::from_millis(150)).await;
    gate.add_permits(1);
    timeout(BOUND, drainer)
        .await
        .expect("in time")
        .expect("no panic")
        .expect("stopped");
    assert_eq!(stopped.await, Ok(2));
    assert_eq!(handle.exit_reason(), Some(ExitReason::Shutdown));
}

#[tokio::test(start_paused = true)]
async fn a_drain_stuck_in_a_handler_ends_in_a_kill() {
    let (actor, _gate, mut seen, stopped) = gated();
    let handle = actor.spawn().await.unwrap();
    handle.notify(Job(0)).await.unwrap();
    assert_eq!(next(&mut seen).await, 0);
    // Job 0 never returns: drain, then shutdown, both time out; the kill
    // ends it without `on_stopped`.
    timeout(
        Duration::from_secs(60),
        handle.drain(Duration::from_millis(100)),
    )
    .await
    .expect("in time")
    .expect("killed");
    assert_eq!(handle.exit_reason(), Some(ExitReason::Killed));
    assert!(stopped.await.is_err(), "no on_stopped after a kill");
}

#[tokio::test]
async fn stop_with_drain_is_a_drain_and_a_supervisor_sees_a_normal_exit() {
    let system = ActorSystem::create("drain-supervised").unwrap();
    let (ev_tx, mut ev) = mpsc::unbounded_channel();
    let (actor, gate, mut seen, _stopped) = gated();
    let slot = std::sync::Mutex::new(Some(actor));
    let root = Supervisor::new("root")
        .with_config(SupervisorConfig::one_for_one().observe(ev_tx))
        .with_worker(
            troupe::supervision::ChildSpec::actor("gated", move || {
                slot.lock().unwrap().take().expect("started once")
            })
            .restart(troupe::supervision::RestartType::Transient),
        )
        .spawn(&system)
        .await
        .unwrap();
    let handle = system.get::<Gated>("gated").expect("running");
    for i in 0..3 {
        handle.notify(Job(i)).await.unwrap();
    }
    gate.add_permits(3);
    timeout(BOUND, handle.stop(StopReason::Drain))
        .await
        .expect("in time")
        .expect("drained");
    for i in 0..3 {
        assert_eq!(next(&mut seen).await, i);
    }
    // The supervisor sees a normal exit...
    let reason = loop {
        let event = timeout(BOUND, ev.recv())
            .await
            .expect("in time")
            .expect("open");
        if let SupervisionEvent::Exited { name, reason, .. } = event {
            assert_eq!(name, "gated");
            break reason;
        }
    };
    assert_eq!(reason, ExitReason::Normal);
    // ...and does not restart a transient child after it (it answers this
    // request after it has acted on the exit).
    let children = root.children().await.unwrap();
    assert!(
        children.iter().all(|c| !c.alive && c.restarts == 0),
        "{children:?}"
    );
    timeout(BOUND, system.shutdown()).await.expect("in time");
}
