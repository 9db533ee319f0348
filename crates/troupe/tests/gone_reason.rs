//! `RequestError::Gone` carries the exit reason of the process when it is
//! known: a request sent to an ended actor, one queued when it ended, one
//! whose handler was killed, a status asked of an ended actor.

mod supervision_common;

use std::sync::Arc;

use supervision_common::{system, BOUND};
use tokio::sync::{mpsc, Semaphore};
use tokio::time::timeout;
use troupe::prelude::*;
use troupe::RequestError;

struct Slow {
    entered: mpsc::UnboundedSender<()>,
    gate: Arc<Semaphore>,
}

impl Actor for Slow {}

/// Waits at the gate, then fails if asked to.
#[message(ret = ())]
struct Wait {
    fail: bool,
}

#[message(ret = u32)]
struct Ping;

impl Handler<Wait> for Slow {
    async fn handle(&mut self, msg: Wait, _: &mut ActorContext<Self>) -> HandlerResult<()> {
        let _ = self.entered.send(());
        let _permit = self.gate.acquire().await;
        if msg.fail {
            return Err("no luck".into());
        }
        Ok(())
    }
}

impl Handler<Ping> for Slow {
    async fn handle(&mut self, _: Ping, _: &mut ActorContext<Self>) -> HandlerResult<u32> {
        Ok(1)
    }
}

async fn slow(sys: &ActorSystem) -> (ActorRef<Slow>, mpsc::UnboundedReceiver<()>, Arc<Semaphore>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let gate = Arc::new(Semaphore::new(0));
    let h = Slow {
        entered: tx,
        gate: gate.clone(),
    }
    .spawn()
    .on_system(sys)
    .await
    .unwrap();
    (h, rx, gate)
}

#[tokio::test(start_paused = true)]
async fn a_request_to_an_ended_actor_says_how_it_ended() {
    let sys = system("gone-ended");
    let (h, _entered, _gate) = slow(&sys).await;
    h.stop(StopReason::Shutdown).await.unwrap();
    let err = h.send(Ping).await.unwrap_err();
    assert_eq!(err, RequestError::gone_with(ExitReason::Shutdown));
    assert_eq!(err.exit_reason(), Some(&ExitReason::Shutdown));
    assert!(err.is_gone());
    assert_eq!(err.to_string(), "the actor is gone (it exited: shutdown)");
    assert_eq!(
        h.get_status().await.unwrap_err(),
        RequestError::gone_with(ExitReason::Shutdown)
    );
    // Through a typed recipient too.
    let ping: Recipient<Ping> = h.recipient();
    assert_eq!(
        ping.send(Ping).await,
        Err(RequestError::gone_with(ExitReason::Shutdown))
    );
}

#[tokio::test(start_paused = true)]
async fn a_request_queued_when_its_actor_failed_carries_the_failure() {
    let sys = system("gone-failed");
    let (h, mut entered, gate) = slow(&sys).await;
    let failing = tokio::spawn({
        let h = h.clone();
        async move { h.send(Wait { fail: true }).await }
    });
    timeout(BOUND, entered.recv()).await.unwrap().unwrap();
    let queued = tokio::spawn({
        let h = h.clone();
        async move { h.send(Ping).await }
    });
    while h.mailbox_len() < 1 {
        tokio::task::yield_now().await;
    }
    gate.add_permits(1);
    let reason = timeout(BOUND, h.wait_for_exit()).await.unwrap();
    assert!(matches!(&reason, ExitReason::Failed(e) if e.contains("no luck")));
    assert!(matches!(
        failing.await.unwrap(),
        Err(RequestError::Failed(_))
    ));
    assert_eq!(queued.await.unwrap(), Err(RequestError::gone_with(reason)));
}

#[tokio::test(start_paused = true)]
async fn a_request_whose_handler_was_killed_says_killed() {
    let sys = system("gone-killed");
    let (h, mut entered, _gate) = slow(&sys).await;
    let waiting = tokio::spawn({
        let h = h.clone();
        async move { h.send(Wait { fail: false }).await }
    });
    timeout(BOUND, entered.recv()).await.unwrap().unwrap();
    h.kill().await.unwrap();
    let err = waiting.await.unwrap().unwrap_err();
    assert_eq!(err, RequestError::gone_with(ExitReason::Killed));
}

#[tokio::test(start_paused = true)]
async fn an_unknown_reason_is_none() {
    // Gone with nobody to ask: a process that never existed here.
    let sys = system("gone-unknown");
    let (h, _entered, _gate) = slow(&sys).await;
    h.stop(StopReason::Graceful).await.unwrap();
    let err = RequestError::gone();
    assert_eq!(err.exit_reason(), None);
    assert_eq!(err.to_string(), "the actor is gone");
    assert!(matches!(err, RequestError::Gone { reason: None }));
    assert_eq!(
        h.send(Ping).await,
        Err(RequestError::gone_with(ExitReason::Normal))
    );
}
