//! Memory of an idle actor, measured with a counting global allocator.
//!
//! The figure is the live heap bytes per idle actor (spawned, with the
//! default mailbox, having handled one message) minus the live heap bytes of
//! a bare Tokio task (`tokio::spawn` of a future that waits forever).
//! Everything troupe adds counts: the run loop's future (actor state,
//! context), the process state with its mailbox, the registry entry.

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

#[test]
fn an_idle_actor_costs_at_most_1_kib_beyond_its_task() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let system = ActorSystem::create("memory").unwrap();
        // Warm up lazily allocated runtime and system structures.
        let warm = Idle.spawn().on_system(&system).await.unwrap();
        warm.send(Ping).await.unwrap();
        let bare_tasks = {
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

        let before = live();
        let mut actors = Vec::with_capacity(N);
        let vec_bytes = live() - before;
        for _ in 0..N {
            let a = Idle.spawn().on_system(&system).await.unwrap();
            a.send(Ping).await.unwrap();
            actors.push(a);
        }
        tokio::task::yield_now().await;
        let per_actor = (live() - before - vec_bytes) as f64 / N as f64;
        let beyond = per_actor - bare_tasks;
        println!(
            "idle actor: {per_actor:.0} B live heap; bare tokio task: {bare_tasks:.0} B; beyond the task: {beyond:.0} B"
        );
        assert!(
            beyond <= 1024.0,
            "an idle actor costs {beyond:.0} B beyond its task (limit 1024)"
        );
        system.shutdown().await;
    });
}
