//! Streams attached to an actor: every item arrives as a message, and the
//! stream's end as a [`StreamEvent`].
//!
//! ```
//! use troupe::prelude::*;
//! use troupe::StreamEvent;
//!
//! #[message]
//! struct Line(String);
//!
//! #[derive(Default)]
//! struct Collector { lines: Vec<String> }
//!
//! impl Actor for Collector {
//!     async fn pre_start(&mut self, ctx: &mut ActorContext<Self>) -> HandlerResult {
//!         let lines = ["a", "b", "c"].map(|s| Line(s.to_owned()));
//!         ctx.add_stream(tokio_stream::iter(lines));
//!         Ok(())
//!     }
//! }
//!
//! impl Handler<Line> for Collector {
//!     async fn handle(&mut self, line: Line, _: &mut ActorContext<Self>) -> HandlerResult {
//!         self.lines.push(line.0);
//!         Ok(())
//!     }
//! }
//!
//! impl Handler<StreamEvent> for Collector {
//!     async fn handle(&mut self, event: StreamEvent, ctx: &mut ActorContext<Self>) -> HandlerResult {
//!         if let StreamEvent::Finished(_) = event {
//!             assert_eq!(self.lines, ["a", "b", "c"]);
//!             assert_eq!(ctx.active_stream_count(), 0);
//!             ctx.stop();
//!         }
//!         Ok(())
//!     }
//! }
//!
//! # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let collector = Collector::default().spawn().await?;
//! assert_eq!(collector.wait_for_exit().await, ExitReason::Normal);
//! # Ok(()) }
//! ```
//!
//! # Semantics
//! - [`Attach::add_stream`](crate::Attach::add_stream) attaches any
//!   [`Stream`] (the `futures-core` trait, which
//!   `futures` and `tokio-stream` build on) whose items are messages the
//!   actor handles. Each item is sent to the actor by the actor itself, in
//!   stream order.
//! - [`Attach::add_item_stream`](crate::Attach::add_item_stream) attaches a
//!   stream of items of any `Send + 'static` type, messages or not (`i32`,
//!   `String`, a type of another crate): each item `t` arrives as the
//!   message [`StreamItem(t)`](StreamItem), handled with
//!   `Handler<StreamItem<T>>` or matched as `StreamItem::<T>(t)`. Everything
//!   below holds for it too.
//! - [`Attach::add_try_stream`](crate::Attach::add_try_stream) attaches a stream of `Result<T, E>`:
//!   `Ok(t)` arrives as the message `t`, `Err(e)` as
//!   [`StreamEvent::Error`], in order with the items; the stream goes on
//!   (it decides itself whether an error ends it; call
//!   [`ContextCore::cancel_stream`](crate::ContextCore::cancel_stream) to stop it early).
//! - [`Attach::add_result_stream`](crate::Attach::add_result_stream)
//!   attaches a stream of `Result<T, E>` whose both sides are messages
//!   (elfo's `Result` stream items): `Ok(t)` arrives as `t`, `Err(e)` as
//!   `e`, each an ordinary message for its own handler; no wrapper tells
//!   them from messages of other origins. Use it when a failure is a
//!   message of the program's (`FetchFailed`); `add_try_stream` when it is
//!   any error, reported with the stream's id.
//! - [`Attach::add_generator`](crate::Attach::add_generator) attaches a
//!   stream written as an async block (elfo's `Stream::generate`): it gets
//!   an [`Emitter`] and sends messages of any type the actor accepts with
//!   `emitter.emit(msg).await`; its end is the block's. Everything below
//!   holds for it too, each `emit` standing for an item.
//! - Trace: every item and every [`StreamEvent`] of an attached stream
//!   carries the trace id of the scope that attached it (the envelope
//!   being handled then), so what a stream brings is traced back to what
//!   asked for it. (elfo keeps it for `Stream::once` and
//!   `Stream::generate`, and starts a new trace per item of a
//!   `Stream::from_futures03`.)
//! - Unless cancelled, every stream ends with exactly one
//!   [`StreamEvent::Finished`], after its last item. A stream that panics
//!   ends with [`StreamEvent::Error`] (the panic message) then `Finished`.
//! - Backpressure: a stream is polled for its next item only once the
//!   previous one is in the mailbox. Under the default
//!   [`OverflowPolicy::Wait`](crate::OverflowPolicy) a fast stream waits for
//!   space like any sender, so it is never drained faster than the actor
//!   handles it (at most one item is held outside the mailbox). Under a
//!   fail-fast mailbox an item that finds it full is reported as a dead
//!   letter and the stream goes on; under a lossy one the mailbox drops and
//!   reports as it does for any sender.
//! - A stream is *active* until it ends (its `Finished` event is then being
//!   sent; the handler of that event already sees it inactive) or is
//!   cancelled. [`ContextCore::cancel_stream`](crate::ContextCore::cancel_stream) aborts its task (which drops
//!   the stream) and sends no event; items already in the mailbox are still
//!   handled.
//! - Each stream is forwarded by its own Tokio task: about 1 KiB of heap
//!   besides the stream itself (`tests/timer_memory.rs`).
//! - Streams belong to one incarnation: when its run loop ends (stop,
//!   failure, kill) every stream is dropped, with no event, and a restarted
//!   actor attaches its streams again in its own code.
//!
//! # Every kind of actor
//! Streams are written once, over the process core: a struct actor's items
//! go to its `Handler<S::Item>` (checked at compile time), a functional
//! actor's arrive through `recv` (match `StreamEvent::Finished(id)` with
//! `msg!`, and the items of `add_item_stream` as `StreamItem::<T>(t)`).

