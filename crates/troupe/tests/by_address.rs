//! The receiver picks the handler: envelopes that reach a struct actor by
//! address alone (`send_to`, `request_to`) run its `Handler<M>` when it
//! declares `M` with `handles!`, and become dead letters (`Unhandled`)
//! when it does not.

use std::time::Duration;

use tokio::sync::mpsc;
use troupe::prelude::*;
use troupe::{init, DeadLetterReason};

const BOUND: Duration = Duration::from_secs(5);

#[message]
struct Put(u32);

#[message(ret = u32)]
struct Get;

#[message(ret = u32)]
struct NotDeclared;

#[message]
struct Go(Addr);

#[derive(Default)]
struct Store {
    value: u32,
}

impl Actor for Store {
    troupe::handles!(Put, Get);
}

impl Handler<Put> for Store {
    async fn handle(&mut self, msg: Put, _: &mut ActorContext<Self>) -> HandlerResult {
        self.value += msg.0;
        Ok(())
    }
}

impl Handler<Get> for Store {
    async fn handle(&mut self, _: Get, _: &mut ActorContext<Self>) -> HandlerResult<u32> {
        Ok(self.value)
    }
}

/// `NotDeclared` has a handler, but is not in `handles!`: a typed handle
/// reaches it, an address does not.
impl Handler<NotDeclared> for Store {
    async fn handle(&mut self, _: NotDeclared, _: &mut ActorContext<Self>) -> HandlerResult<u32> {
        Ok(7)
    }
}

type Outcomes = (Result<u32, RequestError>, Result<u32, RequestError>);

#[tokio::test]
async fn a_struct_actor_handles_messages_and_requests_sent_by_address() {
    let (tx, mut rx) = mpsc::unbounded_channel::<Outcomes>();
    let schema = ActorGroup::new().exec(move |mut ctx| {
        let tx = tx.clone();
        async move {
            while let Some(envelope) = ctx.recv().await {
                msg!(match envelope {
                    Go(store) => {
                        ctx.send_to(store, Put(3)).await.unwrap();
                        ctx.send_to(store, Put(4)).await.unwrap();
                        let got = ctx.request_to(store, Get).resolve().await;
                        let undeclared = ctx.request_to(store, NotDeclared).resolve().await;
                        let _ = tx.send((got, undeclared));
                    }
                })
            }
        }
    });
    let topology = Topology::empty();
    topology.local("client").mount(schema);
    let system = init::try_start(topology).unwrap();
    let mut dead = system.dead_letters();
    let store = Store::default().spawn().on_system(&system).await.unwrap();
    let client = system.group("client").unwrap();
    client.notify(Go(store.addr())).await.unwrap();
    let (got, undeclared) = tokio::time::timeout(BOUND, rx.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got, Ok(7));
    assert_eq!(
        undeclared,
        Err(RequestError::Unhandled(<NotDeclared as Message>::NAME))
    );
    let letter = tokio::time::timeout(BOUND, dead.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(letter.reason, DeadLetterReason::Unhandled);
    assert_eq!(letter.recipient, store.addr());
    // The typed handle reaches every handler, declared or not.
    assert_eq!(store.send(NotDeclared).await, Ok(7));
    assert_eq!(store.send(Get).await, Ok(7));
    system.shutdown().await;
}

#[message]
struct Start;

#[tokio::test]
async fn a_struct_actor_group_handles_what_a_topology_route_sends_it() {
    let (tx, mut rx) = mpsc::unbounded_channel::<Outcomes>();
    let client = ActorGroup::new().exec(move |mut ctx| {
        let tx = tx.clone();
        async move {
            while let Some(envelope) = ctx.recv().await {
                msg!(match envelope {
                    Start => {
                        ctx.send(Put(2)).await.unwrap();
                        ctx.send(Put(5)).await.unwrap();
                        let got = ctx.request(Get).resolve().await;
                        let undeclared = ctx.request(NotDeclared).resolve().await;
                        let _ = tx.send((got, undeclared));
                    }
                })
            }
        }
    });
    let topology = Topology::empty();
    let clients = topology.local("clients");
    let stores = topology.local("stores");
    clients.route_to(&stores, |_| true);
    clients.mount(client);
    stores.mount(ActorGroup::new().actor(|_key| Store::default()));
    let system = init::try_start(topology).unwrap();
    system
        .group("clients")
        .unwrap()
        .notify(Start)
        .await
        .unwrap();
    let (got, undeclared) = tokio::time::timeout(BOUND, rx.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got, Ok(7));
    assert_eq!(
        undeclared,
        Err(RequestError::Unhandled(<NotDeclared as Message>::NAME))
    );
    // A group handle reaches the struct actor too.
    assert_eq!(system.group("stores").unwrap().send(Get).await, Ok(7));
    let report = system.shutdown().await;
    assert!(report.all_stopped());
}
