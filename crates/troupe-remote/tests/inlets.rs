//! Messages from another node to a full mailbox: they wait in an inlet of
//! their own, in order, without holding back other targets; a request
//! waits no longer than its deadline, which travels with it; a tell the
//! other node refuses is a dead letter on both sides.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;
use tokio::time::timeout;
use troupe::prelude::*;
use troupe::{ActorConfig, DeadLetterReason, NodeNo, OverflowPolicy};
use troupe_remote::{Messages, Node};

/// Added to a [`Gated`] actor once its gate lets it through.
#[message]
#[derive(Serialize, Deserialize)]
struct Slow(u64);

/// What a [`Gated`] actor took, in order.
#[message(ret = Vec<u64>)]
#[derive(Serialize, Deserialize)]
struct Taken;

/// How much of its deadline a request still had when it was handled.
#[message(ret = Option<u64>)]
#[derive(Serialize, Deserialize)]
struct Left;

/// A tell type that only the sending node registers.
#[message]
#[derive(Serialize, Deserialize)]
struct Unknown;

/// Takes each `Slow` only when the test opens its gate for it.
struct Gated {
    gate: Arc<Semaphore>,
    taken: Vec<u64>,
}

impl Actor for Gated {
    troupe::handles!(Slow, Taken);
}

impl Handler<Slow> for Gated {
    async fn handle(&mut self, msg: Slow, _: &mut ActorContext<Self>) -> HandlerResult {
        self.gate
            .acquire()
            .await
            .map_err(|e| e.to_string())?
            .forget();
        self.taken.push(msg.0);
        Ok(())
    }
}

impl Handler<Taken> for Gated {
    async fn handle(&mut self, _: Taken, _: &mut ActorContext<Self>) -> HandlerResult<Vec<u64>> {
        Ok(self.taken.clone())
    }
}

/// Node 2 never decodes it: the handler is there for the typed handle.
impl Handler<Unknown> for Gated {
    async fn handle(&mut self, _: Unknown, _: &mut ActorContext<Self>) -> HandlerResult {
        Ok(())
    }
}

fn gated_messages() -> Messages {
    messages().with::<Slow>().with::<Taken>().with::<Left>()
}

/// Two nodes carrying the gated types; node 1 also carries `Unknown`.
async fn gated_pair(cluster: &str) -> (ActorSystem, Node, ActorSystem, Node) {
    let port = free_port();
    let (s1, s2) = (system(1), system(2));
    let here = gated_messages().with::<Unknown>();
    let n1 = join_with(&s1, cluster, b"secret", port, true, here).await;
    let n2 = join_with(&s2, cluster, b"secret", port, false, gated_messages()).await;
    up(&n1, 2).await;
    up(&n2, 1).await;
    (s1, n1, s2, n2)
}

/// A gated actor on `system` with a mailbox of `capacity` and `policy`.
async fn gated(
    system: &ActorSystem,
    capacity: usize,
    policy: OverflowPolicy,
) -> (ActorRef<Gated>, Arc<Semaphore>) {
    let gate = Arc::new(Semaphore::new(0));
    let actor = Gated {
        gate: gate.clone(),
        taken: Vec::new(),
    };
    let config = ActorConfig::default()
        .with_mailbox_capacity(capacity)
        .with_overflow(policy);
    let actor = actor
        .spawn()
        .with_config(config)
        .on_system(system)
        .await
        .expect("spawned");
    (actor, gate)
}