mod forward;
mod generator;

use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};

use futures_core::Stream;

use super::context::ContextCore;
use super::{Attached, Live};
use crate::addr::Addr;
use crate::core::process::Shared;
use crate::envelope::{Dispatcher, Envelope, TraceId};
use crate::error::BoxError;
use crate::message::Message;
use forward::Forward;
pub use generator::Emitter;
use generator::Generated;

/// Identifies one stream attached to an actor.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StreamId(u64);

impl StreamId {
    fn next() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        StreamId(NEXT.fetch_add(1, Ordering::Relaxed))
    }

    /// The raw value (unique within this OS process).
    pub fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Debug for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StreamId({})", self.0)
    }
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "stream-{}", self.0)
    }
}

/// What happens to an attached stream, as a message to its actor (which
/// handles it with `Handler<StreamEvent>`).
#[derive(Debug)]
#[non_exhaustive]
pub enum StreamEvent {
    /// The stream ended (it returned `None`, or panicked); always its last
    /// message.
    Finished(StreamId),
    /// A stream attached with [`Attach::add_try_stream`](crate::Attach::add_try_stream) yielded an
    /// error, or a stream panicked (the error is the panic message).
    Error(StreamId, BoxError),
}

impl StreamEvent {
    /// The stream this event is about.
    pub fn id(&self) -> StreamId {
        match self {
            StreamEvent::Finished(id) | StreamEvent::Error(id, _) => *id,
        }
    }
}

impl Message for StreamEvent {
    const NAME: &'static str = "troupe::StreamEvent";
    type Response = ();
}

/// One item of a stream of any type, as a message: what
/// [`Attach::add_item_stream`](crate::Attach::add_item_stream) delivers for
/// each item, so that a stream of `i32`, `String` or any other type that
/// is not a [`Message`] (the orphan rule forbids implementing `Message`
/// for a foreign type) can be attached.
///
/// It is a message for every `T: Send + 'static`, with the stable name
/// `"troupe::StreamItem"` whatever `T` (a constant cannot depend on a type
/// parameter's name), and a handler answers `()`. It cannot be copied for a
/// multicast (its `T` may not be `Clone`), which a stream item never needs.
///
/// A struct actor implements `Handler<StreamItem<T>>`; a functional actor
/// matches `StreamItem::<T>(x)` with [`msg!`](crate::msg) (the turbofish
/// names `T`, which the pattern alone does not):
///
/// ```
/// use troupe::prelude::*;
/// use troupe::StreamItem;
///
/// #[derive(Default)]
/// struct Sum { total: i64 }
///
/// impl Actor for Sum {
///     async fn pre_start(&mut self, ctx: &mut ActorContext<Self>) -> HandlerResult {
///         ctx.add_item_stream(tokio_stream::iter([1, 2, 3]));
///         Ok(())
///     }
/// }
///
/// impl Handler<StreamItem<i64>> for Sum {
///     async fn handle(&mut self, StreamItem(n): StreamItem<i64>, _: &mut ActorContext<Self>) -> HandlerResult {
///         self.total += n;
///         Ok(())
///     }
/// }
///
/// impl Handler<StreamEvent> for Sum {
///     async fn handle(&mut self, event: StreamEvent, ctx: &mut ActorContext<Self>) -> HandlerResult {
///         if let StreamEvent::Finished(_) = event {
///             assert_eq!(self.total, 6);
///             ctx.stop();
///         }
///         Ok(())
///     }
/// }
///
/// # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let sum = Sum::default().spawn().await?;
/// assert_eq!(sum.wait_for_exit().await, ExitReason::Normal);
/// # Ok(()) }
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StreamItem<T>(pub T);

