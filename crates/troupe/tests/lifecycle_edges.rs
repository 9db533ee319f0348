//! Lifecycle edges: a spawn that is cancelled or killed while `pre_start`
//! runs, a shutdown during a restart backoff, a kill while a request is
//! being handled.
//!
//! Every test runs on a paused clock; every wait is bounded.

use std::future::IntoFuture;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot, Notify};
use tokio::time::{timeout, Instant};
use troupe::prelude::*;
use troupe::{init, RequestError, RestartPolicy, SpawnError};

/// Far longer than anything here takes (the clock is paused: it only
/// advances when every task waits).
const BOUND: Duration = Duration::from_secs(30);

async fn bounded<F: IntoFuture>(what: &str, fut: F) -> F::Output {
    match timeout(BOUND, fut).await {
        Ok(v) => v,
        Err(_) => panic!("timed out waiting for {what}"),
    }
}

/// Sends on its channel when dropped.
struct DropSignal(Option<oneshot::Sender<()>>);

impl Drop for DropSignal {
    fn drop(&mut self) {
        if let Some(tx) = self.0.take() {
            let _ = tx.send(());
        }
    }
}

/// A child started by [`SlowStart`]'s `pre_start`.
struct Child;
impl Actor for Child {}

/// An actor whose `pre_start` (optionally) starts a supervised child,
/// reports that it runs, then waits for `proceed` (never notified unless
/// the test says so). Its `pre_start` future signals when it is dropped.
struct SlowStart {
    child: Option<&'static str>,
    entered: mpsc::UnboundedSender<()>,
    proceed: Arc<Notify>,
    dropped: Option<oneshot::Sender<()>>,
}

impl Actor for SlowStart {
    async fn pre_start(&mut self, ctx: &mut ActorContext<Self>) -> HandlerResult {
        let _signal = DropSignal(self.dropped.take());
        if let Some(name) = self.child {
            ctx.spawn_child(|| Child).named(name).await?;
        }
        let _ = self.entered.send(());
        self.proceed.notified().await;
        Ok(())
    }
}

struct Slow {
    actor: SlowStart,
    entered: mpsc::UnboundedReceiver<()>,
    proceed: Arc<Notify>,
    dropped: oneshot::Receiver<()>,
}

fn slow_start(child: Option<&'static str>) -> Slow {
    let (entered_tx, entered) = mpsc::unbounded_channel();
    let (dropped_tx, dropped) = oneshot::channel();
    let proceed = Arc::new(Notify::new());
    Slow {
        actor: SlowStart {
            child,
            entered: entered_tx,
            proceed: proceed.clone(),
            dropped: Some(dropped_tx),
        },
        entered,
        proceed,
        dropped,
    }
}

/// A system whose struct actors start inline: `pre_start` runs in the
/// spawner's task.
fn inline_system(name: &str) -> ActorSystem {
    ActorSystem::create(name).unwrap()
}

/// A system with a configured default runtime (a topology's): its struct
/// actors start in their own task, and the spawner waits for them.
fn tasked_system() -> ActorSystem {
    init::try_start(Topology::empty()).unwrap()
}

/// Once a cancelled or killed spawn returned, nothing of it is left: the
/// name is free, no process counts, a new spawn of that name works, and the
/// shutdown does not wait for anything.
async fn assert_nothing_left(system: &ActorSystem) {
    assert_eq!(system.whereis("c"), None, "the name is free");
    assert_eq!(system.whereis("c-child"), None, "the child is gone");
    assert_eq!(system.process_count(), 0, "no process is left");
    let again = bounded("a new spawn", Child.spawn().named("c").on_system(system))
        .await
        .expect("the name can be taken again");
    assert!(again.is_alive());
    let started = Instant::now();
    let report = bounded("the shutdown", system.shutdown()).await;
    assert!(report.all_stopped());
    assert_eq!(report.actors.len(), 1, "only the new actor was left");
    assert!(started.elapsed() < Duration::from_secs(1));
}

// ---- 1. a cancelled spawn leaves nothing behind ----

