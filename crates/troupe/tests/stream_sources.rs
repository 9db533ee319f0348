//! Streams built from a generator (`add_generator`), streams of `Result`s
//! whose both sides are messages (`add_result_stream`), and the trace id
//! that every attached stream's items and events keep: the trace of the
//! scope that attached it.
//!
//! Written as elfo's own stream tests are: a group under the test kit's
//! proxy, on paused Tokio time; one struct actor shows the same through
//! its handlers.

use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::{sleep, timeout};
use troupe::prelude::*;
use troupe::testkit::Proxy;
use troupe::{StreamId, TraceId};

fn ms(millis: u64) -> Duration {
    Duration::from_millis(millis)
}

#[message]
#[derive(Debug, PartialEq)]
struct OneProduced(u32);

#[message]
#[derive(Debug, PartialEq)]
struct TwoProduced(u32);

/// What the group saw of a stream's end: its id and the active streams
/// then.
#[message]
#[derive(Debug, PartialEq)]
struct Ended(StreamId, usize);

#[tokio::test(start_paused = true)]
async fn a_generator_emits_messages_of_several_types_then_ends() {
    let group = ActorGroup::new().exec(|mut ctx| async move {
        let id = ctx.add_generator(|e| async move {
            e.emit(OneProduced(0)).await;
            e.emit(OneProduced(1)).await;
            e.emit(TwoProduced(2)).await;
            e.emit(TwoProduced(3)).await;
        });
        assert_eq!(ctx.active_stream_count(), 1);
        while let Some(envelope) = ctx.recv().await {
            msg!(match envelope {
                OneProduced(no) => {
                    let _ = ctx.send(OneProduced(no)).await;
                }
                TwoProduced(no) => {
                    let _ = ctx.send(TwoProduced(no)).await;
                }
                StreamEvent::Finished(ended) => {
                    assert_eq!(ended, id);
                    let _ = ctx.send(Ended(ended, ctx.active_stream_count())).await;
                }
            })
        }
    });
    let mut proxy = Proxy::start(group).await.unwrap();
    troupe::assert_msg!(proxy.recv().await, OneProduced(0));
    troupe::assert_msg!(proxy.recv().await, OneProduced(1));
    troupe::assert_msg!(proxy.recv().await, TwoProduced(2));
    troupe::assert_msg!(proxy.recv().await, TwoProduced(3));
    troupe::assert_msg!(proxy.recv().await, Ended(_, 0));
    proxy.sync().await.unwrap();
    assert!(proxy.try_recv().is_none(), "one end, nothing after it");
}

#[message]
struct Start {
    group: u64,
    count: u32,
}

#[message]
#[derive(Debug, PartialEq)]
struct Produced {
    group: u64,
    no: u32,
}

#[message]
struct Stop(u64);

/// elfo's `from_futures03` and `terminate` tests, with generators: each
/// `Start` attaches one that emits `count` messages (or forever for 0),
/// one every `group` ms; `Stop` cancels it.
fn producers(dropped: mpsc::UnboundedSender<u64>) -> Schema {
    ActorGroup::new().exec(move |mut ctx| {
        let dropped = dropped.clone();
        async move {
            let mut ids = std::collections::HashMap::new();
            while let Some(envelope) = ctx.recv().await {
                msg!(match envelope {
                    Start { group, count } => {
                        let guard = Dropped(group, dropped.clone());
                        let id = ctx.add_generator(move |e| async move {
                            let _guard = guard;
                            let mut no = 0;
                            while count == 0 || no < count {
                                sleep(ms(group)).await;
                                e.emit(Produced { group, no }).await;
                                no += 1;
                            }
                        });
                        ids.insert(group, id);
                    }
                    Stop(group) => {
                        let cancelled = ids.remove(&group).is_some_and(|id| ctx.cancel_stream(id));
                        assert!(cancelled, "an active generator");
                    }
                    Produced { group, no } => {
                        let _ = ctx.send(Produced { group, no }).await;
                    }
                    StreamEvent::Finished(_) => {}
                })
            }
        }
    })
}

/// Says when it is dropped: the generator of this group holding it was.
struct Dropped(u64, mpsc::UnboundedSender<u64>);

