//! A teardown nothing can derail, and "not alive" means released.
//!
//! A panic while dropping a queued message (at a graceful stop, a kill, a
//! failure), while dropping dead letters, or in the actor's own `Drop`
//! does not stop the exit from being published: waiters wake, the name is
//! unregistered, the supervisor and monitors are told, the exit reason
//! stays. The exit is published after the actor's state is dropped, with
//! a bound for a `Drop` that blocks.

mod supervision_common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc as std_mpsc, Arc};
use std::time::Duration;

use supervision_common::{system, take, BOUND};
use tokio::sync::{mpsc, Semaphore};
use tokio::time::timeout;
use troupe::prelude::*;
use troupe::supervision::{ChildSpec, RestartType, Supervisor, SupervisorConfig};
use troupe::RequestError;

/// A message whose `Drop` panics.
#[message]
struct Bomb;

impl Drop for Bomb {
    fn drop(&mut self) {
        panic!("a bomb went off while dropped");
    }
}

/// A request whose handler waits at the gate, then fails if asked to.
#[message(ret = ())]
struct Hold {
    fail: bool,
}

/// An actor that waits at a gate in `Hold`, so that what is sent meanwhile
/// stays queued.
struct Gated {
    entered: mpsc::UnboundedSender<()>,
    gate: Arc<Semaphore>,
}

impl Actor for Gated {}

impl Handler<Hold> for Gated {
    async fn handle(&mut self, msg: Hold, _: &mut ActorContext<Self>) -> HandlerResult<()> {
        let _ = self.entered.send(());
        let _permit = self.gate.acquire().await;
        if msg.fail {
            return Err("failed on purpose".into());
        }
        Ok(())
    }
}

impl Handler<Bomb> for Gated {
    async fn handle(&mut self, _: Bomb, _: &mut ActorContext<Self>) -> HandlerResult {
        Ok(())
    }
}

#[derive(Clone, Copy, Debug)]
enum End {
    Graceful,
    Kill,
    Failure,
}

/// A supervised, temporary `Gated` child named `w` with two bombs queued
/// behind a held request, ended by `end`: the exit is published (waiters,
/// name, monitor, supervisor event) with the reason of `end`.
async fn bombs_queued_at(end: End) {
    let sys = system(&format!("bombs-{end:?}").to_lowercase());
    let (etx, mut entered) = mpsc::unbounded_channel();
    let gate = Arc::new(Semaphore::new(0));
    let (tx, mut ev) = mpsc::unbounded_channel();
    let factory = {
        let gate = gate.clone();
        move || Gated {
            entered: etx.clone(),
            gate: gate.clone(),
        }
    };
    let sup = Supervisor::new("root")
        .with_config(SupervisorConfig::one_for_one().observe(tx))
        .with_worker(ChildSpec::actor("w", factory).restart(RestartType::Temporary))
        .spawn(&sys)
        .await
        .unwrap();
    assert_eq!(take(&mut ev, 1).await, ["start w"]);
    let w = sys.get::<Gated>("w").expect("registered");
    let down = sys.monitor(w.addr());
    let held = tokio::spawn({
        let w = w.clone();
        async move {
            w.send(Hold {
                fail: matches!(end, End::Failure),
            })
            .await
        }
    });
    timeout(BOUND, entered.recv()).await.unwrap().unwrap();
    w.try_notify(Bomb).map_err(|_| "queued").unwrap();
    w.try_notify(Bomb).map_err(|_| "queued").unwrap();
    assert_eq!(w.mailbox_len(), 2);
    let expected = match end {
        End::Graceful => {
            let stop = tokio::spawn({
                let w = w.clone();
                async move { w.stop(StopReason::Graceful).await }
            });
            gate.add_permits(1);
            timeout(BOUND, stop).await.unwrap().unwrap().unwrap();
            ExitReason::Normal
        }
        End::Kill => {
            timeout(BOUND, w.kill()).await.unwrap().unwrap();
            ExitReason::Killed
        }
        End::Failure => {
            gate.add_permits(1);
            let reason = timeout(BOUND, w.wait_for_exit()).await.unwrap();
            assert!(matches!(reason, ExitReason::Failed(_)), "{reason}");
            reason
        }
    };
    assert_eq!(
        timeout(BOUND, w.wait_for_exit()).await.unwrap(),
        expected,
        "the exit reason stays"
    );
    let reason = expected.to_string();
    assert_eq!(take(&mut ev, 1).await, [format!("exit w {reason}")]);
    let down = timeout(BOUND, down).await.expect("the monitor is told");
    assert_eq!(down.reason, expected);
    assert!(!w.is_alive());
    assert!(sys.get::<Gated>("w").is_none(), "unregistered");
    assert!(sys.whereis("w").is_none());
    if matches!(end, End::Kill) {
        // The request its handler was killed in says so.
        let answer = timeout(BOUND, held).await.unwrap().unwrap();
        assert_eq!(answer, Err(RequestError::gone_with(ExitReason::Killed)));
    } else {
        let _ = timeout(BOUND, held).await.unwrap().unwrap();
    }
    // The supervisor, which dropped the bombs as dead letters, goes on.
    assert!(sup.is_alive());
    assert!(timeout(BOUND, sup.children())
        .await
        .unwrap()
        .unwrap()
        .is_empty());
    timeout(BOUND, sup.shutdown()).await.unwrap().unwrap();
}

