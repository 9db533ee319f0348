//! Stopping one group actor, as elfo's termination tests drive it (a
//! proxy of the test kit, a paused clock): `Terminate` under the closing
//! and the manual policy, by a stop or as a message, the bounded shutdown
//! of an actor that ignores it, and `GroupRef::stop_actor`.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use troupe::prelude::*;
use troupe::supervision::SupervisionEvent;
use troupe::testkit::Proxy;
use troupe::{assert_msg, StopActorError};

/// The actor says `Holding`, then waits for the gate before it goes on.
#[message]
struct Hold;

#[message]
struct Holding;

#[message]
#[derive(Debug, PartialEq)]
struct Item(u32);

#[message]
#[derive(Debug, PartialEq)]
struct Seen(u32);

/// Sent once the actor's receive loop has ended, as it returns.
#[message]
struct BeforeExit;

/// Sent by a manual actor when `recv` hands it a `Terminate`.
#[message]
struct Terminating;

/// Sent if the actor is handed what it should not see.
#[message]
struct Unexpected;

/// Item 99 makes a manual actor return.
const LAST: u32 = 99;

fn actor(policy: TerminationPolicy, gate: Arc<Notify>) -> Schema {
    ActorGroup::new()
        .termination_policy(policy)
        .exec(move |mut ctx| {
            let gate = gate.clone();
            async move {
                while let Some(envelope) = ctx.recv().await {
                    msg!(match envelope {
                        Hold => {
                            let _ = ctx.send(Holding).await;
                            gate.notified().await;
                        }
                        Item(n) => {
                            let _ = ctx.send(Seen(n)).await;
                            if n == LAST {
                                return;
                            }
                        }
                        Terminate => {
                            let _ = ctx.send(Terminating).await;
                        }
                        _ => {
                            let _ = ctx.send(Unexpected).await;
                        }
                    })
                }
                let _ = ctx.send(BeforeExit).await;
            }
        })
}

async fn expect_seen(proxy: &mut Proxy, n: u32) {
    let got = proxy.recv().await.downcast::<Seen>().ok();
    assert_eq!(got, Some(Seen(n)));
}

#[tokio::test(start_paused = true)]
async fn closing_policy_drains_then_exits() {
    let gate = Arc::new(Notify::new());
    let mut proxy = Proxy::start(actor(TerminationPolicy::closing(), gate.clone()))
        .await
        .unwrap();
    let group = proxy.system().group("subject").unwrap();
    let addr = proxy.actor_addr("_").unwrap();
    proxy.send(Hold).await.unwrap();
    assert_msg!(proxy.recv().await, Holding);
    group.notify(Item(1)).await.unwrap();
    group.notify(Item(2)).await.unwrap();

    // The stop waits for the exit; the actor is held until the gate opens.
    let stop = tokio::spawn({
        let group = group.clone();
        async move { group.stop_actor("_").await }
    });
    // The paused clock moves only once every task waits: the stop is
    // then queued for the held actor, ahead of its mail.
    tokio::time::sleep(Duration::from_millis(1)).await;
    gate.notify_one();

    // What was queued is handled, then `recv` ends: no `Terminate` seen.
    expect_seen(&mut proxy, 1).await;
    expect_seen(&mut proxy, 2).await;
    assert_msg!(proxy.recv().await, BeforeExit);
    let stopped = tokio::time::timeout(Duration::from_secs(1), stop).await;
    assert_eq!(stopped.unwrap().unwrap(), Ok(ExitReason::Shutdown));
    proxy.sync().await.unwrap();
    assert!(
        proxy.try_recv().is_none(),
        "the Terminate is not handed out"
    );
    assert!(matches!(
        proxy.send_to(addr, Item(3)).await,
        Err(SendError::Closed(_))
    ));
    proxy.finish().await;
}

#[tokio::test(start_paused = true)]
async fn closing_policy_as_a_message_ends_the_actor_after_what_came_before() {
    let mut proxy = Proxy::start(actor(TerminationPolicy::closing(), Arc::default()))
        .await
        .unwrap();
    let addr = proxy.actor_addr("_").unwrap();
    let down = proxy.system().monitor(addr);
    proxy.send(Item(1)).await.unwrap();
    // By address, as elfo's `send_to(addr, Terminate)`.
    proxy.send_to(addr, Terminate).await.unwrap();
    expect_seen(&mut proxy, 1).await;
    assert_msg!(proxy.recv().await, BeforeExit);
    let down = tokio::time::timeout(Duration::from_secs(1), down).await;
    assert_eq!(down.unwrap().reason, ExitReason::Normal);
    proxy.finish().await;
}