impl Drop for Dropped {
    fn drop(&mut self) {
        let _ = self.1.send(self.0);
    }
}

fn produced(group: u64, no: u32) -> Produced {
    Produced { group, no }
}

async fn expect(proxy: &mut Proxy, want: Produced) {
    let envelope = proxy.recv().await;
    assert_eq!(envelope.message::<Produced>(), Some(&want));
}

#[tokio::test(start_paused = true)]
async fn generators_interleave_in_time_as_their_messages_come() {
    let (dropped, _) = mpsc::unbounded_channel();
    let mut proxy = Proxy::start(producers(dropped)).await.unwrap();
    proxy
        .send(Start {
            group: 11,
            count: 4,
        })
        .await
        .unwrap();
    proxy
        .send(Start {
            group: 35,
            count: 3,
        })
        .await
        .unwrap();
    proxy
        .send(Start {
            group: 49,
            count: 2,
        })
        .await
        .unwrap();
    for want in [
        produced(11, 0), // 11
        produced(11, 1), // 22
        produced(11, 2), // 33
        produced(35, 0), // 35
        produced(11, 3), // 44
        produced(49, 0), // 49
        produced(35, 1), // 70
        produced(49, 1), // 98
        produced(35, 2), // 105
    ] {
        expect(&mut proxy, want).await;
    }
}

#[tokio::test(start_paused = true)]
async fn a_cancelled_generator_sends_nothing_more_and_is_dropped() {
    let (tx, mut dropped) = mpsc::unbounded_channel();
    let mut proxy = Proxy::start(producers(tx)).await.unwrap();
    proxy
        .send(Start {
            group: 11,
            count: 0,
        })
        .await
        .unwrap();
    proxy
        .send(Start {
            group: 23,
            count: 0,
        })
        .await
        .unwrap();
    expect(&mut proxy, produced(11, 0)).await; // 11
    expect(&mut proxy, produced(11, 1)).await; // 22
    expect(&mut proxy, produced(23, 0)).await; // 23
    assert!(dropped.try_recv().is_err(), "both generators run");
    proxy.send(Stop(11)).await.unwrap();
    let first = timeout(Duration::from_secs(5), dropped.recv()).await;
    assert_eq!(first, Ok(Some(11)), "the cancelled generator is dropped");
    expect(&mut proxy, produced(23, 1)).await; // 46, not 11's 33 or 44
    proxy.send(Stop(23)).await.unwrap();
    proxy.sync().await.unwrap();
    sleep(ms(100)).await;
    assert!(proxy.try_recv().is_none(), "cancelled: no end either");
}

#[tokio::test(start_paused = true)]
async fn a_generator_that_panics_ends_with_an_error_then_its_end() {
    let group = ActorGroup::new().exec(|mut ctx| async move {
        let id = ctx.add_generator(|e| async move {
            e.emit(OneProduced(0)).await;
            panic!("generator broke");
        });
        while let Some(envelope) = ctx.recv().await {
            msg!(match envelope {
                OneProduced(no) => {
                    let _ = ctx.send(OneProduced(no)).await;
                }
                StreamEvent::Error(failed, error) => {
                    assert_eq!(failed, id);
                    assert!(error.to_string().contains("generator broke"), "{error}");
                    let _ = ctx.send(TwoProduced(0)).await;
                }
                StreamEvent::Finished(ended) => {
                    let _ = ctx.send(Ended(ended, ctx.active_stream_count())).await;
                }
            })
        }
    });
    let mut proxy = Proxy::start(group).await.unwrap();
    troupe::assert_msg!(proxy.recv().await, OneProduced(0));
    troupe::assert_msg!(proxy.recv().await, TwoProduced(0));
    troupe::assert_msg!(proxy.recv().await, Ended(_, 0));
    // The actor goes on: a generator's failure is not the actor's.
    assert!(proxy.actor_addr("_").is_some());
}

#[message]
struct Fetch {
    no: u64,
    fail: bool,
}

#[message]
#[derive(Debug, PartialEq)]
struct Success(u64);

#[message]
#[derive(Debug, PartialEq)]
struct Failure(u64);

