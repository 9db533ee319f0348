//! kameo: `Actor` + one `Message<M>` impl per message type, `tell(..).await` and
//! `ask(..).await`, default bounded mailboxes (capacity 64), `supervise(..)` for supervision.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ::kameo::actor::{Actor, ActorRef, Spawn};
use ::kameo::error::Infallible;
use ::kameo::mailbox;
use ::kameo::message::{Context as Ctx, Message};
use ::kameo::reply::{DelegatedReply, ReplySender};
use ::kameo::supervision::RestartPolicy;

use crate::config::Sizes;
use crate::harness::{check_count, run_tokio, BenchError, Context, RunResult};
use crate::util::{crash, mem, Churn, Countdown, Rng};
use crate::workloads::{Sample, Workload};

/// Setup notes for the report.
pub const NOTES: &[&str] = &[
    "`Actor` with one `Message<M>` impl per message type; tells are `tell(..).await`, asks \
     `ask(..).await`; `spawn` gives kameo's default bounded mailbox (capacity 64), also used \
     as is for the backpressure workload. Ping-pong's completion is a `DelegatedReply`.",
    "supervision: `Actor::supervise(&parent, args)` with `RestartPolicy::Permanent` and a restart \
     limit of `u32::MAX` per hour; tree children are supervised the same way and the driver \
     calls `stop_gracefully` then `wait_for_shutdown` on the root.",
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
        Workload::Restarts => run_tokio(limit, restarts(s)),
        Workload::Tree => run_tokio(
            limit,
            crate::workloads::tree::rounds(s.tree_rounds, move || tree(s.clone())),
        ),
    }
}

// ---------------------------------------------------------------------------------------------
// Counter: ask, tell, fan-out, backpressure

#[derive(::kameo::Actor)]
struct Counter {
    count: u64,
}

struct Inc;
struct Get;

impl Message<Inc> for Counter {
    type Reply = ();

    async fn handle(&mut self, _: Inc, _: &mut Ctx<Self, ()>) {
        self.count += 1;
    }
}

impl Message<Get> for Counter {
    type Reply = u64;

    async fn handle(&mut self, _: Get, _: &mut Ctx<Self, u64>) -> u64 {
        self.count
    }
}

async fn get(actor: &ActorRef<Counter>) -> Result<u64, BenchError> {
    actor.ask(Get).await.ctx("ask Get")
}

async fn inc(actor: &ActorRef<Counter>) -> Result<(), BenchError> {
    actor.tell(Inc).await.ctx("tell Inc")
}

async fn ask(s: Sizes) -> RunResult {
    let actor = Counter::spawn(Counter { count: 0 });
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
    let actor = Counter::spawn(Counter { count: 0 });
    let start = Instant::now();
    for _ in 0..s.tell_n {
        inc(&actor).await?;
    }
    let count = get(&actor).await?;
    let elapsed = start.elapsed();
    check_count("counter", count, s.tell_n)?;
    Ok(Sample::timed(elapsed))
}

