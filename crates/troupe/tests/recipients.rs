//! Typed recipients: one `Recipient<Ping>` type for actors of different
//! types and for a group, on the same delivery path as their handles.

use std::time::Duration;

use tokio::time::timeout;
use troupe::prelude::*;
use troupe::{init, SendError, Topology};

const BOUND: Duration = Duration::from_secs(5);

/// Answered with who handled it and how many pings it has had.
#[message(ret = (String, u32))]
struct Ping;

#[message]
struct Tick;

#[derive(Default)]
struct Left(u32);

impl Actor for Left {}

impl Handler<Ping> for Left {
    async fn handle(
        &mut self,
        _: Ping,
        _: &mut ActorContext<Self>,
    ) -> HandlerResult<(String, u32)> {
        self.0 += 1;
        Ok(("left".into(), self.0))
    }
}

impl Handler<Tick> for Left {
    async fn handle(&mut self, _: Tick, _: &mut ActorContext<Self>) -> HandlerResult {
        self.0 += 10;
        Ok(())
    }
}

#[derive(Default)]
struct Right(u32);

impl Actor for Right {}

impl Handler<Ping> for Right {
    async fn handle(
        &mut self,
        _: Ping,
        _: &mut ActorContext<Self>,
    ) -> HandlerResult<(String, u32)> {
        self.0 += 1;
        Ok(("right".into(), self.0))
    }
}

impl Handler<Tick> for Right {
    async fn handle(&mut self, _: Tick, _: &mut ActorContext<Self>) -> HandlerResult {
        self.0 += 10;
        Ok(())
    }
}

/// A component that knows nothing of actor types: it takes anything that
/// takes `Ping`.
async fn ping_all(recipients: &[Recipient<Ping>]) -> Vec<(String, u32)> {
    let mut out = Vec::new();
    for r in recipients {
        out.push(
            timeout(BOUND, r.send(Ping))
                .await
                .expect("in time")
                .expect("answered"),
        );
    }
    out
}

#[tokio::test]
async fn one_recipient_type_delivers_to_two_actor_types() {
    let left = Left::default().spawn().await.unwrap();
    let right = Right::default().spawn().await.unwrap();
    let pings: Vec<Recipient<Ping>> = vec![left.recipient(), right.clone().into()];
    assert_eq!(
        ping_all(&pings).await,
        [("left".to_string(), 1), ("right".to_string(), 1)]
    );

    // Fire-and-forget through recipients of another message type reaches
    // the same actors, in order with what follows on their handles.
    let ticks: Vec<Recipient<Tick>> = vec![left.clone().into(), right.recipient()];
    for t in &ticks {
        t.notify(Tick).await.unwrap();
        t.try_notify(Tick).unwrap();
    }
    assert_eq!(left.send(Ping).await.unwrap(), ("left".to_string(), 22));
    assert_eq!(right.send(Ping).await.unwrap(), ("right".to_string(), 22));

    // A recipient knows the address of the actor behind it, and clones
    // share it.
    assert_eq!(pings[0].addr(), Some(left.addr()));
    assert_eq!(pings[1].clone().addr(), Some(right.addr()));
    assert!(format!("{:?}", pings[0]).contains("Ping"));
}

#[tokio::test]
async fn a_recipient_of_a_stopped_actor_gets_typed_errors() {
    let left = Left::default().spawn().await.unwrap();
    let ping: Recipient<Ping> = left.recipient();
    let tick: Recipient<Tick> = left.recipient();
    assert!(ping.is_alive());
    left.stop(StopReason::Shutdown).await.unwrap();
    assert!(!ping.is_alive());
    assert!(matches!(
        tick.notify(Tick).await,
        Err(SendError::Closed(Tick))
    ));
    assert!(matches!(
        tick.try_notify(Tick),
        Err(SendError::Closed(Tick))
    ));
    assert!(matches!(
        ping.send(Ping).await,
        Err(RequestError::Gone { .. })
    ));
}

#[tokio::test(start_paused = true)]
async fn a_recipient_waits_for_space_within_the_request_deadline() {
    // One slot, taken by a message the actor is slow to handle.
    #[message]
    struct Hold(tokio::sync::oneshot::Receiver<()>);

    #[derive(Default)]
    struct Slow;
    impl Actor for Slow {}
    impl Handler<Hold> for Slow {
        async fn handle(&mut self, msg: Hold, _: &mut ActorContext<Self>) -> HandlerResult {
            let _ = msg.0.await;
            Ok(())
        }
    }
    impl Handler<Ping> for Slow {
        async fn handle(
            &mut self,
            _: Ping,
            _: &mut ActorContext<Self>,
        ) -> HandlerResult<(String, u32)> {
            Ok(("slow".into(), 0))
        }
    }

    let slow = Slow
        .spawn()
        .with_config(ActorConfig::default().with_mailbox_capacity(1))
        .await
        .unwrap();
    let (release, held) = tokio::sync::oneshot::channel();
    let (_keep, queued) = tokio::sync::oneshot::channel();
    slow.notify(Hold(held)).await.unwrap();
    // The handler holds the first message; the second fills the mailbox.
    slow.notify(Hold(queued)).await.unwrap();
    let ping: Recipient<Ping> = slow.recipient();
    assert!(matches!(
        ping.send_timeout(Ping, Some(Duration::from_millis(50)))
            .await,
        Err(RequestError::Timeout(_))
    ));
    drop(release);
    slow.kill().await.unwrap();
}

#[tokio::test]
async fn a_recipient_made_from_a_group_goes_through_its_router() {
    let topology = Topology::empty();
    topology
        .local("echo")
        .mount(ActorGroup::new().exec(|mut ctx| async move {
            let mut n = 0;
            while let Some(envelope) = ctx.recv().await {
                msg!(match envelope {
                    (Ping, token) => {
                        n += 1;
                        ctx.respond(token, ("group".to_string(), n));
                    }
                    Tick => n += 10,
                })
            }
        }));
    let system = init::try_start(topology).unwrap();
    let group = system.group("echo").expect("mounted");
    let ping: Recipient<Ping> = group.recipient();
    let tick: Recipient<Tick> = group.clone().into();
    assert_eq!(ping.addr(), None);
    assert!(ping.is_alive());
    tick.notify(Tick).await.unwrap();
    let left = Left::default().spawn().on_system(&system).await.unwrap();
    let both = vec![ping, left.recipient()];
    assert_eq!(
        ping_all(&both).await,
        [("group".to_string(), 11), ("left".to_string(), 1)]
    );
    timeout(BOUND, system.shutdown()).await.expect("in time");
    assert!(!both[0].is_alive());
}
