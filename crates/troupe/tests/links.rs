//! Links outside supervision trees: an abnormal exit takes the partner
//! down with the same reason, both ways; a normal one leaves it alone; a
//! partner that traps exits gets an `Exit` and lives; `unlink` ends it;
//! linking to a process that is gone fails. Struct actors, functional
//! actors and plain processes are all partners.
//!
//! Every test runs on paused time, and every wait is bounded.

mod signals_common;

use signals_common::*;
use tokio::sync::mpsc;
use troupe::prelude::*;
use troupe::supervision::{process_fn, SupervisionEvent, Supervisor, SupervisorConfig};
use troupe::LinkError;

async fn spawn_watcher(
    system: &ActorSystem,
    trap: bool,
) -> (ActorRef<Watcher>, mpsc::UnboundedReceiver<Seen>) {
    let (watcher, seen, _) = Watcher::new(trap);
    (watcher.spawn().on_system(system).await.unwrap(), seen)
}

async fn exit_of<A: Actor>(actor: &ActorRef<A>) -> ExitReason {
    tokio::time::timeout(BOUND, actor.wait_for_exit())
        .await
        .expect("it exits within the bound")
}

#[tokio::test(start_paused = true)]
async fn an_abnormal_exit_takes_the_partner_down_with_the_same_reason() {
    let system = system("link-down");
    let (watcher, _) = spawn_watcher(&system, false).await;
    let target = Target::default().spawn().on_system(&system).await.unwrap();
    watcher.send(LinkTo(target.addr())).await.unwrap().unwrap();
    target
        .notify(QuitWith(ExitReason::custom("lost")))
        .await
        .unwrap();
    assert_eq!(exit_of(&watcher).await, ExitReason::custom("lost"));
    system.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn links_are_bidirectional() {
    let system = system("link-both");
    let (watcher, _) = spawn_watcher(&system, false).await;
    let target = Target::default().spawn().on_system(&system).await.unwrap();
    // The target makes the link; the watcher's crash takes it down.
    target
        .send(TargetLink(watcher.addr()))
        .await
        .unwrap()
        .unwrap();
    watcher.kill().await.unwrap();
    assert_eq!(exit_of(&target).await, ExitReason::Killed);
    system.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_normal_exit_leaves_a_partner_that_does_not_trap_alone() {
    let system = system("link-normal");
    let (watcher, mut seen) = spawn_watcher(&system, false).await;
    let target = Target::default().spawn().on_system(&system).await.unwrap();
    watcher.send(LinkTo(target.addr())).await.unwrap().unwrap();
    let monitor = watcher.send(Watch(target.addr())).await.unwrap();
    target.stop(StopReason::Shutdown).await.unwrap();
    let Seen::Down(down) = next(&mut seen).await else {
        panic!("expected the Down");
    };
    assert_eq!((down.monitor, down.reason), (monitor, ExitReason::Shutdown));
    quiet(&mut seen).await;
    assert!(watcher.is_alive());
    // The link is gone with the partner: unlinking finds nothing.
    assert!(!watcher.send(UnlinkFrom(target.addr())).await.unwrap());
    system.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_partner_that_traps_exits_gets_exit_and_lives() {
    let system = system("link-trap");
    let (watcher, mut seen) = spawn_watcher(&system, true).await;
    let crashed = Target::default().spawn().on_system(&system).await.unwrap();
    let ended = Target::default().spawn().on_system(&system).await.unwrap();
    for t in [&crashed, &ended] {
        watcher.send(LinkTo(t.addr())).await.unwrap().unwrap();
    }
    assert!(crashed.send(Crash).await.is_err());
    let Seen::Exit(exit) = next(&mut seen).await else {
        panic!("expected an Exit");
    };
    assert_eq!(exit.from, crashed.addr());
    assert!(matches!(exit.reason, ExitReason::Failed(_)), "{exit:?}");
    // A trapping partner hears of normal exits too.
    ended.notify(Quit).await.unwrap();
    let Seen::Exit(exit) = next(&mut seen).await else {
        panic!("expected an Exit");
    };
    assert_eq!((exit.from, exit.reason), (ended.addr(), ExitReason::Normal));
    quiet(&mut seen).await;
    assert!(watcher.is_alive());
    system.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn unlink_ends_the_link_on_both_sides() {
    let system = system("link-unlink");
    let (watcher, mut seen) = spawn_watcher(&system, true).await;
    let target = Target::default().spawn().on_system(&system).await.unwrap();
    watcher.send(LinkTo(target.addr())).await.unwrap().unwrap();
    assert!(watcher.send(UnlinkFrom(target.addr())).await.unwrap());
    target.kill().await.unwrap();
    quiet(&mut seen).await;
    // And the other way: the watcher's exit no longer reaches the target.
    let (other, _) = spawn_watcher(&system, false).await;
    let target = Target::default().spawn().on_system(&system).await.unwrap();
    other.send(LinkTo(target.addr())).await.unwrap().unwrap();
    assert!(other.send(UnlinkFrom(target.addr())).await.unwrap());
    other.kill().await.unwrap();
    assert!(target.is_alive());
    assert!(target
        .send(TargetLink(other.addr()))
        .await
        .unwrap()
        .is_err());
    system.shutdown().await;
}

/// The exit signal is already on its way when `unlink` runs: it has no
/// effect once `unlink` returned, trapped or not.
#[tokio::test(start_paused = true)]
async fn an_exit_signal_already_on_its_way_is_dropped_by_unlink() {
    let system = system("link-race");
    for trap in [false, true] {
        let (watcher, mut seen) = spawn_watcher(&system, trap).await;
        let target = Target::default().spawn().on_system(&system).await.unwrap();
        watcher.send(LinkTo(target.addr())).await.unwrap().unwrap();
        let unlink = watcher.send(UnlinkAfterExit(target.clone()));
        let kill = async {
            tokio::task::yield_now().await;
            target.kill().await.unwrap();
        };
        let (unlinked, ()) = tokio::join!(unlink, kill);
        assert!(unlinked.unwrap(), "the link was there when removed");
        quiet(&mut seen).await;
        assert!(watcher.is_alive(), "trap: {trap}");
    }
    system.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn linking_to_a_process_that_is_gone_fails_with_noproc() {
    let system = system("link-noproc");
    let (watcher, _) = spawn_watcher(&system, false).await;
    let target = Target::default().spawn().on_system(&system).await.unwrap();
    target.kill().await.unwrap();
    let linked = watcher.send(LinkTo(target.addr())).await.unwrap();
    assert_eq!(linked, Err(LinkError::NoProc(target.addr())));
    assert!(watcher.is_alive());
    // Linking to oneself does nothing.
    let linked = watcher.send(LinkTo(watcher.addr())).await.unwrap();
    assert_eq!(linked, Ok(()));
    system.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_chain_of_links_goes_down_with_the_first_reason() {
    let system = system("link-chain");
    let (a, _) = spawn_watcher(&system, false).await;
    let (b, _) = spawn_watcher(&system, false).await;
    let (observer, mut seen) = spawn_watcher(&system, false).await;
    let target = Target::default().spawn().on_system(&system).await.unwrap();
    a.send(LinkTo(b.addr())).await.unwrap().unwrap();
    b.send(LinkTo(target.addr())).await.unwrap().unwrap();
    let monitor = observer.send(Watch(a.addr())).await.unwrap();
    target
        .notify(QuitWith(ExitReason::custom("cascade")))
        .await
        .unwrap();
    let Seen::Down(down) = next(&mut seen).await else {
        panic!("expected the Down of a");
    };
    assert_eq!(
        (down.monitor, down.reason),
        (monitor, ExitReason::custom("cascade"))
    );
    assert_eq!(exit_of(&b).await, ExitReason::custom("cascade"));
    system.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_functional_actor_that_traps_exits_receives_exit_through_recv() {
    let (system, group, mut seen, addr) = start_functional("link-fn-trap", true).await;
    let target = Target::default().spawn().on_system(&system).await.unwrap();
    group.send(LinkTo(target.addr())).await.unwrap().unwrap();
    target.kill().await.unwrap();
    let Seen::Exit(exit) = next(&mut seen).await else {
        panic!("expected an Exit");
    };
    assert_eq!(
        (exit.from, exit.reason),
        (target.addr(), ExitReason::Killed)
    );
    quiet(&mut seen).await;
    // Still the same actor, alive.
    let down = system.monitor(addr);
    group
        .notify(QuitWith(ExitReason::custom("bye")))
        .await
        .unwrap();
    let down = tokio::time::timeout(BOUND, down).await.unwrap();
    assert_eq!(down.reason, ExitReason::custom("bye"));
    system.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_functional_actor_that_does_not_trap_exits_with_its_partners_reason() {
    let (system, group, _, addr) = start_functional("link-fn-down", false).await;
    let target = Target::default().spawn().on_system(&system).await.unwrap();
    group.send(LinkTo(target.addr())).await.unwrap().unwrap();
    let down = system.monitor(addr);
    target
        .notify(QuitWith(ExitReason::custom("gone")))
        .await
        .unwrap();
    let down = tokio::time::timeout(BOUND, down).await.unwrap();
    assert_eq!(down.reason, ExitReason::custom("gone"));
    system.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_plain_process_is_taken_down_by_its_link_and_its_supervisor_sees_the_reason() {
    let system = system("link-plain");
    let (ids, mut id) = mpsc::unbounded_channel();
    let plain = process_fn("plain", move |mut shutdown| {
        let ids = ids.clone();
        async move {
            let _ = ids.send(shutdown.process_id());
            shutdown.wait_for_shutdown().await;
            Ok(())
        }
    });
    let (events, mut ev) = mpsc::unbounded_channel();
    Supervisor::new("sup")
        .with_config(SupervisorConfig::one_for_one().observe(events))
        .with_worker(plain)
        .spawn(&system)
        .await
        .unwrap();
    let plain = next(&mut id).await;
    let (watcher, _) = spawn_watcher(&system, false).await;
    watcher.send(LinkTo(plain)).await.unwrap().unwrap();
    watcher.kill().await.unwrap();
    loop {
        if let SupervisionEvent::Exited { reason, .. } = next(&mut ev).await {
            assert_eq!(reason, ExitReason::Killed);
            break;
        }
    }
    // Permanent: restarted, as a new process.
    assert_ne!(next(&mut id).await, plain);
    system.shutdown().await;
}
