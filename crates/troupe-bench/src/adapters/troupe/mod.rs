//! troupe: struct actors (`Actor` + one `Handler<M>` per `#[message]` type), `notify` for tells,
//! `send` for requests, every actor in a fresh `ActorSystem` per run, supervision by struct
//! actors spawned `with_supervision` and their `ctx.spawn_child` children.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ::troupe::{
    message, Actor, ActorConfig, ActorContext, ActorRef, ActorSystem, Handler, HandlerResult,
    Spawn, SystemConfig,
};
use tokio::sync::oneshot;

use crate::config::Sizes;
use crate::harness::{check_count, run_tokio, BenchError, Context as _, RunResult};
use crate::util::{mem, Countdown, Rng};
use crate::workloads::{Sample, Workload};

mod supervision;

use supervision::{restarts, tree};

/// Setup notes for the report.
pub const NOTES: &[&str] = &[
    "struct actors: `impl Actor` plus one `Handler<M>` per `#[message]` type; tells are \
     `notify(..).await`, requests `send(..).await`; default bounded mailbox (capacity 64, \
     waiting senders), set explicitly with `ActorConfig::with_mailbox_capacity(64)` for \
     backpressure. Every run spawns into its own `ActorSystem`, shut down after the measurement. \
     Ping-pong's completion is a Tokio `oneshot` carried in the start message.",
    "supervision: a struct actor spawned `with_supervision(SupervisorConfig::one_for_one()\
     .max_restarts(usize::MAX, 1 h))` starts the child with `ctx.spawn_child(factory)` \
     (Permanent, no backoff). Each incarnation's `pre_start` tells itself `Crash` \
     (`try_notify`, as the peers cast to themselves); a panic in a fire-and-forget handler goes \
     to `handle_failure` and does not stop a troupe actor, so the crasher's `handle_failure` \
     stops it with `ctx.stop_with(failure.into())` (`ExitReason::Failed` with the failure's text), the Erlang `handle_cast` crash. Tree: inner nodes are spawned `.supervised()`, \
     the driver calls `stop(StopReason::Graceful)` on the root.",
];

/// Runs one workload on a fresh 2-worker runtime.
pub fn run(workload: Workload, sizes: &Sizes, limit: Duration) -> RunResult {
    let s = sizes.clone();
    match workload {
        Workload::Ask => run_in_system(limit, |sys| ask(sys, s)),
        Workload::Tell => run_in_system(limit, |sys| tell(sys, s)),
        Workload::PingPong => run_in_system(limit, |sys| pingpong(sys, s)),
        Workload::Ring => run_in_system(limit, |sys| ring(sys, s)),
        Workload::FanOut => run_in_system(limit, |sys| fanout(sys, s)),
        Workload::Big => run_in_system(limit, |sys| big(sys, s)),
        Workload::Spawn => run_in_system(limit, |sys| spawn(sys, s)),
        Workload::Backpressure => run_in_system(limit, |sys| backpressure(sys, s)),
        Workload::Restarts => run_in_system(limit, |sys| restarts(sys, s)),
        Workload::Tree => run_in_system(limit, |sys| {
            crate::workloads::tree::rounds(s.tree_rounds, move || tree(sys.clone(), s.clone()))
        }),
    }
}

static SYSTEM_SEQ: AtomicUsize = AtomicUsize::new(0);

/// Runs `body` with a fresh actor system, then shuts the system down (not timed).
fn run_in_system<F, Fut>(limit: Duration, body: F) -> RunResult
where
    F: FnOnce(ActorSystem) -> Fut + Send + 'static,
    Fut: Future<Output = RunResult> + Send + 'static,
{
    run_in_system_with(limit, SystemConfig::default(), body)
}