/// elfo's `result` test: an `Ok` arrives as its message, an `Err` as its
/// own message, not wrapped, and the stream goes on after an `Err`.
#[tokio::test(start_paused = true)]
async fn results_arrive_as_their_own_messages() {
    let group = ActorGroup::new().exec(|mut ctx| async move {
        while let Some(envelope) = ctx.recv().await {
            msg!(match envelope {
                Fetch { no, fail } => {
                    let item = if fail {
                        Err(Failure(no))
                    } else {
                        Ok(Success(no))
                    };
                    let late = Ok::<_, Failure>(Success(no + 1));
                    ctx.add_result_stream(tokio_stream::iter([item, late]));
                }
                Success(no) => {
                    let _ = ctx.send(Success(no)).await;
                }
                Failure(no) => {
                    let _ = ctx.send(Failure(no)).await;
                }
                StreamEvent::Finished(ended) => {
                    let _ = ctx.send(Ended(ended, ctx.active_stream_count())).await;
                }
            })
        }
    });
    let mut proxy = Proxy::start(group).await.unwrap();
    proxy
        .send(Fetch {
            no: 10,
            fail: false,
        })
        .await
        .unwrap();
    troupe::assert_msg!(proxy.recv().await, Success(10));
    troupe::assert_msg!(proxy.recv().await, Success(11));
    troupe::assert_msg!(proxy.recv().await, Ended(_, 0));
    proxy.send(Fetch { no: 20, fail: true }).await.unwrap();
    troupe::assert_msg!(proxy.recv().await, Failure(20));
    troupe::assert_msg!(proxy.recv().await, Success(21));
    troupe::assert_msg!(proxy.recv().await, Ended(_, 0));
}

/// Which kind of stream to attach.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Messages,
    Items,
    Try,
    Results,
    Generator,
}

#[message]
struct AttachOne(Kind);

/// The trace of the envelope that attached a stream of `Kind`.
#[message]
#[derive(Debug)]
struct Attached(Kind, TraceId);

