//! troupe's supervision workloads: restarts of a panicking child, and the shutdown of a tree.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ::troupe::supervision::SupervisorConfig;
use ::troupe::{
    message, Actor, ActorContext, ActorSystem, ExitReason, Failure, Handler, HandlerResult, Spawn,
    StopReason,
};

use crate::config::Sizes;
use crate::harness::{Context as _, RunResult};
use crate::util::{crash, Churn, Countdown};
use crate::workloads::Sample;

// ---------------------------------------------------------------------------------------------
// Supervision: restarts

/// The message whose handler panics.
#[message]
struct Crash;

struct Crasher(Churn);

impl Actor for Crasher {
    async fn pre_start(&mut self, ctx: &mut ActorContext<Self>) -> HandlerResult {
        if self.0.should_crash() {
            ctx.self_handle()
                .try_notify(Crash)
                .map_err(|e| format!("tell itself Crash: {e}"))?;
        }
        Ok(())
    }

    /// A failed fire-and-forget message does not stop a troupe actor by itself; this one stops
    /// with the failure as its reason, as an Erlang process whose `handle_cast` crashed.
    async fn handle_failure(&mut self, ctx: &mut ActorContext<Self>, failure: Failure) {
        ctx.stop_with(failure.into());
    }
}

impl Handler<Crash> for Crasher {
    async fn handle(&mut self, _: Crash, _: &mut ActorContext<Self>) -> HandlerResult {
        crash()
    }
}

struct CrashSupervisor(Churn);

impl Actor for CrashSupervisor {
    async fn pre_start(&mut self, ctx: &mut ActorContext<Self>) -> HandlerResult {
        let churn = self.0.clone();
        ctx.spawn_child(move || Crasher(churn.clone())).await?;
        Ok(())
    }
}

pub(super) async fn restarts(sys: ActorSystem, s: Sizes) -> RunResult {
    let (churn, finished) = Churn::new(s.restarts);
    let config =
        SupervisorConfig::one_for_one().max_restarts(usize::MAX, Duration::from_secs(3600));
    let start = Instant::now();
    let _sup = CrashSupervisor(churn.clone())
        .spawn()
        .on_system(&sys)
        .with_supervision(config)
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
    async fn pre_start(&mut self, ctx: &mut ActorContext<Self>) -> HandlerResult {
        if self.levels_below > 0 {
            let below = self.levels_below - 1;
            for _ in 0..self.shared.breadth {
                let shared = self.shared.clone();
                let factory = move || TreeNode {
                    shared: shared.clone(),
                    levels_below: below,
                };
                if below > 0 {
                    ctx.spawn_child(factory).supervised().await?;
                } else {
                    ctx.spawn_child(factory).await?;
                }
            }
        }
        self.shared.started.hit();
        Ok(())
    }

    async fn on_stopped(&mut self, _: &mut ActorContext<Self>, _: &ExitReason) {
        self.shared.stopped.hit();
    }
}

pub(super) async fn tree(sys: ActorSystem, s: Sizes) -> RunResult {
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
    .supervised()
    .await
    .ctx("spawn tree")?;
    all_started.await.ctx("tree did not start")?;
    let start = Instant::now();
    root.stop(StopReason::Graceful).await.ctx("stop root")?;
    all_stopped.await.ctx("not every node stopped")?;
    Ok(Sample::timed(start.elapsed()))
}