#[tokio::test(start_paused = true)]
async fn a_spawn_cancelled_during_an_inline_pre_start_leaves_nothing() {
    let system = inline_system("edges-cancel-inline");
    let mut slow = slow_start(Some("c-child"));
    let spawn = slow
        .actor
        .spawn()
        .named("c")
        .on_system(&system)
        .supervised();
    let spawner = tokio::spawn(spawn.into_future());
    bounded("pre_start", slow.entered.recv()).await.unwrap();
    let child = system.get::<Child>("c-child").expect("the child runs");
    assert_eq!(system.process_count(), 2);

    spawner.abort();
    assert!(bounded("the spawner", spawner)
        .await
        .unwrap_err()
        .is_cancelled());

    bounded("pre_start dropped", &mut slow.dropped)
        .await
        .unwrap();
    assert_eq!(
        bounded("the child's exit", child.wait_for_exit()).await,
        ExitReason::Killed
    );
    assert_nothing_left(&system).await;
}

#[tokio::test(start_paused = true)]
async fn a_spawn_timed_out_during_an_inline_pre_start_leaves_nothing() {
    let system = inline_system("edges-timeout-inline");
    let mut slow = slow_start(None);
    let spawn = slow.actor.spawn().named("c").on_system(&system);
    assert!(timeout(Duration::from_secs(1), spawn).await.is_err());
    bounded("pre_start dropped", &mut slow.dropped)
        .await
        .unwrap();
    assert_nothing_left(&system).await;
}

#[tokio::test(start_paused = true)]
async fn a_spawn_cancelled_while_its_actor_starts_in_its_task_kills_it() {
    let system = tasked_system();
    let mut slow = slow_start(Some("c-child"));
    let spawn = slow
        .actor
        .spawn()
        .named("c")
        .on_system(&system)
        .supervised();
    let spawner = tokio::spawn(spawn.into_future());
    bounded("pre_start", slow.entered.recv()).await.unwrap();
    let starting = system.get::<SlowStart>("c").expect("registered");
    let child = system.get::<Child>("c-child").expect("the child runs");

    spawner.abort();
    assert!(bounded("the spawner", spawner)
        .await
        .unwrap_err()
        .is_cancelled());

    assert_eq!(
        bounded("the starting actor's exit", starting.wait_for_exit()).await,
        ExitReason::Killed
    );
    bounded("pre_start dropped", &mut slow.dropped)
        .await
        .unwrap();
    assert_eq!(
        bounded("the child's exit", child.wait_for_exit()).await,
        ExitReason::Killed
    );
    assert_nothing_left(&system).await;
}

// ---- 2. a kill reaches pre_start ----

#[tokio::test(start_paused = true)]
async fn a_kill_during_an_inline_pre_start_ends_the_spawn_at_once() {
    let system = inline_system("edges-kill-inline");
    let mut slow = slow_start(Some("c-child"));
    let spawn = slow
        .actor
        .spawn()
        .named("c")
        .on_system(&system)
        .supervised();
    let spawner = tokio::spawn(spawn.into_future());
    bounded("pre_start", slow.entered.recv()).await.unwrap();
    let child = system.get::<Child>("c-child").expect("the child runs");

    bounded("the kill", system.kill("c")).await.unwrap();
    let spawned = bounded("the spawn", spawner).await.unwrap();
    assert_eq!(spawned.unwrap_err(), SpawnError::Killed);
    assert_eq!(
        SpawnError::Killed.to_string(),
        "the actor was killed while starting"
    );
    bounded("pre_start dropped", &mut slow.dropped)
        .await
        .unwrap();
    assert_eq!(
        bounded("the child's exit", child.wait_for_exit()).await,
        ExitReason::Killed
    );
    assert_nothing_left(&system).await;
}

#[tokio::test(start_paused = true)]
async fn a_kill_during_pre_start_in_its_task_ends_the_spawn_at_once() {
    let system = tasked_system();
    let mut slow = slow_start(Some("c-child"));
    let spawn = slow
        .actor
        .spawn()
        .named("c")
        .on_system(&system)
        .supervised();
    let spawner = tokio::spawn(spawn.into_future());
    bounded("pre_start", slow.entered.recv()).await.unwrap();
    let starting = system.get::<SlowStart>("c").expect("registered");
    let child = system.get::<Child>("c-child").expect("the child runs");

    bounded("the kill", starting.kill()).await.unwrap();
    let spawned = bounded("the spawn", spawner).await.unwrap();
    assert_eq!(spawned.unwrap_err(), SpawnError::Killed);
    bounded("pre_start dropped", &mut slow.dropped)
        .await
        .unwrap();
    assert_eq!(
        bounded("the child's exit", child.wait_for_exit()).await,
        ExitReason::Killed
    );
    assert_nothing_left(&system).await;
}

