//! Memory of an idle actor, measured with a counting global allocator.
//!
//! The figure is the live heap bytes per idle actor (spawned, with the
//! default mailbox, having handled one message), everything counted: the
//! Tokio task with the run loop's future (actor state, context), the
//! process state with its mailbox, the handler's future buffer, the
//! registry entry. It is also compared with a bare Tokio task
//! (`tokio::spawn` of a future that waits forever).
//!
//! Issue 15's budget is 800 bytes per idle actor; the test holds the
//! figure reached since (583 to 599 B here, without and with the test
//! kit, since an envelope is one pointer and the mailbox's one-slot buffer
//! 8 bytes) to 640 B, so that a regression shows. The run loop's future is kept
//! small enough that a Tokio task cell (aligned to 128 bytes) stays at 384
//! bytes with a few words of actor state: with 32 bytes of state an actor
//! stays within 720 B (656 to 672 B here).

mod counting_alloc;

use counting_alloc::{live, Counting};

use troupe::prelude::*;

#[global_allocator]
static GLOBAL: Counting = Counting;

#[message]
struct Ping;

struct Idle;
impl Actor for Idle {}
impl Handler<Ping> for Idle {
    async fn handle(&mut self, _: Ping, _: &mut ActorContext<Self>) -> HandlerResult {
        Ok(())
    }
}

const N: usize = 2_000;

/// An idle actor with a few words of state (a typical small actor).
struct Small {
    _state: [u64; 4],
}
impl Actor for Small {}
impl Handler<Ping> for Small {
    async fn handle(&mut self, _: Ping, _: &mut ActorContext<Self>) -> HandlerResult {
        Ok(())
    }
}

/// Live heap bytes per actor of `n` spawned by `spawn`, each having handled
/// one request.
async fn per_actor<A, S, F>(n: usize, spawn: S) -> f64
where
    A: Actor + Handler<Ping>,
    S: Fn() -> F,
    F: std::future::Future<Output = ActorRef<A>>,
{
    let before = live();
    let mut actors = Vec::with_capacity(n);
    let vec_bytes = live() - before;
    for _ in 0..n {
        let a = spawn().await;
        a.send(Ping).await.unwrap();
        actors.push(a);
    }
    tokio::task::yield_now().await;
    let per = (live() - before - vec_bytes) as f64 / n as f64;
    for a in actors {
        a.stop(StopReason::Graceful).await.unwrap();
    }
    per
}

#[test]
fn an_idle_actor_takes_at_most_640_bytes() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let system = ActorSystem::create("memory").unwrap();
        // Warm up lazily allocated runtime and system structures.
        let warm = Idle.spawn().on_system(&system).await.unwrap();
        warm.send(Ping).await.unwrap();
        let bare_task = {
            let before = live();
            let mut handles = Vec::with_capacity(N);
            let handles_bytes = live() - before;
            for _ in 0..N {
                handles.push(tokio::spawn(std::future::pending::<()>()));
            }
            tokio::task::yield_now().await;
            let per = (live() - before - handles_bytes) as f64 / N as f64;
            for h in &handles {
                h.abort();
            }
            per
        };
        tokio::task::yield_now().await;

        let idle = per_actor(N, || async { Idle.spawn().on_system(&system).await.unwrap() }).await;
        let small = per_actor(N, || async {
            Small { _state: [0; 4] }
                .spawn()
                .on_system(&system)
                .await
                .unwrap()
        })
        .await;
        println!(
            "idle actor: {idle:.0} B live heap ({:.0} B beyond a bare tokio task of {bare_task:.0} B); \
             with 32 B of state: {small:.0} B",
            idle - bare_task
        );
        assert!(idle <= 640.0, "an idle actor takes {idle:.0} B (budget 640)");
        assert!(
            small <= 720.0,
            "an idle actor with 32 B of state takes {small:.0} B (budget 720): \
             its task grew past a 128-byte step"
        );
        system.shutdown().await;
    });
}