/// The trace of an item or event the group got from a stream of `Kind`
/// (`what` says which).
#[message]
#[derive(Debug)]
struct Got(Kind, &'static str, TraceId);

#[message]
struct Item(Kind);

#[message]
struct Bad(Kind);

/// Attaches one stream of each kind, each from its own envelope (the proxy
/// sends each in a trace of its own), and reports every item's trace.
fn tracer() -> Schema {
    ActorGroup::new().exec(|mut ctx| async move {
        let mut kinds = std::collections::HashMap::new();
        while let Some(envelope) = ctx.recv().await {
            let trace = envelope.trace_id();
            msg!(match envelope {
                AttachOne(kind) => {
                    assert_eq!(ctx.trace_id(), trace);
                    let id = match kind {
                        Kind::Messages => ctx.add_stream(tokio_stream::iter([Item(kind)])),
                        Kind::Items => ctx.add_item_stream(tokio_stream::iter([kind])),
                        Kind::Try => {
                            let items = [Ok(Item(kind)), Err("broken")];
                            ctx.add_try_stream(tokio_stream::iter(items))
                        }
                        Kind::Results => {
                            let items = [Ok(Item(kind)), Err(Bad(kind))];
                            ctx.add_result_stream(tokio_stream::iter(items))
                        }
                        Kind::Generator => ctx.add_generator(move |e| async move {
                            assert_eq!(e.trace_id(), trace);
                            e.emit(Item(kind)).await;
                            e.emit(Bad(kind)).await;
                        }),
                    };
                    kinds.insert(id, kind);
                    let _ = ctx.send(Attached(kind, trace)).await;
                }
                Item(kind) => {
                    let _ = ctx.send(Got(kind, "item", trace)).await;
                }
                StreamItem::<Kind>(kind) => {
                    let _ = ctx.send(Got(kind, "item", trace)).await;
                }
                Bad(kind) => {
                    let _ = ctx.send(Got(kind, "err", trace)).await;
                }
                StreamEvent::Error(id, _) => {
                    let _ = ctx.send(Got(kinds[&id], "error event", trace)).await;
                }
                StreamEvent::Finished(id) => {
                    let _ = ctx.send(Got(kinds[&id], "finished", trace)).await;
                }
            })
        }
    })
}

#[tokio::test(start_paused = true)]
async fn stream_items_and_events_keep_the_trace_of_the_scope_that_attached_them() {
    for (kind, expected) in [
        (Kind::Messages, &["item", "finished"][..]),
        (Kind::Items, &["item", "finished"]),
        (Kind::Try, &["item", "error event", "finished"]),
        (Kind::Results, &["item", "err", "finished"]),
        (Kind::Generator, &["item", "err", "finished"]),
    ] {
        let mut proxy = Proxy::start(tracer()).await.unwrap();
        // Two streams of the kind, attached in two traces.
        proxy.send(AttachOne(kind)).await.unwrap();
        let Attached(of, first) = proxy.recv().await.downcast::<Attached>().unwrap();
        assert_eq!(of, kind);
        let mut seen = Vec::new();
        for _ in expected {
            let Got(of, what, trace) = proxy.recv().await.downcast::<Got>().unwrap();
            assert_eq!((of, trace), (kind, first), "{kind:?} {what}");
            seen.push(what);
        }
        assert_eq!(seen, expected, "{kind:?}");
        proxy.send(AttachOne(kind)).await.unwrap();
        let Attached(_, second) = proxy.recv().await.downcast::<Attached>().unwrap();
        assert_ne!(first, second, "each attach in its own trace");
        for _ in expected {
            let Got(_, what, trace) = proxy.recv().await.downcast::<Got>().unwrap();
            assert_eq!(trace, second, "{kind:?} {what}");
        }
        proxy.finish().await;
    }
}

/// A struct actor: the generator's and the result stream's messages go to
/// its handlers (chosen at compile time), in the trace of the handling
/// that attached them.
struct Worker {
    seen: mpsc::UnboundedSender<(&'static str, u64, TraceId)>,
}

impl Actor for Worker {}

#[message(ret = TraceId)]
struct Begin;

impl Handler<Begin> for Worker {
    async fn handle(&mut self, _: Begin, ctx: &mut ActorContext<Self>) -> HandlerResult<TraceId> {
        ctx.add_generator(|e| async move {
            e.emit(Success(1)).await;
            e.emit(Failure(2)).await;
        });
        ctx.add_result_stream(tokio_stream::iter([Err(Failure(3)), Ok(Success(4))]));
        Ok(ctx.trace_id())
    }
}

impl Handler<Success> for Worker {
    async fn handle(&mut self, Success(n): Success, ctx: &mut ActorContext<Self>) -> HandlerResult {
        let _ = self.seen.send(("success", n, ctx.trace_id()));
        Ok(())
    }
}

impl Handler<Failure> for Worker {
    async fn handle(&mut self, Failure(n): Failure, ctx: &mut ActorContext<Self>) -> HandlerResult {
        let _ = self.seen.send(("failure", n, ctx.trace_id()));
        Ok(())
    }
}

impl Handler<StreamEvent> for Worker {
    async fn handle(&mut self, _: StreamEvent, ctx: &mut ActorContext<Self>) -> HandlerResult {
        let _ = self.seen.send(("end", 0, ctx.trace_id()));
        Ok(())
    }
}

#[tokio::test(start_paused = true)]
async fn a_struct_actor_handles_generated_and_result_messages_in_the_attaching_trace() {
    let system = ActorSystem::create("stream-sources-struct").unwrap();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let worker = Worker { seen: tx }
        .spawn()
        .on_system(&system)
        .await
        .unwrap();
    let trace = worker.send(Begin).await.unwrap();
    let mut got = Vec::new();
    while got.len() < 6 {
        let seen = timeout(Duration::from_secs(5), rx.recv())
            .await
            .expect("a message within the bound")
            .expect("the worker is alive");
        assert_eq!(seen.2, trace, "{seen:?}");
        got.push((seen.0, seen.1));
    }
    // The two streams interleave; each keeps its own order.
    let only = |nos: [u64; 2]| -> Vec<(&str, u64)> {
        got.iter()
            .copied()
            .filter(|(_, n)| nos.contains(n))
            .collect()
    };
    assert_eq!(only([1, 2]), [("success", 1), ("failure", 2)]);
    assert_eq!(only([3, 4]), [("failure", 3), ("success", 4)]);
    assert_eq!(only([0, 0]), [("end", 0), ("end", 0)]);
    system.shutdown().await;
}
