//! tokio-actors: one `Actor` impl per actor with an enum `Message` and one `Response` type,
//! `notify` for tells, `send` for asks, every actor in a fresh `ActorSystem` per run,
//! runtime-managed OTP supervision.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ::tokio_actors::{
    Actor, ActorConfig, ActorContext, ActorExt, ActorHandle, ActorResult, ActorSystem,
    ShutdownPolicy, SystemConfig,
};
use tokio::sync::oneshot;

use crate::config::Sizes;
use crate::harness::{check_count, run_tokio, BenchError, Context, RunResult};
use crate::util::{mem, Countdown, Rng};
use crate::workloads::{Sample, Workload};

mod supervision;

/// Setup notes for the report.
pub const NOTES: &[&str] = &[
    "one `Actor` impl per actor with an enum `Message` and a single `Response` type; tells are \
     `notify(..).await`, asks `send(..).await`, default bounded mailbox (capacity 64), set \
     explicitly with `ActorConfig::with_mailbox_capacity(64)` for backpressure. Every run uses \
     its own `ActorSystem`, shut down after the measurement. Ping-pong's completion is a Tokio \
     `oneshot` carried in the start message.",
    "supervision: runtime-managed OTP supervision: `SupervisionConfig::one_for_one()` with \
     `max_restarts(u32::MAX, 1 h)`, children started with `ctx.spawn_child(factory)` (Permanent). \
     Tree: inner nodes are spawned as supervisors, the driver calls \
     `stop_within(StopReason::Graceful, ..)` on the root.",
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
        Workload::Restarts => run_in_system(limit, |sys| supervision::restarts(sys, s)),
        Workload::Tree => run_in_system(limit, |sys| {
            crate::workloads::tree::rounds(s.tree_rounds, move || {
                supervision::tree(sys.clone(), s.clone())
            })
        }),
    }
}

static SYSTEM_SEQ: AtomicUsize = AtomicUsize::new(0);

/// Runs `body` with a fresh actor system, then shuts the system down (not timed) so that no
/// actor outlives the run in the process-wide registry of systems.
fn run_in_system<F, Fut>(limit: Duration, body: F) -> RunResult
where
    F: FnOnce(Arc<ActorSystem>) -> Fut + Send + 'static,
    Fut: Future<Output = RunResult> + Send + 'static,
{
    run_tokio(limit, async move {
        let name = format!(
            "troupe-bench-{}",
            SYSTEM_SEQ.fetch_add(1, Ordering::Relaxed)
        );
        let config = SystemConfig {
            shutdown_policy: ShutdownPolicy {
                timeout: Duration::from_secs(10),
                per_actor_timeout: Duration::from_secs(2),
            },
            ..Default::default()
        };
        let sys = ActorSystem::create_with(name, config).ctx("create actor system")?;
        let outcome = body(sys.clone()).await;
        sys.shutdown().await;
        outcome
    })
}

// ---------------------------------------------------------------------------------------------
// Counter: ask, tell, fan-out, backpressure

enum CounterMsg {
    Inc,
    Get,
}

#[derive(Default)]
struct Counter {
    count: u64,
}

impl Actor for Counter {
    type Message = CounterMsg;
    type Response = u64;

    async fn handle(&mut self, msg: CounterMsg, _: &mut ActorContext<Self>) -> ActorResult<u64> {
        match msg {
            CounterMsg::Inc => {
                self.count += 1;
                Ok(0)
            }
            CounterMsg::Get => Ok(self.count),
        }
    }
}

async fn counter(sys: &Arc<ActorSystem>) -> Result<ActorHandle<Counter>, BenchError> {
    Counter::default()
        .spawn()
        .on_system(sys)
        .await
        .ctx("spawn counter")
}

async fn get(actor: &ActorHandle<Counter>) -> Result<u64, BenchError> {
    actor.send(CounterMsg::Get).await.ctx("send Get")
}

async fn inc(actor: &ActorHandle<Counter>) -> Result<(), BenchError> {
    actor.notify(CounterMsg::Inc).await.ctx("notify Inc")
}

