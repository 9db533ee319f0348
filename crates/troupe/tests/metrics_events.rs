//! The metrics of events (see `troupe::metrics`): exits and restarts by
//! reason after a supervised crash, dead letters by reason, requests by
//! outcome, dropped timer ticks. Each test has a recorder of its own
//! (`metrics_common`), so they run in parallel.

mod metrics_common;

use std::sync::Arc;
use std::time::Duration;

use metrics_common::worker::*;
use metrics_common::{on, run};
use tokio::sync::mpsc;
use tokio::time::{sleep, timeout};
use troupe::metrics as m;
use troupe::prelude::*;
use troupe::supervision::{SupervisionEvent, SupervisorConfig};
use troupe::{init, Addr, NodeNo, Outcome, OverflowPolicy, StopError, Transport, TransportFuture};

const BOUND: Duration = Duration::from_secs(5);
const MS: Duration = Duration::from_millis(1);

fn labels<'a>(group: &'a str, key: &'a str, value: &'a str) -> [(&'a str, &'a str); 2] {
    [(m::GROUP, group), (key, value)]
}

/// A supervisor of one worker, `leaf`.
struct Tree;
impl Actor for Tree {
    async fn pre_start(&mut self, ctx: &mut ActorContext<Self>) -> HandlerResult {
        ctx.spawn_child(|| worker().0).named("leaf").await?;
        Ok(())
    }
}

#[test]
fn exits_and_restarts_by_reason_after_a_supervised_crash() {
    run(|p| async move {
        let system = ActorSystem::create_with("metrics-restarts", on()).unwrap();
        let (observer, mut events) = mpsc::unbounded_channel();
        let config = SupervisorConfig::default().observe(observer);
        let _tree = Tree.spawn().with_supervision(config).on_system(&system);
        let _tree = _tree.await.unwrap();
        let leaf = system.get::<Worker>("leaf").unwrap();
        assert!(matches!(
            leaf.send(Fall).await,
            Err(RequestError::Failed(_))
        ));
        loop {
            match timeout(BOUND, events.recv()).await {
                Ok(Some(SupervisionEvent::Started { restart: true, .. })) => break,
                Ok(Some(_)) => continue,
                other => panic!("no restart: {other:?}"),
            }
        }
        let failed = labels("Worker", m::REASON, "failed");
        assert_eq!(p.counter(m::EXITS, &failed), 1);
        assert_eq!(p.counter(m::RESTARTS, &failed), 1);
        let outcome = labels("Worker", m::OUTCOME, "failed");
        assert_eq!(p.counter(m::REQUESTS, &outcome), 1);
        // The restarted leaf is one live process again.
        assert_eq!(p.gauge(m::LIVE_PROCESSES, &[(m::GROUP, "Worker")]), 1.0);
        assert_eq!(leaf.send(Ask).await, Ok(7));

        system.shutdown().await;
        let shutdown = labels("Worker", m::REASON, "shutdown");
        assert_eq!(p.counter(m::EXITS, &shutdown), 1);
        assert_eq!(p.counter(m::RESTARTS, &shutdown), 0);
        assert_eq!(
            p.counter(m::EXITS, &labels("Tree", m::REASON, "shutdown")),
            1
        );
        assert_eq!(p.series(m::RESTARTS).len(), 1);
    });
}

/// A functional group: a request it does not match is unhandled, a `Forget`
/// request's token is dropped, a `Note` is relayed through the topology
/// (which routes it nowhere); a router that discards what is not `Keyed`.
#[message(ret = ())]
struct Forget;

#[message]
#[derive(Clone)]
struct Keyed;

fn strict(relayed: mpsc::UnboundedSender<bool>) -> Schema {
    ActorGroup::new()
        .router(|env| {
            troupe::msg!(match env {
                Keyed | Note => Outcome::unicast("k"),
                (Forget, _) | (Ask, _) => Outcome::unicast("k"),
                _ => Outcome::Discard,
            })
        })
        .exec(move |mut ctx| {
            let relayed = relayed.clone();
            async move {
                while let Some(envelope) = ctx.recv().await {
                    troupe::msg!(match envelope {
                        Keyed => {}
                        Note => {
                            let sent = ctx.send(Note).await;
                            let _ = relayed.send(matches!(sent, Err(SendError::NoRecipient(_))));
                        }
                        (Forget, token) => drop(token),
                    })
                }
            }
        })
}

#[test]
fn dead_letters_by_reason_and_recipient_group() {
    run(|p| async move {
        let (relayed, mut relays) = mpsc::unbounded_channel();
        let topology = Topology::empty().with_config(on());
        topology.local("strict").mount(strict(relayed));
        let system = init::try_start(topology).unwrap();
        let group = system.group("strict").unwrap();
        // unhandled: no arm matches a request of `Ask`.
        let unhandled = group.send(Ask).await;
        assert_eq!(unhandled, Err(RequestError::Unhandled("troupe::Ask")));
        // no_recipient: the router discards it (counted for the group) ...
        group.notify(Fall).await.unwrap_or_else(|_| panic!("taken"));
        // ... and the topology has no route for what it relays (no group).
        group.notify(Note).await.unwrap();
        assert_eq!(timeout(BOUND, relays.recv()).await.unwrap(), Some(true));

        // overflow: a full drop-newest mailbox.
        let drop_newest = ActorConfig::default()
            .with_mailbox_capacity(1)
            .with_overflow(OverflowPolicy::DropNewest);
        let (w, held) = held_worker(&system, drop_newest).await;
        w.notify(Note).await.unwrap(); // queued
        w.notify(Note).await.unwrap(); // dropped
                                       // actor_stopped: what is queued when it is killed.
        w.kill().await.unwrap();
        drop(held);

        let dead = |group, reason| p.counter(m::DEAD_LETTERS, &labels(group, m::REASON, reason));
        assert_eq!(dead("strict", "unhandled"), 1);
        assert_eq!(dead("strict", "no_recipient"), 1);
        assert_eq!(dead(m::NO_GROUP, "no_recipient"), 1);
        assert_eq!(dead("Worker", "overflow"), 1);
        assert_eq!(dead("Worker", "actor_stopped"), 1);
        assert_eq!(p.series(m::DEAD_LETTERS).len(), 5);
        assert_eq!(system.dead_letter_count(), 5);
        system.shutdown().await;
    });
}