#[tokio::test(start_paused = true)]
async fn manual_policy_sees_terminate_and_exits_when_it_chooses() {
    let mut proxy = Proxy::start(actor(TerminationPolicy::manually(), Arc::default()))
        .await
        .unwrap();
    let group = proxy.system().group("subject").unwrap();
    let addr = proxy.actor_addr("_").unwrap();
    let stop = tokio::spawn({
        let group = group.clone();
        async move { group.stop_actor("_").await }
    });
    assert_msg!(proxy.recv().await, Terminating);

    // It goes on: its mailbox is open, it still answers.
    proxy.send_to(addr, Item(5)).await.unwrap();
    expect_seen(&mut proxy, 5).await;
    assert!(!stop.is_finished());
    // Until it chooses to return.
    proxy.send_to(addr, Item(LAST)).await.unwrap();
    expect_seen(&mut proxy, LAST).await;
    let stopped = tokio::time::timeout(Duration::from_secs(1), stop).await;
    assert_eq!(stopped.unwrap().unwrap(), Ok(ExitReason::Shutdown));
    proxy.finish().await;
}

#[tokio::test(start_paused = true)]
async fn manual_policy_gets_a_terminate_message_routed_to_it() {
    let mut proxy = Proxy::start(actor(TerminationPolicy::manually(), Arc::default()))
        .await
        .unwrap();
    let addr = proxy.actor_addr("_").unwrap();
    let down = proxy.system().monitor(addr);
    // Through the topology and the group's router, as any message.
    proxy.send(Terminate).await.unwrap();
    assert_msg!(proxy.recv().await, Terminating);
    proxy.send(Item(LAST)).await.unwrap();
    expect_seen(&mut proxy, LAST).await;
    let down = tokio::time::timeout(Duration::from_secs(1), down).await;
    assert_eq!(down.unwrap().reason, ExitReason::Normal);
    proxy.finish().await;
}

/// Terminates manually by closing its mailbox: what is queued is still
/// handled (elfo's `ctx.close()`).
fn closer(gate: Arc<Notify>) -> Schema {
    ActorGroup::new().exec(move |mut ctx| {
        let gate = gate.clone();
        async move {
            ctx.set_termination_policy(TerminationPolicy::manually());
            while let Some(envelope) = ctx.recv().await {
                msg!(match envelope {
                    Hold => {
                        let _ = ctx.send(Holding).await;
                        gate.notified().await;
                    }
                    Terminate => {
                        let _ = ctx.send(Terminating).await;
                        assert!(ctx.close(), "open until now");
                        assert!(!ctx.close(), "closed once");
                    }
                    Item(n) => {
                        let _ = ctx.send(Seen(n)).await;
                    }
                })
            }
            let _ = ctx.send(BeforeExit).await;
        }
    })
}

#[tokio::test(start_paused = true)]
async fn manual_policy_may_close_the_mailbox_and_drain() {
    let gate = Arc::new(Notify::new());
    let mut proxy = Proxy::start(closer(gate.clone())).await.unwrap();
    let addr = proxy.actor_addr("_").unwrap();
    let down = proxy.system().monitor(addr);
    proxy.send(Hold).await.unwrap();
    assert_msg!(proxy.recv().await, Holding);
    proxy.send(Terminate).await.unwrap();
    proxy.send(Item(1)).await.unwrap();
    gate.notify_one();
    assert_msg!(proxy.recv().await, Terminating);
    expect_seen(&mut proxy, 1).await;
    assert_msg!(proxy.recv().await, BeforeExit);
    let down = tokio::time::timeout(Duration::from_secs(1), down).await;
    assert_eq!(down.unwrap().reason, ExitReason::Normal);
    proxy.finish().await;
}

#[message]
struct Crash;

#[tokio::test(start_paused = true)]
async fn stopping_an_actor_waiting_for_its_restart_cancels_the_restart() {
    let schema = ActorGroup::new()
        .restart_policy(
            RestartPolicy::on_failure()
                .with_backoff(Duration::from_secs(10), Duration::from_secs(10)),
        )
        .exec(|mut ctx| async move {
            while let Some(envelope) = ctx.recv().await {
                msg!(match envelope {
                    Crash => return Err("crash requested"),
                    _ => {}
                })
            }
            Ok(())
        });
    let proxy = Proxy::start(schema).await.unwrap();
    let group = proxy.system().group("subject").unwrap();
    let addr = proxy.actor_addr("_").unwrap();
    let down = proxy.system().monitor(addr);
    let mut events = proxy.supervision_events();
    proxy.send(Crash).await.unwrap();
    let crashed = tokio::time::timeout(Duration::from_secs(1), down).await;
    assert_eq!(
        crashed.unwrap().reason,
        ExitReason::Failed("crash requested".into())
    );
    // It waits 10 s for its restart; stopped now, it ends with its failure.
    assert_eq!(
        group.stop_actor("_").await,
        Ok(ExitReason::Failed("crash requested".into()))
    );
    tokio::time::sleep(Duration::from_secs(60)).await;
    while let Some(event) = events.try_recv() {
        assert!(
            !matches!(event, SupervisionEvent::Started { .. }),
            "{event:?}"
        );
    }
    proxy.finish().await;
}

