//! ractor: `Actor` impls with enum messages, `cast` for tells, `call!` with an `RpcReplyPort`
//! for asks, `spawn_linked` + `handle_supervisor_evt` for supervision.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ::ractor::{call, Actor, ActorProcessingErr, ActorRef, RpcReplyPort};

use crate::config::Sizes;
use crate::harness::{check_count, run_tokio, BenchError, Context, RunResult};
use crate::util::{mem, Countdown, Rng};
use crate::workloads::{Sample, Workload};

mod supervision;

/// Setup notes for the report.
pub const NOTES: &[&str] = &[
    "`Actor` impls with one enum message type each; tells are `cast`, asks are `call!` with an \
     `RpcReplyPort`. ractor mailboxes are unbounded and have no capacity setting, so in the \
     backpressure workload the producers never wait (the peak memory column shows the queue).",
    "supervision: ractor has no restart strategies; the idiomatic supervisor is an actor that \
     re-spawns its linked child from `handle_supervisor_evt` on `ActorFailed`. Tree: children \
     are `spawn_linked` in `pre_start`, and each node stops its children with \
     `stop_children_and_wait` in `post_stop`; the driver calls `stop_and_wait` on the root.",
];

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
        Workload::Restarts => run_tokio(limit, supervision::restarts(s)),
        Workload::Tree => run_tokio(
            limit,
            crate::workloads::tree::rounds(s.tree_rounds, move || supervision::tree(s.clone())),
        ),
    }
}

pub(super) fn failed(what: &str) -> impl FnOnce(::ractor::SpawnErr) -> BenchError + '_ {
    move |e| BenchError::failed(format!("{what}: {e}"))
}

// ---------------------------------------------------------------------------------------------
// Counter: ask, tell, fan-out, backpressure

enum CounterMsg {
    Inc,
    Get(RpcReplyPort<u64>),
}

struct Counter;

impl Actor for Counter {
    type Msg = CounterMsg;
    type State = u64;
    type Arguments = ();

    async fn pre_start(&self, _: ActorRef<CounterMsg>, _: ()) -> Result<u64, ActorProcessingErr> {
        Ok(0)
    }

    async fn handle(
        &self,
        _: ActorRef<CounterMsg>,
        msg: CounterMsg,
        count: &mut u64,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            CounterMsg::Inc => *count += 1,
            CounterMsg::Get(reply) => {
                let _ = reply.send(*count);
            }
        }
        Ok(())
    }
}

async fn counter() -> Result<ActorRef<CounterMsg>, BenchError> {
    let (actor, _) = Actor::spawn(None, Counter, ())
        .await
        .map_err(failed("spawn counter"))?;
    Ok(actor)
}

async fn get(actor: &ActorRef<CounterMsg>) -> Result<u64, BenchError> {
    call!(actor, CounterMsg::Get).ctx("call Get")
}

async fn ask(s: Sizes) -> RunResult {
    let actor = counter().await?;
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
    let elapsed = start.elapsed();
    actor.stop(None);
    Ok(Sample::with_latencies(elapsed, latencies))
}

async fn tell(s: Sizes) -> RunResult {
    let actor = counter().await?;
    let start = Instant::now();
    for _ in 0..s.tell_n {
        actor.cast(CounterMsg::Inc).ctx("cast Inc")?;
    }
    let count = get(&actor).await?;
    let elapsed = start.elapsed();
    check_count("counter", count, s.tell_n)?;
    actor.stop(None);
    Ok(Sample::timed(elapsed))
}

async fn fanout(s: Sizes) -> RunResult {
    let mut all = Vec::with_capacity(s.fanout_actors + s.fanout_idle);
    for _ in 0..s.fanout_actors + s.fanout_idle {
        all.push(counter().await?);
    }
    let workers = &all[..s.fanout_actors];
    let start = Instant::now();
    for i in 0..s.fanout_n {
        workers[i % workers.len()]
            .cast(CounterMsg::Inc)
            .ctx("cast Inc")?;
    }
    let mut total = 0;
    for w in workers {
        total += get(w).await?;
    }
    let elapsed = start.elapsed();
    check_count("workers", total, s.fanout_n)?;
    for w in &all {
        w.stop(None);
    }
    Ok(Sample::timed(elapsed))
}

