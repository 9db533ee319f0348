//! elfo, messaging workloads: ask, tell, ping-pong, ring, fan-out, big.

use std::time::{Duration, Instant};

use ::elfo::routers::{MapRouter, Outcome};
use ::elfo::{message, msg, ActorGroup, Blueprint, Context};

use super::{all_ok, run_system, wait_for};
use crate::config::Sizes;
use crate::harness::{check_count, Context as _, RunResult};
use crate::util::Rng;
use crate::workloads::Sample;

// ---------------------------------------------------------------------------------------------
// Counter: ask, tell

/// Runs workload Tell in a fresh system.
pub(super) fn run_tell(limit: Duration, s: Sizes) -> RunResult {
    run_system(limit, s, tell, |t, driver, _| {
        let (d, c) = (t.local("driver"), t.local("counter"));
        d.route_all_to(&c);
        d.mount(driver);
        c.mount(counter());
    })
}

/// Runs workload Ask in a fresh system.
pub(super) fn run_ask(limit: Duration, s: Sizes) -> RunResult {
    run_system(limit, s, ask, |t, driver, _| {
        let (d, c) = (t.local("driver"), t.local("counter"));
        d.route_all_to(&c);
        d.mount(driver);
        c.mount(counter());
    })
}

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

/// Runs workload PingPong in a fresh system.
pub(super) fn run_pingpong(limit: Duration, s: Sizes) -> RunResult {
    run_system(limit, s, pingpong, |t, driver, _| {
        let (d, ping, pong) = (t.local("driver"), t.local("ping"), t.local("pong"));
        d.route_all_to(&ping);
        ping.route_all_to(&pong);
        pong.route_all_to(&ping);
        d.mount(driver);
        ping.mount(ping_group());
        pong.mount(pong_group());
    })
}

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

/// Runs workload Ring in a fresh system.
pub(super) fn run_ring(limit: Duration, s: Sizes) -> RunResult {
    run_system(limit, s, ring, |t, driver, s| {
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
    })
}

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

/// Runs workload FanOut in a fresh system.
pub(super) fn run_fanout(limit: Duration, s: Sizes) -> RunResult {
    run_system(limit, s, fanout, |t, driver, s| {
        let (d, w) = (t.local("driver"), t.local("workers"));
        d.route_all_to(&w);
        d.mount(driver);
        w.mount(fanout_group(s.fanout_actors as u32, s.fanout_idle as u32));
    })
}

#[message]
struct FanInc {
    to: u32,
}

/// Asks the active workers (the first `fanout_actors`) for their counts.
#[message(ret = u64)]
struct FanGet;

/// Starts every worker, idle ones included (elfo starts an actor when
/// something is first routed to it).
#[message(ret = u64)]
struct FanWarm;

fn fanout_group(active: u32, idle: u32) -> Blueprint {
    ActorGroup::new()
        .router(MapRouter::new(move |envelope| {
            msg!(match envelope {
                FanInc { to } => Outcome::Unicast(*to),
                FanGet => Outcome::Multicast((0..active).collect()),
                FanWarm => Outcome::Multicast((0..active + idle).collect()),
                _ => Outcome::Default,
            })
        }))
        .exec(|mut ctx: Context<(), u32>| async move {
            let mut count = 0u64;
            while let Some(envelope) = ctx.recv().await {
                msg!(match envelope {
                    FanInc => count += 1,
                    (FanGet, token) => ctx.respond(token, count),
                    (FanWarm, token) => ctx.respond(token, count),
                });
            }
        })
}

async fn fanout(ctx: Context, s: Sizes) -> RunResult {
    let warm = ctx.request(FanWarm).all().resolve().await;
    all_ok("warm up workers", warm, s.fanout_actors + s.fanout_idle)?;
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

/// Runs workload Big in a fresh system.
pub(super) fn run_big(limit: Duration, s: Sizes) -> RunResult {
    run_system(limit, s, big, |t, driver, s| {
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
    })
}

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
