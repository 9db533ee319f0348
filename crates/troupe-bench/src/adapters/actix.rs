//! actix: `Actor` + `Handler<M>` impls with `#[derive(Message)]` messages, `do_send` for tells,
//! `send(..).await` for asks, all actors on the `System`'s own single-threaded arbiter.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ::actix::{Actor, ActorContext as _, Addr, Context as Ctx, Handler, Message, System};
use tokio::sync::oneshot;

use crate::config::Sizes;
use crate::harness::{check_count, BenchError, Context, RunResult};
use crate::util::{mem, Countdown, Rng};
use crate::workloads::{Sample, Workload};

/// Setup notes for the report.
pub const NOTES: &[&str] = &[
    "each run builds its own `actix::System` (a single-threaded arbiter on a current-thread \
     Tokio runtime, actix's default) and starts every actor there with `Actor::start`; the \
     driver is the future given to `SystemRunner::block_on`. Tells are `do_send` (not bounded \
     by the mailbox capacity), asks are `send(..).await`; ping-pong's completion is a Tokio \
     `oneshot` carried in the start message.",
    "backpressure: the sink sets `ctx.set_mailbox_capacity(64)`; since `do_send` ignores the \
     capacity, the 8 producers (futures spawned on the arbiter) use `send(..).await`, actix's \
     only send that waits for room — it also waits for the handler's result.",
    "supervision: n/a. actix's `Supervisor` restarts an actor only when it stops itself; a \
     panicking handler unwinds out of the arbiter task and the actor is gone, with no restart. \
     actix has no parent/child links, so there is no tree to shut down.",
];

/// Runs one workload in a fresh actix `System`.
pub fn run(workload: Workload, sizes: &Sizes, limit: Duration) -> RunResult {
    let s = sizes.clone();
    match workload {
        Workload::Ask => run_system(limit, ask(s)),
        Workload::Tell => run_system(limit, tell(s)),
        Workload::PingPong => run_system(limit, pingpong(s)),
        Workload::Ring => run_system(limit, ring(s)),
        Workload::FanOut => run_system(limit, fanout(s)),
        Workload::Big => run_system(limit, big(s)),
        Workload::Spawn => run_system(limit, spawn(s)),
        Workload::Backpressure => run_system(limit, backpressure(s)),
        Workload::Restarts => Err(BenchError::Unsupported(
            "actix does not restart an actor whose handler panics".into(),
        )),
        Workload::Tree => Err(BenchError::Unsupported(
            "actix has no supervision tree (no parent/child links)".into(),
        )),
    }
}

/// Runs the driver future on a new `System`, bounded by `limit`.
fn run_system(limit: Duration, fut: impl Future<Output = RunResult> + 'static) -> RunResult {
    let system = System::new();
    let outcome = system.block_on(async move {
        match tokio::time::timeout(limit, fut).await {
            Ok(result) => result,
            Err(_) => Err(BenchError::Timeout(limit)),
        }
    });
    System::current().stop();
    outcome
}

// ---------------------------------------------------------------------------------------------
// Counter: ask, tell, fan-out, backpressure

#[derive(Message)]
#[rtype(result = "()")]
struct Inc;

#[derive(Message)]
#[rtype(result = "u64")]
struct Get;

#[derive(Default)]
struct Counter {
    count: u64,
}

impl Actor for Counter {
    type Context = Ctx<Self>;
}

impl Handler<Inc> for Counter {
    type Result = ();

    fn handle(&mut self, _: Inc, _: &mut Ctx<Self>) {
        self.count += 1;
    }
}

impl Handler<Get> for Counter {
    type Result = u64;

    fn handle(&mut self, _: Get, _: &mut Ctx<Self>) -> u64 {
        self.count
    }
}

async fn get(actor: &Addr<Counter>) -> Result<u64, BenchError> {
    actor.send(Get).await.ctx("send Get")
}

