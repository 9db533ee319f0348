//! Remote tell throughput and ask latency between two processes over
//! loopback, beside the same workloads on one node.
//!
//! `cargo run --release -p troupe-remote --example remote_bench [tells] [asks]`
//!
//! The example starts node 1, runs itself again as node 2 in a child
//! process (which hosts the counter), and measures from node 1.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use troupe::prelude::*;
use troupe::{NodeNo, SystemConfig};
use troupe_remote::{Messages, Node, NodeConfig, NodeEvent};

#[message]
#[derive(Serialize, Deserialize)]
struct Add(u64);

#[message(ret = u64)]
#[derive(Serialize, Deserialize)]
struct Get;

#[derive(Default)]
struct Counter(u64);

impl Actor for Counter {
    troupe::handles!(Add, Get);
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

type Error = Box<dyn std::error::Error>;

fn messages() -> Messages {
    Messages::new().with::<Add>().with::<Get>()
}

fn system(node: u16) -> Result<ActorSystem, Error> {
    let config = SystemConfig {
        node: NodeNo(node),
        ..SystemConfig::default()
    };
    Ok(ActorSystem::create_with(format!("bench-{node}"), config)?)
}

/// Node 2: hosts the counter, prints its address, runs until killed.
async fn child(endpoint: &str) -> Result<(), Error> {
    let sys = system(2)?;
    let _node = Node::start(
        &sys,
        NodeConfig::new("bench", b"cookie").connect(endpoint),
        messages(),
    )
    .await?;
    let counter = Counter::default().spawn().on_system(&sys).await?;
    println!("ready {}", counter.addr().into_bits());
    std::future::pending::<()>().await;
    Ok(())
}

/// Tells then one request: the tell throughput in messages per second.
async fn tells(counter: &ActorRef<Counter>, n: u64) -> Result<f64, Error> {
    let base = counter.send(Get).await?;
    let start = Instant::now();
    for _ in 0..n {
        counter.notify(Add(1)).await?;
    }
    let total = counter
        .send_timeout(Get, Some(Duration::from_secs(60)))
        .await?;
    let elapsed = start.elapsed();
    if total != base + n {
        return Err(format!("counted {} of {n}", total - base).into());
    }
    Ok(n as f64 / elapsed.as_secs_f64())
}

/// Sequential requests: the mean round trip.
async fn asks(counter: &ActorRef<Counter>, n: u32) -> Result<Duration, Error> {
    let start = Instant::now();
    for _ in 0..n {
        counter.send(Get).await?;
    }
    Ok(start.elapsed() / n)
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--child") {
        return child(args.get(1).ok_or("--child <endpoint>")?).await;
    }
    let n_tells: u64 = args.first().map_or(Ok(200_000), |a| a.parse())?;
    let n_asks: u32 = args.get(1).map_or(Ok(5_000), |a| a.parse())?;

    let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let endpoint = format!("tcp/127.0.0.1:{port}");
    let sys = system(1)?;
    let node = Node::start(
        &sys,
        NodeConfig::new("bench", b"cookie").listen(&endpoint),
        messages(),
    )
    .await?;
    let mut events = node.events();
    let mut peer = Command::new(std::env::current_exe()?)
        .args(["--child", &endpoint])
        .stdout(Stdio::piped())
        .spawn()?;
    let mut line = String::new();
    BufReader::new(peer.stdout.take().ok_or("no stdout")?).read_line(&mut line)?;
    let bits: u64 = line
        .trim()
        .strip_prefix("ready ")
        .ok_or("no address")?
        .parse()?;
    while !node.peers().contains(&NodeNo(2)) {
        let _: NodeEvent = events.recv().await?;
    }
    let remote = sys
        .remote_ref::<Counter>(Addr::from_bits(bits))
        .ok_or("no proxy")?;
    let local = Counter::default().spawn().on_system(&sys).await?;

    // Warm-up, then the measures.
    tells(&remote, 1_000).await?;
    asks(&remote, 100).await?;
    let remote_tell = tells(&remote, n_tells).await?;
    let remote_ask = asks(&remote, n_asks).await?;
    let local_tell = tells(&local, n_tells).await?;
    let local_ask = asks(&local, n_asks).await?;

    println!("| workload | one node | two processes over loopback |");
    println!("|---|---|---|");
    println!(
        "| tell throughput ({n_tells} tells, then one request) | {:.2} Mmsg/s | {:.3} Mmsg/s |",
        local_tell / 1e6,
        remote_tell / 1e6
    );
    println!(
        "| ask latency ({n_asks} sequential requests, mean) | {:.2} µs | {:.1} µs |",
        local_ask.as_secs_f64() * 1e6,
        remote_ask.as_secs_f64() * 1e6
    );
    let _ = peer.kill();
    let _ = peer.wait();
    node.close().await;
    Ok(())
}
