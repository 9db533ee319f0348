//! Two nodes over mutual TLS under two-way traffic (crate feature `tls`):
//! requests go both ways at once for a few seconds, and none may fail,
//! nor may either node ever see the other go down.
//!
//! Guards the vendored fix of Zenoh's TLS link (`vendor/zenoh-link-tls`,
//! see its `PATCHED.md`): as released, the link read and wrote its rustls
//! stream from two tasks at once, a write failed now and then while a read
//! was processing records, and the link was closed: a false `Down`, and
//! `NodeDown` for the requests in flight. Without the fix most runs of this
//! test saw it.
#![cfg(feature = "tls")]

mod common;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::*;
use tokio::sync::broadcast::error::TryRecvError;
use tokio::time::timeout;
use troupe::prelude::*;
use troupe_remote::{Node, NodeConfig, NodeEvent, Tls};

/// How long requests go both ways: several keep-alive periods of the
/// nodes (a quarter of the default lease), which also cross the link.
const TRAFFIC: Duration = Duration::from_secs(4);

fn cert(file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/certs")
        .join(file)
}

fn tls() -> Tls {
    Tls {
        ca: cert("ca.pem"),
        certificate: cert("node.pem"),
        private_key: cert("node.key"),
    }
}

/// The events a node saw since `events` was taken, none left out.
fn seen(events: &mut tokio::sync::broadcast::Receiver<NodeEvent>) -> Vec<NodeEvent> {
    let mut seen = Vec::new();
    loop {
        match events.try_recv() {
            Ok(event) => seen.push(event),
            Err(TryRecvError::Empty | TryRecvError::Closed) => return seen,
            Err(TryRecvError::Lagged(n)) => panic!("{n} node events were lost"),
        }
    }
}

/// Asks `counter` again and again until `until`; every answer must come,
/// within a bound. Returns how many came.
async fn ask_until(counter: ActorRef<Counter>, until: Instant) -> u64 {
    let mut answered = 0;
    while Instant::now() < until {
        let answer = timeout(Duration::from_secs(5), counter.send(Get))
            .await
            .expect("an answer within 5 s");
        answer.unwrap_or_else(|e| panic!("request {} failed: {e}", answered + 1));
        answered += 1;
    }
    answered
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_nodes_never_see_each_other_go_down_under_two_way_traffic() {
    let endpoint = format!("tls/127.0.0.1:{}", free_port());
    let (s1, s2) = (system(1), system(2));
    let config = || NodeConfig::new("tls-traffic", b"secret").tls(tls());
    let n1 = Node::start(&s1, config().listen(endpoint.clone()), messages())
        .await
        .expect("node 1 starts");
    let n2 = Node::start(&s2, config().connect(endpoint), messages())
        .await
        .expect("node 2 starts");
    up(&n1, 2).await;
    up(&n2, 1).await;
    let (mut ev1, mut ev2) = (n1.events(), n2.events());

    let c1 = Counter::default().spawn().on_system(&s1).await.unwrap();
    let c2 = Counter::default().spawn().on_system(&s2).await.unwrap();
    let to_1 = s2.remote_ref::<Counter>(c1.addr()).expect("a proxy to 1");
    let to_2 = s1.remote_ref::<Counter>(c2.addr()).expect("a proxy to 2");
    let until = Instant::now() + TRAFFIC;
    let (one, two) = tokio::join!(
        tokio::spawn(ask_until(to_1, until)),
        tokio::spawn(ask_until(to_2, until)),
    );
    let (one, two) = (one.expect("asks of node 1"), two.expect("asks of node 2"));
    assert!(one > 0 && two > 0, "requests went both ways: {one}, {two}");

    assert_eq!(seen(&mut ev1), [], "node 1 saw node 2 change");
    assert_eq!(seen(&mut ev2), [], "node 2 saw node 1 change");
    assert_eq!(n1.peers(), [troupe::NodeNo(2)]);
    assert_eq!(n2.peers(), [troupe::NodeNo(1)]);
    n2.close().await;
    n1.close().await;
}