#[tokio::test]
async fn a_message_whose_drop_panics_queued_at_a_graceful_stop() {
    bombs_queued_at(End::Graceful).await;
}

#[tokio::test]
async fn a_message_whose_drop_panics_queued_at_a_kill() {
    bombs_queued_at(End::Kill).await;
}

#[tokio::test]
async fn a_message_whose_drop_panics_queued_at_a_failure() {
    bombs_queued_at(End::Failure).await;
}

#[tokio::test]
async fn bombs_in_the_mailbox_of_an_unsupervised_actor_become_dead_letters_quietly() {
    let sys = system("bombs-root");
    let (etx, mut entered) = mpsc::unbounded_channel();
    let gate = Arc::new(Semaphore::new(0));
    let w = Gated {
        entered: etx,
        gate: gate.clone(),
    }
    .spawn()
    .named("w")
    .on_system(&sys)
    .await
    .unwrap();
    let mut dead = sys.dead_letters();
    let held = tokio::spawn({
        let w = w.clone();
        async move { w.send(Hold { fail: false }).await }
    });
    timeout(BOUND, entered.recv()).await.unwrap().unwrap();
    w.try_notify(Bomb).map_err(|_| "queued").unwrap();
    timeout(BOUND, w.kill()).await.unwrap().unwrap();
    assert_eq!(
        timeout(BOUND, w.wait_for_exit()).await.unwrap(),
        ExitReason::Killed
    );
    let letter = timeout(BOUND, dead.recv()).await.unwrap().unwrap();
    assert!(letter.message.ends_with("Bomb"), "{}", letter.message);
    assert!(sys.whereis("w").is_none());
    assert!(timeout(BOUND, held).await.unwrap().unwrap().is_err());
    timeout(BOUND, sys.shutdown()).await.unwrap();
}

/// An actor whose own `Drop` panics.
struct Fragile;

impl Actor for Fragile {}

impl Drop for Fragile {
    fn drop(&mut self) {
        panic!("Fragile panicked in its Drop");
    }
}

async fn fragile_ends(kill: bool) {
    let sys = system(if kill { "fragile-kill" } else { "fragile-stop" });
    let (tx, mut ev) = mpsc::unbounded_channel();
    let sup = Supervisor::new("root")
        .with_config(SupervisorConfig::one_for_one().observe(tx))
        .with_worker(ChildSpec::actor("f", || Fragile).restart(RestartType::Transient))
        .spawn(&sys)
        .await
        .unwrap();
    assert_eq!(take(&mut ev, 1).await, ["start f"]);
    let f = sys.get::<Fragile>("f").expect("registered");
    let down = sys.monitor(f.addr());
    let expected = if kill {
        timeout(BOUND, f.kill()).await.unwrap().unwrap();
        ExitReason::Killed
    } else {
        timeout(BOUND, f.stop(StopReason::Graceful))
            .await
            .unwrap()
            .unwrap();
        ExitReason::Normal
    };
    // (After a kill the handle reaches the restarted incarnation: the
    // monitor of the first one tells how it ended.)
    assert_eq!(timeout(BOUND, down).await.unwrap().reason, expected);
    let reason = expected.to_string();
    if kill {
        // Killed is abnormal: the transient child is restarted.
        assert_eq!(
            take(&mut ev, 2).await,
            [format!("exit f {reason}"), "restart f".into()]
        );
    } else {
        assert_eq!(take(&mut ev, 1).await, [format!("exit f {reason}")]);
        assert!(sys.whereis("f").is_none());
    }
    timeout(BOUND, sup.shutdown()).await.unwrap().unwrap();
}

#[tokio::test]
async fn an_actor_whose_drop_panics_still_exits_after_a_stop() {
    fragile_ends(false).await;
}

#[tokio::test]
async fn an_actor_whose_drop_panics_still_exits_after_a_kill() {
    fragile_ends(true).await;
}

