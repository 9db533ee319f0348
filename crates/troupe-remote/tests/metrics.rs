//! Remote traffic appears in the `troupe_*` metrics, labelled by peer node.

use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use metrics::{
    Counter, CounterFn, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit,
};
use serde::{Deserialize, Serialize};
use tokio::time::timeout;
use troupe::prelude::*;
use troupe::{NodeNo, SystemConfig};
use troupe_remote::{Messages, Node, NodeConfig, NodeEvent};

const BOUND: Duration = Duration::from_secs(10);

/// Counters by `name{label=value,...}` (labels sorted).
#[derive(Default)]
struct Counters(Mutex<HashMap<String, Arc<Value>>>);

#[derive(Default)]
struct Value(AtomicU64);

impl CounterFn for Value {
    fn increment(&self, value: u64) {
        self.0.fetch_add(value, Ordering::Relaxed);
    }
    fn absolute(&self, value: u64) {
        self.0.store(value, Ordering::Relaxed);
    }
}

fn key_string(key: &Key) -> String {
    let mut labels: Vec<String> = key
        .labels()
        .map(|l| format!("{}={}", l.key(), l.value()))
        .collect();
    labels.sort();
    format!("{}{{{}}}", key.name(), labels.join(","))
}

impl Recorder for &'static Counters {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        let value = self
            .0
            .lock()
            .expect("not poisoned")
            .entry(key_string(key))
            .or_default()
            .clone();
        Counter::from_arc(value)
    }
    fn register_gauge(&self, _: &Key, _: &Metadata<'_>) -> Gauge {
        Gauge::noop()
    }
    fn register_histogram(&self, _: &Key, _: &Metadata<'_>) -> Histogram {
        Histogram::noop()
    }
}

fn counters() -> &'static Counters {
    static COUNTERS: OnceLock<Counters> = OnceLock::new();
    let counters = COUNTERS.get_or_init(Counters::default);
    let _ = metrics::set_global_recorder(counters);
    counters
}

fn read(name: &str) -> u64 {
    counters()
        .0
        .lock()
        .expect("not poisoned")
        .get(name)
        .map_or(0, |v| v.0.load(Ordering::Relaxed))
}

#[message]
#[derive(Serialize, Deserialize)]
struct Note(u32);

#[message(ret = u32)]
#[derive(Serialize, Deserialize)]
struct Count;

#[derive(Default)]
struct Book(u32);

impl Actor for Book {
    troupe::handles!(Note, Count);
}

impl Handler<Note> for Book {
    async fn handle(&mut self, _: Note, _: &mut ActorContext<Self>) -> HandlerResult {
        self.0 += 1;
        Ok(())
    }
}

impl Handler<Count> for Book {
    async fn handle(&mut self, _: Count, _: &mut ActorContext<Self>) -> HandlerResult<u32> {
        Ok(self.0)
    }
}

fn system(node: u16) -> ActorSystem {
    let config = SystemConfig {
        node: NodeNo(node),
        ..SystemConfig::default()
    };
    ActorSystem::create_with(format!("metrics-{node}"), config).expect("a system")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remote_frames_are_counted_by_peer_and_kind() {
    counters();
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port");
    let messages = Messages::new().with::<Note>().with::<Count>();
    let (s1, s2) = (system(1), system(2));
    let n1 = Node::start(
        &s1,
        NodeConfig::new("metrics", b"k").listen(format!("tcp/127.0.0.1:{port}")),
        messages.clone(),
    )
    .await
    .unwrap();
    let mut events = n1.events();
    let n2 = Node::start(
        &s2,
        NodeConfig::new("metrics", b"k").connect(format!("tcp/127.0.0.1:{port}")),
        messages,
    )
    .await
    .unwrap();
    while !n1.peers().contains(&NodeNo(2)) {
        let _: NodeEvent = timeout(BOUND, events.recv())
            .await
            .expect("in time")
            .expect("open");
    }
    let book = Book::default().spawn().on_system(&s2).await.unwrap();
    let remote = s1.remote_ref::<Book>(book.addr()).expect("a proxy");
    for i in 0..10 {
        remote.notify(Note(i)).await.unwrap();
    }
    assert_eq!(
        timeout(BOUND, remote.send(Count)).await.expect("in time"),
        Ok(10)
    );

    assert_eq!(
        read("troupe_remote_frames_sent_total{kind=tell,peer=2}"),
        10
    );
    assert_eq!(
        read("troupe_remote_frames_received_total{kind=tell,peer=1}"),
        10
    );
    assert_eq!(
        read("troupe_remote_frames_sent_total{kind=request,peer=2}"),
        1
    );
    // Node 2 counts its response once the transport took it, which may be
    // just after node 1 got it: wait for the count (bounded).
    let response = "troupe_remote_frames_sent_total{kind=response,peer=1}";
    timeout(BOUND, async {
        while read(response) < 1 {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the response is counted in time");
    assert_eq!(read(response), 1);
    assert!(read("troupe_remote_bytes_sent_total{peer=2}") > 0);
    n2.close().await;
    n1.close().await;
}