/// Waits, within [`BOUND`], until `node` has `n` targets with messages
/// waiting for room.
async fn waiting(node: &Node, n: usize) {
    timeout(BOUND, async {
        while node.waiting_targets() != n {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("{n} waiting targets, not {}", node.waiting_targets()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_mailbox_holds_back_only_its_own_target_and_keeps_the_order() {
    let (s1, n1, s2, n2) = gated_pair("inlets").await;
    let (stuck, gate) = gated(&s2, 2, OverflowPolicy::Wait).await;
    let other = Counter::default().spawn().on_system(&s2).await.unwrap();
    let stuck_there = s1.remote_ref::<Gated>(stuck.addr()).expect("a proxy");
    let other_there = s1.remote_ref::<Counter>(other.addr()).expect("a proxy");
    // One in the handler, two in the mailbox, the rest wait on node 2.
    for i in 1..=10 {
        stuck_there.notify(Slow(i)).await.expect("sent");
    }
    waiting(&n2, 1).await;
    // Node 1's messages to another target of node 2 are not held back.
    other_there.notify(Add(5)).await.expect("sent");
    let got = timeout(BOUND, other_there.send(Get))
        .await
        .expect("answered in time");
    assert_eq!(got, Ok(5));
    // Let the stuck one through: it takes everything, in the order sent.
    gate.add_permits(10);
    let taken = timeout(BOUND, stuck_there.send(Taken))
        .await
        .expect("in time");
    assert_eq!(taken, Ok((1..=10).collect::<Vec<_>>()));
    waiting(&n2, 0).await;
    n1.close().await;
    n2.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_waiting_for_room_gives_up_at_its_deadline() {
    let (s1, n1, s2, n2) = gated_pair("inlet-deadline").await;
    let (stuck, gate) = gated(&s2, 1, OverflowPolicy::Wait).await;
    let there = s1.remote_ref::<Gated>(stuck.addr()).expect("a proxy");
    // One in the handler, one in the mailbox: the request must wait.
    there.notify(Slow(1)).await.unwrap();
    there.notify(Slow(2)).await.unwrap();
    let res = timeout(
        BOUND,
        there.send_timeout(Taken, Some(Duration::from_millis(300))),
    )
    .await
    .expect("answered in time");
    assert!(matches!(res, Err(RequestError::Timeout(_))), "{res:?}");
    // It left node 2's inlet at its deadline, though the actor is still
    // stuck: nothing waits there any more.
    waiting(&n2, 0).await;
    assert_eq!(n1.pending_requests(), 0);
    gate.add_permits(2);
    let taken = timeout(BOUND, there.send(Taken)).await.expect("in time");
    assert_eq!(taken, Ok(vec![1, 2]), "the request timed out unhandled");
    n1.close().await;
    n2.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_carries_its_deadline_to_the_other_node() {
    let port = free_port();
    let two = topology_of(2);
    two.local("clock")
        .mount(ActorGroup::new().exec(|mut ctx| async move {
            while let Some(envelope) = ctx.recv().await {
                msg!(match envelope {
                    (Left, token) => {
                        let left = token.deadline().map(|at| {
                            let left = at.saturating_duration_since(tokio::time::Instant::now());
                            u64::try_from(left.as_millis()).unwrap_or(u64::MAX)
                        });
                        ctx.respond(token, left);
                    }
                })
            }
        }));
    let s2 = troupe::init::try_start(two).unwrap();
    let n2 = join_with(
        &s2,
        "wire-deadline",
        b"secret",
        port,
        true,
        gated_messages(),
    )
    .await;
    let s1 = system(1);
    let n1 = join_with(
        &s1,
        "wire-deadline",
        b"secret",
        port,
        false,
        gated_messages(),
    )
    .await;
    up(&n1, 2).await;
    up(&n2, 1).await;
    let clock = s1.remote_group(NodeNo(2), "clock").expect("a remote group");
    let limit = Duration::from_secs(30);
    let left = timeout(BOUND, clock.send_timeout(Left, Some(limit)))
        .await
        .expect("in time")
        .expect("answered")
        .expect("the handler saw a deadline");
    assert!(left > 0 && left <= 30_000, "{left} ms left of 30 s");
    let none = timeout(BOUND, clock.send_timeout(Left, None))
        .await
        .expect("in time")
        .expect("answered");
    assert_eq!(none, None, "no deadline travels as none");
    n1.close().await;
    n2.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tell_refused_by_the_other_node_is_a_dead_letter_on_both_sides() {
    let (s1, n1, s2, n2) = gated_pair("refusals").await;
    let (stuck, gate) = gated(&s2, 1, OverflowPolicy::FailFast).await;
    let there = s1.remote_ref::<Gated>(stuck.addr()).expect("a proxy");
    let mut here_letters = s1.dead_letters();
    let mut there_letters = s2.dead_letters();

    // A type node 2 does not know.
    there.notify(Unknown).await.expect("sent");
    let here = timeout(BOUND, here_letters.recv()).await.unwrap().unwrap();
    assert_eq!(here.reason, DeadLetterReason::Undecodable);
    assert_eq!(here.message, <Unknown as Message>::NAME);
    assert_eq!(here.recipient, stuck.addr());
    let there_letter = timeout(BOUND, there_letters.recv()).await.unwrap().unwrap();
    assert_eq!(there_letter.reason, DeadLetterReason::Undecodable);
    assert_eq!(there_letter.recipient, stuck.addr());

    // A fail-fast mailbox that is full: an overflow, told to the sender.
    for i in 1..=3 {
        there.notify(Slow(i)).await.expect("sent");
    }
    let here = timeout(BOUND, here_letters.recv()).await.unwrap().unwrap();
    assert_eq!(here.reason, DeadLetterReason::Overflow);
    assert_eq!(here.message, <Slow as Message>::NAME);
    gate.add_permits(3);
    n1.close().await;
    n2.close().await;
}
