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
    // HOTPATH_SYSTEM=1: on a system of its own rather than the default one.
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
    // HOTPATH_THREADS=k: a k-worker runtime, the workload in a task of it
    // (wall time, not instruction counts).
    let threads: usize = std::env::var("HOTPATH_THREADS")
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or(0);
    let total = if threads == 0 {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        runtime.block_on(run(&workload, n))?
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