impl<T> StreamItem<T> {
    /// The item.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T: Send + 'static> Message for StreamItem<T> {
    const NAME: &'static str = "troupe::StreamItem";
    type Response = ();
}

fn envelope<M: Message>(
    msg: M,
    from: Addr,
    trace: TraceId,
    dispatcher: Option<Dispatcher>,
) -> Envelope {
    let mut env = Envelope::new(msg, from, trace);
    env.0.dispatcher = dispatcher;
    env
}

/// Where an attached stream sends, as what, and how it ends (front-end
/// agnostic): the dispatchers of its items and of its [`StreamEvent`]s
/// (`None` for a functional actor), and the trace all of them carry.
#[derive(Clone, Copy)]
pub(crate) struct Attaching {
    pub(crate) trace: TraceId,
    pub(crate) event: Option<Dispatcher>,
}

/// The streams of one incarnation of a process (front-end agnostic).
/// Empty (one null pointer) until the first stream is attached. Dropping it
/// drops every stream.
#[derive(Default)]
pub(crate) struct Streams(Option<Box<StreamSet>>);

/// The streams themselves, once there is one.
struct StreamSet {
    target: Weak<Shared>,
    addr: Addr,
    set: Attached,
}

impl Streams {
    /// Attaches a stream of messages to the process `shared`; the items'
    /// envelopes carry the dispatcher `item` (`None` for functional
    /// actors).
    pub(crate) fn add<S>(
        &mut self,
        shared: &Arc<Shared>,
        stream: S,
        item: Option<Dispatcher>,
        how: Attaching,
    ) -> StreamId
    where
        S: Stream + Send + 'static,
        S::Item: Message,
    {
        let (addr, trace) = (shared.addr, how.trace);
        let wrap = move |_, msg| envelope(msg, addr, trace, item);
        self.attach(shared, stream, wrap, how)
    }

    /// Attaches a stream of any items, each sent as a [`StreamItem`].
    pub(crate) fn add_items<S>(
        &mut self,
        shared: &Arc<Shared>,
        stream: S,
        item: Option<Dispatcher>,
        how: Attaching,
    ) -> StreamId
    where
        S: Stream + Send + 'static,
        S::Item: Send + 'static,
    {
        let (addr, trace) = (shared.addr, how.trace);
        let wrap = move |_, it| envelope(StreamItem(it), addr, trace, item);
        self.attach(shared, stream, wrap, how)
    }

    /// Attaches a stream of results: `Ok` items as messages, `Err` ones as
    /// [`StreamEvent::Error`].
    pub(crate) fn add_try<S, T, E>(
        &mut self,
        shared: &Arc<Shared>,
        stream: S,
        item: Option<Dispatcher>,
        how: Attaching,
    ) -> StreamId
    where
        S: Stream<Item = Result<T, E>> + Send + 'static,
        T: Message,
        E: Into<BoxError> + Send + 'static,
    {
        let (addr, trace, event) = (shared.addr, how.trace, how.event);
        let wrap = move |id, res: Result<T, E>| match res {
            Ok(msg) => envelope(msg, addr, trace, item),
            Err(e) => envelope(StreamEvent::Error(id, e.into()), addr, trace, event),
        };
        self.attach(shared, stream, wrap, how)
    }

