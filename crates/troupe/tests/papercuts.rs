//! Small things a newcomer meets in the first hour: an `exec` that never
//! returns compiles, and the prelude covers the common path.

use std::time::Duration;

use troupe::prelude::*;

#[message(ret = u32)]
struct Get;

fn start(schema: Schema) -> (ActorSystem, GroupRef) {
    let topology = Topology::empty();
    topology.local("g").mount(schema);
    let system = troupe::init::try_start(topology).expect("the topology starts");
    let group = system.group("g").expect("the group is mounted");
    (system, group)
}

/// `|_| async { panic!() }` has the output type `!`: it compiles, and the
/// failure is reported like any other (the request resolves with an error).
#[tokio::test]
async fn exec_that_panics_compiles_and_fails() {
    let schema = ActorGroup::new()
        .restart_policy(RestartPolicy::never())
        .exec(|_| async { panic!("boom") });
    let (system, group) = start(schema);
    let answer = tokio::time::timeout(Duration::from_secs(5), group.send(Get))
        .await
        .expect("the request resolves");
    assert!(answer.is_err(), "{answer:?}");
    system.shutdown().await;
}

/// A `loop` without `break` never returns either.
#[tokio::test]
async fn exec_that_loops_forever_compiles() {
    let schema = ActorGroup::new().exec(|mut ctx| async move {
        loop {
            let Some(envelope) = ctx.recv().await else {
                // The mailbox is closed: wait to be stopped.
                std::future::pending::<()>().await;
                continue;
            };
            msg!(match envelope {
                (Get, token) => {
                    ctx.respond(token, 7);
                }
            })
        }
    });
    let (system, group) = start(schema);
    assert_eq!(group.send(Get).await, Ok(7));
    let report = system.shutdown_with(Duration::from_millis(100)).await;
    assert_eq!(report.actors.len(), 2); // the group's supervisor and its actor
}

/// What the README's supervision section uses comes with the prelude.
#[tokio::test]
async fn prelude_covers_supervision_and_errors() {
    struct Worker;
    impl Actor for Worker {}
    struct Sup;
    impl Actor for Sup {
        async fn pre_start(&mut self, ctx: &mut ActorContext<Self>) -> HandlerResult {
            ctx.spawn_child(|| Worker)
                .named("worker")
                .restart_type(RestartType::Transient)
                .await?;
            Ok(())
        }
    }
    let system = ActorSystem::isolated();
    let config: SupervisorConfig =
        SupervisorConfig::one_for_all().max_restarts(5, Duration::from_secs(10));
    let sup = Sup
        .spawn()
        .named("sup")
        .with_supervision(config)
        .on_system(&system)
        .await
        .expect("the supervisor starts");
    let taken: SpawnError = Sup
        .spawn()
        .named("sup")
        .on_system(&system)
        .await
        .expect_err("the name is taken");
    assert_eq!(taken, SpawnError::NameTaken("sup".into()));
    let missing: StopError = system.stop("nobody").await.expect_err("no such actor");
    assert_eq!(missing, StopError::NotFound("nobody".into()));
    let status: ActorStatus = sup.get_status().await.expect("a status");
    assert_eq!(status.lifecycle, Lifecycle::Running);
    assert_eq!(status.children, 1);
    assert!(system.shutdown().await.all_stopped());
}
