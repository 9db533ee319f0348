//! Saluki's basic supervisor: a tree of plain processes (no mailboxes) and
//! nested supervisors. Failed workers are restarted by their supervisor; a
//! supervisor that exceeds its restart budget is restarted by its parent.
//! The example runs for two seconds, then shuts the system down (children
//! stop in reverse start order) and exits.
//!
//! `cargo run --example basic_supervisor`

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use troupe::prelude::*;
use troupe::supervision::{
    process_fn, ChildSpec, ProcessShutdown, RestartType, Supervisable, SupervisionEvent,
    Supervisor, SupervisorConfig, SupervisorFuture,
};
use troupe::BoxError;

/// A deterministic pseudo-random number (a shared linear congruential
/// generator), so that every run of the example is the same.
fn roll(seed: &AtomicU64, below: u64) -> u64 {
    let next = seed
        .load(Ordering::Relaxed)
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    seed.store(next, Ordering::Relaxed);
    (next >> 33) % below
}

/// A worker that ticks and sometimes fails.
struct Flaky {
    name: String,
    period: Duration,
    seed: Arc<AtomicU64>,
}

impl Supervisable for Flaky {
    fn name(&self) -> &str {
        &self.name
    }

    fn initialize(&self, mut shutdown: ProcessShutdown) -> Result<SupervisorFuture, BoxError> {
        // Fails after 2 to 6 ticks.
        let lifetime = 2 + roll(&self.seed, 5);
        let period = self.period;
        Ok(Box::pin(async move {
            let me = format!("{} ({})", shutdown.process_name(), shutdown.process_id());
            for tick in 1..=lifetime {
                tokio::select! {
                    _ = shutdown.wait_for_shutdown() => {
                        println!("    {me}: asked to stop after {tick} tick(s)");
                        return Ok(());
                    }
                    _ = tokio::time::sleep(period) => {}
                }
            }
            Err(format!("{me} failed after {lifetime} ticks").into())
        }))
    }
}

/// A worker that waits for its shutdown.
fn steady(name: &str) -> impl Supervisable {
    process_fn(name, |mut shutdown| async move {
        shutdown.wait_for_shutdown().await;
        println!("    {}: stopping", shutdown.process_name());
        Ok(())
    })
}

/// A worker whose first two runs fail at once.
fn doomed(runs: Arc<AtomicU32>) -> impl Supervisable {
    process_fn("doomed", move |mut shutdown| {
        let run = runs.fetch_add(1, Ordering::Relaxed) + 1;
        async move {
            if run <= 2 {
                return Err(format!("run {run} failed").into());
            }
            shutdown.wait_for_shutdown().await;
            Ok(())
        }
    })
}

fn describe(event: SupervisionEvent) -> String {
    match event {
        SupervisionEvent::Started {
            supervisor,
            name,
            addr,
            restart,
            ..
        } => {
            let verb = if restart { "restarted" } else { "started" };
            format!("[{supervisor}] {verb} {name} as {addr}")
        }
        SupervisionEvent::Exited {
            supervisor,
            name,
            reason,
            ..
        } => format!("[{supervisor}] {name} exited: {reason}"),
        SupervisionEvent::Stopped {
            supervisor, name, ..
        } => format!("[{supervisor}] stopped {name}"),
        SupervisionEvent::StartFailed {
            supervisor,
            name,
            reason,
            ..
        } => format!("[{supervisor}] could not start {name}: {reason}"),
        SupervisionEvent::BudgetExceeded { supervisor } => {
            format!("[{supervisor}] restart budget exceeded: giving up")
        }
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let system = ActorSystem::create("basic-supervisor")?;
    let (observer, mut events) = mpsc::unbounded_channel();
    let printer = tokio::spawn(async move {
        while let Some(event) = events.recv().await {
            println!("{}", describe(event));
        }
    });
    let seed = Arc::new(AtomicU64::new(42));
    let one_for_one = |max: usize| {
        SupervisorConfig::one_for_one()
            .max_restarts(max, Duration::from_secs(5))
            .observe(observer.clone())
    };

    // io: reader and writer depend on each other, so one-for-all.
    let io = Supervisor::new("io")
        .with_config(
            SupervisorConfig::one_for_all()
                .max_restarts(10, Duration::from_secs(5))
                .observe(observer.clone()),
        )
        .with_worker(steady("reader"))
        .with_worker(Flaky {
            name: "writer".into(),
            period: Duration::from_millis(150),
            seed: seed.clone(),
        });

    // fragile: gives up at its worker's second failure; root restarts it.
    let fragile = Supervisor::new("fragile")
        .with_config(one_for_one(1))
        .with_worker(doomed(Arc::default()));

    let root = Supervisor::new("root")
        .with_config(one_for_one(10))
        .with_worker(steady("clock"))
        .with_worker(Flaky {
            name: "flaky".into(),
            period: Duration::from_millis(100),
            seed,
        })
        .with_worker(io)
        .with_worker(ChildSpec::supervisor(fragile).restart(RestartType::Transient));
    // The supervisors hold the only observers left: the printer ends with them.
    drop(observer);

    let root = root.spawn(&system).await?;
    println!("The tree runs ({} processes).", system.process_count());
    tokio::time::sleep(Duration::from_secs(2)).await;

    println!("\nChildren of root:");
    for child in root.children().await? {
        println!(
            "  {:<8} restarts: {}  alive: {}  supervisor: {}",
            child.name, child.restarts, child.alive, child.is_supervisor
        );
    }

    println!("\nShutting the system down:");
    let report = system.shutdown().await;
    tokio::time::timeout(Duration::from_secs(5), printer).await??;
    println!(
        "{} processes stopped, all within the grace period: {}",
        report.actors.len(),
        report.all_stopped()
    );
    Ok(())
}