async fn fanout(s: Sizes) -> RunResult {
    let all: Vec<_> = (0..s.fanout_actors + s.fanout_idle)
        .map(|_| Counter::spawn(Counter { count: 0 }))
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

async fn backpressure(s: Sizes) -> RunResult {
    let actor = Counter::spawn_with_mailbox(Counter { count: 0 }, mailbox::bounded(s.bp_capacity));
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

#[derive(::kameo::Actor)]
struct Ping {
    pong: ActorRef<Pong>,
    left: usize,
    done: Option<ReplySender<()>>,
}

#[derive(::kameo::Actor)]
struct Pong {
    ping: Option<ActorRef<Ping>>,
}

struct Start(usize);
struct PingMsg;
struct PongMsg;
struct Init(ActorRef<Ping>);

impl Ping {
    async fn step(&mut self) {
        if self.left == 0 {
            if let Some(done) = self.done.take() {
                done.send(());
            }
        } else {
            let _ = self.pong.tell(PingMsg).await;
        }
    }
}

impl Message<Start> for Ping {
    type Reply = DelegatedReply<()>;

    async fn handle(&mut self, Start(n): Start, ctx: &mut Ctx<Self, Self::Reply>) -> Self::Reply {
        let (delegated, sender) = ctx.reply_sender();
        self.left = n;
        self.done = sender;
        self.step().await;
        delegated
    }
}

impl Message<PongMsg> for Ping {
    type Reply = ();

    async fn handle(&mut self, _: PongMsg, _: &mut Ctx<Self, ()>) {
        self.left -= 1;
        self.step().await;
    }
}

impl Message<Init> for Pong {
    type Reply = ();

    async fn handle(&mut self, Init(ping): Init, _: &mut Ctx<Self, ()>) {
        self.ping = Some(ping);
    }
}

impl Message<PingMsg> for Pong {
    type Reply = ();

    async fn handle(&mut self, _: PingMsg, _: &mut Ctx<Self, ()>) {
        if let Some(ping) = &self.ping {
            let _ = ping.tell(PongMsg).await;
        }
    }
}

async fn pingpong(s: Sizes) -> RunResult {
    let pong = Pong::spawn(Pong { ping: None });
    let ping = Ping::spawn(Ping {
        pong: pong.clone(),
        left: 0,
        done: None,
    });
    pong.ask(Init(ping.clone())).await.ctx("init pong")?;
    let start = Instant::now();
    ping.ask(Start(s.pingpong_n)).await.ctx("ask Start")?;
    Ok(Sample::timed(start.elapsed()))
}

// ---------------------------------------------------------------------------------------------
// Ring

#[derive(::kameo::Actor)]
struct RingNode {
    next: Option<ActorRef<RingNode>>,
    done: Arc<Countdown>,
}

struct SetNext(ActorRef<RingNode>);
struct Token(usize);

impl Message<SetNext> for RingNode {
    type Reply = ();

    async fn handle(&mut self, SetNext(next): SetNext, _: &mut Ctx<Self, ()>) {
        self.next = Some(next);
    }
}

impl Message<Token> for RingNode {
    type Reply = ();

    async fn handle(&mut self, Token(hops): Token, _: &mut Ctx<Self, ()>) {
        if hops == 0 {
            self.done.hit();
        } else if let Some(next) = &self.next {
            let _ = next.tell(Token(hops - 1)).await;
        }
    }
}

async fn ring(s: Sizes) -> RunResult {
    let (done, finished) = Countdown::new(1);
    let nodes: Vec<_> = (0..s.ring_actors)
        .map(|_| {
            RingNode::spawn(RingNode {
                next: None,
                done: done.clone(),
            })
        })
        .collect();
    for (i, node) in nodes.iter().enumerate() {
        let next = nodes[(i + 1) % nodes.len()].clone();
        node.ask(SetNext(next)).await.ctx("ask SetNext")?;
    }
    let start = Instant::now();
    nodes[0].tell(Token(s.ring_hops)).await.ctx("tell Token")?;
    finished.await.ctx("ring dropped the completion")?;
    Ok(Sample::timed(start.elapsed()))
}

// ---------------------------------------------------------------------------------------------
// Big

#[derive(::kameo::Actor)]
struct BigNode {
    me: usize,
    pings: usize,
    answered: usize,
    rng: Rng,
    peers: Arc<Vec<ActorRef<BigNode>>>,
    done: Arc<Countdown>,
}

struct Peers(Arc<Vec<ActorRef<BigNode>>>);
struct BigStart;
struct BigPing(usize);
struct BigPong;

impl BigNode {
    async fn ping_random(&mut self) {
        let to = self.rng.peer(self.me, self.peers.len());
        let _ = self.peers[to].tell(BigPing(self.me)).await;
    }
}

impl Message<Peers> for BigNode {
    type Reply = ();

    async fn handle(&mut self, Peers(p): Peers, _: &mut Ctx<Self, ()>) {
        self.peers = p;
    }
}

impl Message<BigStart> for BigNode {
    type Reply = ();

    async fn handle(&mut self, _: BigStart, _: &mut Ctx<Self, ()>) {
        self.ping_random().await;
    }
}

impl Message<BigPing> for BigNode {
    type Reply = ();

    async fn handle(&mut self, BigPing(from): BigPing, _: &mut Ctx<Self, ()>) {
        let _ = self.peers[from].tell(BigPong).await;
    }
}

impl Message<BigPong> for BigNode {
    type Reply = ();

    async fn handle(&mut self, _: BigPong, _: &mut Ctx<Self, ()>) {
        self.answered += 1;
        if self.answered == self.pings {
            self.done.hit();
        } else {
            self.ping_random().await;
        }
    }
}

async fn big(s: Sizes) -> RunResult {
    let (done, finished) = Countdown::new(s.big_actors);
    let nodes: Vec<_> = (0..s.big_actors)
        .map(|me| {
            BigNode::spawn(BigNode {
                me,
                pings: s.big_pings,
                answered: 0,
                rng: Rng::new(me as u64),
                peers: Arc::new(Vec::new()),
                done: done.clone(),
            })
        })
        .collect();
    let peers = Arc::new(nodes);
    for p in peers.iter() {
        p.ask(Peers(peers.clone())).await.ctx("ask Peers")?;
    }
    let start = Instant::now();
    for p in peers.iter() {
        p.tell(BigStart).await.ctx("tell Start")?;
    }
    finished.await.ctx("big actors dropped the completion")?;
    Ok(Sample::timed(start.elapsed()))
}

// ---------------------------------------------------------------------------------------------
// Spawn

#[derive(::kameo::Actor)]
struct Greeted {
    done: Arc<Countdown>,
}

struct Hello;

impl Message<Hello> for Greeted {
    type Reply = ();

    async fn handle(&mut self, _: Hello, _: &mut Ctx<Self, ()>) {
        self.done.hit();
    }
}

async fn spawn(s: Sizes) -> RunResult {
    let (done, finished) = Countdown::new(s.spawn_n);
    let probe = mem::Probe::start();
    let start = Instant::now();
    let mut actors = Vec::with_capacity(s.spawn_n);
    for _ in 0..s.spawn_n {
        let a = Greeted::spawn(Greeted { done: done.clone() });
        a.tell(Hello).await.ctx("tell Hello")?;
        actors.push(a);
    }
    finished.await.ctx("actors dropped the completion")?;
    let elapsed = start.elapsed();
    crate::util::end_of_timed_spawn(elapsed);
    let growth = probe.finish(s.spawn_n);
    for a in &actors {
        a.kill();
    }
    Ok(Sample::timed(elapsed).with_growth(growth))
}

// ---------------------------------------------------------------------------------------------
// Supervision: restarts

struct Crasher;
struct CrashMsg;

impl Actor for Crasher {
    type Args = Churn;
    type Error = Infallible;

    async fn on_start(churn: Churn, me: ActorRef<Self>) -> Result<Self, Infallible> {
        if churn.should_crash() {
            let _ = me.tell(CrashMsg).try_send();
        }
        Ok(Crasher)
    }
}

impl Message<CrashMsg> for Crasher {
    type Reply = ();

    async fn handle(&mut self, _: CrashMsg, _: &mut Ctx<Self, ()>) {
        crash()
    }
}

struct Supervisor;

impl Actor for Supervisor {
    type Args = Churn;
    type Error = Infallible;

    async fn on_start(churn: Churn, me: ActorRef<Self>) -> Result<Self, Infallible> {
        Crasher::supervise(&me, churn)
            .restart_policy(RestartPolicy::Permanent)
            .restart_limit(u32::MAX, Duration::from_secs(3600))
            .spawn()
            .await;
        Ok(Supervisor)
    }
}

async fn restarts(s: Sizes) -> RunResult {
    let (churn, finished) = Churn::new(s.restarts);
    let start = Instant::now();
    let sup = Supervisor::spawn(churn.clone());
    let sample = churn.finish(finished, start, s.restart_window).await;
    sup.kill();
    sample
}

// ---------------------------------------------------------------------------------------------
// Supervision: tree shutdown

struct TreeShared {
    breadth: usize,
    started: Arc<Countdown>,
    stopped: Arc<Countdown>,
}

struct TreeNode(Arc<TreeShared>);

impl Actor for TreeNode {
    type Args = (Arc<TreeShared>, usize);
    type Error = Infallible;

    async fn on_start(
        (shared, levels_below): Self::Args,
        me: ActorRef<Self>,
    ) -> Result<Self, Infallible> {
        if levels_below > 0 {
            for _ in 0..shared.breadth {
                Box::pin(TreeNode::supervise(&me, (shared.clone(), levels_below - 1)).spawn())
                    .await;
            }
        }
        shared.started.hit();
        Ok(TreeNode(shared))
    }

    async fn on_stop(
        &mut self,
        _: ::kameo::actor::WeakActorRef<Self>,
        _: ::kameo::error::ActorStopReason,
    ) -> Result<(), Infallible> {
        self.0.stopped.hit();
        Ok(())
    }
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
    let root = TreeNode::spawn((shared, s.tree_depth));
    all_started.await.ctx("tree did not start")?;
    let start = Instant::now();
    root.stop_gracefully().await.ctx("stop root")?;
    root.wait_for_shutdown().await;
    all_stopped.await.ctx("not every node stopped")?;
    Ok(Sample::timed(start.elapsed()))
}