    /// Attaches a stream of results whose both sides are messages: `Ok(t)`
    /// as `t` (dispatcher `ok`), `Err(e)` as `e` (dispatcher `err`).
    pub(crate) fn add_results<S, T, E>(
        &mut self,
        shared: &Arc<Shared>,
        stream: S,
        (ok, err): (Option<Dispatcher>, Option<Dispatcher>),
        how: Attaching,
    ) -> StreamId
    where
        S: Stream<Item = Result<T, E>> + Send + 'static,
        T: Message,
        E: Message,
    {
        let (addr, trace) = (shared.addr, how.trace);
        let wrap = move |_, res: Result<T, E>| match res {
            Ok(msg) => envelope(msg, addr, trace, ok),
            Err(msg) => envelope(msg, addr, trace, err),
        };
        self.attach(shared, stream, wrap, how)
    }

    /// Attaches the generator `generator` builds from its emitter: it runs
    /// as a stream without items, its messages going out through the
    /// emitter.
    pub(crate) fn add_generator<C, G, F>(
        &mut self,
        shared: &Arc<Shared>,
        generator: G,
        how: Attaching,
    ) -> StreamId
    where
        G: FnOnce(Emitter<C>) -> F,
        F: Future<Output = ()> + Send + 'static,
    {
        let emitter = Emitter::new(Arc::downgrade(shared), shared.addr, how.trace);
        let stream = Generated::new(generator(emitter));
        self.attach(shared, stream, |_, never| match never {}, how)
    }

    /// Attaches a stream whose items `wrap` turns into envelopes.
    fn attach<S, F>(&mut self, shared: &Arc<Shared>, stream: S, wrap: F, how: Attaching) -> StreamId
    where
        S: Stream + Send + 'static,
        S::Item: Send,
        F: FnMut(StreamId, S::Item) -> Envelope + Send + 'static,
    {
        let streams = self.0.get_or_insert_with(|| {
            Box::new(StreamSet {
                target: Arc::downgrade(shared),
                addr: shared.addr,
                set: Attached::default(),
            })
        });
        let id = StreamId::next();
        let live = Live::new();
        let fwd = Forward {
            target: streams.target.clone(),
            addr: streams.addr,
            id,
            trace: how.trace,
            event: how.event,
        };
        let task = fwd.run(stream, wrap, live.clone());
        match super::spawn(&streams.target, task) {
            Some(abort) => streams.set.insert(id.0, abort, live, ()),
            None => {
                // Only outside any Tokio runtime, which an actor never is.
                tracing::error!(addr = %streams.addr, %id, "no Tokio runtime to poll the stream");
                let fwd = Forward {
                    target: streams.target.clone(),
                    addr: streams.addr,
                    id,
                    trace: how.trace,
                    event: how.event,
                };
                fwd.try_event(StreamEvent::Error(
                    id,
                    "no Tokio runtime to poll the stream".into(),
                ));
                fwd.try_event(StreamEvent::Finished(id));
            }
        }
        id
    }

    pub(crate) fn cancel(&mut self, id: StreamId) -> bool {
        self.0.as_mut().is_some_and(|s| s.set.cancel(id.0))
    }

    pub(crate) fn cancel_all(&mut self) -> usize {
        self.0.as_mut().map_or(0, |s| s.set.cancel_all())
    }

    pub(crate) fn active(&self) -> usize {
        self.0.as_ref().map_or(0, |s| s.set.active())
    }

    /// Drops every stream: the incarnation ends.
    pub(crate) fn abort_all(&mut self) {
        if let Some(s) = &mut self.0 {
            s.set.abort_all();
        }
    }
}

/// Streams, for every kind of process (attaching one is
/// [`Attach::add_stream`](crate::Attach::add_stream)).
impl ContextCore {
    /// Cancels a stream: its task is aborted (dropping the stream) and it
    /// sends nothing more, no event either; items already in the mailbox are
    /// still handled. Returns whether it was active.
    pub fn cancel_stream(&mut self, id: StreamId) -> bool {
        self.streams.cancel(id)
    }

    /// Cancels every active stream; returns how many there were.
    pub fn cancel_all_streams(&mut self) -> usize {
        self.streams.cancel_all()
    }

    /// How many streams are active (neither ended nor cancelled).
    pub fn active_stream_count(&self) -> usize {
        self.streams.active()
    }
}
