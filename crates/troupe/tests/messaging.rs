//! Notify, try_notify, requests and their errors, handle identity.

mod common;

use std::collections::HashSet;
use std::pin::pin;
use std::time::Duration;

use common::*;
use troupe::prelude::*;
use troupe::{ActorConfig, OverflowPolicy, RequestError, SendError};

#[tokio::test]
async fn notify_then_request_sees_the_effect() {
    let (probe, mut events, _) = Probe::new();
    let h = probe.spawn().await.unwrap();
    assert_eq!(next(&mut events).await, Event::Started);
    h.notify(Push(2)).await.unwrap();
    h.notify(Push(3)).await.unwrap();
    assert_eq!(h.send(Get).await, Ok(5));
    assert_eq!(next(&mut events).await, Event::Handled(2));
    assert_eq!(next(&mut events).await, Event::Handled(3));
}

#[tokio::test]
async fn handles_compare_and_hash_by_actor_id() {
    let (a, _e1, _) = Probe::new();
    let (b, _e2, _) = Probe::new();
    let a = a.spawn().await.unwrap();
    let b = b.spawn().await.unwrap();
    let a2 = a.clone();
    assert_eq!(a, a2);
    assert_ne!(a, b);
    assert_eq!(a.id(), a2.id());
    // Hash and equality use only the (immutable) actor id, whatever clippy's
    // interior-mutability heuristic says about the handle's shared state.
    #[allow(clippy::mutable_key_type)]
    let set: HashSet<_> = [a.clone(), a2, b.clone()].into_iter().collect();
    assert_eq!(set.len(), 2);
    assert_eq!(a.addr().node(), troupe::NodeNo(0));
}

async fn blocked_probe(
    capacity: usize,
    policy: OverflowPolicy,
) -> (
    ActorRef<Probe>,
    tokio::sync::mpsc::UnboundedReceiver<Event>,
    std::sync::Arc<tokio::sync::Semaphore>,
) {
    let (probe, mut events, gate) = Probe::new();
    let config = ActorConfig::default()
        .with_mailbox_capacity(capacity)
        .with_overflow(policy);
    let h = probe.spawn().with_config(config).await.unwrap();
    assert_eq!(next(&mut events).await, Event::Started);
    h.notify(Block).await.unwrap();
    assert_eq!(next(&mut events).await, Event::Blocked);
    (h, events, gate)
}

#[tokio::test]
async fn full_mailbox_blocks_notify_fails_try_notify_and_status_still_answers() {
    let (h, mut events, gate) = blocked_probe(2, OverflowPolicy::Wait).await;
    h.notify(Push(1)).await.unwrap();
    h.notify(Push(2)).await.unwrap();
    assert_eq!(h.mailbox_len(), 2);
    assert_eq!(h.mailbox_available(), 0);
    assert_eq!(h.mailbox_capacity(), 2);

    // notify waits for space.
    let mut waiting = pin!(h.notify(Push(3)));
    assert!(is_pending(waiting.as_mut()));
    // try_notify fails at once and hands the message back.
    match h.try_notify(Push(4)) {
        Err(SendError::Full(Push(4))) => {}
        other => panic!("expected Full, got {other:?}"),
    }
    // The status request travels on the system channel: once the blocked
    // handler returns, it is answered before the two queued messages.
    let status = h.get_status();
    gate.add_permits(1);
    let status = status.await.unwrap();
    assert_eq!(
        status.processed, 1,
        "only the blocking message ran before the status"
    );
    assert_eq!(status.mailbox_len, 2);
    waiting.await.unwrap();
    assert_eq!(h.send(Get).await, Ok(6));
    for expected in [1, 2, 3] {
        assert_eq!(next(&mut events).await, Event::Handled(expected));
    }
}

