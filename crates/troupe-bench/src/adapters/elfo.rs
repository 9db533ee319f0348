//! elfo: functional actors (`ActorGroup::exec` over a `Context`, `msg!` dispatch) wired by a
//! `Topology`; the driver of each workload is itself an actor group of the same system.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ::elfo::config::AnyConfig;
use ::elfo::routers::{MapRouter, Outcome};
use ::elfo::{
    message, msg, ActorGroup, Blueprint, Context, RestartParams, RestartPolicy, Topology,
};
use tokio::sync::oneshot;

use crate::config::Sizes;
use crate::harness::{check_count, run_tokio, BenchError, Context as _, RunResult};
use crate::util::{crash, mem, Churn, Countdown, Rng};
use crate::workloads::{Sample, Workload};

/// Setup notes for the report.
pub const NOTES: &[&str] = &[
    "functional actors: each actor group is an `exec` closure looping on `ctx.recv()` with \
     `msg!` dispatch; keyed groups use a `MapRouter`, actors are spawned on their key's first \
     message (the idiomatic elfo spawn). Groups talk through `Topology` routes (`route_to` with \
     `msg!` filters), tells are `ctx.send(..).await`, asks `ctx.request(..).resolve().await`, \
     multi-actor asks `.all()`. Each run starts its own system (`elfo::init::try_start` with a \
     fixture configurer); the workload's driver is an actor group of that system. Default \
     mailbox capacity (100); the backpressure sink calls `ctx.set_mailbox_capacity(64)` and its \
     8 producers are actors of a keyed group.",
    "supervision: restarts use the group's `RestartPolicy::on_failure` with zero backoff; a \
     panic in `exec` is caught and the supervisor re-spawns the actor. With zero backoff, elfo \
     0.2.0-alpha.21's supervisor itself sometimes panics with \"just created\" \
     (`supervisor.rs:433`): the restarted actor fails and unregisters before its spawner looks \
     it up. The restart chain goes on and the count stays right; the report's warnings list how \
     often it happened. Tree: n/a — elfo \
     supervises flat, keyed actor groups; an actor does not spawn child actors, so there is no \
     tree of actors to shut down.",
];

/// Runs one workload in a fresh elfo system.
pub fn run(workload: Workload, sizes: &Sizes, limit: Duration) -> RunResult {
    let s = sizes.clone();
    match workload {
        Workload::Ask => run_system(limit, s, ask, |t, driver, _| {
            let (d, c) = (t.local("driver"), t.local("counter"));
            d.route_all_to(&c);
            d.mount(driver);
            c.mount(counter());
        }),
        Workload::Tell => run_system(limit, s, tell, |t, driver, _| {
            let (d, c) = (t.local("driver"), t.local("counter"));
            d.route_all_to(&c);
            d.mount(driver);
            c.mount(counter());
        }),
        Workload::PingPong => run_system(limit, s, pingpong, |t, driver, _| {
            let (d, ping, pong) = (t.local("driver"), t.local("ping"), t.local("pong"));
            d.route_all_to(&ping);
            ping.route_all_to(&pong);
            pong.route_all_to(&ping);
            d.mount(driver);
            ping.mount(ping_group());
            pong.mount(pong_group());
        }),
        Workload::Ring => run_system(limit, s, ring, |t, driver, s| {
            let (d, r) = (t.local("driver"), t.local("ring"));
            d.route_all_to(&r);
            r.route_to(&r, |e| {
                msg!(match e {
                    RingToken => true,
                    _ => false,
                })
            });
            r.route_to(&d, |e| {
                msg!(match e {
                    RingDone => true,
                    _ => false,
                })
            });
            d.mount(driver);
            r.mount(ring_group(s.ring_actors as u32));
        }),
        Workload::FanOut => run_system(limit, s, fanout, |t, driver, s| {
            let (d, w) = (t.local("driver"), t.local("workers"));
            d.route_all_to(&w);
            d.mount(driver);
            w.mount(fanout_group(s.fanout_actors as u32));
        }),
        Workload::Big => run_system(limit, s, big, |t, driver, s| {
            let (d, b) = (t.local("driver"), t.local("big"));
            d.route_all_to(&b);
            b.route_to(&b, |e| {
                msg!(match e {
                    BigPing | BigPong => true,
                    _ => false,
                })
            });
            b.route_to(&d, |e| {
                msg!(match e {
                    BigDone => true,
                    _ => false,
                })
            });
            d.mount(driver);
            b.mount(big_group(s.big_actors as u32, s.big_pings));
        }),
        Workload::Spawn => {
            let (done, finished) = Countdown::new(s.spawn_n);
            let finished = Once::new(finished);
            let driver = move |ctx, s| spawn(ctx, s, finished.clone());
            run_system(limit, s, driver, move |t, driver, _| {
                let (d, g) = (t.local("driver"), t.local("greeted"));
                d.route_all_to(&g);
                d.mount(driver);
                g.mount(greeted_group(done));
            })
        }
        Workload::Backpressure => run_system(limit, s, backpressure, |t, driver, s| {
            let (d, p, sink) = (t.local("driver"), t.local("producers"), t.local("sink"));
            d.route_to(&p, |e| {
                msg!(match e {
                    Produce => true,
                    _ => false,
                })
            });
            d.route_to(&sink, |e| {
                msg!(match e {
                    BpGet => true,
                    _ => false,
                })
            });
            p.route_all_to(&sink);
            d.mount(driver);
            p.mount(producer_group(s.bp_producers as u32));
            sink.mount(sink_group(s.bp_capacity));
        }),
        Workload::Restarts => {
            let (churn, finished) = Churn::new(s.restarts);
            let finished = Once::new(finished);
            let driver_churn = churn.clone();
            let driver = move |ctx, s| restarts(ctx, s, driver_churn.clone(), finished.clone());
            run_system(limit, s, driver, move |t, driver, _| {
                let (d, c) = (t.local("driver"), t.local("crasher"));
                d.route_all_to(&c);
                d.mount(driver);
                c.mount(crasher_group(churn));
            })
        }
        Workload::Tree => Err(BenchError::Unsupported(
            "elfo supervises flat actor groups; actors have no child actors",
        )),
    }
}

