//! A supervisor with many children: temporary children that end are
//! forgotten and the others keep their start order, are found by id and
//! by address, and a plain process restarted at a new address is found at
//! that address (the children's slots are compacted as children come and
//! go; see `core/restart/children.rs`).

use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::timeout;
use troupe::prelude::*;
use troupe::supervision::{
    process_fn, ChildKey, ChildSpec, SupervisionEvent, Supervisor, SupervisorConfig,
    SupervisorError,
};

const BOUND: Duration = Duration::from_secs(10);

#[derive(Default)]
struct Leaf;

impl Actor for Leaf {}

/// Starts `n` more temporary children and hands them out.
#[message(ret = Vec<ActorRef<Leaf>>)]
struct Grow(usize);

#[derive(Default)]
struct Root;

impl Actor for Root {}

impl Handler<Grow> for Root {
    async fn handle(
        &mut self,
        msg: Grow,
        ctx: &mut ActorContext<Self>,
    ) -> HandlerResult<Vec<ActorRef<Leaf>>> {
        let mut grown = Vec::with_capacity(msg.0);
        for _ in 0..msg.0 {
            let leaf = ctx
                .spawn_child(Leaf::default)
                .restart_type(RestartType::Temporary)
                .await?;
            grown.push(leaf);
        }
        Ok(grown)
    }
}

async fn listed(root: &ActorRef<Root>) -> Vec<Addr> {
    let children = timeout(BOUND, root.children()).await.expect("in time");
    children
        .expect("a supervisor")
        .iter()
        .map(|c| c.addr)
        .collect()
}

#[tokio::test]
async fn temporary_children_that_end_are_forgotten_and_the_rest_keep_their_order() {
    let system = ActorSystem::create("many-children").unwrap();
    let root = Root.spawn().on_system(&system).supervised().await.unwrap();
    let first = timeout(BOUND, root.send(Grow(200))).await.unwrap().unwrap();
    // The oldest 150 end one after the other: each exit reaches the root
    // before its stop returns, and the root handles it before the next
    // request on its system channel.
    for leaf in &first[..150] {
        timeout(BOUND, leaf.stop(StopReason::Graceful))
            .await
            .expect("in time")
            .expect("stopped");
    }
    let survivors: Vec<Addr> = first[150..].iter().map(|l| l.addr()).collect();
    assert_eq!(listed(&root).await, survivors);

    // More children join after the many that left (the slots of those
    // are reclaimed now): all are listed in start order.
    let second = timeout(BOUND, root.send(Grow(100))).await.unwrap().unwrap();
    let mut all = survivors.clone();
    all.extend(second.iter().map(|l| l.addr()));
    assert_eq!(listed(&root).await, all);
    let counts = timeout(BOUND, root.count_children())
        .await
        .unwrap()
        .unwrap();
    assert_eq!((counts.specs, counts.active), (150, 150));

    // Found by address and by id after the reclaim.
    let by_addr = second[10].addr();
    timeout(BOUND, root.stop_child(by_addr))
        .await
        .unwrap()
        .unwrap();
    let infos = timeout(BOUND, root.children()).await.unwrap().unwrap();
    let id = infos[0].id;
    assert_eq!(infos[0].addr, survivors[0]);
    timeout(BOUND, root.stop_child(id)).await.unwrap().unwrap();
    let left = listed(&root).await;
    assert_eq!(left.len(), 148);
    assert!(!left.contains(&by_addr) && !left.contains(&survivors[0]));
    assert_eq!(left[0], survivors[1]);
    assert_eq!(
        timeout(BOUND, root.stop_child(by_addr)).await.unwrap(),
        Err(SupervisorError::UnknownChild(ChildKey::Addr(by_addr)))
    );
    timeout(BOUND, root.stop(StopReason::Graceful))
        .await
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn a_plain_process_restarted_at_a_new_address_is_found_there() {
    let system = ActorSystem::create("many-children-plain").unwrap();
    let (events, mut seen) = mpsc::unbounded_channel();
    let config = SupervisorConfig::one_for_one()
        .max_restarts(10, Duration::from_secs(60))
        .observe(events);
    let worker = process_fn("plain", |mut shutdown| async move {
        shutdown.wait_for_shutdown().await;
        Ok(())
    });
    let root = Supervisor::new("root")
        .with_config(config)
        .with_worker(ChildSpec::actor("first", Leaf::default))
        .with_worker(worker)
        .spawn(&system)
        .await
        .unwrap();
    let before = timeout(BOUND, root.children()).await.unwrap().unwrap();
    let old = before[1].addr;
    timeout(BOUND, system.kill_process(old))
        .await
        .expect("in time")
        .expect("killed");
    let new = loop {
        let event = timeout(BOUND, seen.recv()).await.unwrap().unwrap();
        if let SupervisionEvent::Started {
            restart: true,
            addr,
            ..
        } = event
        {
            break addr;
        }
    };
    assert_ne!(new, old);
    assert_eq!(
        timeout(BOUND, root.terminate_child(old)).await.unwrap(),
        Err(SupervisorError::UnknownChild(ChildKey::Addr(old)))
    );
    timeout(BOUND, root.terminate_child(new))
        .await
        .unwrap()
        .expect("found at its new address");
    let after = timeout(BOUND, root.children()).await.unwrap().unwrap();
    assert_eq!(after[1].state, troupe::supervision::ChildState::Terminated);
    root.shutdown().await.unwrap();
}
