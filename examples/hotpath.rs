//! A fixed workload on troupe's hot paths, for counting instructions per
//! message (see `scripts/callgrind.sh`): one struct actor on a
//! current-thread runtime, driven by a task of that runtime (as the
//! benchmark's workloads are).
//!
//! `cargo run --release --example hotpath -- <tell|ask> <n>`
//!
//! - `tell`: `n` `notify` of a small message, then one `send` to sync;
//! - `ask`: `n` sequential `send` requests;
//! - `ask-untimed`: the same without a deadline (`send_timeout(.., None)`),
//!   which shows what the default 5 s deadline costs;
//! - `pingpong`: two actors pass a ball `n` times with `notify`;
//! - `route-ask`: a functional actor makes `n` sequential requests through
//!   the topology (`ctx.request`) to the one actor of another group.
//!
//! Spawns and restarts are in `examples/lifepath.rs`: in this binary their
//! code changed how the tell and ask paths were inlined.

use troupe::prelude::*;

#[path = "measure/sum.rs"]
mod sum;

use sum::{Add, Get, Sum};

/// One side of the ping-pong: passes the ball back until it is spent.
#[derive(Default)]
struct Player {
    peer: Option<ActorRef<Player>>,
    done: Option<tokio::sync::oneshot::Sender<u64>>,
}

#[message]
struct Serve(ActorRef<Player>, Option<tokio::sync::oneshot::Sender<u64>>);

#[message]
struct Ball(u64);

impl Actor for Player {}

impl Handler<Serve> for Player {
    async fn handle(&mut self, msg: Serve, _: &mut ActorContext<Self>) -> HandlerResult {
        self.peer = Some(msg.0);
        self.done = msg.1;
        Ok(())
    }
}

impl Handler<Ball> for Player {
    async fn handle(&mut self, msg: Ball, _: &mut ActorContext<Self>) -> HandlerResult {
        match (msg.0, &self.peer) {
            (0, _) | (_, None) => {
                if let Some(done) = self.done.take() {
                    let _ = done.send(0);
                }
            }
            (left, Some(peer)) => peer.notify(Ball(left - 1)).await?,
        }
        Ok(())
    }
}

async fn pingpong(n: u64) -> Result<u64, Box<dyn std::error::Error>> {
    let (a, b) = (
        Player::default().spawn().await?,
        Player::default().spawn().await?,
    );
    let (tx, rx) = tokio::sync::oneshot::channel();
    let (tx2, rx2) = tokio::sync::oneshot::channel();
    a.notify(Serve(b.clone(), Some(tx))).await?;
    b.notify(Serve(a.clone(), Some(tx2))).await?;
    a.notify(Ball(n)).await?;
    let total = tokio::select! {
        r = rx => r?,
        r = rx2 => r?,
    };
    a.stop(StopReason::Graceful).await?;
    b.stop(StopReason::Graceful).await?;
    Ok(total)
}

#[message(ret = u64)]
struct Run(u64);

/// `n` requests routed by the topology from a `client` group to a `server`
/// group (one route, the server's singleton actor).
async fn route_ask(n: u64) -> Result<u64, Box<dyn std::error::Error>> {
    let topology = Topology::empty();
    let client = topology.local("client");
    let server = topology.local("server");
    client.route_to(&server, |_| true);
    server.mount(ActorGroup::new().exec(|mut ctx| async move {
        while let Some(envelope) = ctx.recv().await {
            msg!(match envelope {
                (Get, token) => {
                    ctx.respond(token, 0);
                }
            })
        }
    }));
    client.mount(ActorGroup::new().exec(|mut ctx| async move {
        while let Some(envelope) = ctx.recv().await {
            msg!(match envelope {
                (Run(n), token) => {
                    let mut seen = 0;
                    for _ in 0..n {
                        seen += ctx.request(Get).resolve().await.unwrap_or(1);
                    }
                    ctx.respond(token, seen);
                }
            })
        }
    }));
    let system = troupe::init::try_start(topology)?;
    let client = system.group("client").ok_or("no client group")?;
    let seen = client.send_timeout(Run(n), None).await?;
    system.shutdown().await;
    Ok(seen)
}

async fn run(workload: &str, n: u64) -> Result<u64, Box<dyn std::error::Error>> {
    // HOTPATH_SYSTEM=1: on a system of its own rather than the default one.
    if workload == "pingpong" {
        return pingpong(n).await;
    }
    if workload == "route-ask" {
        return route_ask(n).await;
    }
    let actor = if std::env::var("HOTPATH_SYSTEM").is_ok() {
        let system = ActorSystem::create(format!("hotpath-{}", std::process::id()))?;
        Sum::default().spawn().on_system(&system).await?
    } else {
        Sum::default().spawn().await?
    };
    let total = match workload {
        "tell" => {
            for _ in 0..n {
                actor.notify(Add(1)).await?;
            }
            actor.send(Get).await?
        }
        "ask" => {
            let mut seen = 0;
            for _ in 0..n {
                seen += actor.send(Get).await?;
            }
            seen
        }
        "ask-untimed" => {
            let mut seen = 0;
            for _ in 0..n {
                seen += actor.send_timeout(Get, None).await?;
            }
            seen
        }
        other => {
            let known = "tell, ask, ask-untimed, pingpong or route-ask";
            return Err(format!("unknown workload {other:?} ({known})").into());
        }
    };
    actor.stop(StopReason::Graceful).await?;
    Ok(total)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: hotpath <tell|ask|ask-untimed|pingpong|route-ask> <n>";
    let workload = args.next().ok_or(usage)?;
    let n: u64 = args.next().ok_or(usage)?.parse()?;
    // HOTPATH_THREADS=k: a k-worker runtime, the workload in a task of it;
    // by default a current-thread runtime. Wall time is printed either way.
    let threads: usize = std::env::var("HOTPATH_THREADS")
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or(0);
    let total = if threads == 0 {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let started = std::time::Instant::now();
        // In a task, as the benchmark's drivers run: a `block_on` future
        // woken by the actor parks the runtime's driver at every reply.
        let w = workload.clone();
        let total = runtime.block_on(async move {
            let workload = w;
            tokio::task::spawn(async move { run(&workload, n).await.map_err(|e| e.to_string()) })
                .await
                .map_err(|e| e.to_string())?
        })?;
        eprintln!("{:?}", started.elapsed());
        total
    } else {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .enable_all()
            .build()?;
        let started = std::time::Instant::now();
        let w = workload.clone();
        let total = runtime.block_on(async move {
            let workload = w;
            tokio::spawn(async move { run(&workload, n).await.map_err(|e| e.to_string()) })
                .await
                .map_err(|e| e.to_string())?
        })?;
        eprintln!("{:?}", started.elapsed());
        total
    };
    let expected = if workload == "tell" { n } else { 0 };
    if total != expected {
        return Err(format!("{workload}: got {total}, expected {expected}").into());
    }
    Ok(())
}
