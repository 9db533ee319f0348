//! The seed's parent/child supervision: a struct actor that supervises the
//! workers it spawns, restarts them when one fails (one-for-all), keeps the
//! workers' handles valid across restarts, and gives up when its restart
//! budget is exceeded.
//!
//! `cargo run --example supervision`

use std::time::Duration;

use tokio::sync::mpsc;
use troupe::prelude::*;
use troupe::supervision::{RestartType, SupervisionEvent, SupervisorConfig};

/// Adds up jobs; crashes on request.
#[derive(Default)]
struct Worker {
    done: u32,
}

#[message]
struct Job(u32);

#[message(ret = u32)]
struct Done;

/// A request whose handler fails: the worker stops with `Failed`.
#[message(ret = ())]
struct Crash;

impl Actor for Worker {
    async fn pre_start(&mut self, ctx: &mut ActorContext<Self>) -> HandlerResult {
        println!("  {} started", ctx.actor_name().unwrap_or("?"));
        Ok(())
    }

    async fn on_stopped(&mut self, ctx: &mut ActorContext<Self>, reason: &ExitReason) {
        println!("  {} stopped ({reason})", ctx.actor_name().unwrap_or("?"));
    }
}

impl Handler<Job> for Worker {
    async fn handle(&mut self, job: Job, _: &mut ActorContext<Self>) -> HandlerResult {
        self.done += job.0;
        Ok(())
    }
}

impl Handler<Done> for Worker {
    async fn handle(&mut self, _: Done, _: &mut ActorContext<Self>) -> HandlerResult<u32> {
        Ok(self.done)
    }
}

impl Handler<Crash> for Worker {
    async fn handle(&mut self, _: Crash, _: &mut ActorContext<Self>) -> HandlerResult<()> {
        Err("the disk is on fire".into())
    }
}

/// Supervises two workers it spawns when it starts.
struct MySupervisor;

impl Actor for MySupervisor {
    async fn pre_start(&mut self, ctx: &mut ActorContext<Self>) -> HandlerResult {
        ctx.spawn_child(Worker::default).named("worker-1").await?;
        ctx.spawn_child(Worker::default)
            .named("worker-2")
            .restart_type(RestartType::Transient)
            .await?;
        Ok(())
    }

    async fn on_stopped(&mut self, _: &mut ActorContext<Self>, reason: &ExitReason) {
        println!("  sup stopped ({reason})");
    }
}

/// Prints the next `n` things the supervisor reports (waiting at most 5 s
/// for each).
async fn follow(events: &mut mpsc::UnboundedReceiver<SupervisionEvent>, n: usize) {
    for _ in 0..n {
        let Ok(Some(event)) = tokio::time::timeout(Duration::from_secs(5), events.recv()).await
        else {
            println!("[sup] (nothing more)");
            return;
        };
        let line = match event {
            SupervisionEvent::Started {
                name,
                addr,
                restart,
                ..
            } => format!(
                "{} {name} at {addr}",
                if restart { "restarted" } else { "started" }
            ),
            SupervisionEvent::Exited { name, reason, .. } => format!("{name} exited: {reason}"),
            SupervisionEvent::Stopped { name, .. } => format!("stopped {name}"),
            SupervisionEvent::StartFailed { name, reason, .. } => {
                format!("could not start {name}: {reason}")
            }
            SupervisionEvent::BudgetExceeded { .. } => "restart budget exceeded: giving up".into(),
        };
        println!("[sup] {line}");
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let system = ActorSystem::create("supervision-example")?;
    let (observer, mut events) = mpsc::unbounded_channel();

    println!("Spawning the supervisor (one-for-all, at most 2 restarts in 10 s):");
    let sup = SupervisorConfig::one_for_all()
        .max_restarts(2, Duration::from_secs(10))
        .observe(observer);
    let handle = MySupervisor
        .spawn()
        .named("sup")
        .on_system(&system)
        .with_supervision(sup)
        .await?;
    follow(&mut events, 2).await;

    let worker = system
        .get::<Worker>("worker-1")
        .ok_or("worker-1 is missing")?;
    worker.notify(Job(40)).await?;
    println!("worker-1 has done {}", worker.send(Done).await?);

    println!("\nCrashing worker-1:");
    let err = worker.send(Crash).await.err();
    println!("the request failed: {err:?}");
    // The request fails before the supervisor has handled the exit: follow
    // it (exit, stop worker-2, restart both in start order).
    follow(&mut events, 4).await;
    for child in handle.children().await? {
        println!(
            "  child {}: {:?}, restarted {} time(s), alive: {}",
            child.name, child.restart_type, child.restarts, child.alive
        );
    }
    println!(
        "the handle taken before the crash reaches the new worker-1: done = {}",
        worker.send(Done).await?
    );

    println!("\nCrashing it twice more exceeds the budget:");
    let _ = worker.send(Crash).await;
    follow(&mut events, 4).await;
    let _ = worker.send(Crash).await;
    follow(&mut events, 3).await;
    let reason = tokio::time::timeout(Duration::from_secs(5), handle.wait_for_exit()).await?;
    println!("the supervisor exited: {reason}");

    let report = system.shutdown().await;
    println!(
        "\nShutdown: {} process(es) left to stop",
        report.actors.len()
    );
    Ok(())
}
