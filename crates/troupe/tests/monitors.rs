//! Monitors: one `Down` per monitor, for every way a process can exit and
//! for a process already gone; none after `demonitor`; delivered to a
//! struct actor, a functional actor and a plain future; never lost to a
//! full mailbox, and after what the watched process sent before it exited.
//!
//! Every test runs on paused time, and every wait is bounded.

mod signals_common;

use signals_common::*;
use tokio::sync::mpsc;
use troupe::prelude::*;
use troupe::supervision::{process_fn, ChildSpec, RestartType, Supervisor};
use troupe::OverflowPolicy;

async fn watcher_and_target(
    system: &ActorSystem,
) -> (
    ActorRef<Watcher>,
    mpsc::UnboundedReceiver<Seen>,
    ActorRef<Target>,
) {
    let (watcher, seen, _) = Watcher::new(false);
    let watcher = watcher.spawn().on_system(system).await.unwrap();
    let target = Target::default().spawn().on_system(system).await.unwrap();
    (watcher, seen, target)
}

/// Expects exactly one `Down`, of `monitor` for `target`, and returns its
/// reason.
async fn one_down(
    seen: &mut mpsc::UnboundedReceiver<Seen>,
    monitor: MonitorRef,
    target: Addr,
) -> ExitReason {
    let Seen::Down(down) = next(seen).await else {
        panic!("expected a Down");
    };
    assert_eq!((down.monitor, down.addr), (monitor, target));
    quiet(seen).await;
    down.reason
}

