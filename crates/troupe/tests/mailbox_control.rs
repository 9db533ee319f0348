//! Mailbox control at run time, as elfo's tests drive it (a proxy of the
//! test kit, a paused clock): an actor sets its own mailbox capacity
//! (`set_mailbox_capacity`), and the `unbounded_send` escape hatch passes
//! a full mailbox, in order, but not a closed one.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use troupe::prelude::*;
use troupe::testkit::Proxy;
use troupe::{assert_msg, ActorConfig};

/// Sets the actor's mailbox capacity; answers the capacity in force.
#[message(ret = usize)]
struct SetCapacity(usize);

/// The actor says `Holding`, then waits for the gate before it goes on.
#[message]
struct Hold;

/// As `Hold`; once the gate opens, the actor grows its mailbox to this
/// capacity, says `Grown`, and waits for the gate again.
#[message]
struct HoldThenGrow(usize);

#[message]
struct Holding;

#[message]
struct Grown;

#[message]
#[derive(Debug, PartialEq)]
struct Item(u32);

#[message]
#[derive(Debug, PartialEq)]
struct Seen(u32);

/// Sends `Out` messages through the topology with `try_send` until one is
/// refused as `Full`, then that one with `unbounded_send`; answers how
/// many went before it (or `None` if something else happened).
#[message(ret = Option<u32>)]
struct Flood;

/// As `Flood`, by address to `to`; then an unbounded send to `gone` (a
/// process that exited): answers whether it was refused as `Closed` too.
#[message(ret = (Option<u32>, bool))]
struct FloodTo {
    to: Addr,
    gone: Addr,
}

#[message]
#[derive(Debug, PartialEq)]
struct Out(u32);

/// More than any mailbox holds here: a flood that never fills one fails.
const FLOOD_LIMIT: u32 = 10_000;

fn worker(gate: Arc<Notify>) -> Schema {
    ActorGroup::new().exec(move |mut ctx| {
        let gate = gate.clone();
        async move {
            while let Some(envelope) = ctx.recv().await {
                msg!(match envelope {
                    (SetCapacity(n), token) => {
                        let now = ctx.set_mailbox_capacity(n);
                        ctx.respond(token, now);
                    }
                    Hold => {
                        let _ = ctx.send(Holding).await;
                        gate.notified().await;
                    }
                    HoldThenGrow(n) => {
                        let _ = ctx.send(Holding).await;
                        gate.notified().await;
                        ctx.set_mailbox_capacity(n);
                        let _ = ctx.send(Grown).await;
                        gate.notified().await;
                    }
                    Item(n) => {
                        let _ = ctx.send(Seen(n)).await;
                    }
                    (Flood, token) => {
                        let mut sent = 0;
                        let answer = loop {
                            match ctx.try_send(Out(sent)) {
                                Ok(()) if sent < FLOOD_LIMIT => sent += 1,
                                Err(SendError::Full(Out(n))) => {
                                    break ctx.unbounded_send(Out(n)).ok().map(|()| n);
                                }
                                _ => break None,
                            }
                        };
                        ctx.respond(token, answer);
                    }
                    (FloodTo { to, gone }, token) => {
                        let mut sent = 0;
                        let full = loop {
                            match now_or_never(ctx.send_to(to, Out(sent))) {
                                Some(Ok(())) if sent < FLOOD_LIMIT => sent += 1,
                                None => break true, // it would wait: full
                                _ => break false,
                            }
                        };
                        let answer = full
                            .then(|| ctx.unbounded_send_to(to, Out(sent)).ok().map(|()| sent))
                            .flatten();
                        let refused = matches!(
                            ctx.unbounded_send_to(gone, Out(0)),
                            Err(SendError::Closed(_))
                        );
                        ctx.respond(token, (answer, refused));
                    }
                })
            }
        }
    })
}

/// The output of `fut` if it is ready at its first poll; `None` if it
/// would wait (a `send_to` into a full mailbox: it is dropped unsent).
fn now_or_never<F: std::future::Future>(fut: F) -> Option<F::Output> {
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match std::pin::pin!(fut).poll(&mut cx) {
        std::task::Poll::Ready(out) => Some(out),
        std::task::Poll::Pending => None,
    }
}

/// Asserts that the next envelope the proxy gets is `Seen(n)`.
async fn expect_seen(proxy: &mut Proxy, n: u32) {
    let got = proxy.recv().await.downcast::<Seen>().ok();
    assert_eq!(got, Some(Seen(n)));
}

/// Asserts that the next envelope the proxy gets is `Out(n)`.
async fn expect_out(proxy: &mut Proxy, n: u32) {
    let got = proxy.recv().await.downcast::<Out>().ok();
    assert_eq!(got, Some(Out(n)));
}

#[tokio::test(start_paused = true)]
async fn a_smaller_capacity_refuses_the_next_try_send() {
    let gate = Arc::new(Notify::new());
    let mut proxy = Proxy::start(worker(gate.clone())).await.unwrap();
    let group = proxy.system().group("subject").unwrap();
    assert_eq!(proxy.request(SetCapacity(2)).await, Ok(2));
    proxy.send(Hold).await.unwrap();
    assert_msg!(proxy.recv().await, Holding);

    // The actor is held: its mailbox fills up to the capacity it set.
    group.try_notify(Item(1)).unwrap();
    group.try_notify(Item(2)).unwrap();
    assert!(matches!(
        group.try_notify(Item(3)),
        Err(SendError::Full(Item(3)))
    ));

    gate.notify_one();
    expect_seen(&mut proxy, 1).await;
    expect_seen(&mut proxy, 2).await;
    proxy.sync().await.unwrap();
    assert!(proxy.try_recv().is_none(), "the refused item never came");
    proxy.finish().await;
}