async fn ask(sys: Arc<ActorSystem>, s: Sizes) -> RunResult {
    let actor = counter(&sys).await?;
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

async fn tell(sys: Arc<ActorSystem>, s: Sizes) -> RunResult {
    let actor = counter(&sys).await?;
    let start = Instant::now();
    for _ in 0..s.tell_n {
        inc(&actor).await?;
    }
    let count = get(&actor).await?;
    let elapsed = start.elapsed();
    check_count("counter", count, s.tell_n)?;
    Ok(Sample::timed(elapsed))
}

async fn fanout(sys: Arc<ActorSystem>, s: Sizes) -> RunResult {
    let mut all = Vec::with_capacity(s.fanout_actors + s.fanout_idle);
    for _ in 0..s.fanout_actors + s.fanout_idle {
        all.push(counter(&sys).await?);
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

async fn backpressure(sys: Arc<ActorSystem>, s: Sizes) -> RunResult {
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

enum PingMsg {
    Start(usize, oneshot::Sender<()>),
    Pong,
}

struct Ping {
    pong: ActorHandle<Pong>,
    left: usize,
    done: Option<oneshot::Sender<()>>,
}

impl Actor for Ping {
    type Message = PingMsg;
    type Response = ();

    async fn handle(&mut self, msg: PingMsg, _: &mut ActorContext<Self>) -> ActorResult<()> {
        match msg {
            PingMsg::Start(n, done) => {
                self.left = n;
                self.done = Some(done);
            }
            PingMsg::Pong => self.left -= 1,
        }
        if self.left == 0 {
            if let Some(done) = self.done.take() {
                let _ = done.send(());
            }
        } else {
            let _ = self.pong.notify(PongMsg::Ping).await;
        }
        Ok(())
    }
}

enum PongMsg {
    Init(ActorHandle<Ping>),
    Ping,
}

#[derive(Default)]
struct Pong {
    ping: Option<ActorHandle<Ping>>,
}

impl Actor for Pong {
    type Message = PongMsg;
    type Response = ();

    async fn handle(&mut self, msg: PongMsg, _: &mut ActorContext<Self>) -> ActorResult<()> {
        match msg {
            PongMsg::Init(p) => self.ping = Some(p),
            PongMsg::Ping => {
                if let Some(p) = &self.ping {
                    let _ = p.notify(PingMsg::Pong).await;
                }
            }
        }
        Ok(())
    }
}

async fn pingpong(sys: Arc<ActorSystem>, s: Sizes) -> RunResult {
    let pong = Pong::default()
        .spawn()
        .on_system(&sys)
        .await
        .ctx("spawn pong")?;
    let ping = Ping {
        pong: pong.clone(),
        left: 0,
        done: None,
    }
    .spawn()
    .on_system(&sys)
    .await
    .ctx("spawn ping")?;
    pong.send(PongMsg::Init(ping.clone()))
        .await
        .ctx("init pong")?;
    let start = Instant::now();
    let (done, finished) = oneshot::channel();
    ping.notify(PingMsg::Start(s.pingpong_n, done))
        .await
        .ctx("notify Start")?;
    finished.await.ctx("ping dropped the completion")?;
    Ok(Sample::timed(start.elapsed()))
}

// ---------------------------------------------------------------------------------------------
// Ring

enum RingMsg {
    SetNext(ActorHandle<RingNode>),
    Token(usize),
}

struct RingNode {
    next: Option<ActorHandle<RingNode>>,
    done: Arc<Countdown>,
}

impl Actor for RingNode {
    type Message = RingMsg;
    type Response = ();

    async fn handle(&mut self, msg: RingMsg, _: &mut ActorContext<Self>) -> ActorResult<()> {
        match msg {
            RingMsg::SetNext(n) => self.next = Some(n),
            RingMsg::Token(0) => self.done.hit(),
            RingMsg::Token(hops) => {
                if let Some(n) = &self.next {
                    let _ = n.notify(RingMsg::Token(hops - 1)).await;
                }
            }
        }
        Ok(())
    }
}

async fn ring(sys: Arc<ActorSystem>, s: Sizes) -> RunResult {
    let (done, finished) = Countdown::new(1);
    let mut nodes = Vec::with_capacity(s.ring_actors);
    for _ in 0..s.ring_actors {
        let node = RingNode {
            next: None,
            done: done.clone(),
        }
        .spawn()
        .on_system(&sys)
        .await
        .ctx("spawn ring node")?;
        nodes.push(node);
    }
    for (i, node) in nodes.iter().enumerate() {
        let next = nodes[(i + 1) % nodes.len()].clone();
        node.send(RingMsg::SetNext(next))
            .await
            .ctx("send SetNext")?;
    }
    let start = Instant::now();
    nodes[0]
        .notify(RingMsg::Token(s.ring_hops))
        .await
        .ctx("notify Token")?;
    finished.await.ctx("ring dropped the completion")?;
    Ok(Sample::timed(start.elapsed()))
}

// ---------------------------------------------------------------------------------------------
// Big

enum BigMsg {
    Peers(Arc<Vec<ActorHandle<BigNode>>>),
    Start,
    Ping(usize),
    Pong,
}

struct BigNode {
    me: usize,
    pings: usize,
    answered: usize,
    rng: Rng,
    peers: Arc<Vec<ActorHandle<BigNode>>>,
    done: Arc<Countdown>,
}

impl BigNode {
    async fn ping_random(&mut self) {
        let to = self.rng.peer(self.me, self.peers.len());
        let _ = self.peers[to].notify(BigMsg::Ping(self.me)).await;
    }
}

impl Actor for BigNode {
    type Message = BigMsg;
    type Response = ();

    async fn handle(&mut self, msg: BigMsg, _: &mut ActorContext<Self>) -> ActorResult<()> {
        match msg {
            BigMsg::Peers(p) => self.peers = p,
            BigMsg::Start => self.ping_random().await,
            BigMsg::Ping(from) => {
                let _ = self.peers[from].notify(BigMsg::Pong).await;
            }
            BigMsg::Pong => {
                self.answered += 1;
                if self.answered == self.pings {
                    self.done.hit();
                } else {
                    self.ping_random().await;
                }
            }
        }
        Ok(())
    }
}

async fn big(sys: Arc<ActorSystem>, s: Sizes) -> RunResult {
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
        }
        .spawn()
        .on_system(&sys)
        .await
        .ctx("spawn big node")?;
        nodes.push(node);
    }
    let peers = Arc::new(nodes);
    for p in peers.iter() {
        p.send(BigMsg::Peers(peers.clone()))
            .await
            .ctx("send Peers")?;
    }
    let start = Instant::now();
    for p in peers.iter() {
        p.notify(BigMsg::Start).await.ctx("notify Start")?;
    }
    finished.await.ctx("big actors dropped the completion")?;
    Ok(Sample::timed(start.elapsed()))
}

// ---------------------------------------------------------------------------------------------
// Spawn

struct Greeted {
    done: Arc<Countdown>,
}

impl Actor for Greeted {
    type Message = ();
    type Response = ();

    async fn handle(&mut self, _: (), _: &mut ActorContext<Self>) -> ActorResult<()> {
        self.done.hit();
        Ok(())
    }
}

async fn spawn(sys: Arc<ActorSystem>, s: Sizes) -> RunResult {
    let (done, finished) = Countdown::new(s.spawn_n);
    let probe = mem::Probe::start();
    let start = Instant::now();
    let mut actors = Vec::with_capacity(s.spawn_n);
    for _ in 0..s.spawn_n {
        let a = Greeted { done: done.clone() }
            .spawn()
            .on_system(&sys)
            .await
            .ctx("spawn")?;
        a.notify(()).await.ctx("notify Hello")?;
        actors.push(a);
    }
    finished.await.ctx("actors dropped the completion")?;
    let elapsed = start.elapsed();
    crate::util::end_of_timed_spawn(elapsed);
    let growth = probe.finish(s.spawn_n);
    Ok(Sample::timed(elapsed).with_growth(growth))
}
