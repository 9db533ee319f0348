//! tokio_actors, supervision workloads: restart churn and tree shutdown.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ::tokio_actors::{
    Actor, ActorConfig, ActorContext, ActorExt, ActorResult, ActorSystem, StopReason,
    SupervisionConfig,
};

use crate::config::Sizes;
use crate::harness::{Context, RunResult};
use crate::util::{crash, Churn, Countdown};
use crate::workloads::Sample;
// ---------------------------------------------------------------------------------------------
// Supervision: restarts

struct Crasher(Churn);

impl Actor for Crasher {
    type Message = ();
    type Response = ();

    async fn on_started(&mut self, ctx: &mut ActorContext<Self>) -> ActorResult<()> {
        if self.0.should_crash() {
            let _ = ctx.self_handle().try_notify(());
        }
        Ok(())
    }

    async fn handle(&mut self, _: (), _: &mut ActorContext<Self>) -> ActorResult<()> {
        crash()
    }
}

struct Supervisor(Churn);

impl Actor for Supervisor {
    type Message = ();
    type Response = ();

    async fn on_started(&mut self, ctx: &mut ActorContext<Self>) -> ActorResult<()> {
        let churn = self.0.clone();
        ctx.spawn_child(move || Crasher(churn.clone())).await?;
        Ok(())
    }

    async fn handle(&mut self, _: (), _: &mut ActorContext<Self>) -> ActorResult<()> {
        Ok(())
    }
}

pub(super) async fn restarts(sys: Arc<ActorSystem>, s: Sizes) -> RunResult {
    let (churn, finished) = Churn::new(s.restarts);
    let start = Instant::now();
    let _sup = Supervisor(churn.clone())
        .spawn()
        .on_system(&sys)
        .with_supervision(
            SupervisionConfig::one_for_one().max_restarts(u32::MAX, Duration::from_secs(3600)),
        )
        .await
        .ctx("spawn supervisor")?;
    churn.finish(finished, start, s.restart_window).await
}

// ---------------------------------------------------------------------------------------------
// Supervision: tree shutdown

struct TreeShared {
    breadth: usize,
    started: Arc<Countdown>,
    stopped: Arc<Countdown>,
}

struct TreeNode {
    shared: Arc<TreeShared>,
    levels_below: usize,
}

impl Actor for TreeNode {
    type Message = ();
    type Response = ();

    async fn on_started(&mut self, ctx: &mut ActorContext<Self>) -> ActorResult<()> {
        if self.levels_below > 0 {
            let below = self.levels_below - 1;
            for _ in 0..self.shared.breadth {
                let shared = self.shared.clone();
                let factory = move || TreeNode {
                    shared: shared.clone(),
                    levels_below: below,
                };
                if below > 0 {
                    ctx.spawn_child(factory)
                        .with_config(ActorConfig::default().supervisor())
                        .await?;
                } else {
                    ctx.spawn_child(factory).await?;
                }
            }
        }
        self.shared.started.hit();
        Ok(())
    }

    async fn on_stopped(&mut self, _: &StopReason, _: &mut ActorContext<Self>) -> ActorResult<()> {
        self.shared.stopped.hit();
        Ok(())
    }

    async fn handle(&mut self, _: (), _: &mut ActorContext<Self>) -> ActorResult<()> {
        Ok(())
    }
}

pub(super) async fn tree(sys: Arc<ActorSystem>, s: Sizes) -> RunResult {
    let total = s.tree_size();
    let (started, all_started) = Countdown::new(total);
    let (stopped, all_stopped) = Countdown::new(total);
    let shared = Arc::new(TreeShared {
        breadth: s.tree_breadth,
        started,
        stopped,
    });
    let root = TreeNode {
        shared,
        levels_below: s.tree_depth,
    }
    .spawn()
    .on_system(&sys)
    .supervisor()
    .await
    .ctx("spawn tree")?;
    all_started.await.ctx("tree did not start")?;
    let start = Instant::now();
    root.stop_within(StopReason::Graceful, Duration::from_secs(20))
        .await
        .ctx("stop root")?;
    all_stopped.await.ctx("not every node stopped")?;
    Ok(Sample::timed(start.elapsed()))
}