#[tokio::test(start_paused = true)]
async fn a_larger_capacity_lets_waiting_senders_in() {
    let gate = Arc::new(Notify::new());
    let mut proxy = Proxy::start(worker(gate.clone())).await.unwrap();
    let group = proxy.system().group("subject").unwrap();
    assert_eq!(proxy.request(SetCapacity(1)).await, Ok(1));
    proxy.send(HoldThenGrow(4)).await.unwrap();
    assert_msg!(proxy.recv().await, Holding);
    group.try_notify(Item(1)).unwrap();

    // Full: this sender waits (the paused clock runs on, nothing changes).
    let waiting = {
        let group = group.clone();
        tokio::spawn(async move { group.notify(Item(2)).await })
    };
    let mut waiting = waiting;
    assert!(
        tokio::time::timeout(Duration::from_secs(60), &mut waiting)
            .await
            .is_err(),
        "a full mailbox makes the sender wait"
    );

    // The actor, still held, grows its mailbox: the sender gets in.
    gate.notify_one();
    assert_msg!(proxy.recv().await, Grown);
    let sent = tokio::time::timeout(Duration::from_secs(60), waiting)
        .await
        .expect("growing the mailbox lets the waiting sender in")
        .unwrap();
    assert!(sent.is_ok());
    group.try_notify(Item(3)).unwrap();

    gate.notify_one();
    for n in 1..=3 {
        expect_seen(&mut proxy, n).await;
    }
    proxy.finish().await;
}

#[tokio::test(start_paused = true)]
async fn unbounded_send_passes_a_full_mailbox_in_order() {
    let mut proxy = Proxy::start(worker(Arc::new(Notify::new()))).await.unwrap();
    // The proxy does not take its mail while it waits for this answer:
    // the actor fills the proxy's mailbox, then sends one more, unbounded.
    let last = proxy.request(Flood).await.unwrap().expect("a full mailbox");
    assert!(last > 0);
    for n in 0..=last {
        expect_out(&mut proxy, n).await;
    }
    proxy.sync().await.unwrap();
    assert!(proxy.try_recv().is_none());
    proxy.finish().await;
}

struct Idle;
impl Actor for Idle {}

#[tokio::test(start_paused = true)]
async fn unbounded_send_to_passes_a_full_mailbox_but_not_a_closed_one() {
    let mut proxy = Proxy::start(worker(Arc::new(Notify::new()))).await.unwrap();
    let gone = Idle.spawn().on_system(proxy.system()).await.unwrap();
    let gone_addr = gone.addr();
    gone.stop(StopReason::Graceful).await.unwrap();

    let to = proxy.addr();
    let (last, refused) = proxy
        .request(FloodTo {
            to,
            gone: gone_addr,
        })
        .await
        .unwrap();
    let last = last.expect("a full mailbox");
    assert!(refused, "a closed mailbox refuses an unbounded send");
    for n in 0..=last {
        expect_out(&mut proxy, n).await;
    }
    proxy.finish().await;
}

#[message]
struct Block;

#[message]
#[derive(Debug)]
struct Note(u32);

/// A struct actor that blocks on `Block` until the gate opens, and
/// reports each `Note` it handles.
struct Notes {
    gate: Arc<Notify>,
    seen: tokio::sync::mpsc::UnboundedSender<u32>,
}
impl Actor for Notes {}
impl Handler<Block> for Notes {
    async fn handle(&mut self, _: Block, _: &mut ActorContext<Self>) -> HandlerResult {
        let _ = self.seen.send(0); // blocked: its mailbox is empty
        self.gate.notified().await;
        Ok(())
    }
}
impl Handler<Note> for Notes {
    async fn handle(&mut self, Note(n): Note, _: &mut ActorContext<Self>) -> HandlerResult {
        let _ = self.seen.send(n);
        Ok(())
    }
}

#[tokio::test(start_paused = true)]
async fn notify_unbounded_passes_a_full_mailbox_of_a_struct_actor() {
    let gate = Arc::new(Notify::new());
    let (seen, mut notes) = tokio::sync::mpsc::unbounded_channel();
    let actor = Notes {
        gate: gate.clone(),
        seen,
    }
    .spawn()
    .with_config(ActorConfig::default().with_mailbox_capacity(1))
    .await
    .unwrap();
    actor.notify(Block).await.unwrap();
    let blocked = tokio::time::timeout(Duration::from_secs(5), notes.recv()).await;
    assert_eq!(blocked.unwrap(), Some(0));
    actor.try_notify(Note(1)).unwrap();
    assert!(matches!(actor.try_notify(Note(2)), Err(SendError::Full(_))));
    actor.notify_unbounded(Note(2)).unwrap();
    actor.notify_unbounded(Note(3)).unwrap();
    assert_eq!(actor.mailbox_len(), 3, "past its capacity");

    gate.notify_one();
    for n in 1..=3 {
        let got = tokio::time::timeout(Duration::from_secs(5), notes.recv()).await;
        assert_eq!(got.unwrap(), Some(n));
    }
    actor.stop(StopReason::Graceful).await.unwrap();
    assert!(matches!(
        actor.notify_unbounded(Note(4)),
        Err(SendError::Closed(_))
    ));
}