async fn ask(s: Sizes) -> RunResult {
    let actor = Counter::default().start();
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

async fn tell(s: Sizes) -> RunResult {
    let actor = Counter::default().start();
    let start = Instant::now();
    for _ in 0..s.tell_n {
        actor.do_send(Inc);
    }
    let count = get(&actor).await?;
    let elapsed = start.elapsed();
    check_count("counter", count, s.tell_n)?;
    Ok(Sample::timed(elapsed))
}

async fn fanout(s: Sizes) -> RunResult {
    let all: Vec<_> = (0..s.fanout_actors + s.fanout_idle)
        .map(|_| Counter::default().start())
        .collect();
    let workers = &all[..s.fanout_actors];
    let start = Instant::now();
    for i in 0..s.fanout_n {
        workers[i % workers.len()].do_send(Inc);
    }
    let mut total = 0;
    for w in workers {
        total += get(w).await?;
    }
    let elapsed = start.elapsed();
    check_count("workers", total, s.fanout_n)?;
    Ok(Sample::timed(elapsed))
}

async fn backpressure(s: Sizes) -> RunResult {
    let per_producer = s.bp_n / s.bp_producers;
    let capacity = s.bp_capacity;
    let actor = Counter::create(move |ctx| {
        ctx.set_mailbox_capacity(capacity);
        Counter::default()
    });
    let probe = mem::Probe::start_with_peak();
    let start = Instant::now();
    let producers: Vec<_> = (0..s.bp_producers)
        .map(|_| {
            let actor = actor.clone();
            ::actix::spawn(async move {
                for _ in 0..per_producer {
                    actor.send(Inc).await.ctx("send Inc")?;
                }
                Ok::<(), BenchError>(())
            })
        })
        .collect();
    for p in producers {
        p.await.ctx("producer task failed")??;
    }
    let count = get(&actor).await?;
    let elapsed = start.elapsed();
    let growth = probe.finish(1);
    check_count("counter", count, per_producer * s.bp_producers)?;
    Ok(Sample::timed(elapsed).with_peaks(growth))
}

// ---------------------------------------------------------------------------------------------
// Ping-pong

#[derive(Message)]
#[rtype(result = "()")]
struct Start(usize, oneshot::Sender<()>);

#[derive(Message)]
#[rtype(result = "()")]
struct PingMsg;

#[derive(Message)]
#[rtype(result = "()")]
struct PongMsg;

#[derive(Message)]
#[rtype(result = "()")]
struct Init(Addr<Ping>);

struct Ping {
    pong: Addr<Pong>,
    left: usize,
    done: Option<oneshot::Sender<()>>,
}

impl Actor for Ping {
    type Context = Ctx<Self>;
}

impl Ping {
    fn step(&mut self) {
        if self.left == 0 {
            if let Some(done) = self.done.take() {
                let _ = done.send(());
            }
        } else {
            self.pong.do_send(PingMsg);
        }
    }
}

impl Handler<Start> for Ping {
    type Result = ();

    fn handle(&mut self, Start(n, done): Start, _: &mut Ctx<Self>) {
        self.left = n;
        self.done = Some(done);
        self.step();
    }
}

impl Handler<PongMsg> for Ping {
    type Result = ();

    fn handle(&mut self, _: PongMsg, _: &mut Ctx<Self>) {
        self.left -= 1;
        self.step();
    }
}

#[derive(Default)]
struct Pong {
    ping: Option<Addr<Ping>>,
}

impl Actor for Pong {
    type Context = Ctx<Self>;
}

impl Handler<Init> for Pong {
    type Result = ();

    fn handle(&mut self, Init(ping): Init, _: &mut Ctx<Self>) {
        self.ping = Some(ping);
    }
}

impl Handler<PingMsg> for Pong {
    type Result = ();

    fn handle(&mut self, _: PingMsg, _: &mut Ctx<Self>) {
        if let Some(ping) = &self.ping {
            ping.do_send(PongMsg);
        }
    }
}

async fn pingpong(s: Sizes) -> RunResult {
    let pong = Pong::default().start();
    let ping = Ping {
        pong: pong.clone(),
        left: 0,
        done: None,
    }
    .start();
    pong.send(Init(ping.clone())).await.ctx("init pong")?;
    let start = Instant::now();
    let (done, finished) = oneshot::channel();
    ping.do_send(Start(s.pingpong_n, done));
    finished.await.ctx("ping dropped the completion")?;
    Ok(Sample::timed(start.elapsed()))
}

// ---------------------------------------------------------------------------------------------
// Ring

#[derive(Message)]
#[rtype(result = "()")]
struct SetNext(Addr<RingNode>);

#[derive(Message)]
#[rtype(result = "()")]
struct Token(usize);

struct RingNode {
    next: Option<Addr<RingNode>>,
    done: Arc<Countdown>,
}

impl Actor for RingNode {
    type Context = Ctx<Self>;
}

impl Handler<SetNext> for RingNode {
    type Result = ();

    fn handle(&mut self, SetNext(next): SetNext, _: &mut Ctx<Self>) {
        self.next = Some(next);
    }
}

impl Handler<Token> for RingNode {
    type Result = ();

    fn handle(&mut self, Token(hops): Token, _: &mut Ctx<Self>) {
        if hops == 0 {
            self.done.hit();
        } else if let Some(next) = &self.next {
            next.do_send(Token(hops - 1));
        }
    }
}

async fn ring(s: Sizes) -> RunResult {
    let (done, finished) = Countdown::new(1);
    let nodes: Vec<_> = (0..s.ring_actors)
        .map(|_| {
            RingNode {
                next: None,
                done: done.clone(),
            }
            .start()
        })
        .collect();
    for (i, node) in nodes.iter().enumerate() {
        let next = nodes[(i + 1) % nodes.len()].clone();
        node.send(SetNext(next)).await.ctx("send SetNext")?;
    }
    let start = Instant::now();
    nodes[0].do_send(Token(s.ring_hops));
    finished.await.ctx("ring dropped the completion")?;
    Ok(Sample::timed(start.elapsed()))
}

// ---------------------------------------------------------------------------------------------
// Big

#[derive(Message)]
#[rtype(result = "()")]
struct Peers(Arc<Vec<Addr<BigNode>>>);

#[derive(Message)]
#[rtype(result = "()")]
struct BigStart;

#[derive(Message)]
#[rtype(result = "()")]
struct BigPing(usize);

#[derive(Message)]
#[rtype(result = "()")]
struct BigPong;

struct BigNode {
    me: usize,
    pings: usize,
    answered: usize,
    rng: Rng,
    peers: Arc<Vec<Addr<BigNode>>>,
    done: Arc<Countdown>,
}

impl Actor for BigNode {
    type Context = Ctx<Self>;
}

impl BigNode {
    fn ping_random(&mut self) {
        let to = self.rng.peer(self.me, self.peers.len());
        self.peers[to].do_send(BigPing(self.me));
    }
}

impl Handler<Peers> for BigNode {
    type Result = ();

    fn handle(&mut self, Peers(p): Peers, _: &mut Ctx<Self>) {
        self.peers = p;
    }
}

impl Handler<BigStart> for BigNode {
    type Result = ();

    fn handle(&mut self, _: BigStart, _: &mut Ctx<Self>) {
        self.ping_random();
    }
}

impl Handler<BigPing> for BigNode {
    type Result = ();

    fn handle(&mut self, BigPing(from): BigPing, _: &mut Ctx<Self>) {
        self.peers[from].do_send(BigPong);
    }
}

impl Handler<BigPong> for BigNode {
    type Result = ();

    fn handle(&mut self, _: BigPong, _: &mut Ctx<Self>) {
        self.answered += 1;
        if self.answered == self.pings {
            self.done.hit();
        } else {
            self.ping_random();
        }
    }
}

async fn big(s: Sizes) -> RunResult {
    let (done, finished) = Countdown::new(s.big_actors);
    let nodes: Vec<_> = (0..s.big_actors)
        .map(|me| {
            BigNode {
                me,
                pings: s.big_pings,
                answered: 0,
                rng: Rng::new(me as u64),
                peers: Arc::new(Vec::new()),
                done: done.clone(),
            }
            .start()
        })
        .collect();
    let peers = Arc::new(nodes);
    for p in peers.iter() {
        p.send(Peers(peers.clone())).await.ctx("send Peers")?;
    }
    let start = Instant::now();
    for p in peers.iter() {
        p.do_send(BigStart);
    }
    finished.await.ctx("big actors dropped the completion")?;
    Ok(Sample::timed(start.elapsed()))
}

// ---------------------------------------------------------------------------------------------
// Spawn

#[derive(Message)]
#[rtype(result = "()")]
struct Hello;

struct Greeted {
    done: Arc<Countdown>,
}

impl Actor for Greeted {
    type Context = Ctx<Self>;
}

impl Handler<Hello> for Greeted {
    type Result = ();

    fn handle(&mut self, _: Hello, _: &mut Ctx<Self>) {
        self.done.hit();
    }
}

#[derive(Message)]
#[rtype(result = "()")]
struct Stop;

impl Handler<Stop> for Greeted {
    type Result = ();

    fn handle(&mut self, _: Stop, ctx: &mut Ctx<Self>) {
        ctx.stop();
    }
}

async fn spawn(s: Sizes) -> RunResult {
    let (done, finished) = Countdown::new(s.spawn_n);
    let probe = mem::Probe::start();
    let start = Instant::now();
    let mut actors = Vec::with_capacity(s.spawn_n);
    for _ in 0..s.spawn_n {
        let a = Greeted { done: done.clone() }.start();
        a.do_send(Hello);
        actors.push(a);
    }
    finished.await.ctx("actors dropped the completion")?;
    let elapsed = start.elapsed();
    crate::util::end_of_timed_spawn(elapsed);
    let growth = probe.finish(s.spawn_n);
    for a in &actors {
        a.do_send(Stop);
    }
    Ok(Sample::timed(elapsed).with_growth(growth))
}