/// Ignores `Terminate` (and everything else) forever.
fn stubborn() -> Schema {
    ActorGroup::new()
        .termination_policy(TerminationPolicy::manually())
        .exec(|mut ctx| async move {
            while let Some(envelope) = ctx.recv().await {
                msg!(match envelope {
                    Terminate => {
                        let _ = ctx.send(Terminating).await;
                    }
                    _ => {}
                })
            }
        })
}

#[tokio::test(start_paused = true)]
async fn manual_policy_that_ignores_terminate_is_killed_by_stop_actor() {
    let mut proxy = Proxy::start(stubborn()).await.unwrap();
    let group = proxy.system().group("subject").unwrap();
    let stop = tokio::spawn({
        let group = group.clone();
        async move { group.stop_actor("_").await }
    });
    assert_msg!(proxy.recv().await, Terminating);
    // Its shutdown time (5 s of the paused clock) passes: it is killed.
    let stopped = tokio::time::timeout(Duration::from_secs(30), stop).await;
    assert_eq!(stopped.unwrap().unwrap(), Ok(ExitReason::Killed));
    proxy.finish().await;
}

#[tokio::test(start_paused = true)]
async fn manual_policy_that_ignores_terminate_is_killed_by_the_shutdown() {
    let proxy = Proxy::start(stubborn()).await.unwrap();
    let addr = proxy.actor_addr("_").unwrap();
    let report = proxy.finish().await;
    let actor = report.actors.iter().find(|a| a.addr == addr).unwrap();
    assert_eq!(actor.reason, Some(ExitReason::Killed));
}

#[message]
struct Visit {
    user: &'static str,
}

/// Answers the address of the actor that handles it, and how many visits
/// it counted.
#[message(ret = (Addr, u32))]
struct WhoAmI {
    user: &'static str,
}

/// One actor per user, restarted whatever its exit (`always`).
fn sessions() -> Schema {
    ActorGroup::new()
        .router(|envelope| {
            msg!(match envelope {
                Visit { user } => Outcome::unicast(*user),
                WhoAmI { user } => Outcome::unicast(*user),
                _ => Outcome::Discard,
            })
        })
        .restart_policy(RestartPolicy::always())
        .exec(|mut ctx| async move {
            let mut visits = 0;
            while let Some(envelope) = ctx.recv().await {
                msg!(match envelope {
                    Visit { .. } => visits += 1,
                    (WhoAmI { .. }, token) => {
                        ctx.respond(token, (ctx.addr(), visits));
                    }
                })
            }
        })
}

#[tokio::test(start_paused = true)]
async fn stopping_one_keyed_actor_leaves_its_siblings_running() {
    let proxy = Proxy::start(sessions()).await.unwrap();
    let group = proxy.system().group("subject").unwrap();
    for user in ["ann", "bob", "cid"] {
        proxy.send(Visit { user }).await.unwrap();
    }
    let (bob, visits) = proxy.request(WhoAmI { user: "bob" }).await.unwrap();
    assert_eq!(visits, 1);
    let mut events = proxy.supervision_events();

    assert_eq!(group.stop_actor("bob").await, Ok(ExitReason::Shutdown));
    // Its siblings go on, with their state.
    for user in ["ann", "cid"] {
        let (_, visits) = proxy.request(WhoAmI { user }).await.unwrap();
        assert_eq!(visits, 1, "{user} kept running");
    }
    // Stopped for good although its group restarts `always`: no restart,
    // even once every backoff has passed.
    tokio::time::sleep(Duration::from_secs(60)).await;
    proxy.sync().await.unwrap();
    while let Some(event) = events.try_recv() {
        assert!(
            !matches!(event, SupervisionEvent::Started { restart: true, .. }),
            "{event:?}"
        );
    }
    assert_eq!(
        group.stop_actor("bob").await,
        Err(StopActorError::UnknownKey("bob".into()))
    );
    // A message routed to its key later starts a new actor.
    let (again, visits) = proxy.request(WhoAmI { user: "bob" }).await.unwrap();
    assert_ne!(again, bob);
    assert_eq!(visits, 0);
    proxy.finish().await;
}

#[tokio::test(start_paused = true)]
async fn stopping_an_unknown_key_is_an_error_and_starts_nothing() {
    let proxy = Proxy::start(sessions()).await.unwrap();
    let group = proxy.system().group("subject").unwrap();
    let mut events = proxy.supervision_events();
    assert_eq!(
        group.stop_actor("nobody").await,
        Err(StopActorError::UnknownKey("nobody".into()))
    );
    proxy.sync().await.unwrap();
    assert!(events.try_recv().is_none(), "no actor was started");
    proxy.finish().await;
}