/// [`run_in_system`] with a system config.
pub(super) fn run_in_system_with<F, Fut>(
    limit: Duration,
    config: SystemConfig,
    body: F,
) -> RunResult
where
    F: FnOnce(ActorSystem) -> Fut + Send + 'static,
    Fut: Future<Output = RunResult> + Send + 'static,
{
    run_tokio(limit, async move {
        let name = format!(
            "troupe-bench-{}",
            SYSTEM_SEQ.fetch_add(1, Ordering::Relaxed)
        );
        let sys = ActorSystem::create_with(name, config).ctx("create actor system")?;
        let outcome = body(sys.clone()).await;
        sys.shutdown_with(Duration::from_secs(10)).await;
        outcome
    })
}

async fn spawn_in<A: Actor>(sys: &ActorSystem, actor: A) -> Result<ActorRef<A>, BenchError> {
    actor.spawn().on_system(sys).await.ctx("spawn")
}

// ---------------------------------------------------------------------------------------------
// Counter: ask, tell, fan-out, backpressure

#[message]
struct Inc;

#[message(ret = u64)]
struct Get;

#[derive(Default)]
struct Counter {
    count: u64,
}

impl Actor for Counter {}

impl Handler<Inc> for Counter {
    async fn handle(&mut self, _: Inc, _: &mut ActorContext<Self>) -> HandlerResult {
        self.count += 1;
        Ok(())
    }
}

impl Handler<Get> for Counter {
    async fn handle(&mut self, _: Get, _: &mut ActorContext<Self>) -> HandlerResult<u64> {
        Ok(self.count)
    }
}

async fn get(actor: &ActorRef<Counter>) -> Result<u64, BenchError> {
    actor.send(Get).await.ctx("send Get")
}

async fn inc(actor: &ActorRef<Counter>) -> Result<(), BenchError> {
    actor
        .notify(Inc)
        .await
        .map_err(|e| BenchError::failed(format!("notify Inc: {e}")))
}

pub(super) async fn ask(sys: ActorSystem, s: Sizes) -> RunResult {
    let actor = spawn_in(&sys, Counter::default()).await?;
    for _ in 0..s.ask_warmup {
        get(&actor).await?;
    }
    let mut latencies = Vec::with_capacity(s.ask_n);
    let start = Instant::now();
    for _ in 0..s.ask_n {
        let t = Instant::now();
        get(&actor).await?;
        latencies.push(t.elapsed());
    }
    Ok(Sample::with_latencies(start.elapsed(), latencies))
}

pub(super) async fn tell(sys: ActorSystem, s: Sizes) -> RunResult {
    let actor = spawn_in(&sys, Counter::default()).await?;
    let start = Instant::now();
    for _ in 0..s.tell_n {
        inc(&actor).await?;
    }
    let count = get(&actor).await?;
    let elapsed = start.elapsed();
    check_count("counter", count, s.tell_n)?;
    Ok(Sample::timed(elapsed))
}