#[tokio::test(start_paused = true)]
async fn a_graceful_stop_during_pre_start_takes_effect_after_it() {
    let system = inline_system("edges-stop-inline");
    let mut slow = slow_start(None);
    let spawner = tokio::spawn(
        slow.actor
            .spawn()
            .named("c")
            .on_system(&system)
            .into_future(),
    );
    bounded("pre_start", slow.entered.recv()).await.unwrap();
    let starting = system.get::<SlowStart>("c").expect("registered");
    let stopper = tokio::spawn({
        let starting = starting.clone();
        async move { starting.stop(StopReason::Graceful).await }
    });
    tokio::task::yield_now().await;
    assert!(!stopper.is_finished(), "pre_start completes first");
    slow.proceed.notify_one();
    let spawned = bounded("the spawn", spawner).await.unwrap();
    assert!(spawned.is_ok(), "the start completed: {spawned:?}");
    bounded("the stop", stopper).await.unwrap().unwrap();
    assert_eq!(starting.exit_reason(), Some(ExitReason::Normal));
    assert_nothing_left(&system).await;
}

// ---- 3. a shutdown during a restart backoff ----

#[tokio::test(start_paused = true)]
async fn a_shutdown_does_not_wait_for_a_restart_backoff() {
    let runs = Arc::new(AtomicUsize::new(0));
    let (ran_tx, mut ran) = mpsc::unbounded_channel();
    let schema = ActorGroup::new()
        .restart_policy(
            RestartPolicy::on_failure()
                .with_backoff(Duration::from_secs(5), Duration::from_secs(5)),
        )
        .exec({
            let runs = runs.clone();
            move |_ctx| {
                runs.fetch_add(1, Ordering::SeqCst);
                let _ = ran_tx.send(());
                async move { Err::<(), _>("fails at once") }
            }
        });
    let topology = Topology::empty();
    topology.local("failing").mount(schema);
    let system = init::try_start(topology).unwrap();
    bounded("the first run", ran.recv()).await.unwrap();
    // On the paused clock, this runs everything that is ready (the exit,
    // the supervisor's decision to back off) before time moves on, and
    // stays far inside the 5 s backoff.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(runs.load(Ordering::SeqCst), 1, "still backing off");

    let started = Instant::now();
    let report = bounded("the shutdown", system.shutdown()).await;
    let elapsed = started.elapsed();
    assert!(
        elapsed < Duration::from_secs(1),
        "the shutdown took {elapsed:?}"
    );
    assert!(report.all_stopped(), "{report:?}");
    // Past the backoff: nothing restarts.
    tokio::time::sleep(Duration::from_secs(10)).await;
    assert_eq!(runs.load(Ordering::SeqCst), 1, "exec ran exactly once");
}

// ---- 4. a kill while a request is handled answers Gone ----

#[message(ret = u32)]
struct Hang;

struct Hanger {
    entered: mpsc::UnboundedSender<()>,
}

impl Actor for Hanger {}

impl Handler<Hang> for Hanger {
    async fn handle(&mut self, _: Hang, _: &mut ActorContext<Self>) -> HandlerResult<u32> {
        let _ = self.entered.send(());
        std::future::pending().await
    }
}

#[tokio::test(start_paused = true)]
async fn a_request_pending_when_its_actor_is_killed_resolves_gone() {
    let system = inline_system("edges-kill-request");
    let (entered_tx, mut entered) = mpsc::unbounded_channel();
    let h = Hanger {
        entered: entered_tx,
    }
    .spawn()
    .on_system(&system)
    .await
    .unwrap();
    let request = tokio::spawn({
        let h = h.clone();
        async move { h.send(Hang).await }
    });
    bounded("the handler", entered.recv()).await.unwrap();
    bounded("the kill", h.kill()).await.unwrap();
    let answer = bounded("the answer", request).await.unwrap();
    assert_eq!(answer, Err(RequestError::gone_with(ExitReason::Killed)));
    assert_eq!(h.exit_reason(), Some(ExitReason::Killed));
    bounded("the shutdown", system.shutdown()).await;
}
