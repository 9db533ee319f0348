//! The floor: every workload written with raw Tokio tasks and channels (bounded `mpsc` with
//! capacity 64 as mailboxes, `oneshot` for replies), no framework.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::config::Sizes;
use crate::harness::{check_count, run_tokio, BenchError, Context, RunResult};
use crate::util::{crash, mem, Churn, Countdown, Rng};
use crate::workloads::{Sample, Workload};

/// Setup notes for the report.
pub const NOTES: &[&str] = &[
    "the floor: one Tokio task per actor, a bounded `mpsc` channel of capacity 64 as its \
     mailbox (troupe's default), `oneshot` for replies, `JoinHandle` panics for supervision, \
     `oneshot` stop signals for the tree.",
];

/// Mailbox capacity of the floor's actors (troupe's default).
const CAP: usize = 64;

/// Runs one workload on a fresh 2-worker runtime.
pub fn run(workload: Workload, sizes: &Sizes, limit: Duration) -> RunResult {
    let s = sizes.clone();
    match workload {
        Workload::Ask => run_tokio(limit, ask(s)),
        Workload::Tell => run_tokio(limit, tell(s)),
        Workload::PingPong => run_tokio(limit, pingpong(s)),
        Workload::Ring => run_tokio(limit, ring(s)),
        Workload::FanOut => run_tokio(limit, fanout(s)),
        Workload::Big => run_tokio(limit, big(s)),
        Workload::Spawn => run_tokio(limit, spawn(s)),
        Workload::Backpressure => run_tokio(limit, backpressure(s)),
        Workload::Restarts => run_tokio(limit, restarts(s)),
        Workload::Tree => run_tokio(
            limit,
            crate::workloads::tree::rounds(s.tree_rounds, move || tree(s.clone())),
        ),
    }
}

enum CounterMsg {
    Inc,
    Get(oneshot::Sender<u64>),
}

fn spawn_counter(capacity: usize) -> mpsc::Sender<CounterMsg> {
    let (tx, mut rx) = mpsc::channel(capacity);
    tokio::spawn(async move {
        let mut count = 0u64;
        while let Some(msg) = rx.recv().await {
            match msg {
                CounterMsg::Inc => count += 1,
                CounterMsg::Get(reply) => {
                    let _ = reply.send(count);
                }
            }
        }
    });
    tx
}

async fn get(counter: &mpsc::Sender<CounterMsg>) -> Result<u64, BenchError> {
    let (reply, rx) = oneshot::channel();
    counter
        .send(CounterMsg::Get(reply))
        .await
        .ctx("counter is gone")?;
    rx.await.ctx("counter dropped the reply")
}

async fn inc(counter: &mpsc::Sender<CounterMsg>) -> Result<(), BenchError> {
    counter.send(CounterMsg::Inc).await.ctx("counter is gone")
}

async fn ask(s: Sizes) -> RunResult {
    let counter = spawn_counter(CAP);
    for _ in 0..s.ask_warmup {
        get(&counter).await?;
    }
    let mut latencies = Vec::with_capacity(s.ask_n);
    let start = Instant::now();
    for _ in 0..s.ask_n {
        let t = Instant::now();
        get(&counter).await?;
        latencies.push(t.elapsed());
    }
    Ok(Sample::with_latencies(start.elapsed(), latencies))
}

async fn tell(s: Sizes) -> RunResult {
    let counter = spawn_counter(CAP);
    let start = Instant::now();
    for _ in 0..s.tell_n {
        inc(&counter).await?;
    }
    let count = get(&counter).await?;
    let elapsed = start.elapsed();
    check_count("counter", count, s.tell_n)?;
    Ok(Sample::timed(elapsed))
}

enum PingMsg {
    Start(usize, oneshot::Sender<()>),
    Pong,
}

