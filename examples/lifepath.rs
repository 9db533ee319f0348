//! A fixed workload on troupe's lifecycle paths, for counting instructions
//! per spawn or restart (see `scripts/callgrind.sh`), on a current-thread
//! runtime. (Apart from `examples/hotpath.rs`: in one binary, this code
//! changed how the message paths there were inlined.)
//!
//! `cargo run --release --example lifepath -- <spawn|restart> <n>`
//!
//! - `spawn`: `n` actors spawned one after the other, each told one message;
//!   then each asked once and stopped;
//! - `restart`: a supervised actor fails `n` times, restarted each time
//!   (each incarnation tells itself a message whose handler fails, and its
//!   `handle_failure` stops it), as troupe-bench's restarts workload does.
//! - `tree`: a root starts `n` linked children, then is stopped, which
//!   stops them one by one (troupe-bench's tree workload, flattened).
//! - `churn`: a root starts `n` temporary children, which then stop one
//!   after the other, oldest first; the root learns of each exit.

use troupe::prelude::*;

#[path = "measure/sum.rs"]
mod sum;

use sum::{Add, Get, Sum};

/// Restarts left; the incarnation that finds none left reports the end.
struct Crashes {
    left: std::sync::atomic::AtomicU64,
    done: std::sync::Mutex<Option<tokio::sync::oneshot::Sender<u64>>>,
}

#[message]
struct Crash;

struct Crasher(std::sync::Arc<Crashes>);

impl Actor for Crasher {
    async fn pre_start(&mut self, ctx: &mut ActorContext<Self>) -> HandlerResult {
        use std::sync::atomic::Ordering;
        let left = self.0.left.load(Ordering::Relaxed);
        if left == 0 {
            if let Some(done) = self.0.done.lock().ok().and_then(|mut d| d.take()) {
                let _ = done.send(0);
            }
            return Ok(());
        }
        self.0.left.store(left - 1, Ordering::Relaxed);
        ctx.self_handle()
            .try_notify(Crash)
            .map_err(|e| format!("tell itself Crash: {e}"))?;
        Ok(())
    }

    async fn handle_failure(&mut self, ctx: &mut ActorContext<Self>, failure: Failure) {
        ctx.stop_with(failure.into());
    }
}

impl Handler<Crash> for Crasher {
    async fn handle(&mut self, _: Crash, _: &mut ActorContext<Self>) -> HandlerResult {
        Err("crash".into())
    }
}

struct CrashSupervisor(std::sync::Arc<Crashes>);

impl Actor for CrashSupervisor {
    async fn pre_start(&mut self, ctx: &mut ActorContext<Self>) -> HandlerResult {
        let crashes = self.0.clone();
        ctx.spawn_child(move || Crasher(crashes.clone())).await?;
        Ok(())
    }
}

async fn restart(n: u64) -> Result<u64, Box<dyn std::error::Error>> {
    let (done, finished) = tokio::sync::oneshot::channel();
    let crashes = std::sync::Arc::new(Crashes {
        left: std::sync::atomic::AtomicU64::new(n),
        done: std::sync::Mutex::new(Some(done)),
    });
    let config = SupervisorConfig::one_for_one()
        .max_restarts(usize::MAX, std::time::Duration::from_secs(3600));
    let sup = CrashSupervisor(crashes)
        .spawn()
        .with_supervision(config)
        .await?;
    let seen = finished.await?;
    sup.stop(StopReason::Graceful).await?;
    Ok(seen)
}

/// A root with `n` linked children.
struct Root(u64);

impl Actor for Root {
    async fn pre_start(&mut self, ctx: &mut ActorContext<Self>) -> HandlerResult {
        for _ in 0..self.0 {
            ctx.spawn_child(Sum::default).await?;
        }
        Ok(())
    }
}

/// A root with `n` temporary children, which it hands out.
struct Churn(u64, Vec<ActorRef<Sum>>);

#[message(ret = Vec<ActorRef<Sum>>)]
struct Kids;

impl Actor for Churn {
    async fn pre_start(&mut self, ctx: &mut ActorContext<Self>) -> HandlerResult {
        for _ in 0..self.0 {
            let child = ctx
                .spawn_child(Sum::default)
                .restart_type(RestartType::Temporary)
                .await?;
            self.1.push(child);
        }
        Ok(())
    }
}

impl Handler<Kids> for Churn {
    async fn handle(
        &mut self,
        _: Kids,
        _: &mut ActorContext<Self>,
    ) -> HandlerResult<Vec<ActorRef<Sum>>> {
        Ok(std::mem::take(&mut self.1))
    }
}

async fn churn(n: u64) -> Result<u64, Box<dyn std::error::Error>> {
    let root = Churn(n, Vec::new()).spawn().supervised().await?;
    let kids = root.send(Kids).await?;
    for kid in &kids {
        kid.stop(StopReason::Graceful).await?;
    }
    // Every exit reached the root once its children are none.
    let left = root.children().await?.len() as u64;
    root.stop(StopReason::Graceful).await?;
    Ok(kids.len() as u64 - left)
}

async fn tree(n: u64) -> Result<u64, Box<dyn std::error::Error>> {
    let root = Root(n).spawn().supervised().await?;
    let children = root.children().await?.len() as u64;
    root.stop(StopReason::Graceful).await?;
    Ok(children)
}

/// `n` actors spawned one after the other, each told one message; then
/// each asked once and stopped.
async fn spawn_many(n: u64) -> Result<u64, Box<dyn std::error::Error>> {
    let mut actors = Vec::with_capacity(n as usize);
    for _ in 0..n {
        let a = Sum::default().spawn().await?;
        a.notify(Add(1)).await?;
        actors.push(a);
    }
    let mut seen = 0;
    for a in &actors {
        seen += a.send(Get).await?;
    }
    for a in actors {
        a.stop(StopReason::Graceful).await?;
    }
    Ok(seen)
}

/// The workload's result, and the result it should have.
async fn run(workload: String, n: u64) -> Result<(u64, u64), String> {
    let outcome = match workload.as_str() {
        "spawn" => spawn_many(n).await.map(|got| (got, n)),
        "restart" => restart(n).await.map(|got| (got, 0)),
        "tree" => tree(n).await.map(|got| (got, n)),
        "churn" => churn(n).await.map(|got| (got, n)),
        other => {
            return Err(format!(
                "unknown workload {other:?} (spawn, restart, tree or churn)"
            ))
        }
    };
    outcome.map_err(|e| e.to_string())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: lifepath <spawn|restart|tree|churn> <n>";
    let workload = args.next().ok_or(usage)?;
    let n: u64 = args.next().ok_or(usage)?.parse()?;
    // LIFEPATH_THREADS=k: a k-worker runtime instead (wall time, printed).
    let threads: usize = std::env::var("LIFEPATH_THREADS")
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or(0);
    let runtime = if threads == 0 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .enable_all()
            .build()?
    };
    let started = std::time::Instant::now();
    let (got, expected) = if threads == 0 {
        runtime.block_on(run(workload.clone(), n))?
    } else {
        // The workload in a task of the runtime, as on a worker thread.
        runtime.block_on(runtime.spawn(run(workload.clone(), n)))??
    };
    if threads > 0 {
        eprintln!("{:?}", started.elapsed());
    }
    if got != expected {
        return Err(format!("{workload}: got {got}, expected {expected}").into());
    }
    Ok(())
}
