//! Functional actors: Context, msg!, requests and tokens, restart policies.

use std::time::Duration;

use tokio::sync::mpsc;
use troupe::prelude::*;
use troupe::{init, GroupRef, RequestError, RestartPolicy, SendError};

#[message]
#[derive(Clone)]
struct Increment {
    delta: u32,
}

#[message(ret = u32)]
struct GetValue;

#[message(ret = u32)]
struct Ignored;

#[message]
struct Crash;

#[message]
struct Zero;

/// A request whose handler panics while holding its token.
#[message(ret = u32)]
struct Explode;

#[message]
#[derive(Clone, Debug)]
enum Command {
    Add(u32),
    Reset,
    Label { name: String },
}

fn counter() -> Schema {
    ActorGroup::new().exec(|mut ctx| async move {
        let mut value = 0;
        while let Some(envelope) = ctx.recv().await {
            msg!(match envelope {
                Increment { delta } => value += delta,
                Command::Add(n) => value += n,
                // Alternatives may be of different message types.
                Command::Reset | Zero => value = 0,
                Command::Label { name } => tracing::info!(%name, "labelled"),
                (GetValue, token) => {
                    ctx.respond(token, value);
                }
                (Ignored, _token) => {}
                (Explode, _token) => panic!("exploded on request"),
                Crash => panic!("crash requested"),
            })
        }
    })
}

fn start(name: &'static str, schema: Schema) -> (ActorSystem, GroupRef) {
    let topology = Topology::empty();
    topology.local(name).mount(schema);
    let system = init::try_start(topology).unwrap();
    let group = system.group(name).unwrap();
    (system, group)
}

#[tokio::test]
async fn functional_counter_with_msg_and_requests() {
    let (system, counter) = start("counter", counter());
    counter.notify(Increment { delta: 2 }).await.unwrap();
    counter.notify(Command::Add(5)).await.unwrap();
    assert_eq!(counter.send(GetValue).await, Ok(7));
    counter.notify(Command::Reset).await.unwrap();
    counter
        .notify(Command::Label { name: "x".into() })
        .await
        .unwrap();
    assert_eq!(counter.send(GetValue).await, Ok(0));
    counter.notify(Increment { delta: 4 }).await.unwrap();
    counter.notify(Zero).await.unwrap();
    assert_eq!(counter.send(GetValue).await, Ok(0));
    system.shutdown().await;
}

#[tokio::test]
async fn dropped_token_and_unhandled_messages_give_distinct_errors() {
    let (system, counter) = start("tokens", counter());
    let mut dead = system.dead_letters();
    assert_eq!(counter.send(Ignored).await, Err(RequestError::Dropped));

    #[message(ret = ())]
    struct Unknown;
    assert_eq!(
        counter.send(Unknown).await,
        Err(RequestError::Unhandled(<Unknown as Message>::NAME))
    );
    let letter = dead.recv().await.unwrap();
    assert_eq!(letter.reason, troupe::DeadLetterReason::Unhandled);
    assert_eq!(letter.message, <Unknown as Message>::NAME);
    system.shutdown().await;
}

#[tokio::test]
async fn the_requester_of_a_panicking_functional_actor_learns_the_panic() {
    let (system, counter) = start("explodes", counter());
    match counter.send(Explode).await {
        Err(RequestError::Failed(msg)) => assert!(
            msg.contains("panicked") && msg.contains("exploded on request"),
            "{msg}"
        ),
        other => panic!("expected Failed, got {other:?}"),
    }
    system.shutdown().await;
}

#[tokio::test]
async fn recv_returns_none_on_shutdown_and_the_actor_ends() {
    let (done_tx, mut done_rx) = mpsc::unbounded_channel();
    let schema = ActorGroup::new().exec(move |mut ctx| {
        let done = done_tx.clone();
        async move {
            while let Some(_envelope) = ctx.recv().await {}
            let _ = done.send("recv returned None");
        }
    });
    let (system, group) = start("ends", schema);
    group.notify(Increment { delta: 1 }).await.unwrap();
    let report = system.shutdown().await;
    assert_eq!(done_rx.recv().await, Some("recv returned None"));
    assert!(report.all_stopped());
    // The group's actor and the group's supervisor.
    assert_eq!(report.actors.len(), 2);
    let actor = report
        .actors
        .iter()
        .find(|a| a.meta.group == "ends")
        .expect("the group's actor is in the report");
    assert_eq!(actor.reason, Some(ExitReason::Shutdown));
    assert_eq!(actor.meta.key, "_");
}