/// A value that one of several clones can take out, once.
struct Once<T>(Arc<Mutex<Option<T>>>);

impl<T> Clone for Once<T> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<T> Once<T> {
    fn new(value: T) -> Self {
        Self(Arc::new(Mutex::new(Some(value))))
    }

    fn take(&self) -> Option<T> {
        match self.0.lock() {
            Ok(mut guard) => guard.take(),
            Err(poisoned) => poisoned.into_inner().take(),
        }
    }
}

/// Waits until the driver's mailbox yields a message of type `M`.
async fn wait_for<M: ::elfo::Message>(ctx: &mut Context) -> Result<(), BenchError> {
    while let Some(envelope) = ctx.recv().await {
        if envelope.is::<M>() {
            return Ok(());
        }
    }
    Err(BenchError::failed("the driver's mailbox closed"))
}

/// Checks the answers of a request sent to many actors.
fn all_ok<T, E: std::fmt::Display>(
    what: &str,
    answers: Vec<Result<T, E>>,
    expected: usize,
) -> Result<Vec<T>, BenchError> {
    if answers.len() != expected {
        return Err(BenchError::failed(format!(
            "{what}: {} answers, expected {expected}",
            answers.len()
        )));
    }
    answers.into_iter().map(|a| a.ctx(what)).collect()
}

/// Builds a topology (a fixture configurer, plus what `build` declares: the groups, their
/// routes, and the driver group, whose blueprint it is given), starts the system, and waits for
/// the driver's result. The runtime's shutdown ends the system.
fn run_system<B, D, Fut>(limit: Duration, s: Sizes, driver: D, build: B) -> RunResult
where
    B: FnOnce(&Topology, Blueprint, &Sizes) + Send + 'static,
    D: Fn(Context, Sizes) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = RunResult> + Send + 'static,
{
    run_tokio(limit, async move {
        let (tx, rx) = oneshot::channel::<RunResult>();
        let slot = Once::new(tx);
        let topology = Topology::empty();
        let configurers = topology.local("system.configurers").entrypoint();
        let driver = Arc::new(driver);
        let sizes = s.clone();
        let driver_group = ActorGroup::new().exec(move |ctx| {
            let slot = slot.clone();
            let driver = driver.clone();
            let s = sizes.clone();
            async move {
                let outcome = driver(ctx, s).await;
                if let Some(tx) = slot.take() {
                    let _ = tx.send(outcome);
                }
            }
        });
        build(&topology, driver_group, &s);
        configurers.mount(::elfo::batteries::configurer::fixture(
            &topology,
            AnyConfig::default(),
        ));
        let system = tokio::spawn(::elfo::init::try_start(topology));
        let outcome = rx.await;
        system.abort();
        outcome.unwrap_or_else(|_| Err(BenchError::failed("the driver actor never reported")))
    })
}

