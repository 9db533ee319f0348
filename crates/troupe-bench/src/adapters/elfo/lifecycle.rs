//! elfo, lifecycle workloads: spawn, backpressure, supervision churn.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ::elfo::routers::{MapRouter, Outcome};
use ::elfo::{message, msg, ActorGroup, Blueprint, Context, RestartParams, RestartPolicy};
use tokio::sync::oneshot;

use super::{all_ok, run_system, Once};
use crate::config::Sizes;
use crate::harness::{check_count, Context as _, RunResult};
use crate::util::{crash, mem, Churn, Countdown};
use crate::workloads::Sample;

// ---------------------------------------------------------------------------------------------
// Spawn

/// Runs workload Spawn in a fresh system.
pub(super) fn run_spawn(limit: Duration, s: Sizes) -> RunResult {
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
    crate::util::end_of_timed_spawn(elapsed);
    let growth = probe.finish(s.spawn_n);
    Ok(Sample::timed(elapsed).with_growth(growth))
}

// ---------------------------------------------------------------------------------------------
// Backpressure

/// Runs workload Backpressure in a fresh system.
pub(super) fn run_backpressure(limit: Duration, s: Sizes) -> RunResult {
    run_system(limit, s, backpressure, |t, driver, s| {
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
    })
}

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
    let probe = mem::Probe::start_with_peak();
    let start = Instant::now();
    let produced = ctx
        .request(Produce { n: per_producer })
        .all()
        .resolve()
        .await;
    all_ok("request Produce", produced, s.bp_producers)?;
    let count = ctx.request(BpGet).resolve().await.ctx("request Get")?;
    let elapsed = start.elapsed();
    let growth = probe.finish(1);
    check_count("sink", count, per_producer * s.bp_producers)?;
    Ok(Sample::timed(elapsed).with_peaks(growth))
}

// ---------------------------------------------------------------------------------------------
// Supervision: restarts

/// Runs workload Restarts in a fresh system.
pub(super) fn run_restarts(limit: Duration, s: Sizes) -> RunResult {
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