async fn pingpong(s: Sizes) -> RunResult {
    let (ping_tx, mut ping_rx) = mpsc::channel::<PingMsg>(CAP);
    let (pong_tx, mut pong_rx) = mpsc::channel::<()>(CAP);
    let back = ping_tx.clone();
    tokio::spawn(async move {
        while pong_rx.recv().await.is_some() {
            if back.send(PingMsg::Pong).await.is_err() {
                break;
            }
        }
    });
    tokio::spawn(async move {
        let mut left = 0usize;
        let mut done = None;
        while let Some(msg) = ping_rx.recv().await {
            match msg {
                PingMsg::Start(n, reply) => {
                    left = n;
                    done = Some(reply);
                }
                PingMsg::Pong => left -= 1,
            }
            if left == 0 {
                if let Some(reply) = done.take() {
                    let _ = reply.send(());
                }
            } else if pong_tx.send(()).await.is_err() {
                break;
            }
        }
    });
    let start = Instant::now();
    let (reply, done) = oneshot::channel();
    ping_tx
        .send(PingMsg::Start(s.pingpong_n, reply))
        .await
        .ctx("ping is gone")?;
    done.await.ctx("ping dropped the completion")?;
    Ok(Sample::timed(start.elapsed()))
}

async fn ring(s: Sizes) -> RunResult {
    let (done, finished) = Countdown::new(1);
    let (txs, rxs): (Vec<_>, Vec<_>) = (0..s.ring_actors)
        .map(|_| mpsc::channel::<usize>(CAP))
        .unzip();
    for (i, mut rx) in rxs.into_iter().enumerate() {
        let next = txs[(i + 1) % txs.len()].clone();
        let done = done.clone();
        tokio::spawn(async move {
            while let Some(hops_left) = rx.recv().await {
                if hops_left == 0 {
                    done.hit();
                } else if next.send(hops_left - 1).await.is_err() {
                    break;
                }
            }
        });
    }
    let start = Instant::now();
    txs[0].send(s.ring_hops).await.ctx("ring is gone")?;
    finished.await.ctx("ring dropped the completion")?;
    Ok(Sample::timed(start.elapsed()))
}

async fn fanout(s: Sizes) -> RunResult {
    let all: Vec<_> = (0..s.fanout_actors + s.fanout_idle)
        .map(|_| spawn_counter(CAP))
        .collect();
    let workers = &all[..s.fanout_actors];
    let start = Instant::now();
    for i in 0..s.fanout_n {
        inc(&workers[i % workers.len()]).await?;
    }
    let mut total = 0;
    for w in workers {
        total += get(w).await?;
    }
    let elapsed = start.elapsed();
    check_count("workers", total, s.fanout_n)?;
    Ok(Sample::timed(elapsed))
}

enum BigMsg {
    Start,
    Ping(usize),
    Pong,
}

async fn big(s: Sizes) -> RunResult {
    let n = s.big_actors;
    let (done, finished) = Countdown::new(n);
    let (txs, rxs): (Vec<_>, Vec<_>) = (0..n).map(|_| mpsc::channel::<BigMsg>(CAP)).unzip();
    let peers = Arc::new(txs);
    for (me, mut rx) in rxs.into_iter().enumerate() {
        let peers = peers.clone();
        let done = done.clone();
        let pings = s.big_pings;
        tokio::spawn(async move {
            let mut rng = Rng::new(me as u64);
            let mut answered = 0;
            while let Some(msg) = rx.recv().await {
                let sent = match msg {
                    BigMsg::Start => peers[rng.peer(me, n)].send(BigMsg::Ping(me)).await,
                    BigMsg::Ping(from) => peers[from].send(BigMsg::Pong).await,
                    BigMsg::Pong => {
                        answered += 1;
                        if answered == pings {
                            done.hit();
                            Ok(())
                        } else {
                            peers[rng.peer(me, n)].send(BigMsg::Ping(me)).await
                        }
                    }
                };
                if sent.is_err() {
                    break;
                }
            }
        });
    }
    let start = Instant::now();
    for p in peers.iter() {
        p.send(BigMsg::Start).await.ctx("big actor is gone")?;
    }
    finished.await.ctx("big actors dropped the completion")?;
    Ok(Sample::timed(start.elapsed()))
}

