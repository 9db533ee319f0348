//! A busy actor shares its thread: a process whose mailbox never empties
//! yields to the other tasks of its runtime once its Tokio budget is
//! spent, as a task reading a Tokio channel does.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use troupe::prelude::*;

const BOUND: Duration = Duration::from_secs(20);

#[message]
struct Turn;

/// Handles each `Turn` by sending itself the next one: its mailbox is
/// never empty.
struct Spinner {
    turns: Arc<AtomicU64>,
}

impl Actor for Spinner {}

impl Handler<Turn> for Spinner {
    async fn handle(&mut self, _: Turn, ctx: &mut ActorContext<Self>) -> HandlerResult {
        self.turns.fetch_add(1, Ordering::Relaxed);
        ctx.self_handle().try_notify(Turn)?;
        Ok(())
    }
}

/// On a current-thread runtime, the task that spawned a spinner still
/// runs, again and again, while the spinner goes on: without the budget
/// the spinner would hold the thread for good and the waits below would
/// time out.
#[test]
fn an_actor_whose_mailbox_never_empties_lets_other_tasks_run() {
    let (tx, rx) = mpsc::channel::<(&'static str, u64)>();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        runtime.block_on(async move {
            let turns = Arc::new(AtomicU64::new(0));
            let spinner = Spinner {
                turns: turns.clone(),
            }
            .spawn()
            .await
            .expect("spawned");
            spinner.notify(Turn).await.expect("started");
            // Each yield hands the thread to the spinner, which must hand
            // it back: three times, with the spinner's count growing.
            for _ in 0..3 {
                let before = turns.load(Ordering::Relaxed);
                tokio::task::yield_now().await;
                while turns.load(Ordering::Relaxed) == before {
                    tokio::task::yield_now().await;
                }
                let _ = tx.send(("turned", turns.load(Ordering::Relaxed)));
            }
            spinner.stop(StopReason::Kill).await.expect("stopped");
            let _ = tx.send(("stopped", turns.load(Ordering::Relaxed)));
        });
    });
    let mut last = 0;
    for _ in 0..3 {
        let (what, turns) = rx
            .recv_timeout(BOUND)
            .expect("the spawning task ran again while the spinner was busy");
        assert_eq!(what, "turned");
        assert!(turns > last, "the spinner went on between two turns");
        last = turns;
    }
    let (what, _) = rx.recv_timeout(BOUND).expect("the spinner stopped");
    assert_eq!(what, "stopped");
}
