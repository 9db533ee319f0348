//! The test kit on the seed's counter group, under a paused clock: the
//! proxy's send, request, recv, try_recv and sync, `assert_msg!`, dead
//! letters, supervision events and injected faults.

use std::time::{Duration, Instant};

use troupe::prelude::*;
use troupe::supervision::SupervisionEvent;
use troupe::testkit::{Fault, Proxy, ProxyError, TimedOut};
use troupe::{assert_msg, DeadLetterReason};

#[message]
struct Increment {
    delta: u32,
}

#[message(ret = u32)]
struct GetValue;

/// Sent out when the value reaches 10.
#[message]
struct Reached {
    value: u32,
}

/// Handled slowly (a second of Tokio time), then `Done` is sent out.
#[message]
struct Slow;

#[message]
struct Done;

#[message]
#[derive(Clone)]
struct Tick;

#[message]
struct Unknown;

/// The seed's counter, which also tells its peers when it reaches 10,
/// handles `Slow` slowly and reports its value every minute.
fn counter() -> Schema {
    ActorGroup::new().exec(|mut ctx| async move {
        let mut value = 0;
        let _ = ctx.schedule(Tick).every(Duration::from_secs(60)).start();
        while let Some(envelope) = ctx.recv().await {
            msg!(match envelope {
                Increment { delta } => {
                    value += delta;
                    if value >= 10 {
                        let _ = ctx.send(Reached { value }).await;
                    }
                }
                (GetValue, token) => {
                    ctx.respond(token, value);
                }
                Slow => {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    let _ = ctx.send(Done).await;
                }
                Tick => {
                    let _ = ctx.send(Reached { value }).await;
                }
            })
        }
    })
}

#[tokio::test(start_paused = true)]
async fn send_and_request_reach_the_group() {
    let proxy = Proxy::start(counter()).await.unwrap();
    proxy.send(Increment { delta: 3 }).await.unwrap();
    proxy.send(Increment { delta: 4 }).await.unwrap();
    assert_eq!(proxy.request(GetValue).await, Ok(7));
    proxy.finish().await;
}

#[tokio::test(start_paused = true)]
async fn recv_gets_what_the_group_sends_out() {
    let mut proxy = Proxy::start(counter()).await.unwrap();
    proxy.send(Increment { delta: 12 }).await.unwrap();
    let envelope = proxy.recv().await;
    assert_eq!(envelope.message_name(), "troupe::Reached");
    assert_msg!(envelope, Reached { value: 12 });
    proxy.finish().await;
}

#[tokio::test(start_paused = true)]
async fn sync_waits_until_everything_sent_is_handled() {
    let mut proxy = Proxy::start(counter()).await.unwrap();
    proxy.send(Slow).await.unwrap();
    // The handler sleeps a second of Tokio time: nothing is out yet.
    assert!(proxy.try_recv().is_none());
    proxy.sync().await.unwrap();
    assert_msg!(proxy.try_recv().expect("Done is out after sync"), Done);

    // And after sync, an empty `try_recv` means nothing came out.
    proxy.send(Increment { delta: 1 }).await.unwrap();
    proxy.sync().await.unwrap();
    assert!(proxy.try_recv().is_none());
    proxy.finish().await;
}

#[tokio::test(start_paused = true)]
async fn recv_is_bounded_in_real_time_under_a_paused_clock() {
    let mut proxy = Proxy::start(
        ActorGroup::new().exec(|mut ctx| async move { while ctx.recv().await.is_some() {} }),
    )
    .await
    .unwrap();
    let started = Instant::now();
    let limit = Duration::from_millis(200);
    assert_eq!(
        proxy.recv_within(limit).await.map(|_| ()),
        Err(ProxyError::TimedOut(TimedOut(limit)))
    );
    assert!(started.elapsed() >= limit, "real time passed");
    proxy.finish().await;
}

#[tokio::test(start_paused = true)]
async fn the_paused_clock_reaches_the_groups_timers() {
    let mut proxy = Proxy::start(counter()).await.unwrap();
    proxy.send(Increment { delta: 2 }).await.unwrap();
    let tokio_start = tokio::time::Instant::now();
    let real_start = Instant::now();
    assert_msg!(proxy.recv().await, Reached { value: 2 });
    assert!(tokio_start.elapsed() >= Duration::from_secs(60));
    assert!(real_start.elapsed() < Duration::from_secs(5));
    proxy.finish().await;
}

#[tokio::test(start_paused = true)]
#[should_panic(expected = "expected a message matching `Reached { value: 1 }`")]
async fn assert_msg_fails_on_a_mismatch() {
    let mut proxy = Proxy::start(counter()).await.unwrap();
    proxy.send(Increment { delta: 10 }).await.unwrap();
    assert_msg!(proxy.recv().await, Reached { value: 1 });
}