#[tokio::test]
async fn stop_works_on_a_full_mailbox_and_queued_messages_become_dead_letters() {
    let system = ActorSystem::create("stop-full").unwrap();
    let mut dead = system.dead_letters();
    let (probe, mut events, gate) = Probe::new();
    let h = probe
        .spawn()
        .on_system(&system)
        .with_config(ActorConfig::default().with_mailbox_capacity(2))
        .await
        .unwrap();
    assert_eq!(next(&mut events).await, Event::Started);
    h.notify(Block).await.unwrap();
    assert_eq!(next(&mut events).await, Event::Blocked);
    h.notify(Push(1)).await.unwrap();
    let h2 = h.clone();
    let queued_request = tokio::spawn(async move { h2.send(Get).await });
    // Wait until the request is queued (the mailbox reports it).
    while h.mailbox_len() < 2 {
        tokio::task::yield_now().await;
    }
    let mut blocked_sender = pin!(h.notify(Push(9)));
    assert!(is_pending(blocked_sender.as_mut()));

    let stop = h.stop(StopReason::Shutdown);
    gate.add_permits(1);
    stop.await.unwrap();
    assert!(!h.is_alive());
    assert_eq!(h.exit_reason(), Some(ExitReason::Shutdown));
    assert_eq!(
        next(&mut events).await,
        Event::Stopped(ExitReason::Shutdown)
    );
    // The queued request resolves, the waiting sender gets its message back.
    assert_eq!(
        queued_request.await.unwrap(),
        Err(RequestError::gone_with(ExitReason::Shutdown))
    );
    assert!(matches!(
        blocked_sender.await,
        Err(SendError::Closed(Push(9)))
    ));
    let first = dead.recv().await.unwrap();
    assert_eq!(first.message, "troupe::Push");
    assert_eq!(first.reason, troupe::DeadLetterReason::ActorStopped);
    assert_eq!(first.recipient, h.addr());
    assert_eq!(
        dead.recv().await.unwrap().message,
        "common::Get".replace("common", "troupe")
    );
    assert_eq!(system.dead_letter_count(), 2);
    // A stopped actor refuses new messages with Closed.
    assert!(matches!(h.try_notify(Push(1)), Err(SendError::Closed(_))));
    assert!(matches!(h.notify(Push(1)).await, Err(SendError::Closed(_))));
    assert_eq!(
        h.send(Get).await,
        Err(RequestError::gone_with(ExitReason::Shutdown))
    );
    assert_eq!(
        h.get_status().await.err(),
        Some(RequestError::gone_with(ExitReason::Shutdown))
    );
}

#[tokio::test]
async fn fail_fast_policy_refuses_at_once() {
    let (h, mut events, gate) = blocked_probe(1, OverflowPolicy::FailFast).await;
    h.notify(Push(1)).await.unwrap();
    assert!(matches!(
        h.notify(Push(2)).await,
        Err(SendError::Full(Push(2)))
    ));
    assert_eq!(h.send(Get).await, Err(RequestError::Full));
    gate.add_permits(1);
    assert_eq!(next(&mut events).await, Event::Handled(1));
    assert_eq!(h.send(Get).await, Ok(1));
}

#[tokio::test]
async fn drop_newest_drops_the_incoming_message_and_counts_it() {
    let system = ActorSystem::create("drop-newest").unwrap();
    let mut dead = system.dead_letters();
    let (probe, mut events, gate) = Probe::new();
    let config = ActorConfig::default()
        .with_mailbox_capacity(2)
        .with_overflow(OverflowPolicy::DropNewest);
    let h = probe
        .spawn()
        .on_system(&system)
        .with_config(config)
        .await
        .unwrap();
    assert_eq!(next(&mut events).await, Event::Started);
    h.notify(Block).await.unwrap();
    assert_eq!(next(&mut events).await, Event::Blocked);
    for i in 1..=4 {
        h.notify(Push(i)).await.unwrap();
    }
    assert_eq!(h.mailbox_dropped(), 2);
    assert_eq!(
        dead.recv().await.unwrap().reason,
        troupe::DeadLetterReason::Overflow
    );
    gate.add_permits(1);
    assert_eq!(next(&mut events).await, Event::Handled(1));
    assert_eq!(next(&mut events).await, Event::Handled(2));
    assert_eq!(h.send(Get).await, Ok(1 + 2));
    assert_eq!(h.get_status().await.unwrap().dropped, 2);
}

#[tokio::test]
async fn drop_oldest_evicts_the_oldest_and_fails_an_evicted_request() {
    let (h, mut events, gate) = blocked_probe(2, OverflowPolicy::DropOldest).await;
    let h2 = h.clone();
    let evicted_request = tokio::spawn(async move { h2.send(Get).await });
    while h.mailbox_len() < 1 {
        tokio::task::yield_now().await;
    }
    for i in 1..=3 {
        h.notify(Push(i)).await.unwrap();
    }
    // Queue was [Get, 1] then [1, 2] then [2, 3].
    assert_eq!(evicted_request.await.unwrap(), Err(RequestError::Full));
    assert_eq!(h.mailbox_dropped(), 2);
    gate.add_permits(1);
    assert_eq!(next(&mut events).await, Event::Handled(2));
    assert_eq!(next(&mut events).await, Event::Handled(3));
    assert_eq!(h.send(Get).await, Ok(5));
}