async fn backpressure(s: Sizes) -> RunResult {
    let per_producer = s.bp_n / s.bp_producers;
    let actor = counter().await?;
    let probe = mem::Probe::start_with_peak();
    let start = Instant::now();
    let producers: Vec<_> = (0..s.bp_producers)
        .map(|_| {
            let actor = actor.clone();
            tokio::spawn(async move {
                for _ in 0..per_producer {
                    actor.cast(CounterMsg::Inc).ctx("cast Inc")?;
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
    actor.stop(None);
    Ok(Sample::timed(elapsed).with_peaks(growth))
}

// ---------------------------------------------------------------------------------------------
// Ping-pong

enum PingMsg {
    Start(usize, RpcReplyPort<()>),
    Pong,
}

enum PongMsg {
    Init(ActorRef<PingMsg>),
    Ping,
}

struct Ping;

struct PingState {
    pong: ActorRef<PongMsg>,
    left: usize,
    done: Option<RpcReplyPort<()>>,
}

impl Actor for Ping {
    type Msg = PingMsg;
    type State = PingState;
    type Arguments = ActorRef<PongMsg>;

    async fn pre_start(
        &self,
        _: ActorRef<PingMsg>,
        pong: ActorRef<PongMsg>,
    ) -> Result<PingState, ActorProcessingErr> {
        Ok(PingState {
            pong,
            left: 0,
            done: None,
        })
    }

    async fn handle(
        &self,
        _: ActorRef<PingMsg>,
        msg: PingMsg,
        st: &mut PingState,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            PingMsg::Start(n, reply) => {
                st.left = n;
                st.done = Some(reply);
            }
            PingMsg::Pong => st.left -= 1,
        }
        if st.left == 0 {
            if let Some(reply) = st.done.take() {
                let _ = reply.send(());
            }
        } else {
            st.pong.cast(PongMsg::Ping)?;
        }
        Ok(())
    }
}

struct Pong;

impl Actor for Pong {
    type Msg = PongMsg;
    type State = Option<ActorRef<PingMsg>>;
    type Arguments = ();

    async fn pre_start(
        &self,
        _: ActorRef<PongMsg>,
        _: (),
    ) -> Result<Self::State, ActorProcessingErr> {
        Ok(None)
    }

    async fn handle(
        &self,
        _: ActorRef<PongMsg>,
        msg: PongMsg,
        ping: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            PongMsg::Init(p) => *ping = Some(p),
            PongMsg::Ping => {
                if let Some(p) = ping {
                    p.cast(PingMsg::Pong)?;
                }
            }
        }
        Ok(())
    }
}

async fn pingpong(s: Sizes) -> RunResult {
    let (pong, _) = Actor::spawn(None, Pong, ())
        .await
        .map_err(failed("spawn pong"))?;
    let (ping, _) = Actor::spawn(None, Ping, pong.clone())
        .await
        .map_err(failed("spawn ping"))?;
    pong.cast(PongMsg::Init(ping.clone())).ctx("init pong")?;
    let start = Instant::now();
    call!(ping, PingMsg::Start, s.pingpong_n).ctx("call Start")?;
    let elapsed = start.elapsed();
    ping.stop(None);
    pong.stop(None);
    Ok(Sample::timed(elapsed))
}

// ---------------------------------------------------------------------------------------------
// Ring

enum RingMsg {
    SetNext(ActorRef<RingMsg>),
    Token(usize),
}

struct RingNode {
    done: Arc<Countdown>,
}

impl Actor for RingNode {
    type Msg = RingMsg;
    type State = Option<ActorRef<RingMsg>>;
    type Arguments = ();

    async fn pre_start(
        &self,
        _: ActorRef<RingMsg>,
        _: (),
    ) -> Result<Self::State, ActorProcessingErr> {
        Ok(None)
    }

    async fn handle(
        &self,
        _: ActorRef<RingMsg>,
        msg: RingMsg,
        next: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            RingMsg::SetNext(n) => *next = Some(n),
            RingMsg::Token(0) => self.done.hit(),
            RingMsg::Token(hops) => {
                if let Some(n) = next {
                    n.cast(RingMsg::Token(hops - 1))?;
                }
            }
        }
        Ok(())
    }
}

async fn ring(s: Sizes) -> RunResult {
    let (done, finished) = Countdown::new(1);
    let mut nodes = Vec::with_capacity(s.ring_actors);
    for _ in 0..s.ring_actors {
        let (node, _) = Actor::spawn(None, RingNode { done: done.clone() }, ())
            .await
            .map_err(failed("spawn ring node"))?;
        nodes.push(node);
    }
    for (i, node) in nodes.iter().enumerate() {
        let next = nodes[(i + 1) % nodes.len()].clone();
        node.cast(RingMsg::SetNext(next)).ctx("cast SetNext")?;
    }
    let start = Instant::now();
    nodes[0]
        .cast(RingMsg::Token(s.ring_hops))
        .ctx("cast Token")?;
    finished.await.ctx("ring dropped the completion")?;
    let elapsed = start.elapsed();
    for n in &nodes {
        n.stop(None);
    }
    Ok(Sample::timed(elapsed))
}

// ---------------------------------------------------------------------------------------------
// Big

enum BigMsg {
    Peers(Arc<Vec<ActorRef<BigMsg>>>),
    Start,
    Ping(usize),
    Pong,
}

struct BigNode {
    me: usize,
    pings: usize,
    done: Arc<Countdown>,
}

struct BigState {
    peers: Arc<Vec<ActorRef<BigMsg>>>,
    rng: Rng,
    answered: usize,
}

impl BigState {
    fn ping_random(&mut self, me: usize) -> Result<(), ActorProcessingErr> {
        let to = self.rng.peer(me, self.peers.len());
        self.peers[to].cast(BigMsg::Ping(me))?;
        Ok(())
    }
}

impl Actor for BigNode {
    type Msg = BigMsg;
    type State = BigState;
    type Arguments = ();

    async fn pre_start(&self, _: ActorRef<BigMsg>, _: ()) -> Result<BigState, ActorProcessingErr> {
        Ok(BigState {
            peers: Arc::new(Vec::new()),
            rng: Rng::new(self.me as u64),
            answered: 0,
        })
    }

    async fn handle(
        &self,
        _: ActorRef<BigMsg>,
        msg: BigMsg,
        st: &mut BigState,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            BigMsg::Peers(peers) => st.peers = peers,
            BigMsg::Start => st.ping_random(self.me)?,
            BigMsg::Ping(from) => st.peers[from].cast(BigMsg::Pong)?,
            BigMsg::Pong => {
                st.answered += 1;
                if st.answered == self.pings {
                    self.done.hit();
                } else {
                    st.ping_random(self.me)?;
                }
            }
        }
        Ok(())
    }
}

async fn big(s: Sizes) -> RunResult {
    let (done, finished) = Countdown::new(s.big_actors);
    let mut nodes = Vec::with_capacity(s.big_actors);
    for me in 0..s.big_actors {
        let node = BigNode {
            me,
            pings: s.big_pings,
            done: done.clone(),
        };
        let (r, _) = Actor::spawn(None, node, ())
            .await
            .map_err(failed("spawn big node"))?;
        nodes.push(r);
    }
    let peers = Arc::new(nodes);
    for p in peers.iter() {
        p.cast(BigMsg::Peers(peers.clone())).ctx("cast Peers")?;
    }
    let start = Instant::now();
    for p in peers.iter() {
        p.cast(BigMsg::Start).ctx("cast Start")?;
    }
    finished.await.ctx("big actors dropped the completion")?;
    let elapsed = start.elapsed();
    for p in peers.iter() {
        p.stop(None);
    }
    Ok(Sample::timed(elapsed))
}

// ---------------------------------------------------------------------------------------------
// Spawn

struct Hello;

struct Greeted {
    done: Arc<Countdown>,
}

impl Actor for Greeted {
    type Msg = Hello;
    type State = ();
    type Arguments = ();

    async fn pre_start(&self, _: ActorRef<Hello>, _: ()) -> Result<(), ActorProcessingErr> {
        Ok(())
    }

    async fn handle(
        &self,
        _: ActorRef<Hello>,
        _: Hello,
        _: &mut (),
    ) -> Result<(), ActorProcessingErr> {
        self.done.hit();
        Ok(())
    }
}

async fn spawn(s: Sizes) -> RunResult {
    let (done, finished) = Countdown::new(s.spawn_n);
    let probe = mem::Probe::start();
    let start = Instant::now();
    let mut actors = Vec::with_capacity(s.spawn_n);
    for _ in 0..s.spawn_n {
        let (a, _) = Actor::spawn(None, Greeted { done: done.clone() }, ())
            .await
            .map_err(failed("spawn"))?;
        a.cast(Hello).ctx("cast Hello")?;
        actors.push(a);
    }
    finished.await.ctx("actors dropped the completion")?;
    let elapsed = start.elapsed();
    crate::util::end_of_timed_spawn(elapsed);
    let growth = probe.finish(s.spawn_n);
    for a in &actors {
        a.stop(None);
    }
    Ok(Sample::timed(elapsed).with_growth(growth))
}
