//! A group mounted by a topology takes messages from the moment its
//! supervisor is prepared, before that supervisor runs.

use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use tokio::sync::oneshot;

use super::{GroupRuntime, GroupSupervisor};
use crate::addr::Addr;
use crate::envelope::{Envelope, TraceId};
use crate::message::Message;
use crate::{ActorGroup, ActorSystem};

struct Job(u32);
impl Message for Job {
    const NAME: &'static str = "test::Job";
    type Response = ();
    fn __try_clone(&self) -> Option<Self> {
        None
    }
}

/// Before the fix, a topology started its groups one by one: the actor of
/// a group started first could send to a group declared after it whose
/// supervisor did not exist yet, and the message became a dead letter
/// while its sender was told it was delivered (the guide's topology
/// example failed about one run in fifty that way). Now every supervisor
/// is prepared first: a message that reaches a group whose supervisor has
/// not run yet starts the group's actor, which the supervisor adopts when
/// it runs.
#[tokio::test]
async fn a_prepared_group_takes_messages_before_its_supervisor_runs() {
    let system = ActorSystem::create("prepared-group").expect("a system");
    let (tx, rx) = oneshot::channel::<u32>();
    let tx = Arc::new(Mutex::new(Some(tx)));
    let schema = ActorGroup::new().exec(move |mut ctx| {
        let tx = tx.clone();
        async move {
            while let Some(envelope) = ctx.recv().await {
                if let Some(Job(n)) = envelope.message::<Job>() {
                    if let Some(tx) = tx.lock().take() {
                        let _ = tx.send(*n);
                    }
                }
            }
        }
    });
    let group = GroupRuntime::new("workers".into(), schema, system.clone());
    system.mount("workers".to_owned(), group.clone());

    let supervisor = GroupSupervisor::prepare_root(&group);
    let env = Envelope::new(Job(7), Addr::NULL, TraceId::generate());
    group
        .deliver_routed(env)
        .await
        .expect("taken before the supervisor runs");
    let actor = group
        .actor("_".into())
        .expect("the message started the actor");
    assert_eq!(actor.mailbox.len() + actor.mailbox.taken() as usize, 1);

    GroupSupervisor::start_root(&group, supervisor.clone()).expect("started");
    let seen = tokio::time::timeout(Duration::from_secs(10), rx)
        .await
        .expect("handled within 10 s")
        .expect("the actor answers");
    assert_eq!(seen, 7);
    // The supervisor adopted the actor the message started, and started no
    // other for the same key.
    assert_eq!(supervisor.child_count(), 1);
    assert_eq!(group.actor("_".into()).map(|a| a.addr), Some(actor.addr));
    system.shutdown().await;
}

/// Before the fix, a message to a group whose supervisor was gone (the
/// system shut it down, or it gave up) became a dead letter while its sender
/// was told it was delivered. Now the group refuses it as a dead actor's
/// mailbox does: a tell gets `Closed`, a request `Gone`.
#[tokio::test]
async fn a_group_whose_supervisor_is_gone_refuses_messages() {
    use crate::{RequestError, SendError};

    struct Ask;
    impl Message for Ask {
        const NAME: &'static str = "test::Ask";
        type Response = u32;
        fn __try_clone(&self) -> Option<Self> {
            None
        }
    }

    let system = ActorSystem::create("gone-group").expect("a system");
    let schema = ActorGroup::new().exec(|mut ctx| async move {
        while let Some(envelope) = ctx.recv().await {
            drop(envelope);
        }
    });
    let group = GroupRuntime::new("workers".into(), schema, system.clone());
    system.mount("workers".to_owned(), group.clone());
    let supervisor = GroupSupervisor::prepare_root(&group);
    GroupSupervisor::start_root(&group, supervisor.clone()).expect("started");
    let handle = system.group("workers").expect("mounted");
    handle
        .notify(Job(1))
        .await
        .expect("a running group takes it");

    system.shutdown().await;
    assert!(
        !supervisor.is_alive(),
        "the shutdown stopped the supervisor"
    );
    assert!(matches!(
        handle.notify(Job(2)).await,
        Err(SendError::Closed(Job(2)))
    ));
    assert!(matches!(
        handle.try_notify(Job(3)),
        Err(SendError::Closed(Job(3)))
    ));
    let asked = tokio::time::timeout(Duration::from_secs(10), handle.send(Ask))
        .await
        .expect("answered at once");
    assert!(matches!(asked, Err(RequestError::Gone { .. })), "{asked:?}");
}
