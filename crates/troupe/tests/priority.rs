//! The priority lane: priority messages overtake queued ordinary ones but
//! not a stop; the lane has its own bound; a priority request is answered
//! ahead of the queue; leftovers are dead letters like any message.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::Poll;

use parking_lot::Mutex;
use tokio::sync::Semaphore;
use troupe::defaults::PRIORITY_CAPACITY;
use troupe::prelude::*;
use troupe::DeadLetterReason;

#[message]
struct Stall;
#[message]
struct Work(u32);
#[message]
struct Urgent(u32);
#[message(ret = Vec<String>)]
struct Log;

struct Worker {
    gate: Arc<Semaphore>,
    log: Arc<Mutex<Vec<String>>>,
}

impl Actor for Worker {}

impl Handler<Stall> for Worker {
    async fn handle(&mut self, _: Stall, _: &mut ActorContext<Self>) -> HandlerResult {
        self.gate
            .acquire()
            .await
            .map_err(|e| e.to_string())?
            .forget();
        self.log.lock().push("stall".into());
        Ok(())
    }
}

impl Handler<Work> for Worker {
    async fn handle(&mut self, msg: Work, _: &mut ActorContext<Self>) -> HandlerResult {
        self.log.lock().push(format!("work {}", msg.0));
        Ok(())
    }
}

impl Handler<Urgent> for Worker {
    async fn handle(&mut self, msg: Urgent, _: &mut ActorContext<Self>) -> HandlerResult {
        self.log.lock().push(format!("urgent {}", msg.0));
        Ok(())
    }
}

impl Handler<Log> for Worker {
    async fn handle(&mut self, _: Log, _: &mut ActorContext<Self>) -> HandlerResult<Vec<String>> {
        Ok(self.log.lock().clone())
    }
}

/// A worker stalled in its handler (it took `Stall`), with its gate.
async fn stalled(
    system: &ActorSystem,
) -> (ActorRef<Worker>, Arc<Semaphore>, Arc<Mutex<Vec<String>>>) {
    let gate = Arc::new(Semaphore::new(0));
    let log = Arc::new(Mutex::new(Vec::new()));
    let worker = Worker {
        gate: gate.clone(),
        log: log.clone(),
    }
    .spawn()
    .on_system(system)
    .await
    .unwrap();
    worker.notify(Stall).await.unwrap();
    // Taken: the mailbox is empty once the handler waits at its gate.
    while worker.mailbox_len() > 0 {
        tokio::task::yield_now().await;
    }
    (worker, gate, log)
}

#[tokio::test]
async fn priority_messages_overtake_the_queue_in_their_own_order() {
    let system = ActorSystem::create("priority-order").unwrap();
    let (worker, gate, _) = stalled(&system).await;
    worker.notify(Work(1)).await.unwrap();
    worker.notify(Work(2)).await.unwrap();
    worker.notify_priority(Urgent(1)).unwrap();
    worker.notify_priority(Urgent(2)).unwrap();
    assert_eq!(worker.mailbox_len(), 4);
    gate.add_permits(1);
    assert_eq!(
        worker.send(Log).await.unwrap(),
        ["stall", "urgent 1", "urgent 2", "work 1", "work 2"]
    );
    system.shutdown().await;
}

#[tokio::test]
async fn a_priority_request_is_answered_ahead_of_the_queue() {
    let system = ActorSystem::create("priority-request").unwrap();
    let (worker, gate, _) = stalled(&system).await;
    worker.notify(Work(1)).await.unwrap();
    let asked = tokio::spawn({
        let worker = worker.clone();
        async move { worker.send_priority(Log).await }
    });
    while worker.mailbox_len() < 2 {
        tokio::task::yield_now().await;
    }
    gate.add_permits(1);
    assert_eq!(asked.await.unwrap().unwrap(), ["stall"], "before work 1");
    system.shutdown().await;
}

#[tokio::test]
async fn priority_messages_do_not_overtake_a_stop_and_become_dead_letters() {
    let system = ActorSystem::create("priority-stop").unwrap();
    let (worker, gate, log) = stalled(&system).await;
    let mut dead = system.dead_letters();
    worker.notify(Work(1)).await.unwrap();
    // The stop is queued (its first poll pushes it on the system channel)
    // before the priority message.
    let mut stop = pin!(worker.stop(StopReason::Graceful));
    let first = std::future::poll_fn(|cx| Poll::Ready(stop.as_mut().poll(cx))).await;
    assert!(first.is_pending());
    worker.notify_priority(Urgent(1)).unwrap();
    gate.add_permits(1);
    stop.await.unwrap();
    assert_eq!(*log.lock(), ["stall"], "the stop came first");
    let mut letters = [dead.recv().await.unwrap(), dead.recv().await.unwrap()];
    letters.sort_by_key(|l| l.message);
    assert!(letters
        .iter()
        .all(|l| l.reason == DeadLetterReason::ActorStopped));
    let names: Vec<_> = letters.iter().map(|l| l.message).collect();
    let mut expected = vec![<Urgent as Message>::NAME, <Work as Message>::NAME];
    expected.sort();
    assert_eq!(names, expected);
    system.shutdown().await;
}

#[tokio::test]
async fn the_priority_lane_has_its_own_bound() {
    let system = ActorSystem::create("priority-bound").unwrap();
    let (worker, gate, _) = stalled(&system).await;
    for i in 0..PRIORITY_CAPACITY {
        worker.notify_priority(Urgent(i as u32)).unwrap();
    }
    match worker.notify_priority(Urgent(99)) {
        Err(SendError::Full(Urgent(99))) => {}
        other => panic!("expected Full, got {other:?}"),
    }
    assert!(matches!(
        worker.send_priority(Log).await,
        Err(RequestError::Full)
    ));
    // The ordinary queue is not affected.
    worker.try_notify(Work(1)).unwrap();
    gate.add_permits(1);
    system.shutdown().await;
}
