//! A fixed workload on troupe's hot paths, for counting instructions per
//! message (see `scripts/callgrind.sh`): one struct actor on a
//! current-thread runtime, driven from outside.
//!
//! `cargo run --release --example hotpath -- <tell|ask> <n>`
//!
//! - `tell`: `n` `notify` of a small message, then one `send` to sync;
//! - `ask`: `n` sequential `send` requests.

use troupe::prelude::*;

#[message]
struct Add(u64);

#[message(ret = u64)]
struct Get;

#[derive(Default)]
struct Sum {
    total: u64,
}

impl Actor for Sum {}

impl Handler<Add> for Sum {
    async fn handle(&mut self, msg: Add, _: &mut ActorContext<Self>) -> HandlerResult {
        self.total += msg.0;
        Ok(())
    }
}

impl Handler<Get> for Sum {
    async fn handle(&mut self, _: Get, _: &mut ActorContext<Self>) -> HandlerResult<u64> {
        Ok(self.total)
    }
}

async fn run(workload: &str, n: u64) -> Result<u64, Box<dyn std::error::Error>> {
    let actor = Sum::default().spawn().await?;
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
        other => return Err(format!("unknown workload {other:?} (tell or ask)").into()),
    };
    actor.stop(StopReason::Graceful).await?;
    Ok(total)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: hotpath <tell|ask> <n>";
    let workload = args.next().ok_or(usage)?;
    let n: u64 = args.next().ok_or(usage)?.parse()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let total = runtime.block_on(run(&workload, n))?;
    let expected = if workload == "tell" { n } else { 0 };
    if total != expected {
        return Err(format!("{workload}: got {total}, expected {expected}").into());
    }
    Ok(())
}
