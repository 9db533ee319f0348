//! Nodes as separate processes: a node killed (SIGKILL) or hung (SIGSTOP)
//! is a `Down` with reason `NodeDown` for the monitors of its processes,
//! within 100 ms for a crash and within the lease for a hang.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tokio::time::timeout;
use troupe::{ActorSystem, Addr, ExitReason, NodeNo, SystemConfig};
use troupe_remote::{Messages, Node, NodeConfig, NodeEvent};

const BOUND: Duration = Duration::from_secs(15);
const LEASE_MS: u64 = 1000;

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// Node 2 in a child process, connected to `port`; its counter's address.
fn spawn_node(cluster: &str, port: u16) -> (Child, Addr) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_troupe-node"))
        .args([
            "2",
            cluster,
            "secret",
            &LEASE_MS.to_string(),
            "connect",
            &format!("tcp/127.0.0.1:{port}"),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the node process starts");
    let stdout = child.stdout.take().expect("its stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("it prints its counter's address");
    let bits: u64 = line
        .trim()
        .strip_prefix("ready ")
        .and_then(|b| b.parse().ok())
        .unwrap_or_else(|| panic!("unexpected line {line:?}"));
    (child, Addr::from_bits(bits))
}

async fn node_one(cluster: &str, port: u16) -> (ActorSystem, Node) {
    let config = SystemConfig {
        node: NodeNo(1),
        ..SystemConfig::default()
    };
    let system = ActorSystem::create_with(format!("processes-{cluster}"), config).unwrap();
    let join = NodeConfig::new(cluster, b"secret")
        .listen(format!("tcp/127.0.0.1:{port}"))
        .lease(Duration::from_millis(LEASE_MS));
    let node = Node::start(&system, join, Messages::new()).await.unwrap();
    (system, node)
}

async fn wait_up(node: &Node, events: &mut tokio::sync::broadcast::Receiver<NodeEvent>) {
    while !node.peers().contains(&NodeNo(2)) {
        match timeout(BOUND, events.recv()).await {
            Ok(Ok(NodeEvent::Up(NodeNo(2)))) => return,
            Ok(Ok(_)) => {}
            other => panic!("node 2 never came up: {other:?}"),
        }
    }
}

fn signal(child: &Child, sig: &str) {
    let status = Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_node_is_a_down_within_100_ms() {
    let port = free_port();
    let (system, node) = node_one("sigkill", port).await;
    let mut events = node.events();
    let (mut child, counter) = spawn_node("sigkill", port);
    wait_up(&node, &mut events).await;
    // Watched from here on: even before node 2 has the monitor, the node
    // going down ends it.
    let down = system.monitor(counter);
    let killed = Instant::now();
    child.kill().expect("SIGKILL");
    let down = timeout(BOUND, down).await.expect("a Down");
    let latency = killed.elapsed();
    eprintln!("SIGKILL seen as NodeDown after {latency:?}");
    assert_eq!(down.reason, ExitReason::NodeDown);
    assert!(
        latency < Duration::from_millis(100),
        "seen after {latency:?}"
    );
    let _ = child.wait();
    node.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_node_is_a_down_within_its_lease() {
    let port = free_port();
    let (system, node) = node_one("sigstop", port).await;
    let mut events = node.events();
    let (mut child, counter) = spawn_node("sigstop", port);
    wait_up(&node, &mut events).await;
    let down = system.monitor(counter);
    let stopped = Instant::now();
    signal(&child, "-STOP");
    let down = timeout(BOUND, down).await.expect("a Down");
    let latency = stopped.elapsed();
    eprintln!("SIGSTOP seen as NodeDown after {latency:?} (lease {LEASE_MS} ms)");
    signal(&child, "-CONT");
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(down.reason, ExitReason::NodeDown);
    assert!(latency < Duration::from_secs(2), "seen after {latency:?}");
    node.close().await;
}