// ---------------------------------------------------------------------------------------------
// Counter: ask, tell

#[message]
struct Inc;

#[message(ret = u64)]
struct Get;

fn counter() -> Blueprint {
    ActorGroup::new().exec(|mut ctx: Context| async move {
        let mut count = 0u64;
        while let Some(envelope) = ctx.recv().await {
            msg!(match envelope {
                Inc => count += 1,
                (Get, token) => ctx.respond(token, count),
            });
        }
    })
}

async fn ask(ctx: Context, s: Sizes) -> RunResult {
    for _ in 0..s.ask_warmup {
        ctx.request(Get).resolve().await.ctx("request Get")?;
    }
    let mut latencies = Vec::with_capacity(s.ask_n);
    let start = Instant::now();
    for _ in 0..s.ask_n {
        let t = Instant::now();
        ctx.request(Get).resolve().await.ctx("request Get")?;
        latencies.push(t.elapsed());
    }
    Ok(Sample::with_latencies(start.elapsed(), latencies))
}

async fn tell(ctx: Context, s: Sizes) -> RunResult {
    let start = Instant::now();
    for _ in 0..s.tell_n {
        ctx.send(Inc).await.ctx("send Inc")?;
    }
    let count = ctx.request(Get).resolve().await.ctx("request Get")?;
    let elapsed = start.elapsed();
    check_count("counter", count, s.tell_n)?;
    Ok(Sample::timed(elapsed))
}

// ---------------------------------------------------------------------------------------------
// Ping-pong

#[message(ret = ())]
struct PpStart {
    n: usize,
}

#[message]
struct PpPing;

#[message]
struct PpPong;

fn ping_group() -> Blueprint {
    ActorGroup::new().exec(|mut ctx: Context| async move {
        let mut left = 0usize;
        let mut done = None;
        while let Some(envelope) = ctx.recv().await {
            msg!(match envelope {
                (PpStart { n }, token) => {
                    left = n;
                    done = Some(token);
                }
                PpPong => left -= 1,
            });
            if left == 0 {
                if let Some(token) = done.take() {
                    ctx.respond(token, ());
                }
            } else {
                let _ = ctx.send(PpPing).await;
            }
        }
    })
}

fn pong_group() -> Blueprint {
    ActorGroup::new().exec(|mut ctx: Context| async move {
        while let Some(envelope) = ctx.recv().await {
            msg!(match envelope {
                PpPing => {
                    let _ = ctx.send(PpPong).await;
                }
            });
        }
    })
}

async fn pingpong(ctx: Context, s: Sizes) -> RunResult {
    let start = Instant::now();
    ctx.request(PpStart { n: s.pingpong_n })
        .resolve()
        .await
        .ctx("request Start")?;
    Ok(Sample::timed(start.elapsed()))
}

// ---------------------------------------------------------------------------------------------
// Ring

#[message]
struct RingToken {
    to: u32,
    hops: usize,
}

#[message(ret = ())]
struct RingWarm;

#[message]
struct RingDone;

fn ring_group(n: u32) -> Blueprint {
    ActorGroup::new()
        .router(MapRouter::new(move |envelope| {
            msg!(match envelope {
                RingToken { to, .. } => Outcome::Unicast(*to),
                RingWarm => Outcome::Multicast((0..n).collect()),
                _ => Outcome::Default,
            })
        }))
        .exec(move |mut ctx: Context<(), u32>| async move {
            let next = (*ctx.key() + 1) % n;
            while let Some(envelope) = ctx.recv().await {
                msg!(match envelope {
                    RingToken { hops, .. } => {
                        if hops == 0 {
                            let _ = ctx.send(RingDone).await;
                        } else {
                            let _ = ctx
                                .send(RingToken {
                                    to: next,
                                    hops: hops - 1,
                                })
                                .await;
                        }
                    }
                    (RingWarm, token) => ctx.respond(token, ()),
                });
            }
        })
}

