//! Child management by hand, as OTP's `supervisor` module documents it:
//! `terminate_child` (stop, keep the spec), `restart_child` (start a
//! terminated child again), `delete_child` (forget a terminated child),
//! `which_children` with each child's state, `count_children`, and their
//! errors for a running, restarting or unknown child.

mod supervision_common;

use std::time::Duration;

use supervision_common::*;
use tokio::sync::mpsc;
use troupe::prelude::*;
use troupe::supervision::{
    Backoff, ChildCounts, ChildId, ChildKey, ChildSpec, ChildState, RestartType, Supervisor,
    SupervisorConfig, SupervisorError,
};
use troupe::RequestError;

fn state_of(children: &[troupe::supervision::ChildInfo], id: ChildId) -> ChildState {
    children
        .iter()
        .find(|c| c.id == id)
        .map(|c| c.state)
        .expect("listed")
}

#[tokio::test(start_paused = true)]
async fn terminate_keeps_the_spec_and_restart_starts_it_again() {
    let sys = system("manage-terminate");
    let w = Workers::new();
    let (tx, mut ev) = mpsc::unbounded_channel();
    let sup = Supervisor::new("root")
        .with_config(SupervisorConfig::one_for_one().observe(tx))
        .with_worker(w.worker("a"))
        .with_worker(w.worker("b"))
        .spawn(&sys)
        .await
        .unwrap();
    assert_eq!(take(&mut ev, 2).await, ["start a", "start b"]);
    let a = sup.children().await.unwrap()[0].id;

    sup.terminate_child(a).await.unwrap();
    assert_eq!(take(&mut ev, 1).await, ["stop a shutdown"]);
    let children = sup.children().await.unwrap();
    assert_eq!(children.len(), 2, "the spec is kept");
    assert_eq!(children[0].state, ChildState::Terminated);
    assert!(!children[0].alive);
    assert_eq!(children[0].last_exit, Some(ExitReason::Shutdown));
    assert_eq!(children[1].state, ChildState::Running);
    // Not restarted by itself, and terminating it again is fine (OTP: ok).
    quiet(&mut ev).await;
    sup.terminate_child(a).await.unwrap();
    quiet(&mut ev).await;
    assert_eq!(w.runs("a"), 1);

    sup.restart_child(a).await.unwrap();
    assert_eq!(take(&mut ev, 1).await, ["restart a"]);
    assert_eq!(w.runs("a"), 2);
    let children = sup.children().await.unwrap();
    assert_eq!(children[0].id, a, "the same child, same place in the order");
    assert_eq!(children[0].state, ChildState::Running);
    assert_eq!(
        children[0].restarts, 0,
        "a restart by hand is no crash restart"
    );
    // It is supervised again: a failure restarts it.
    w.send("a", Cmd::Fail);
    assert_eq!(take(&mut ev, 2).await, ["exit a failed: boom", "restart a"]);
    sup.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn running_and_unknown_children_are_refused_as_otp_does() {
    let sys = system("manage-errors");
    let w = Workers::new();
    let sup = Supervisor::new("root")
        .with_worker(w.worker("a"))
        .spawn(&sys)
        .await
        .unwrap();
    let a = sup.children().await.unwrap()[0].id;
    let key = ChildKey::Id(a);
    assert_eq!(
        sup.restart_child(a).await,
        Err(SupervisorError::Running(key))
    );
    assert_eq!(
        sup.delete_child(a).await,
        Err(SupervisorError::Running(key))
    );
    assert_eq!(w.runs("a"), 1, "nothing was started");

    sup.terminate_child(a).await.unwrap();
    sup.delete_child(a).await.unwrap();
    assert!(sup.children().await.unwrap().is_empty());
    let unknown = Err(SupervisorError::UnknownChild(key));
    assert_eq!(sup.terminate_child(a).await, unknown);
    assert_eq!(sup.restart_child(a).await.map(|_| ()), unknown);
    assert_eq!(sup.delete_child(a).await, unknown);
    assert_eq!(sup.stop_child(a).await, unknown);
    let nobody = ChildKey::Addr(sup.addr());
    assert_eq!(
        sup.terminate_child(nobody).await,
        Err(SupervisorError::UnknownChild(nobody))
    );
    sup.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_restarting_child_cannot_be_restarted_or_deleted_but_can_be_terminated() {
    let sys = system("manage-restarting");
    let w = Workers::new();
    let (tx, mut ev) = mpsc::unbounded_channel();
    let config = SupervisorConfig::one_for_one()
        .with_backoff(Backoff::fixed(Duration::from_secs(10)))
        .observe(tx);
    let sup = Supervisor::new("root")
        .with_config(config)
        .with_worker(w.worker("a"))
        .spawn(&sys)
        .await
        .unwrap();
    assert_eq!(take(&mut ev, 1).await, ["start a"]);
    let a = sup.children().await.unwrap()[0].id;
    w.send("a", Cmd::Fail);
    assert_eq!(take(&mut ev, 1).await, ["exit a failed: boom"]);
    assert_eq!(
        state_of(&sup.children().await.unwrap(), a),
        ChildState::Restarting
    );
    let key = ChildKey::Id(a);
    assert_eq!(
        sup.restart_child(a).await,
        Err(SupervisorError::Restarting(key))
    );
    assert_eq!(
        sup.delete_child(a).await,
        Err(SupervisorError::Restarting(key))
    );
    // Terminated while it waits: the pending restart does not happen.
    sup.terminate_child(a).await.unwrap();
    assert_eq!(
        state_of(&sup.children().await.unwrap(), a),
        ChildState::Terminated
    );
    tokio::time::sleep(Duration::from_secs(20)).await;
    quiet(&mut ev).await;
    assert_eq!(w.runs("a"), 1);
    sup.restart_child(a).await.unwrap();
    assert_eq!(take(&mut ev, 1).await, ["restart a"]);
    sup.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn count_children_counts_specs_active_supervisors_and_workers() {
    let sys = system("manage-count");
    let w = Workers::new();
    let sub = Supervisor::new("sub").with_worker(w.worker("inner"));
    let sup = Supervisor::new("root")
        .with_worker(w.worker("a"))
        .with_worker(w.worker("b"))
        .with_worker(sub)
        .spawn(&sys)
        .await
        .unwrap();
    let all = ChildCounts {
        specs: 3,
        active: 3,
        supervisors: 1,
        workers: 2,
    };
    assert_eq!(sup.count_children().await.unwrap(), all);
    let b = sup.children().await.unwrap()[1].id;
    sup.terminate_child(b).await.unwrap();
    assert_eq!(
        sup.count_children().await.unwrap(),
        ChildCounts { active: 2, ..all },
        "a terminated child still counts as a spec"
    );
    sup.delete_child(b).await.unwrap();
    assert_eq!(
        sup.count_children().await.unwrap(),
        ChildCounts {
            specs: 2,
            active: 2,
            supervisors: 1,
            workers: 1
        }
    );
    sup.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn terminating_a_temporary_child_forgets_it() {
    let sys = system("manage-temporary");
    let w = Workers::new();
    let sup = Supervisor::new("root")
        .with_worker(ChildSpec::worker(w.worker("t")).restart(RestartType::Temporary))
        .spawn(&sys)
        .await
        .unwrap();
    let t = sup.children().await.unwrap()[0].id;
    sup.terminate_child(t).await.unwrap();
    assert!(sup.children().await.unwrap().is_empty());
    assert_eq!(
        sup.restart_child(t).await.map(|_| ()),
        Err(SupervisorError::UnknownChild(ChildKey::Id(t)))
    );
    sup.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn simple_one_for_one_children_are_terminated_and_forgotten_by_address() {
    let sys = system("manage-simple");
    let w = Workers::new();
    let template_workers = w.clone();
    let sup = Supervisor::new("pool")
        .with_config(SupervisorConfig::simple_one_for_one())
        .with_template(move |n: u32| template_workers.worker(&format!("w{n}")))
        .spawn(&sys)
        .await
        .unwrap();
    let first = sup.start_child(1u32).await.unwrap();
    sup.start_child(2u32).await.unwrap();
    let addr = sup.children().await.unwrap()[0].addr;
    assert_eq!(
        sup.restart_child(first).await.map(|_| ()),
        Err(SupervisorError::SimpleOneForOne)
    );
    assert_eq!(
        sup.delete_child(first).await,
        Err(SupervisorError::SimpleOneForOne)
    );
    sup.terminate_child(addr).await.unwrap();
    let children = sup.children().await.unwrap();
    assert_eq!(children.len(), 1);
    assert_eq!(children[0].name, "w2");
    sup.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_terminated_actor_child_keeps_its_address_and_refuses_mail_until_restarted() {
    let sys = system("manage-actor");
    let (etx, mut events) = mpsc::unbounded_channel();
    let sup = Supervisor::new("root")
        .with_worker(ChildSpec::actor("w", worker_factory(etx, None)))
        .spawn(&sys)
        .await
        .unwrap();
    assert_eq!(line(&mut events).await, "w started #1");
    let handle = sys.get::<Worker>("w").expect("registered");
    handle.notify(Add(5)).await.unwrap();
    let w = sup.children().await.unwrap()[0].id;

    sup.terminate_child(handle.addr()).await.unwrap();
    assert_eq!(line(&mut events).await, "w stopped: shutdown");
    assert!(!handle.is_alive());
    assert!(sys.get::<Worker>("w").is_none(), "the name is free");
    assert!(matches!(
        handle.send(Query).await,
        Err(RequestError::Gone { .. })
    ));

    let addr = sup.restart_child(w).await.unwrap();
    assert_eq!(line(&mut events).await, "w started #2");
    assert_eq!(addr, handle.addr());
    assert_eq!(handle.send(Query).await, Ok((2, 0)), "a fresh actor");
    sup.shutdown().await.unwrap();
}

/// A supervisor actor manages its children the same way, from a handle
/// (through its system channel) or from its own context.
struct Boss;

impl Actor for Boss {}

#[message(ret = ChildCounts)]
struct TerminateAll;

impl Handler<TerminateAll> for Boss {
    async fn handle(
        &mut self,
        _: TerminateAll,
        ctx: &mut ActorContext<Self>,
    ) -> HandlerResult<ChildCounts> {
        for child in ctx.children() {
            ctx.terminate_child(child.id).await?;
        }
        Ok(ctx.count_children())
    }
}

/// Starts a child from the supervisor actor's context.
#[message(ret = ChildId)]
struct Start(ChildSpec);

impl Handler<Start> for Boss {
    async fn handle(&mut self, msg: Start, ctx: &mut ActorContext<Self>) -> HandlerResult<ChildId> {
        Ok(ctx.supervise(msg.0).await?)
    }
}

#[tokio::test(start_paused = true)]
async fn a_supervisor_actor_manages_its_children_from_its_handle_and_its_context() {
    let sys = system("manage-boss");
    let (etx, mut events) = mpsc::unbounded_channel();
    let boss = Boss.spawn().on_system(&sys).supervised().await.unwrap();
    let spec = ChildSpec::actor("w", worker_factory(etx, None));
    let nobody = ChildKey::Addr(boss.addr());
    assert_eq!(
        boss.terminate_child(nobody).await,
        Err(SupervisorError::UnknownChild(nobody))
    );
    let w = boss.send(Start(spec)).await.unwrap();
    assert_eq!(line(&mut events).await, "w started #1");
    assert_eq!(
        boss.delete_child(w).await,
        Err(SupervisorError::Running(ChildKey::Id(w)))
    );
    let counts = boss.send(TerminateAll).await.unwrap();
    assert_eq!(line(&mut events).await, "w stopped: shutdown");
    assert_eq!(counts.active, 0);
    assert_eq!(counts.specs, 1);
    boss.restart_child(w).await.unwrap();
    assert_eq!(line(&mut events).await, "w started #2");
    assert_eq!(boss.count_children().await.unwrap().active, 1);
    boss.stop_child(w).await.unwrap();
    assert_eq!(line(&mut events).await, "w stopped: shutdown");
    assert_eq!(boss.count_children().await.unwrap().specs, 0);
    sys.shutdown().await;
}
