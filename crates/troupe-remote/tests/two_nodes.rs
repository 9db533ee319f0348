//! Two nodes in one process, on loopback with explicit endpoints (no
//! multicast): remote tells and requests, remote stops and monitors, node
//! down, unknown types, and a node with the wrong secret.

mod common;

use std::time::Duration;

use common::*;
use tokio::time::timeout;
use troupe::prelude::*;
use troupe::NodeNo;
use troupe_remote::NodeEvent;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tells_and_requests_reach_an_actor_on_another_node_in_order() {
    let (s1, n1, s2, n2) = pair("tells").await;
    let counter = Counter::default().spawn().on_system(&s2).await.unwrap();
    let remote = s1.remote_ref::<Counter>(counter.addr()).expect("a proxy");
    assert_eq!(remote.addr(), counter.addr());
    for i in 1..=100 {
        remote.notify(Add(i)).await.unwrap();
    }
    let total = timeout(BOUND, remote.send(Get)).await.expect("in time");
    assert_eq!(total, Ok(5050), "every tell before the request, in order");

    // A type the other node does not carry: a typed error, not a hang.
    let unknown = timeout(BOUND, remote.send(OnlyHere))
        .await
        .expect("in time");
    assert!(
        matches!(unknown, Err(RequestError::Failed(ref e)) if e.contains("OnlyHere")),
        "{unknown:?}"
    );

    // The remote actor is stopped through its proxy; a monitor on this node
    // sees its exit.
    let down = s1.monitor(counter.addr());
    timeout(BOUND, remote.stop(StopReason::Graceful))
        .await
        .expect("in time")
        .unwrap();
    let down = timeout(BOUND, down).await.expect("in time");
    assert_eq!(down.reason, ExitReason::Normal);
    assert_eq!(counter.exit_reason(), Some(ExitReason::Normal));
    n2.close().await;
    n1.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_going_down_is_a_down_for_its_monitored_processes_and_fails_requests() {
    let (s1, n1, s2, n2) = pair("down").await;
    let counter = Counter::default().spawn().on_system(&s2).await.unwrap();
    let down = s1.monitor(counter.addr());
    let mut events = n1.events();
    n2.close().await;
    let down = timeout(BOUND, down).await.expect("in time");
    assert_eq!(down.reason, ExitReason::NodeDown);
    let event = timeout(BOUND, events.recv())
        .await
        .expect("in time")
        .expect("open");
    assert_eq!(event, NodeEvent::Down(NodeNo(2)));
    // Later requests to that node fail at once with a typed error.
    let remote = s1
        .remote_ref::<Counter>(Addr::new(NodeNo(2), 999))
        .expect("a proxy, ended at once");
    let res = timeout(BOUND, remote.send(Get)).await.expect("in time");
    assert!(
        matches!(res, Err(RequestError::NodeDown | RequestError::Gone)),
        "{res:?}"
    );
    n1.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_with_the_wrong_secret_is_refused() {
    let port = free_port();
    let (s1, s3) = (system(1), system(3));
    let n1 = join(&s1, "auth", b"secret", port, true).await;
    let mut events = n1.events();
    let n3 = join(&s3, "auth", b"wrong", port, false).await;
    let counter = Counter::default().spawn().on_system(&s1).await.unwrap();
    // Node 3 says hello once it sees node 1 alive: node 1 refuses it...
    refused(&mut events, 3, "hello").await;
    // ...and everything node 3 sends after it.
    let remote = s3.remote_ref::<Counter>(counter.addr()).expect("a proxy");
    remote.notify(Add(1)).await.unwrap();
    refused(&mut events, 3, "tell").await;
    assert!(
        n1.refused_frames() >= 2,
        "the hello and the tell were refused"
    );
    assert!(!n1.peers().contains(&NodeNo(3)));
    assert_eq!(
        counter.send(Get).await,
        Ok(0),
        "nothing from node 3 arrived"
    );
    // Nor does node 1 tell it the names it has.
    let _named = Counter::default()
        .spawn()
        .named("private")
        .on_system(&s1)
        .await
        .unwrap();
    assert_eq!(n3.whereis_global("private", BOUND).await.unwrap(), None);
    n3.close().await;
    n1.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_is_found_by_its_name_on_another_node() {
    let (s1, n1, s2, n2) = pair("names").await;
    let counter = Counter::default()
        .spawn()
        .named("counter")
        .on_system(&s2)
        .await
        .unwrap();
    counter.notify(Add(7)).await.unwrap();
    let found = n1.whereis(NodeNo(2), "counter", BOUND).await.unwrap();
    assert_eq!(found, Some(counter.addr()));
    assert_eq!(n1.whereis(NodeNo(2), "nobody", BOUND).await.unwrap(), None);
    let remote = s1.remote_ref::<Counter>(counter.addr()).expect("a proxy");
    assert_eq!(
        timeout(BOUND, remote.send(Get)).await.expect("in time"),
        Ok(7)
    );
    let mut events = n1.events();
    n2.close().await;
    loop {
        let event = timeout(BOUND, events.recv())
            .await
            .expect("in time")
            .expect("open");
        if event == NodeEvent::Down(NodeNo(2)) {
            break;
        }
    }
    let gone = n1.whereis(NodeNo(2), "counter", BOUND).await;
    assert!(
        matches!(gone, Err(troupe_remote::RemoteError::NodeDown(NodeNo(2)))),
        "{gone:?}"
    );
    n1.close().await;
}

/// A functional group on node 2 that counts `Add`s and answers `Get`.
fn counting_group() -> Schema {
    ActorGroup::new().exec(|mut ctx| async move {
        let mut total = 0;
        while let Some(envelope) = ctx.recv().await {
            msg!(match envelope {
                Add(n) => total += n,
                (Get, token) => {
                    ctx.respond(token, total);
                }
            })
        }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_of_another_node_takes_tells_and_requests_through_its_router() {
    let port = free_port();
    let s1 = system(1);
    let n1 = join(&s1, "groups", b"secret", port, true).await;
    let topology = topology_of(2);
    topology.local("counters").mount(counting_group());
    let s2 = troupe::init::try_start(topology).unwrap();
    let n2 = join(&s2, "groups", b"secret", port, false).await;
    up(&n1, 2).await;
    up(&n2, 1).await;

    let counters = s1
        .remote_group(NodeNo(2), "counters")
        .expect("a remote group");
    assert_eq!(counters.node(), Some(NodeNo(2)));
    for i in 1..=10 {
        counters.notify(Add(i)).await.unwrap();
    }
    let total = timeout(BOUND, counters.send(Get)).await.expect("in time");
    assert_eq!(total, Ok(55));
    // A group that is not mounted there: the request fails with a typed error.
    let nobody = s1.remote_group(NodeNo(2), "nobody").expect("a handle");
    let res = timeout(BOUND, nobody.send(Get)).await.expect("in time");
    assert_eq!(res, Err(RequestError::Gone));
    // Through a typed recipient too.
    let adds: Recipient<Add> = counters.recipient();
    adds.notify(Add(45)).await.unwrap();
    assert_eq!(
        timeout(BOUND, counters.send(Get)).await.expect("in time"),
        Ok(100)
    );
    n2.close().await;
    n1.close().await;
}

#[message]
struct Go(tokio::sync::mpsc::UnboundedSender<Result<u64, RequestError>>);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_topology_routes_to_a_group_of_another_node() {
    let port = free_port();
    let two = topology_of(2);
    two.local("counters").mount(counting_group());
    let s2 = troupe::init::try_start(two).unwrap();
    let n2 = join(&s2, "routes", b"secret", port, true).await;
    let one = topology_of(1);
    let counters = one.remote(NodeNo(2), "counters");
    let samples = one.local("samples");
    samples.route_to(&counters, |e| {
        msg!(match e {
            Add(_) | Get => true,
            _ => false,
        })
    });
    samples.mount(ActorGroup::new().exec(|mut ctx| async move {
        while let Some(envelope) = ctx.recv().await {
            msg!(match envelope {
                Go(report) => {
                    let _ = ctx.send(Add(1)).await;
                    let _ = ctx.send(Add(3)).await;
                    let _ = report.send(ctx.request(Get).resolve().await);
                }
            })
        }
    }));
    let s1 = troupe::init::try_start(one).unwrap();
    let n1 = join(&s1, "routes", b"secret", port, false).await;
    up(&n1, 2).await;
    up(&n2, 1).await;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    s1.group("samples").unwrap().notify(Go(tx)).await.unwrap();
    let got = timeout(BOUND, rx.recv())
        .await
        .expect("in time")
        .expect("a report");
    assert_eq!(
        got,
        Ok(4),
        "both increments reached node 2 before the request"
    );
    n1.close().await;
    n2.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remote_request_past_its_deadline_times_out_and_leaves_nothing_pending() {
    let (s1, n1, s2, n2) = pair("deadline").await;
    let counter = Counter::default().spawn().on_system(&s2).await.unwrap();
    let remote = s1.remote_ref::<Counter>(counter.addr()).expect("a proxy");
    let res = remote
        .send_timeout(Hang, Some(Duration::from_millis(100)))
        .await;
    assert!(matches!(res, Err(RequestError::Timeout(_))), "{res:?}");
    assert_eq!(
        n1.pending_requests(),
        0,
        "the gone requester's entry is swept"
    );
    n2.close().await;
    n1.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_is_found_across_the_cluster_without_knowing_its_node() {
    let (s1, n1, s2, n2) = pair("global").await;
    let ledger = Counter::default()
        .spawn()
        .named("ledger")
        .on_system(&s2)
        .await
        .unwrap();
    let here = Counter::default()
        .spawn()
        .named("here")
        .on_system(&s1)
        .await
        .unwrap();
    assert_eq!(
        n1.whereis_global("ledger", BOUND).await.unwrap(),
        Some(ledger.addr())
    );
    assert_eq!(
        n2.whereis_global("here", BOUND).await.unwrap(),
        Some(here.addr())
    );
    assert_eq!(
        n1.whereis_global("here", BOUND).await.unwrap(),
        Some(here.addr())
    );
    assert_eq!(n1.whereis_global("nobody", BOUND).await.unwrap(), None);
    assert!(matches!(
        n1.whereis_global("a/b", BOUND).await,
        Err(troupe_remote::RemoteError::Config(_))
    ));
    n2.close().await;
    n1.close().await;
}

/// Links to `partner` when it starts; fails on `Crash`.
struct Linker {
    partner: Addr,
}

#[message(ret = ())]
struct Crash;

impl Actor for Linker {
    async fn pre_start(&mut self, ctx: &mut ActorContext<Self>) -> HandlerResult {
        ctx.link(self.partner)?;
        Ok(())
    }
}

impl Handler<Crash> for Linker {
    async fn handle(&mut self, _: Crash, _: &mut ActorContext<Self>) -> HandlerResult<()> {
        Err("linked crash".into())
    }
}

impl Handler<Add> for Linker {
    async fn handle(&mut self, msg: Add, ctx: &mut ActorContext<Self>) -> HandlerResult {
        // Sent after the link: the other node links before it handles this.
        let partner = ctx
            .system()
            .remote_ref::<Counter>(self.partner)
            .ok_or("no proxy")?;
        partner.notify(msg).await?;
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_across_nodes_takes_either_side_down() {
    let (s1, n1, s2, n2) = pair("links").await;

    // Node 1's process fails: its partner on node 2 exits with its reason.
    let counter = Counter::default().spawn().on_system(&s2).await.unwrap();
    let linker = Linker {
        partner: counter.addr(),
    }
    .spawn()
    .on_system(&s1)
    .await
    .unwrap();
    // Handled once this returns: the link, then the Add, are queued in
    // order in the proxy of the counter, before the Get below.
    linker.send(Add(5)).await.unwrap();
    let remote = s1.remote_ref::<Counter>(counter.addr()).unwrap();
    assert_eq!(
        timeout(BOUND, remote.send(Get)).await.expect("in time"),
        Ok(5)
    );
    let down = s1.monitor(counter.addr());
    assert!(linker.send(Crash).await.is_err());
    let down = timeout(BOUND, down).await.expect("in time");
    assert!(
        matches!(&down.reason, ExitReason::Failed(e) if e.contains("linked crash")),
        "{down:?}"
    );
    assert_eq!(counter.exit_reason(), Some(down.reason.clone()));

    // Node 2's process exits abnormally: its partner on node 1 goes too.
    let counter = Counter::default().spawn().on_system(&s2).await.unwrap();
    let linker = Linker {
        partner: counter.addr(),
    }
    .spawn()
    .on_system(&s1)
    .await
    .unwrap();
    let remote = s1.remote_ref::<Counter>(counter.addr()).unwrap();
    remote.kill().await.unwrap();
    let reason = timeout(BOUND, linker.wait_for_exit())
        .await
        .expect("in time");
    assert_eq!(reason, ExitReason::Killed);
    n2.close().await;
    n1.close().await;
}
