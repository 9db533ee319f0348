//! Recurring timers and their three miss policies, side by side.
//!
//! Three actors tick every 50 ms, one per [`MissPolicy`], each with a
//! mailbox of 2. At 120 ms each is stalled for 200 ms (a slow handler), so
//! ticks pile up and are then missed; the policy decides what happens:
//! - Skip: the tick waiting for space is delivered at ~320 ms, then the
//!   timer goes back to its grid (350, 400).
//! - CatchUp: ticks that do not fit are dropped and reported (250, 300);
//!   the grid is kept (350, 400).
//! - Delay: like Skip up to ~320 ms, then the grid moves: 370, 420.
//!
//! Skip and Delay agree on every tick up to the late one: a policy only
//! decides what follows a tick that could not be delivered on time, and
//! both deliver that tick as soon as there is room. They part after it:
//! Skip goes back to the 50 ms grid, Delay counts 50 ms from the late
//! delivery. The example prints the ticks of each policy, in a fixed order,
//! with what to look at.
//!
//! A one-shot timer stops each actor at 430 ms. Run with
//! `cargo run -p troupe-examples --example timers`.

use std::time::Duration;

use tokio::time::Instant;
use troupe::prelude::*;
use troupe::MissPolicy;

#[derive(Clone)]
#[message]
struct Tick;

#[derive(Clone)]
#[message]
struct Done;

/// Blocks the actor for a while, as a slow handler would.
#[message]
struct Stall(Duration);

struct Ticker {
    policy: MissPolicy,
    t0: Instant,
    ticks: Vec<u128>,
    /// Where the ticks and the dropped count go when the ticker stops.
    report: tokio::sync::mpsc::UnboundedSender<(MissPolicy, Vec<u128>, u64)>,
}

impl Ticker {
    fn ms(&self) -> u128 {
        self.t0.elapsed().as_millis()
    }
}

impl Actor for Ticker {
    async fn pre_start(&mut self, ctx: &mut ActorContext<Self>) -> HandlerResult {
        ctx.schedule(Tick)
            .every(Duration::from_millis(50))
            .on_miss(self.policy)
            .await?;
        ctx.schedule(Done).after(Duration::from_millis(430)).await?;
        Ok(())
    }

    async fn on_stopped(&mut self, ctx: &mut ActorContext<Self>, _: &ExitReason) {
        let ticks = std::mem::take(&mut self.ticks);
        let _ = self
            .report
            .send((self.policy, ticks, ctx.dropped_timer_ticks()));
    }
}

impl Handler<Tick> for Ticker {
    async fn handle(&mut self, _: Tick, _: &mut ActorContext<Self>) -> HandlerResult {
        let ms = self.ms();
        self.ticks.push(ms);
        Ok(())
    }
}

impl Handler<Stall> for Ticker {
    async fn handle(&mut self, Stall(d): Stall, _: &mut ActorContext<Self>) -> HandlerResult {
        tokio::time::sleep(d).await;
        Ok(())
    }
}

impl Handler<Done> for Ticker {
    async fn handle(&mut self, _: Done, ctx: &mut ActorContext<Self>) -> HandlerResult {
        // The one-shot timer has fired: only the recurring one is left.
        assert_eq!(ctx.active_timer_count(), 1);
        assert_eq!(ctx.cancel_all_timers(), 1);
        ctx.stop();
        Ok(())
    }
}

/// A one-shot timer at an instant in the past fires at once.
struct Early;

impl Actor for Early {
    async fn pre_start(&mut self, ctx: &mut ActorContext<Self>) -> HandlerResult {
        let past = Instant::now()
            .checked_sub(Duration::from_secs(60))
            .unwrap_or_else(Instant::now);
        ctx.schedule(Done).at(past).await?;
        Ok(())
    }
}

impl Handler<Done> for Early {
    async fn handle(&mut self, _: Done, ctx: &mut ActorContext<Self>) -> HandlerResult {
        println!("a timer set one minute in the past fired at once");
        ctx.stop();
        Ok(())
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let early = Early.spawn().await?;
    early.wait_for_exit().await;

    let t0 = Instant::now();
    let config = ActorConfig::default().with_mailbox_capacity(2);
    let (report, mut reports) = tokio::sync::mpsc::unbounded_channel();
    let policies = [MissPolicy::Skip, MissPolicy::CatchUp, MissPolicy::Delay];
    let mut tickers = Vec::new();
    for policy in policies {
        let ticker = Ticker {
            policy,
            t0,
            ticks: Vec::new(),
            report: report.clone(),
        };
        tickers.push(ticker.spawn().with_config(config.clone()).await?);
    }
    drop(report);
    println!("three tickers every 50 ms (mailbox of 2), stalled from 120 to 320 ms:");
    tokio::time::sleep_until(t0 + Duration::from_millis(120)).await;
    for ticker in &tickers {
        ticker.notify(Stall(Duration::from_millis(200))).await?;
    }
    let mut results = Vec::new();
    while let Some(result) = reports.recv().await {
        results.push(result);
    }
    for policy in policies {
        let Some((_, ticks, dropped)) = results.iter().find(|(p, ..)| *p == policy) else {
            continue;
        };
        println!(
            "{:>8}: ticks handled at {ticks:?} ms; ticks dropped: {dropped}",
            format!("{policy:?}")
        );
        println!("          {}", explain(policy));
    }
    Ok(())
}

/// What to look at in a policy's ticks.
fn explain(policy: MissPolicy) -> &'static str {
    match policy {
        MissPolicy::Skip => {
            "the 150 and 200 ticks waited in the mailbox, the 250 one for room (~320); \
             then back on the grid: 350, 400"
        }
        MissPolicy::CatchUp => {
            "the missed 250 and 300 ticks found no room: dropped and reported; \
             the grid is kept: 350, 400"
        }
        MissPolicy::Delay => {
            "the same as Skip up to the late tick (~320): a policy only acts on a late tick; \
             then 50 ms from it: ~370, ~420"
        }
    }
}