async fn ring(mut ctx: Context, s: Sizes) -> RunResult {
    let warm = ctx.request(RingWarm).all().resolve().await;
    all_ok("warm up ring", warm, s.ring_actors)?;
    let start = Instant::now();
    ctx.send(RingToken {
        to: 0,
        hops: s.ring_hops,
    })
    .await
    .ctx("send Token")?;
    wait_for::<RingDone>(&mut ctx).await?;
    Ok(Sample::timed(start.elapsed()))
}

// ---------------------------------------------------------------------------------------------
// Fan-out

#[message]
struct FanInc {
    to: u32,
}

#[message(ret = u64)]
struct FanGet;

fn fanout_group(n: u32) -> Blueprint {
    ActorGroup::new()
        .router(MapRouter::new(move |envelope| {
            msg!(match envelope {
                FanInc { to } => Outcome::Unicast(*to),
                FanGet => Outcome::Multicast((0..n).collect()),
                _ => Outcome::Default,
            })
        }))
        .exec(|mut ctx: Context<(), u32>| async move {
            let mut count = 0u64;
            while let Some(envelope) = ctx.recv().await {
                msg!(match envelope {
                    FanInc => count += 1,
                    (FanGet, token) => ctx.respond(token, count),
                });
            }
        })
}

async fn fanout(ctx: Context, s: Sizes) -> RunResult {
    let warm = ctx.request(FanGet).all().resolve().await;
    all_ok("warm up workers", warm, s.fanout_actors)?;
    let workers = s.fanout_actors as u32;
    let start = Instant::now();
    for i in 0..s.fanout_n {
        ctx.send(FanInc {
            to: i as u32 % workers,
        })
        .await
        .ctx("send Inc")?;
    }
    let counts = ctx.request(FanGet).all().resolve().await;
    let total: u64 = all_ok("request Get", counts, s.fanout_actors)?
        .into_iter()
        .sum();
    let elapsed = start.elapsed();
    check_count("workers", total, s.fanout_n)?;
    Ok(Sample::timed(elapsed))
}

// ---------------------------------------------------------------------------------------------
// Big

#[message]
struct BigPing {
    to: u32,
    from: u32,
}

#[message]
struct BigPong {
    to: u32,
}

#[message]
struct BigStart;

#[message(ret = ())]
struct BigWarm;

#[message]
struct BigDone;

fn big_group(n: u32, pings: usize) -> Blueprint {
    ActorGroup::new()
        .router(MapRouter::new(move |envelope| {
            msg!(match envelope {
                BigPing { to, .. } => Outcome::Unicast(*to),
                BigPong { to } => Outcome::Unicast(*to),
                BigStart | BigWarm => Outcome::Multicast((0..n).collect()),
                _ => Outcome::Default,
            })
        }))
        .exec(move |mut ctx: Context<(), u32>| async move {
            let me = *ctx.key();
            let mut rng = Rng::new(u64::from(me));
            let mut answered = 0usize;
            while let Some(envelope) = ctx.recv().await {
                msg!(match envelope {
                    BigStart => {
                        let to = rng.peer(me as usize, n as usize) as u32;
                        let _ = ctx.send(BigPing { to, from: me }).await;
                    }
                    BigPing { from, .. } => {
                        let _ = ctx.send(BigPong { to: from }).await;
                    }
                    BigPong => {
                        answered += 1;
                        if answered == pings {
                            let _ = ctx.send(BigDone).await;
                        } else {
                            let to = rng.peer(me as usize, n as usize) as u32;
                            let _ = ctx.send(BigPing { to, from: me }).await;
                        }
                    }
                    (BigWarm, token) => ctx.respond(token, ()),
                });
            }
        })
}

async fn big(mut ctx: Context, s: Sizes) -> RunResult {
    let warm = ctx.request(BigWarm).all().resolve().await;
    all_ok("warm up big actors", warm, s.big_actors)?;
    let start = Instant::now();
    ctx.send(BigStart).await.ctx("send Start")?;
    for _ in 0..s.big_actors {
        wait_for::<BigDone>(&mut ctx).await?;
    }
    Ok(Sample::timed(start.elapsed()))
}

// ---------------------------------------------------------------------------------------------
// Spawn

#[message]
struct Hello {
    to: u32,
}

