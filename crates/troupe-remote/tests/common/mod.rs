//! What the multi-node tests share: message types, a counter actor, systems
//! with their own node numbers, and two nodes joined on loopback.

#![allow(dead_code)]

use std::net::TcpListener;
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::time::timeout;
use troupe::prelude::*;
use troupe::{NodeNo, SystemConfig};
use troupe_remote::{Messages, Node, NodeConfig, NodeEvent};

pub const BOUND: Duration = Duration::from_secs(10);

#[message]
#[derive(Serialize, Deserialize)]
pub struct Add(pub u64);

#[message(ret = u64)]
#[derive(Serialize, Deserialize)]
pub struct Get;

/// Never answered: its handler waits forever.
#[message(ret = ())]
#[derive(Serialize, Deserialize)]
pub struct Hang;

/// Registered on the sending node only.
#[message(ret = u64)]
#[derive(Serialize, Deserialize)]
pub struct OnlyHere;

#[derive(Default)]
pub struct Counter(pub u64);

impl Actor for Counter {
    troupe::handles!(Add, Get, Hang);
}

impl Handler<Add> for Counter {
    async fn handle(&mut self, msg: Add, _: &mut ActorContext<Self>) -> HandlerResult {
        self.0 += msg.0;
        Ok(())
    }
}

impl Handler<Get> for Counter {
    async fn handle(&mut self, _: Get, _: &mut ActorContext<Self>) -> HandlerResult<u64> {
        Ok(self.0)
    }
}

impl Handler<Hang> for Counter {
    async fn handle(&mut self, _: Hang, _: &mut ActorContext<Self>) -> HandlerResult<()> {
        std::future::pending::<()>().await;
        Ok(())
    }
}

impl Handler<OnlyHere> for Counter {
    async fn handle(&mut self, _: OnlyHere, _: &mut ActorContext<Self>) -> HandlerResult<u64> {
        Ok(0)
    }
}

pub fn messages() -> Messages {
    Messages::new().with::<Add>().with::<Get>().with::<Hang>()
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

pub fn system(node: u16) -> ActorSystem {
    static N: AtomicU16 = AtomicU16::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let config = SystemConfig {
        node: NodeNo(node),
        ..SystemConfig::default()
    };
    ActorSystem::create_with(format!("remote-test-{node}-{n}"), config).expect("a system")
}

pub async fn up(node: &Node, peer: u16) {
    let mut events = node.events();
    if node.peers().contains(&NodeNo(peer)) {
        return;
    }
    loop {
        let event = timeout(BOUND, events.recv())
            .await
            .expect("in time")
            .expect("open");
        if event == NodeEvent::Up(NodeNo(peer)) {
            return;
        }
    }
}

/// Joins `system` to `cluster` with `secret`: listening on `port`, or
/// connecting to it.
pub async fn join(
    system: &ActorSystem,
    cluster: &str,
    secret: &[u8],
    port: u16,
    listen: bool,
) -> Node {
    join_with(system, cluster, secret, port, listen, messages()).await
}

/// [`join`] carrying `messages`.
pub async fn join_with(
    system: &ActorSystem,
    cluster: &str,
    secret: &[u8],
    port: u16,
    listen: bool,
    messages: Messages,
) -> Node {
    let endpoint = format!("tcp/127.0.0.1:{port}");
    let config = NodeConfig::new(cluster, secret);
    let config = if listen {
        config.listen(endpoint)
    } else {
        config.connect(endpoint)
    };
    Node::start(system, config, messages)
        .await
        .expect("the node starts")
}

/// A topology for node `node`.
pub fn topology_of(node: u16) -> Topology {
    Topology::empty().with_config(SystemConfig {
        node: NodeNo(node),
        ..SystemConfig::default()
    })
}

/// Waits for the refusal of a frame of `kind` from node `from`.
pub async fn refused(
    events: &mut tokio::sync::broadcast::Receiver<NodeEvent>,
    from: u16,
    kind: &str,
) {
    loop {
        let event = timeout(BOUND, events.recv())
            .await
            .expect("in time")
            .expect("open");
        if let NodeEvent::Refused { node, kind: k } = event {
            if node == NodeNo(from) && k == kind {
                return;
            }
        }
    }
}

/// Two joined nodes: 1 listens, 2 connects.
pub async fn pair(cluster: &str) -> (ActorSystem, Node, ActorSystem, Node) {
    let port = free_port();
    let (s1, s2) = (system(1), system(2));
    let only_here = messages().with::<OnlyHere>();
    let n1 = join_with(&s1, cluster, b"secret", port, true, only_here).await;
    let n2 = join(&s2, cluster, b"secret", port, false).await;
    // Each side counts the other as up once its hello arrived.
    up(&n1, 2).await;
    up(&n2, 1).await;
    (s1, n1, s2, n2)
}