#[tokio::test(start_paused = true)]
async fn request_timeout_per_call_and_per_actor_default() {
    let (probe, _events, gate) = Probe::new();
    let config = ActorConfig::default().with_request_timeout(Some(Duration::from_millis(200)));
    let h = probe.spawn().with_config(config).await.unwrap();
    let started = tokio::time::Instant::now();
    assert_eq!(
        h.send_timeout(GetBlocked, Some(Duration::from_millis(50)))
            .await,
        Err(RequestError::Timeout(Duration::from_millis(50)))
    );
    assert_eq!(started.elapsed(), Duration::from_millis(50));
    // The actor is still blocked on the first request; the default applies.
    assert_eq!(
        h.send(Get).await,
        Err(RequestError::Timeout(Duration::from_millis(200)))
    );
    gate.add_permits(1);
    assert_eq!(h.send_timeout(Get, None).await, Ok(0));
}

#[tokio::test]
async fn failed_notify_goes_to_handle_failure_and_the_actor_goes_on() {
    let (probe, mut events, _) = Probe::new();
    let h = probe.spawn().await.unwrap();
    assert_eq!(next(&mut events).await, Event::Started);
    h.notify(Fail("bad input")).await.unwrap();
    assert_eq!(
        next(&mut events).await,
        Event::Failure("troupe::Fail: error: bad input".into())
    );
    h.notify(Panic).await.unwrap();
    assert_eq!(
        next(&mut events).await,
        Event::Failure("troupe::Panic: panic: boom".into())
    );
    assert_eq!(h.send(Get).await, Ok(0));
    assert_eq!(h.get_status().await.unwrap().failures, 2);
    assert!(h.is_alive());
}

#[tokio::test]
async fn failed_request_answers_failed_and_stops_the_actor() {
    let (probe, mut events, _) = Probe::new();
    let h = probe.spawn().await.unwrap();
    assert_eq!(next(&mut events).await, Event::Started);
    assert_eq!(
        h.send(GetFail).await,
        Err(RequestError::Failed("no value".into()))
    );
    let reason = h.wait_for_exit().await;
    assert_eq!(
        reason,
        ExitReason::Failed("troupe::GetFail: no value".into())
    );
    assert_eq!(next(&mut events).await, Event::Stopped(reason));
}

#[tokio::test]
async fn panicking_request_answers_failed_stops_the_actor_not_the_system() {
    let system = ActorSystem::create("panic-request").unwrap();
    let (probe, _events, _) = Probe::new();
    let (other, _e2, _) = Probe::new();
    let h = probe.spawn().on_system(&system).await.unwrap();
    let bystander = other.spawn().on_system(&system).await.unwrap();
    match h.send(GetPanic).await {
        // The caller learns why: the panic's own message.
        Err(RequestError::Failed(msg)) => assert!(
            msg.contains("panicked") && msg.contains("request boom"),
            "{msg}"
        ),
        other => panic!("expected Failed, got {other:?}"),
    }
    assert!(matches!(h.wait_for_exit().await, ExitReason::Failed(m) if m.contains("request boom")));
    assert_eq!(bystander.send(Get).await, Ok(0));
    assert_eq!(system.process_count(), 1);
}

#[tokio::test]
async fn no_request_hangs_when_its_actor_is_killed() {
    let (probe, mut events, _gate) = Probe::new();
    let h = probe.spawn().await.unwrap();
    assert_eq!(next(&mut events).await, Event::Started);
    let h2 = h.clone();
    let in_flight = tokio::spawn(async move { h2.send_timeout(GetBlocked, None).await });
    let h3 = h.clone();
    let queued = tokio::spawn(async move { h3.send_timeout(Get, None).await });
    while h.mailbox_len() < 1 {
        tokio::task::yield_now().await;
    }
    h.kill().await.unwrap();
    assert_eq!(h.exit_reason(), Some(ExitReason::Killed));
    assert!(in_flight.await.unwrap().is_err());
    assert_eq!(
        queued.await.unwrap(),
        Err(RequestError::gone_with(ExitReason::Killed))
    );
}

#[tokio::test]
async fn ready_helper_sees_try_notify_on_a_live_actor() {
    let (probe, _events, _) = Probe::new();
    let h = probe.spawn().await.unwrap();
    ready(async { h.try_notify(Push(1)) }).unwrap();
    assert_eq!(h.send(Get).await, Ok(1));
}