#[test]
fn requests_by_outcome() {
    run(|p| async move {
        let (relayed, _relays) = mpsc::unbounded_channel();
        let topology = Topology::empty().with_config(on());
        topology.local("strict").mount(strict(relayed));
        let system = init::try_start(topology).unwrap();
        let count = |group, outcome| p.counter(m::REQUESTS, &labels(group, m::OUTCOME, outcome));

        // ok, and calling_self from inside the actor.
        let (w, _) = worker();
        let w = w.spawn().on_system(&system).await.unwrap();
        assert_eq!(w.send(Ask).await, Ok(7));
        assert_eq!(w.send(AskMyself).await, Ok(true));
        assert_eq!(count("Worker", "ok"), 2);
        assert_eq!(count("Worker", "calling_self"), 1);
        // gone: it stopped.
        w.stop(StopReason::Graceful).await.unwrap();
        assert_eq!(
            w.send(Ask).await,
            Err(RequestError::gone_with(ExitReason::Normal))
        );
        assert_eq!(count("Worker", "gone"), 1);

        // timeout: its handler holds (paused time: the deadline passes).
        let (w, held) = held_worker(&system, ActorConfig::default()).await;
        let late = w.send_timeout(Ask, Some(10 * MS)).await;
        assert_eq!(late, Err(RequestError::Timeout(10 * MS)));
        assert_eq!(count("Worker", "timeout"), 1);
        held.gate.add_permits(1);
        w.stop(StopReason::Graceful).await.unwrap();

        // full: a fail-fast mailbox with no room.
        let fail_fast = ActorConfig::default()
            .with_mailbox_capacity(1)
            .with_overflow(OverflowPolicy::FailFast);
        let (w, held) = held_worker(&system, fail_fast).await;
        w.notify(Note).await.unwrap();
        assert_eq!(w.send(Ask).await, Err(RequestError::Full));
        assert_eq!(count("Worker", "full"), 1);
        held.gate.add_permits(1);

        // failed: the handler returns an error.
        let (w, _) = worker();
        let w = w.spawn().on_system(&system).await.unwrap();
        assert!(matches!(w.send(Fall).await, Err(RequestError::Failed(_))));
        assert_eq!(count("Worker", "failed"), 1);

        // To a group: counted for the group; dropped and unhandled.
        let group = system.group("strict").unwrap();
        assert_eq!(group.send(Forget).await, Err(RequestError::Dropped));
        assert!(matches!(
            group.send(Ask).await,
            Err(RequestError::Unhandled(_))
        ));
        assert_eq!(count("strict", "dropped"), 1);
        assert_eq!(count("strict", "unhandled"), 1);
        system.shutdown().await;
    });
}

#[test]
fn dropped_timer_ticks_are_counted_for_the_group() {
    run(|p| async move {
        let system = ActorSystem::create_with("metrics-ticks", on()).unwrap();
        let (w, mut held) = worker();
        let config = ActorConfig::default().with_mailbox_capacity(2);
        let w = w
            .spawn()
            .with_config(config)
            .on_system(&system)
            .await
            .unwrap();
        w.send(Every(10 * MS)).await.unwrap().unwrap();
        w.notify(Hold).await.unwrap();
        timeout(BOUND, held.holding.recv()).await.unwrap().unwrap();
        // Ticks at 10 and 20 ms fit; 30, 40 and 50 find the mailbox full.
        sleep(55 * MS).await;
        let worker = [(m::GROUP, "Worker")];
        assert_eq!(p.counter(m::TIMER_TICKS_DROPPED, &worker), 3);
        let overflow = labels("Worker", m::REASON, "overflow");
        assert_eq!(p.counter(m::DEAD_LETTERS, &overflow), 3);
        held.gate.add_permits(1);
        system.shutdown().await;
    });
}

/// A transport to a node that is down: every request fails with `NodeDown`.
struct NodeIsDown;

impl Transport for NodeIsDown {
    fn forward(&self, _: Addr, env: Envelope) -> TransportFuture<Result<(), SendError<Envelope>>> {
        env.fail(RequestError::NodeDown);
        Box::pin(async { Ok(()) })
    }

    fn stop(&self, _: Addr, _: StopReason) -> TransportFuture<Result<(), StopError>> {
        Box::pin(async { Ok(()) })
    }

    fn watch(&self, _: Addr) {}
}

#[test]
fn a_request_to_a_node_that_is_down_counts_in_the_remote_group() {
    run(|p| async move {
        let system = ActorSystem::create_with("metrics-node-down", on()).unwrap();
        assert!(system.set_transport(Arc::new(NodeIsDown)));
        let far = system
            .remote_ref::<Worker>(Addr::new(NodeNo(9), 1))
            .unwrap();
        assert_eq!(far.send(Ask).await, Err(RequestError::NodeDown));
        let node_down = labels("remote", m::OUTCOME, "node_down");
        assert_eq!(p.counter(m::REQUESTS, &node_down), 1);
        assert_eq!(p.gauge(m::LIVE_PROCESSES, &[(m::GROUP, "remote")]), 1.0);
        system.shutdown().await;
    });
}
