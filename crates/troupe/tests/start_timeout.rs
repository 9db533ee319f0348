//! A start timeout for every spawn: a `pre_start` that does not finish in
//! time fails the spawn with `StartTimeout`, and nothing of the actor is
//! left (no process, no name). On paused Tokio time.

use std::time::Duration;

use tokio::sync::oneshot;
use troupe::prelude::*;

/// Its `pre_start` never returns; it tells the test when its state drops.
struct Stuck {
    dropped: Option<oneshot::Sender<()>>,
}

impl Drop for Stuck {
    fn drop(&mut self) {
        if let Some(tx) = self.dropped.take() {
            let _ = tx.send(());
        }
    }
}

impl Actor for Stuck {
    async fn pre_start(&mut self, _: &mut ActorContext<Self>) -> HandlerResult {
        std::future::pending::<()>().await;
        Ok(())
    }
}

/// Starts in time.
struct Quick;

impl Actor for Quick {
    async fn pre_start(&mut self, _: &mut ActorContext<Self>) -> HandlerResult {
        tokio::time::sleep(Duration::from_millis(10)).await;
        Ok(())
    }
}

#[tokio::test(start_paused = true)]
async fn a_spawn_whose_pre_start_never_returns_fails_at_its_start_timeout_and_leaves_nothing() {
    let system = ActorSystem::create("start-timeout").unwrap();
    let before = system.process_count();
    let (tx, dropped) = oneshot::channel();
    let started = tokio::time::Instant::now();
    let spawned = Stuck { dropped: Some(tx) }
        .spawn()
        .named("stuck")
        .start_timeout(Duration::from_millis(200))
        .on_system(&system)
        .await;
    assert!(
        matches!(spawned, Err(SpawnError::StartTimeout(t)) if t == Duration::from_millis(200)),
        "{spawned:?}"
    );
    assert_eq!(started.elapsed(), Duration::from_millis(200));
    assert!(system.whereis("stuck").is_none(), "the name is free again");
    assert_eq!(system.process_count(), before, "no process is left");
    tokio::time::timeout(Duration::from_secs(1), dropped)
        .await
        .expect("the actor's state is dropped")
        .expect("dropped, not lost");
    // The name can be taken again at once.
    let quick = Quick
        .spawn()
        .named("stuck")
        .start_timeout(Duration::from_millis(200))
        .on_system(&system)
        .await;
    assert!(quick.is_ok(), "{quick:?}");
    system.shutdown().await;
}