#[tokio::test(start_paused = true)]
#[should_panic(expected = "the proxy expected a message")]
async fn recv_fails_the_test_when_nothing_comes() {
    let mut proxy = Proxy::start(
        ActorGroup::new().exec(|mut ctx| async move { while ctx.recv().await.is_some() {} }),
    )
    .await
    .unwrap()
    .with_timeout(Duration::from_millis(50));
    proxy.send(Increment { delta: 1 }).await.unwrap();
    let _ = proxy.recv().await;
}

#[tokio::test(start_paused = true)]
async fn dead_letters_are_reported_to_subscribers() {
    let proxy = Proxy::start(counter()).await.unwrap();
    let mut dead = proxy.dead_letters();
    proxy.send(Unknown).await.unwrap();
    let letter = dead.recv().await;
    assert_eq!(letter.reason, DeadLetterReason::Unhandled);
    assert_eq!(letter.message, "troupe::Unknown");
    assert_eq!(letter.sender, proxy.addr());
    assert!(dead.try_recv().is_none());
    proxy.finish().await;
}

#[tokio::test(start_paused = true)]
async fn an_injected_panic_fails_the_actor_and_its_group_restarts_it() {
    let proxy = Proxy::start(counter()).await.unwrap();
    let mut events = proxy.supervision_events();
    proxy.send(Increment { delta: 5 }).await.unwrap();
    proxy.sync().await.unwrap();
    let addr = proxy.inject("_", Fault::Panic("injected".into())).unwrap();
    proxy.send(Increment { delta: 1 }).await.unwrap();
    let exited = events
        .find(|e| matches!(e, SupervisionEvent::Exited { .. }))
        .await
        .unwrap();
    let SupervisionEvent::Exited { reason, .. } = exited else {
        unreachable!()
    };
    assert_eq!(reason, ExitReason::Failed("panic: injected".into()));
    let started = events
        .find(|e| matches!(e, SupervisionEvent::Started { .. }))
        .await
        .unwrap();
    assert!(
        matches!(started, SupervisionEvent::Started { restart: true, addr: a, .. } if a == addr)
    );
    // A new incarnation: its state starts afresh.
    assert_eq!(proxy.request(GetValue).await, Ok(0));
    proxy.finish().await;
}

#[tokio::test(start_paused = true)]
async fn an_injected_stall_holds_the_next_handling() {
    let proxy = Proxy::start(counter()).await.unwrap();
    proxy.inject("_", Fault::Stall(Some(Duration::from_secs(30))));
    proxy.send(Increment { delta: 1 }).await.unwrap();
    // The request's deadline (5 s) passes during the stall.
    assert!(matches!(
        proxy.request(GetValue).await,
        Err(RequestError::Timeout(_))
    ));
    // After the stall the actor goes on: the increment was handled.
    tokio::time::sleep(Duration::from_secs(30)).await;
    assert_eq!(proxy.request(GetValue).await, Ok(1));
    proxy.finish().await;
}

// A struct actor under the proxy.

#[derive(Default)]
struct Store(u32);

impl Actor for Store {
    troupe::handles!(Increment, GetValue);
}

impl Handler<Increment> for Store {
    async fn handle(&mut self, msg: Increment, _: &mut ActorContext<Self>) -> HandlerResult {
        self.0 += msg.delta;
        Ok(())
    }
}

impl Handler<GetValue> for Store {
    async fn handle(&mut self, _: GetValue, _: &mut ActorContext<Self>) -> HandlerResult<u32> {
        Ok(self.0)
    }
}

#[tokio::test(start_paused = true)]
async fn a_struct_actor_under_the_proxy() {
    let mut proxy = Proxy::actor(Store::default).await.unwrap();
    let mut dead = proxy.dead_letters();
    proxy.send(Increment { delta: 2 }).await.unwrap();
    proxy.sync().await.unwrap();
    assert!(proxy.try_recv().is_none());
    assert_eq!(proxy.request(GetValue).await, Ok(2));
    proxy.send(Unknown).await.unwrap();
    assert_eq!(dead.recv().await.reason, DeadLetterReason::Unhandled);

    let mut events = proxy.supervision_events();
    proxy.inject("_", Fault::Panic("struct".into()));
    assert!(proxy.request(GetValue).await.is_err());
    let exited = events
        .find(|e| matches!(e, SupervisionEvent::Exited { .. }))
        .await
        .unwrap();
    assert!(
        // As a handler's panic on a request: the actor fails with it.
        matches!(&exited, SupervisionEvent::Exited { reason: ExitReason::Failed(r), .. } if r == "troupe::GetValue: panic: struct"),
        "{exited:?}"
    );
    assert_eq!(proxy.request(GetValue).await, Ok(0), "restarted afresh");
    proxy.finish().await;
}