/// An actor whose `Drop` tells it started, then blocks until released.
struct Sticky {
    dropping: std_mpsc::Sender<()>,
    release: Option<std_mpsc::Receiver<()>>,
    released: Arc<AtomicBool>,
}

impl Actor for Sticky {}

impl Drop for Sticky {
    fn drop(&mut self) {
        let _ = self.dropping.send(());
        if let Some(release) = self.release.take() {
            let _ = release.recv_timeout(Duration::from_secs(30));
        }
        self.released.store(true, Ordering::SeqCst);
    }
}

fn sticky() -> (
    Sticky,
    std_mpsc::Receiver<()>,
    std_mpsc::Sender<()>,
    Arc<AtomicBool>,
) {
    let (dtx, drx) = std_mpsc::channel();
    let (rtx, rrx) = std_mpsc::channel();
    let released = Arc::new(AtomicBool::new(false));
    let actor = Sticky {
        dropping: dtx,
        release: Some(rrx),
        released: released.clone(),
    };
    (actor, drx, rtx, released)
}

/// Waits (off the runtime) for the `Drop` to start.
async fn dropping_started(rx: std_mpsc::Receiver<()>) {
    tokio::task::spawn_blocking(move || rx.recv_timeout(Duration::from_secs(30)))
        .await
        .unwrap()
        .expect("the drop started");
}

async fn released_before_published(kill: bool) {
    let sys = system("released");
    let (actor, dropping, release, released) = sticky();
    let h = actor.spawn().on_system(&sys).await.unwrap();
    let stop = tokio::spawn({
        let h = h.clone();
        async move {
            if kill {
                h.kill().await
            } else {
                h.stop(StopReason::Shutdown).await
            }
        }
    });
    dropping_started(dropping).await;
    // Its state is being dropped: it is not released, so still alive.
    assert!(h.is_alive(), "published before its state was dropped");
    assert_eq!(h.exit_reason(), None);
    release.send(()).unwrap();
    timeout(BOUND, stop).await.unwrap().unwrap().unwrap();
    assert!(!h.is_alive());
    assert!(released.load(Ordering::SeqCst), "not alive means released");
    timeout(BOUND, sys.shutdown()).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn not_alive_means_released_after_a_stop() {
    released_before_published(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn not_alive_means_released_after_a_kill() {
    released_before_published(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drop_that_blocks_has_the_exit_published_after_the_bound() {
    let sys = system("release-bound");
    let (actor, dropping, release, released) = sticky();
    let h = actor.spawn().on_system(&sys).await.unwrap();
    let down = sys.monitor(h.addr());
    let stop = tokio::spawn({
        let h = h.clone();
        async move { h.stop(StopReason::Shutdown).await }
    });
    dropping_started(dropping).await;
    let started = std::time::Instant::now();
    // Published past the bound while the drop still blocks.
    let reason = timeout(BOUND, h.wait_for_exit()).await.unwrap();
    assert_eq!(reason, ExitReason::Shutdown);
    assert!(started.elapsed() >= troupe::defaults::RELEASE_WAIT / 2);
    assert_eq!(
        timeout(BOUND, down).await.unwrap().reason,
        ExitReason::Shutdown
    );
    assert!(
        !released.load(Ordering::SeqCst),
        "still blocked in its Drop"
    );
    // (What the blocked runtime thread woke may wait for it: the stopper
    // is awaited once the drop is released.)
    release.send(()).unwrap();
    timeout(BOUND, stop).await.unwrap().unwrap().unwrap();
    timeout(BOUND, sys.shutdown()).await.unwrap();
}

/// A `Sticky` whose `pre_start` fails (it holds one, dropped with it).
struct StickyStart(#[allow(dead_code)] Sticky);

impl Actor for StickyStart {
    async fn pre_start(&mut self, _: &mut ActorContext<Self>) -> HandlerResult {
        Err("cannot start".into())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_start_is_published_once_the_actor_is_released() {
    let sys = system("released-start");
    let (actor, dropping, release, released) = sticky();
    let spawn = tokio::spawn({
        let sys = sys.clone();
        async move {
            StickyStart(actor)
                .spawn()
                .named("sticky")
                .on_system(&sys)
                .await
                .map(|_| ())
        }
    });
    dropping_started(dropping).await;
    assert!(
        sys.whereis("sticky").is_some(),
        "published before the actor was released"
    );
    release.send(()).unwrap();
    let res = timeout(BOUND, spawn).await.unwrap().unwrap();
    assert!(matches!(res, Err(SpawnError::StartFailed(_))), "{res:?}");
    assert!(released.load(Ordering::SeqCst));
    assert!(sys.whereis("sticky").is_none());
    timeout(BOUND, sys.shutdown()).await.unwrap();
}