fn greeted_group(done: Arc<Countdown>) -> Blueprint {
    ActorGroup::new()
        .router(MapRouter::new(|envelope| {
            msg!(match envelope {
                Hello { to } => Outcome::Unicast(*to),
                _ => Outcome::Default,
            })
        }))
        .exec(move |mut ctx: Context<(), u32>| {
            let done = done.clone();
            async move {
                while let Some(envelope) = ctx.recv().await {
                    msg!(match envelope {
                        Hello => done.hit(),
                    });
                }
            }
        })
}

async fn spawn(ctx: Context, s: Sizes, finished: Once<oneshot::Receiver<()>>) -> RunResult {
    let finished = finished.take().ctx("the spawn driver ran twice")?;
    let probe = mem::Probe::start();
    let start = Instant::now();
    for i in 0..s.spawn_n {
        ctx.send(Hello { to: i as u32 }).await.ctx("send Hello")?;
    }
    finished.await.ctx("actors dropped the completion")?;
    let elapsed = start.elapsed();
    let growth = probe.finish(s.spawn_n);
    Ok(Sample::timed(elapsed).with_growth(growth))
}

// ---------------------------------------------------------------------------------------------
// Backpressure

#[message]
struct BpInc;

#[message(ret = u64)]
struct BpGet;

#[message(ret = ())]
struct Produce {
    n: usize,
}

fn sink_group(capacity: usize) -> Blueprint {
    ActorGroup::new().exec(move |mut ctx: Context| async move {
        ctx.set_mailbox_capacity(capacity);
        let mut count = 0u64;
        while let Some(envelope) = ctx.recv().await {
            msg!(match envelope {
                BpInc => count += 1,
                (BpGet, token) => ctx.respond(token, count),
            });
        }
    })
}

fn producer_group(n: u32) -> Blueprint {
    ActorGroup::new()
        .router(MapRouter::new(move |envelope| {
            msg!(match envelope {
                Produce => Outcome::Multicast((0..n).collect()),
                _ => Outcome::Default,
            })
        }))
        .exec(|mut ctx: Context<(), u32>| async move {
            while let Some(envelope) = ctx.recv().await {
                msg!(match envelope {
                    (Produce { n }, token) => {
                        for _ in 0..n {
                            if ctx.send(BpInc).await.is_err() {
                                break;
                            }
                        }
                        ctx.respond(token, ());
                    }
                });
            }
        })
}

async fn backpressure(ctx: Context, s: Sizes) -> RunResult {
    let per_producer = s.bp_n / s.bp_producers;
    ctx.request(BpGet).resolve().await.ctx("warm up sink")?;
    mem::reset_peak();
    let base = mem::rss_bytes();
    let start = Instant::now();
    let produced = ctx
        .request(Produce { n: per_producer })
        .all()
        .resolve()
        .await;
    all_ok("request Produce", produced, s.bp_producers)?;
    let count = ctx.request(BpGet).resolve().await.ctx("request Get")?;
    let elapsed = start.elapsed();
    let peak = mem::peak_rss_bytes().saturating_sub(base) as f64;
    check_count("sink", count, per_producer * s.bp_producers)?;
    Ok(Sample::timed(elapsed).with_mem(peak))
}

// ---------------------------------------------------------------------------------------------
// Supervision: restarts

#[message]
struct CrashGo;

#[message]
struct CrashMsg;

fn crasher_group(churn: Churn) -> Blueprint {
    ActorGroup::new()
        .router(MapRouter::new(|envelope| {
            msg!(match envelope {
                CrashGo => Outcome::Unicast(0u8),
                _ => Outcome::Default,
            })
        }))
        .restart_policy(RestartPolicy::on_failure(RestartParams::new(
            Duration::ZERO,
            Duration::ZERO,
        )))
        .exec(move |mut ctx: Context<(), u8>| {
            let churn = churn.clone();
            async move {
                if churn.should_crash() {
                    let _ = ctx.send_to(ctx.addr(), CrashMsg).await;
                }
                while let Some(envelope) = ctx.recv().await {
                    msg!(match envelope {
                        CrashMsg => crash(),
                        _ => {}
                    });
                }
            }
        })
}

async fn restarts(
    ctx: Context,
    s: Sizes,
    churn: Churn,
    finished: Once<oneshot::Receiver<()>>,
) -> RunResult {
    let finished = finished.take().ctx("the restarts driver ran twice")?;
    let start = Instant::now();
    ctx.send(CrashGo).await.ctx("send Go")?;
    churn.finish(finished, start, s.restart_window).await
}
