//! The system's shutdown: roots stop one at a time in reverse start order,
//! a root past its own grace period is killed while the others stop
//! gracefully, and a shutdown whose future is dropped still runs to its
//! end. On paused Tokio time, so the instants are exact.

use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;
use troupe::prelude::*;
use troupe::SystemConfig;

const MS: Duration = Duration::from_millis(1);

/// Reports its stop (at `on_stopped`); takes `linger` to stop.
struct Root {
    label: &'static str,
    linger: Duration,
    stopped: mpsc::UnboundedSender<&'static str>,
}

impl Actor for Root {
    async fn on_stopped(&mut self, _: &mut ActorContext<Self>, _: &ExitReason) {
        tokio::time::sleep(self.linger).await;
        let _ = self.stopped.send(self.label);
    }
}

/// Its handler never returns: only a kill ends it.
#[message]
struct Hang;

impl Handler<Hang> for Root {
    async fn handle(&mut self, _: Hang, _: &mut ActorContext<Self>) -> HandlerResult {
        std::future::pending::<()>().await;
        Ok(())
    }
}

fn system(name: &str, per_root: Option<Duration>) -> ActorSystem {
    let config = SystemConfig {
        shutdown_timeout: Duration::from_secs(10),
        actor_shutdown_timeout: per_root,
        ..SystemConfig::default()
    };
    ActorSystem::create_with(name, config).expect("a system")
}

async fn root(
    system: &ActorSystem,
    label: &'static str,
    linger: Duration,
    stopped: &mpsc::UnboundedSender<&'static str>,
) -> ActorRef<Root> {
    Root {
        label,
        linger,
        stopped: stopped.clone(),
    }
    .spawn()
    .on_system(system)
    .await
    .expect("spawned")
}

#[tokio::test(start_paused = true)]
async fn roots_stop_one_at_a_time_newest_first() {
    // The order must never depend on who finishes first: B lingers longer
    // than A, and still stops (and finishes) before A is asked.
    for round in 0..50 {
        let system = system(&format!("order-{round}"), None);
        let (tx, mut stopped) = mpsc::unbounded_channel();
        let a = root(&system, "A", 1 * MS, &tx).await;
        let b = root(&system, "B", 5 * MS, &tx).await;
        let report = system.shutdown().await;
        assert!(report.all_stopped(), "{report:?}");
        assert_eq!(stopped.recv().await, Some("B"));
        assert_eq!(stopped.recv().await, Some("A"));
        assert_eq!(a.exit_reason(), Some(ExitReason::Shutdown));
        assert_eq!(b.exit_reason(), Some(ExitReason::Shutdown));
    }
}

#[tokio::test(start_paused = true)]
async fn a_root_past_its_own_grace_period_is_killed_and_the_others_stop_gracefully() {
    let system = system("per-root", Some(100 * MS));
    let (tx, mut stopped) = mpsc::unbounded_channel();
    let first = root(&system, "first", MS, &tx).await;
    let stuck = root(&system, "stuck", MS, &tx).await;
    let last = root(&system, "last", MS, &tx).await;
    stuck.notify(Hang).await.unwrap();
    let t0 = Instant::now();
    let report = system.shutdown().await;
    assert_eq!(stopped.recv().await, Some("last"));
    assert_eq!(
        stopped.recv().await,
        Some("first"),
        "stuck never got to on_stopped"
    );
    assert_eq!(stuck.exit_reason(), Some(ExitReason::Killed));
    assert_eq!(first.exit_reason(), Some(ExitReason::Shutdown));
    assert_eq!(last.exit_reason(), Some(ExitReason::Shutdown));
    let killed: Vec<Addr> = report.escalated().map(|a| a.addr).collect();
    assert_eq!(killed, vec![stuck.addr()]);
    // Its own 100 ms, not the overall 10 s.
    assert!(t0.elapsed() < Duration::from_secs(1), "{:?}", t0.elapsed());
}

#[tokio::test(start_paused = true)]
async fn a_shutdown_whose_future_is_dropped_still_kills_a_stuck_actor_at_its_deadline() {
    let system = system("dropped", None);
    let (tx, _stopped) = mpsc::unbounded_channel();
    let stuck = root(&system, "stuck", MS, &tx).await;
    stuck.notify(Hang).await.unwrap();
    let t0 = Instant::now();
    // The caller gives up long before the 2 s deadline.
    let gave_up = tokio::time::timeout(10 * MS, system.shutdown_with(Duration::from_secs(2))).await;
    assert!(gave_up.is_err());
    assert_eq!(stuck.wait_for_exit().await, ExitReason::Killed);
    assert_eq!(t0.elapsed(), Duration::from_secs(2));
}
