//! A node in a process of its own, for multi-process tests and demos.
//!
//! `troupe-node <node> <cluster> <secret> <lease-ms> [listen|connect] <endpoint>`
//!
//! Joins the cluster, spawns a `Counter` registered as `counter`, prints
//! `ready <address bits>` on a line of its own, then runs until killed.

use std::time::Duration;

use troupe::prelude::*;
use troupe::{NodeNo, SystemConfig};
use troupe_remote::{Messages, Node, NodeConfig};

#[derive(Default)]
struct Counter;

impl Actor for Counter {}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage =
        "usage: troupe-node <node> <cluster> <secret> <lease-ms> [listen|connect] <endpoint>";
    let [node, cluster, secret, lease, how, endpoint] = args.as_slice() else {
        return Err(usage.into());
    };
    let node: u16 = node.parse()?;
    let lease = Duration::from_millis(lease.parse()?);
    let config = SystemConfig {
        node: NodeNo(node),
        ..SystemConfig::default()
    };
    let system = ActorSystem::create_with(format!("node-{node}"), config)?;
    let mut join = NodeConfig::new(cluster.as_str(), secret.as_bytes()).lease(lease);
    join = match how.as_str() {
        "listen" => join.listen(endpoint.as_str()),
        "connect" => join.connect(endpoint.as_str()),
        _ => return Err(usage.into()),
    };
    let _node = Node::start(&system, join, Messages::new()).await?;
    let counter = Counter.spawn().named("counter").on_system(&system).await?;
    println!("ready {}", counter.addr().into_bits());
    std::future::pending::<()>().await;
    Ok(())
}