#[tokio::test(start_paused = true)]
async fn a_down_comes_once_for_a_normal_exit() {
    let system = system("mon-normal");
    let (watcher, mut seen, target) = watcher_and_target(&system).await;
    let monitor = watcher.send(Watch(target.addr())).await.unwrap();
    target.notify(Quit).await.unwrap();
    let reason = one_down(&mut seen, monitor, target.addr()).await;
    assert_eq!(reason, ExitReason::Normal);
    system.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_down_comes_once_for_a_failed_exit() {
    let system = system("mon-failed");
    let (watcher, mut seen, target) = watcher_and_target(&system).await;
    let monitor = watcher.send(Watch(target.addr())).await.unwrap();
    assert!(target.send(Crash).await.is_err());
    let reason = one_down(&mut seen, monitor, target.addr()).await;
    assert!(
        matches!(reason, ExitReason::Failed(ref e) if e.contains("boom")),
        "{reason:?}"
    );
    system.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_down_comes_once_for_a_killed_process() {
    let system = system("mon-killed");
    let (watcher, mut seen, target) = watcher_and_target(&system).await;
    let monitor = watcher.send(Watch(target.addr())).await.unwrap();
    target.kill().await.unwrap();
    let reason = one_down(&mut seen, monitor, target.addr()).await;
    assert_eq!(reason, ExitReason::Killed);
    system.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_down_comes_at_once_with_noproc_for_a_process_already_gone() {
    let system = system("mon-noproc");
    let (watcher, mut seen, target) = watcher_and_target(&system).await;
    target.stop(StopReason::Graceful).await.unwrap();
    let monitor = watcher.send(Watch(target.addr())).await.unwrap();
    let reason = one_down(&mut seen, monitor, target.addr()).await;
    assert_eq!(reason, ExitReason::NoProc);
    // An address that never was a process: the same.
    let nobody = Addr::new(system.node(), u64::MAX >> 16);
    let monitor = watcher.send(Watch(nobody)).await.unwrap();
    assert_eq!(
        one_down(&mut seen, monitor, nobody).await,
        ExitReason::NoProc
    );
    system.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn each_monitor_gets_its_own_down() {
    let system = system("mon-twice");
    let (watcher, mut seen, target) = watcher_and_target(&system).await;
    let first = watcher.send(Watch(target.addr())).await.unwrap();
    let second = watcher.send(Watch(target.addr())).await.unwrap();
    assert_ne!(first, second);
    target.kill().await.unwrap();
    let mut monitors = Vec::new();
    for _ in 0..2 {
        let Seen::Down(down) = next(&mut seen).await else {
            panic!("expected a Down");
        };
        monitors.push(down.monitor);
    }
    monitors.sort();
    assert_eq!(monitors, vec![first, second]);
    quiet(&mut seen).await;
    system.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn no_down_comes_after_demonitor() {
    let system = system("mon-demonitor");
    let (watcher, mut seen, target) = watcher_and_target(&system).await;
    let monitor = watcher.send(Watch(target.addr())).await.unwrap();
    assert!(watcher.send(Unwatch(monitor)).await.unwrap());
    assert!(
        !watcher.send(Unwatch(monitor)).await.unwrap(),
        "cancelled once"
    );
    target.kill().await.unwrap();
    quiet(&mut seen).await;
    assert!(watcher.is_alive());
    system.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_down_already_queued_is_dropped_by_demonitor() {
    let system = system("mon-race");
    let (watcher, mut seen, target) = watcher_and_target(&system).await;
    let monitor = watcher.send(Watch(target.addr())).await.unwrap();
    // The watcher's handler waits for the exit, so that the `Down` is
    // queued behind it when it cancels the monitor.
    let unwatch = watcher.send(UnwatchAfterExit(monitor, target.clone()));
    let kill = async {
        tokio::task::yield_now().await;
        target.kill().await.unwrap();
    };
    let (active, ()) = tokio::join!(unwatch, kill);
    assert!(active.unwrap(), "the monitor was active when cancelled");
    quiet(&mut seen).await;
    system.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_down_is_not_lost_when_the_watchers_mailbox_is_full() {
    let system = system("mon-full");
    let (watcher, mut seen, gate) = Watcher::new(false);
    let watcher = watcher
        .spawn()
        .with_config(
            ActorConfig::default()
                .with_mailbox_capacity(1)
                .with_overflow(OverflowPolicy::DropOldest),
        )
        .on_system(&system)
        .await
        .unwrap();
    let target = Target::default().spawn().on_system(&system).await.unwrap();
    let monitor = watcher.send(Watch(target.addr())).await.unwrap();
    // The watcher is stuck in a handler with a full mailbox.
    watcher.notify(Hold).await.unwrap();
    while watcher.mailbox_len() > 0 {
        tokio::task::yield_now().await;
    }
    watcher.notify(Note(1)).await.unwrap();
    target.kill().await.unwrap();
    // Drop-oldest evicts messages to make room, never the `Down`.
    watcher.notify(Note(2)).await.unwrap();
    watcher.notify(Note(3)).await.unwrap();
    assert!(watcher.mailbox_dropped() >= 1);
    gate.add_permits(1);
    let mut got = Vec::new();
    for _ in 0..2 {
        got.push(next(&mut seen).await);
    }
    let Seen::Down(down) = &got[0] else {
        panic!("expected the Down first, got {:?}", got[0]);
    };
    assert_eq!((down.monitor, &down.reason), (monitor, &ExitReason::Killed));
    assert_eq!(got[1], Seen::Note(3));
    quiet(&mut seen).await;
    system.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_down_comes_after_what_the_watched_process_sent_before_it_exited() {
    let system = system("mon-order");
    let (watcher, mut seen, gate) = Watcher::new(false);
    let watcher = watcher.spawn().on_system(&system).await.unwrap();
    let target = Target::default().spawn().on_system(&system).await.unwrap();
    let monitor = watcher.send(Watch(target.addr())).await.unwrap();
    watcher.notify(Hold).await.unwrap();
    target
        .notify(NotesThenQuit(watcher.clone(), 3))
        .await
        .unwrap();
    target.wait_for_exit().await;
    gate.add_permits(1);
    for i in 0..3 {
        assert_eq!(next(&mut seen).await, Seen::Note(i));
    }
    let reason = one_down(&mut seen, monitor, target.addr()).await;
    assert_eq!(reason, ExitReason::Normal);
    system.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_functional_actor_receives_its_down_through_recv() {
    let (system, group, mut seen, _) = start_functional("mon-fn-watcher", false).await;
    let target = Target::default().spawn().on_system(&system).await.unwrap();
    let monitor = group.send(Watch(target.addr())).await.unwrap();
    assert!(target.send(Crash).await.is_err());
    let reason = one_down(&mut seen, monitor, target.addr()).await;
    assert!(matches!(reason, ExitReason::Failed(_)), "{reason:?}");
    // Already gone: at once, with noproc.
    let monitor = group.send(Watch(target.addr())).await.unwrap();
    assert_eq!(
        one_down(&mut seen, monitor, target.addr()).await,
        ExitReason::NoProc
    );
    system.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_functional_actor_gets_no_down_after_demonitor() {
    let (system, group, mut seen, _) = start_functional("mon-fn-demonitor", false).await;
    let target = Target::default().spawn().on_system(&system).await.unwrap();
    let monitor = group.send(Watch(target.addr())).await.unwrap();
    let unwatch = group.send(UnwatchAfterExit(monitor, target.clone()));
    let kill = async {
        tokio::task::yield_now().await;
        target.kill().await.unwrap();
    };
    let (active, ()) = tokio::join!(unwatch, kill);
    assert!(active.unwrap());
    quiet(&mut seen).await;
    system.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_plain_future_resolves_to_the_down() {
    let system = system("mon-future");
    let target = Target::default().spawn().on_system(&system).await.unwrap();
    let monitor = system.monitor(target.addr());
    assert_eq!(monitor.addr(), target.addr());
    let expected = monitor.monitor_ref();
    target
        .notify(QuitWith(ExitReason::custom("done")))
        .await
        .unwrap();
    let down = tokio::time::timeout(BOUND, monitor).await.unwrap();
    assert_eq!(down.monitor, expected);
    assert_eq!(down.reason, ExitReason::custom("done"));
    // Gone: at once.
    let down = tokio::time::timeout(BOUND, system.monitor(target.addr()))
        .await
        .unwrap();
    assert_eq!(down.reason, ExitReason::NoProc);
    // A dropped monitor is cancelled: the exit tells nobody.
    let other = Target::default().spawn().on_system(&system).await.unwrap();
    drop(system.monitor(other.addr()));
    other.kill().await.unwrap();
    system.shutdown().await;
}

/// A functional actor and a plain supervised process can be watched too,
/// and a plain process watches with the future.
#[tokio::test(start_paused = true)]
async fn every_kind_of_process_can_be_watched() {
    let (system, group, _, functional) = start_functional("mon-kinds", false).await;
    let (watcher, mut seen, _) = Watcher::new(false);
    let watcher = watcher.spawn().on_system(&system).await.unwrap();

    // A functional actor stopped with a reason of its own.
    let monitor = watcher.send(Watch(functional)).await.unwrap();
    group
        .notify(QuitWith(ExitReason::custom("retired")))
        .await
        .unwrap();
    assert_eq!(
        one_down(&mut seen, monitor, functional).await,
        ExitReason::custom("retired")
    );

    // A plain process that watches a struct actor with the future, then
    // returns its reason as its own error.
    let target = Target::default().spawn().on_system(&system).await.unwrap();
    let (ids, mut id) = mpsc::unbounded_channel();
    let sys = system.clone();
    let watched = target.addr();
    let plain = process_fn("plain", move |shutdown| {
        let (sys, ids) = (sys.clone(), ids.clone());
        async move {
            let monitor = sys.monitor(watched);
            let _ = ids.send(shutdown.process_id());
            let down = monitor.await;
            Err(ExitReason::custom(format!("saw {}", down.reason)).into())
        }
    });
    Supervisor::new("plain-sup")
        .with_worker(ChildSpec::worker(plain).restart(RestartType::Temporary))
        .spawn(&system)
        .await
        .unwrap();
    let plain = next(&mut id).await;
    let monitor = watcher.send(Watch(plain)).await.unwrap();
    target.kill().await.unwrap();
    assert_eq!(
        one_down(&mut seen, monitor, plain).await,
        ExitReason::custom("saw killed")
    );
    system.shutdown().await;
}
