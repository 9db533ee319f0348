//! Regression: killing a supervised child that its supervisor restarts at
//! once. `kill` used to wait for whichever incarnation ran when its wait
//! began, which could already be the restarted one, and then timed out
//! (about one run in four on a 2-worker runtime). Many rounds make the race
//! near-certain to show if it comes back.

use std::time::Duration;
use troupe::prelude::*;
use troupe::supervision::SupervisorConfig;
struct Worker;
impl Actor for Worker {}
struct MySupervisor;
impl Actor for MySupervisor {
    async fn pre_start(&mut self, ctx: &mut ActorContext<Self>) -> HandlerResult {
        ctx.spawn_child(|| Worker).named("worker-1").await?;
        ctx.spawn_child(|| Worker).named("worker-2").await?;
        Ok(())
    }
}
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_returns_when_the_killed_incarnation_ends_even_if_restarted_at_once() {
    for round in 0..100 {
        let system = ActorSystem::create(format!("kill-race-{round}")).unwrap();
        let sup = SupervisorConfig::one_for_all().max_restarts(5, Duration::from_secs(10));
        let handle = MySupervisor
            .spawn()
            .named("sup")
            .on_system(&system)
            .with_supervision(sup)
            .await
            .unwrap();
        assert_eq!(handle.children().await.expect("children 1").len(), 2);
        let worker = system.get::<Worker>("worker-1").expect("running");
        worker.kill().await.expect("kill");
        let children = handle.children().await.expect("children 2");
        assert!(
            children.iter().all(|c| c.alive && c.restarts == 1),
            "{children:?}"
        );
        assert!(worker.is_alive());
        system.shutdown().await;
    }
}