async fn fanout(sys: ActorSystem, s: Sizes) -> RunResult {
    let mut all = Vec::with_capacity(s.fanout_actors + s.fanout_idle);
    for _ in 0..s.fanout_actors + s.fanout_idle {
        all.push(spawn_in(&sys, Counter::default()).await?);
    }
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

async fn backpressure(sys: ActorSystem, s: Sizes) -> RunResult {
    let actor = Counter::default()
        .spawn()
        .on_system(&sys)
        .with_config(ActorConfig::default().with_mailbox_capacity(s.bp_capacity))
        .await
        .ctx("spawn counter")?;
    crate::workloads::backpressure::run_on_tokio(
        actor,
        &s,
        |a, n| async move {
            for _ in 0..n {
                inc(&a).await?;
            }
            Ok(())
        },
        |a| async move { get(&a).await },
    )
    .await
}

// ---------------------------------------------------------------------------------------------
// Ping-pong

#[message]
struct PpStart {
    n: usize,
    done: oneshot::Sender<()>,
}

#[message]
struct PpPing;

#[message]
struct PpPong;

#[message(ret = ())]
struct PpInit(ActorRef<Ping>);

struct Ping {
    pong: ActorRef<Pong>,
    left: usize,
    done: Option<oneshot::Sender<()>>,
}

impl Actor for Ping {}

impl Ping {
    async fn step(&mut self) {
        if self.left == 0 {
            if let Some(done) = self.done.take() {
                let _ = done.send(());
            }
        } else {
            let _ = self.pong.notify(PpPing).await;
        }
    }
}

impl Handler<PpStart> for Ping {
    async fn handle(&mut self, msg: PpStart, _: &mut ActorContext<Self>) -> HandlerResult {
        self.left = msg.n;
        self.done = Some(msg.done);
        self.step().await;
        Ok(())
    }
}

impl Handler<PpPong> for Ping {
    async fn handle(&mut self, _: PpPong, _: &mut ActorContext<Self>) -> HandlerResult {
        self.left -= 1;
        self.step().await;
        Ok(())
    }
}

#[derive(Default)]
struct Pong {
    ping: Option<ActorRef<Ping>>,
}

impl Actor for Pong {}

impl Handler<PpInit> for Pong {
    async fn handle(&mut self, PpInit(ping): PpInit, _: &mut ActorContext<Self>) -> HandlerResult {
        self.ping = Some(ping);
        Ok(())
    }
}

impl Handler<PpPing> for Pong {
    async fn handle(&mut self, _: PpPing, _: &mut ActorContext<Self>) -> HandlerResult {
        if let Some(ping) = &self.ping {
            let _ = ping.notify(PpPong).await;
        }
        Ok(())
    }
}

async fn pingpong(sys: ActorSystem, s: Sizes) -> RunResult {
    let pong = spawn_in(&sys, Pong::default()).await?;
    let ping = spawn_in(
        &sys,
        Ping {
            pong: pong.clone(),
            left: 0,
            done: None,
        },
    )
    .await?;
    pong.send(PpInit(ping.clone())).await.ctx("init pong")?;
    let start = Instant::now();
    let (done, finished) = oneshot::channel();
    ping.notify(PpStart {
        n: s.pingpong_n,
        done,
    })
    .await
    .map_err(|e| BenchError::failed(format!("notify Start: {e}")))?;
    finished.await.ctx("ping dropped the completion")?;
    Ok(Sample::timed(start.elapsed()))
}

// ---------------------------------------------------------------------------------------------
// Ring

#[message(ret = ())]
struct SetNext(ActorRef<RingNode>);

#[message]
struct Token(usize);

struct RingNode {
    next: Option<ActorRef<RingNode>>,
    done: Arc<Countdown>,
}

impl Actor for RingNode {}

impl Handler<SetNext> for RingNode {
    async fn handle(&mut self, SetNext(n): SetNext, _: &mut ActorContext<Self>) -> HandlerResult {
        self.next = Some(n);
        Ok(())
    }
}

impl Handler<Token> for RingNode {
    async fn handle(&mut self, Token(hops): Token, _: &mut ActorContext<Self>) -> HandlerResult {
        if hops == 0 {
            self.done.hit();
        } else if let Some(next) = &self.next {
            let _ = next.notify(Token(hops - 1)).await;
        }
        Ok(())
    }
}

async fn ring(sys: ActorSystem, s: Sizes) -> RunResult {
    let (done, finished) = Countdown::new(1);
    let mut nodes = Vec::with_capacity(s.ring_actors);
    for _ in 0..s.ring_actors {
        let node = RingNode {
            next: None,
            done: done.clone(),
        };
        nodes.push(spawn_in(&sys, node).await?);
    }
    for (i, node) in nodes.iter().enumerate() {
        let next = nodes[(i + 1) % nodes.len()].clone();
        node.send(SetNext(next)).await.ctx("send SetNext")?;
    }
    let start = Instant::now();
    nodes[0]
        .notify(Token(s.ring_hops))
        .await
        .map_err(|e| BenchError::failed(format!("notify Token: {e}")))?;
    finished.await.ctx("ring dropped the completion")?;
    Ok(Sample::timed(start.elapsed()))
}

// ---------------------------------------------------------------------------------------------
// Big

#[message(ret = ())]
struct Peers(Arc<Vec<ActorRef<BigNode>>>);

#[message]
struct BigStart;

#[message]
struct BigPing(usize);

#[message]
struct BigPong;

struct BigNode {
    me: usize,
    pings: usize,
    answered: usize,
    rng: Rng,
    peers: Arc<Vec<ActorRef<BigNode>>>,
    done: Arc<Countdown>,
}

impl Actor for BigNode {}

impl BigNode {
    async fn ping_random(&mut self) {
        let to = self.rng.peer(self.me, self.peers.len());
        let _ = self.peers[to].notify(BigPing(self.me)).await;
    }
}

impl Handler<Peers> for BigNode {
    async fn handle(&mut self, Peers(p): Peers, _: &mut ActorContext<Self>) -> HandlerResult {
        self.peers = p;
        Ok(())
    }
}

impl Handler<BigStart> for BigNode {
    async fn handle(&mut self, _: BigStart, _: &mut ActorContext<Self>) -> HandlerResult {
        self.ping_random().await;
        Ok(())
    }
}

impl Handler<BigPing> for BigNode {
    async fn handle(
        &mut self,
        BigPing(from): BigPing,
        _: &mut ActorContext<Self>,
    ) -> HandlerResult {
        let _ = self.peers[from].notify(BigPong).await;
        Ok(())
    }
}

impl Handler<BigPong> for BigNode {
    async fn handle(&mut self, _: BigPong, _: &mut ActorContext<Self>) -> HandlerResult {
        self.answered += 1;
        if self.answered == self.pings {
            self.done.hit();
        } else {
            self.ping_random().await;
        }
        Ok(())
    }
}

async fn big(sys: ActorSystem, s: Sizes) -> RunResult {
    let (done, finished) = Countdown::new(s.big_actors);
    let mut nodes = Vec::with_capacity(s.big_actors);
    for me in 0..s.big_actors {
        let node = BigNode {
            me,
            pings: s.big_pings,
            answered: 0,
            rng: Rng::new(me as u64),
            peers: Arc::new(Vec::new()),
            done: done.clone(),
        };
        nodes.push(spawn_in(&sys, node).await?);
    }
    let peers = Arc::new(nodes);
    for p in peers.iter() {
        p.send(Peers(peers.clone())).await.ctx("send Peers")?;
    }
    let start = Instant::now();
    for p in peers.iter() {
        p.notify(BigStart)
            .await
            .map_err(|e| BenchError::failed(format!("notify Start: {e}")))?;
    }
    finished.await.ctx("big actors dropped the completion")?;
    Ok(Sample::timed(start.elapsed()))
}

// ---------------------------------------------------------------------------------------------
// Spawn

#[message]
struct Hello;

struct Greeted {
    done: Arc<Countdown>,
}

impl Actor for Greeted {}

impl Handler<Hello> for Greeted {
    async fn handle(&mut self, _: Hello, _: &mut ActorContext<Self>) -> HandlerResult {
        self.done.hit();
        Ok(())
    }
}

async fn spawn(sys: ActorSystem, s: Sizes) -> RunResult {
    let (done, finished) = Countdown::new(s.spawn_n);
    let probe = mem::Probe::start();
    let start = Instant::now();
    let mut actors = Vec::with_capacity(s.spawn_n);
    for _ in 0..s.spawn_n {
        let a = spawn_in(&sys, Greeted { done: done.clone() }).await?;
        a.notify(Hello)
            .await
            .map_err(|e| BenchError::failed(format!("notify Hello: {e}")))?;
        actors.push(a);
    }
    finished.await.ctx("actors dropped the completion")?;
    let elapsed = start.elapsed();
    crate::util::end_of_timed_spawn(elapsed);
    let growth = probe.finish(s.spawn_n);
    Ok(Sample::timed(elapsed).with_growth(growth))
}
