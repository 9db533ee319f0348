//! ractor, supervision workloads: restart churn and tree shutdown.

use std::sync::Arc;
use std::time::Instant;

use ::ractor::{Actor, ActorProcessingErr, ActorRef, SupervisionEvent};

use super::failed;
use crate::config::Sizes;
use crate::harness::{Context, RunResult};
use crate::util::{crash, Churn, Countdown};
use crate::workloads::Sample;
// ---------------------------------------------------------------------------------------------
// Supervision: restarts

struct CrashMsg;

struct Crasher(Churn);

impl Actor for Crasher {
    type Msg = CrashMsg;
    type State = ();
    type Arguments = ();

    async fn pre_start(&self, _: ActorRef<CrashMsg>, _: ()) -> Result<(), ActorProcessingErr> {
        Ok(())
    }

    async fn post_start(
        &self,
        me: ActorRef<CrashMsg>,
        _: &mut (),
    ) -> Result<(), ActorProcessingErr> {
        if self.0.should_crash() {
            me.cast(CrashMsg)?;
        }
        Ok(())
    }

    async fn handle(
        &self,
        _: ActorRef<CrashMsg>,
        _: CrashMsg,
        _: &mut (),
    ) -> Result<(), ActorProcessingErr> {
        crash()
    }
}

struct Supervisor(Churn);

impl Actor for Supervisor {
    type Msg = ();
    type State = ();
    type Arguments = ();

    async fn pre_start(&self, me: ActorRef<()>, _: ()) -> Result<(), ActorProcessingErr> {
        Actor::spawn_linked(None, Crasher(self.0.clone()), (), me.get_cell()).await?;
        Ok(())
    }

    async fn handle_supervisor_evt(
        &self,
        me: ActorRef<()>,
        evt: SupervisionEvent,
        _: &mut (),
    ) -> Result<(), ActorProcessingErr> {
        if let SupervisionEvent::ActorFailed(..) = evt {
            Actor::spawn_linked(None, Crasher(self.0.clone()), (), me.get_cell()).await?;
        }
        Ok(())
    }
}

pub(super) async fn restarts(s: Sizes) -> RunResult {
    let (churn, finished) = Churn::new(s.restarts);
    let start = Instant::now();
    let (sup, _) = Actor::spawn(None, Supervisor(churn.clone()), ())
        .await
        .map_err(failed("spawn supervisor"))?;
    let sample = churn.finish(finished, start, s.restart_window).await;
    sup.stop(None);
    sample
}

// ---------------------------------------------------------------------------------------------
// Supervision: tree shutdown

struct TreeShared {
    breadth: usize,
    started: Arc<Countdown>,
    stopped: Arc<Countdown>,
}

struct TreeNode(Arc<TreeShared>);

impl Actor for TreeNode {
    type Msg = ();
    type State = ();
    type Arguments = usize;

    async fn pre_start(
        &self,
        me: ActorRef<()>,
        levels_below: usize,
    ) -> Result<(), ActorProcessingErr> {
        if levels_below > 0 {
            for _ in 0..self.0.breadth {
                let child = TreeNode(self.0.clone());
                Box::pin(Actor::spawn_linked(
                    None,
                    child,
                    levels_below - 1,
                    me.get_cell(),
                ))
                .await?;
            }
        }
        self.0.started.hit();
        Ok(())
    }

    async fn post_stop(&self, me: ActorRef<()>, _: &mut ()) -> Result<(), ActorProcessingErr> {
        me.stop_children_and_wait(None, None).await;
        self.0.stopped.hit();
        Ok(())
    }

    async fn handle_supervisor_evt(
        &self,
        _: ActorRef<()>,
        _: SupervisionEvent,
        _: &mut (),
    ) -> Result<(), ActorProcessingErr> {
        Ok(())
    }
}

pub(super) async fn tree(s: Sizes) -> RunResult {
    let total = s.tree_size();
    let (started, all_started) = Countdown::new(total);
    let (stopped, all_stopped) = Countdown::new(total);
    let shared = Arc::new(TreeShared {
        breadth: s.tree_breadth,
        started,
        stopped,
    });
    let (root, _) = Actor::spawn(None, TreeNode(shared), s.tree_depth)
        .await
        .map_err(failed("spawn tree"))?;
    all_started.await.ctx("tree did not start")?;
    let start = Instant::now();
    root.stop_and_wait(None, None).await.ctx("stop root")?;
    all_stopped.await.ctx("not every node stopped")?;
    Ok(Sample::timed(start.elapsed()))
}