async fn spawn(s: Sizes) -> RunResult {
    let (done, finished) = Countdown::new(s.spawn_n);
    let probe = mem::Probe::start();
    let start = Instant::now();
    let mut handles = Vec::with_capacity(s.spawn_n);
    for _ in 0..s.spawn_n {
        let (tx, mut rx) = mpsc::channel::<()>(CAP);
        let done = done.clone();
        tokio::spawn(async move {
            while rx.recv().await.is_some() {
                done.hit();
            }
        });
        tx.send(()).await.ctx("spawned task is gone")?;
        handles.push(tx);
    }
    finished.await.ctx("spawned tasks dropped the completion")?;
    let elapsed = start.elapsed();
    crate::util::end_of_timed_spawn(elapsed);
    let growth = probe.finish(s.spawn_n);
    drop(handles);
    Ok(Sample::timed(elapsed).with_growth(growth))
}

async fn backpressure(s: Sizes) -> RunResult {
    let counter = spawn_counter(s.bp_capacity);
    crate::workloads::backpressure::run_on_tokio(
        counter,
        &s,
        |c, n| async move {
            for _ in 0..n {
                inc(&c).await?;
            }
            Ok(())
        },
        |c| async move { get(&c).await },
    )
    .await
}

async fn restart_child(churn: Churn) {
    let (tx, mut rx) = mpsc::channel::<()>(CAP);
    if !churn.should_crash() {
        return;
    }
    if tx.send(()).await.is_err() {
        return;
    }
    if rx.recv().await.is_some() {
        crash();
    }
}

async fn restarts(s: Sizes) -> RunResult {
    let (churn, finished) = Churn::new(s.restarts);
    let start = Instant::now();
    let sup_churn = churn.clone();
    tokio::spawn(async move {
        loop {
            let child = tokio::spawn(restart_child(sup_churn.clone()));
            match child.await {
                Err(e) if e.is_panic() => continue,
                _ => break,
            }
        }
    });
    churn.finish(finished, start, s.restart_window).await
}

struct TreeShared {
    breadth: usize,
    started: Arc<Countdown>,
    stopped: Arc<Countdown>,
}

fn spawn_node(
    levels_below: usize,
    shared: Arc<TreeShared>,
) -> (oneshot::Sender<()>, JoinHandle<()>) {
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let handle = tokio::spawn(async move {
        let children: Vec<_> = if levels_below > 0 {
            (0..shared.breadth)
                .map(|_| spawn_node(levels_below - 1, shared.clone()))
                .collect()
        } else {
            Vec::new()
        };
        shared.started.hit();
        let _ = stop_rx.await;
        let mut joins = Vec::with_capacity(children.len());
        for (stop, join) in children {
            let _ = stop.send(());
            joins.push(join);
        }
        for join in joins {
            let _ = join.await;
        }
        shared.stopped.hit();
    });
    (stop_tx, handle)
}

async fn tree(s: Sizes) -> RunResult {
    let total = s.tree_size();
    let (started, all_started) = Countdown::new(total);
    let (stopped, all_stopped) = Countdown::new(total);
    let shared = Arc::new(TreeShared {
        breadth: s.tree_breadth,
        started,
        stopped,
    });
    let (stop_root, root) = spawn_node(s.tree_depth, shared);
    all_started.await.ctx("tree did not start")?;
    let start = Instant::now();
    stop_root
        .send(())
        .map_err(|_| BenchError::failed("root is gone"))?;
    root.await.ctx("root task failed")?;
    all_stopped.await.ctx("not every node stopped")?;
    Ok(Sample::timed(start.elapsed()))
}