#[tokio::test(start_paused = true)]
async fn on_failure_restarts_on_the_same_address_keeping_the_mailbox() {
    let (runs_tx, mut runs) = mpsc::unbounded_channel();
    let schema = ActorGroup::new()
        .restart_policy(
            RestartPolicy::on_failure()
                .with_backoff(Duration::from_millis(100), Duration::from_secs(1)),
        )
        .exec(move |mut ctx| {
            let runs = runs_tx.clone();
            async move {
                let _ = runs.send(ctx.addr());
                let mut value = 0;
                while let Some(envelope) = ctx.recv().await {
                    msg!(match envelope {
                        Increment { delta } => value += delta,
                        Crash => panic!("crash requested"),
                        (GetValue, token) => {
                            ctx.respond(token, value);
                        }
                    })
                }
            }
        });
    let (system, group) = start("restarts", schema);
    let first = runs.recv().await.unwrap();
    group.notify(Increment { delta: 5 }).await.unwrap();
    group.notify(Crash).await.unwrap();
    // Sent while the actor is down (backing off): it waits in the mailbox.
    group.notify(Increment { delta: 1 }).await.unwrap();
    let second = runs.recv().await.unwrap();
    assert_eq!(first, second, "same address across restarts");
    assert_eq!(
        group.send(GetValue).await,
        Ok(1),
        "state is fresh, mailbox kept"
    );
    system.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn never_policy_ends_and_always_policy_restarts_after_success() {
    let (tx, mut runs) = mpsc::unbounded_channel::<&'static str>();
    let never_tx = tx.clone();
    let never = ActorGroup::new()
        .restart_policy(RestartPolicy::never())
        .exec(move |_ctx| {
            let tx = never_tx.clone();
            async move {
                let _ = tx.send("never");
                Err::<(), _>("failed once")
            }
        });
    let always_tx = tx.clone();
    let always = ActorGroup::new()
        .restart_policy(
            RestartPolicy::always()
                .with_backoff(Duration::from_millis(10), Duration::from_millis(10)),
        )
        .exec(move |_ctx| {
            let tx = always_tx.clone();
            async move {
                let _ = tx.send("always");
            }
        });
    let topology = Topology::empty();
    topology.local("never").mount(never);
    topology.local("always").mount(always);
    let system = init::try_start(topology).unwrap();
    let mut counts = std::collections::HashMap::new();
    for _ in 0..5 {
        let who = tokio::time::timeout(Duration::from_secs(1), runs.recv())
            .await
            .unwrap()
            .unwrap();
        *counts.entry(who).or_insert(0) += 1;
    }
    assert_eq!(counts.get("never"), Some(&1));
    assert_eq!(counts.get("always"), Some(&4));
    system.shutdown().await;
}

#[tokio::test]
async fn try_recv_reports_empty_then_closed() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let schema = ActorGroup::new().exec(move |mut ctx| {
        let tx = tx.clone();
        async move {
            let _ = tx.send(ctx.try_recv().err());
            while ctx.recv().await.is_some() {}
            let _ = tx.send(ctx.try_recv().err());
        }
    });
    let (system, _group) = start("try-recv", schema);
    assert_eq!(rx.recv().await, Some(Some(troupe::TryRecvError::Empty)));
    system.shutdown().await;
    assert_eq!(rx.recv().await, Some(Some(troupe::TryRecvError::Closed)));
}

#[tokio::test]
async fn send_without_route_is_no_recipient() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let schema = ActorGroup::new().exec(move |ctx| {
        let tx = tx.clone();
        async move {
            let res = ctx.send(Increment { delta: 1 }).await;
            let _ = tx.send(matches!(res, Err(SendError::NoRecipient(_))));
        }
    });
    let (system, _group) = start("lonely", schema);
    assert_eq!(rx.recv().await, Some(true));
    system.shutdown().await;
}

#[tokio::test]
async fn a_topology_starts_once() {
    let topology = Topology::empty();
    topology.local("counter").mount(counter());
    let system = init::try_start(topology.clone()).unwrap();
    assert_eq!(
        init::try_start(topology).err(),
        Some(init::InitError::AlreadyStarted)
    );
    system.shutdown().await;
}

#[test]
fn try_start_rejects_a_group_that_is_not_mounted() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        let topology = Topology::empty();
        let a = topology.local("a");
        let b = topology.local("b");
        a.route_to(&b, |_| true);
        a.mount(counter());
        assert_eq!(
            init::try_start(topology).err(),
            Some(init::InitError::NotMounted("b".into()))
        );
    });
}

#[message]
#[derive(Clone)]
struct Tick;

#[message]
struct Item(u32);

#[tokio::test(start_paused = true)]
async fn functional_actors_get_timers_and_streams_through_recv() {
    let (tx, mut rx) = mpsc::unbounded_channel::<String>();
    let schema = ActorGroup::new().exec(move |mut ctx| {
        let tx = tx.clone();
        async move {
            let timer = ctx
                .schedule(Tick)
                .every(Duration::from_millis(10))
                .on_miss(troupe::MissPolicy::Delay)
                .await
                .map_err(|e| e.to_string())?;
            let stream = ctx.add_stream(tokio_stream::iter([Item(1), Item(2)]));
            let mut ticks = 0;
            while let Some(envelope) = ctx.recv().await {
                msg!(match envelope {
                    Tick => {
                        ticks += 1;
                        if ticks == 3 {
                            assert!(ctx.cancel_timer(timer));
                            let _ =
                                tx.send(format!("3 ticks at {:?}", tokio::time::Instant::now()));
                        }
                    }
                    Item(n) => {
                        let _ = tx.send(format!("item {n}"));
                    }
                    StreamEvent::Finished(id) => {
                        let _ = tx.send(format!("finished {}", id == stream));
                    }
                })
            }
            Ok::<(), String>(())
        }
    });
    let started = tokio::time::Instant::now();
    let (system, _group) = start("fn-timers", schema);
    assert_eq!(rx.recv().await.as_deref(), Some("item 1"));
    assert_eq!(rx.recv().await.as_deref(), Some("item 2"));
    assert_eq!(rx.recv().await.as_deref(), Some("finished true"));
    let third = rx.recv().await.unwrap();
    assert_eq!(
        third,
        format!("3 ticks at {:?}", started + Duration::from_millis(30))
    );
    system.shutdown().await;
}
