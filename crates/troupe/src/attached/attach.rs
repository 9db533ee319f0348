//! [`Attach`]: attaching timers and streams, for every kind of actor.

use std::future::Future;
use std::ops::DerefMut;
use std::time::Duration;

use futures_core::Stream;

use super::context::ContextCore;
use super::stream::{Attaching, Emitter, StreamEvent, StreamId, StreamItem};
use super::timer::{self, RecurringBuilder, ScheduleBuilder, TimerError, TimerId};
use super::Accepts;
use crate::error::BoxError;
use crate::message::Message;

/// Timers and streams, for every kind of actor: implemented by both
/// contexts (in the prelude).
///
/// ```
/// use std::time::Duration;
/// use troupe::prelude::*;
/// use troupe::MissPolicy;
///
/// #[derive(Clone)]
/// #[message]
/// struct Tick;
///
/// struct A;
/// impl Actor for A {}
/// impl Handler<Tick> for A {
///     async fn handle(&mut self, _: Tick, _: &mut ActorContext<Self>) -> HandlerResult { Ok(()) }
/// }
///
/// async fn demo(ctx: &mut ActorContext<A>) -> HandlerResult {
///     ctx.schedule(Tick).after(Duration::from_secs(1)).await?;
///     ctx.schedule(Tick).every(Duration::from_millis(100)).await?;
///     let id = ctx
///         .schedule(Tick)
///         .every(Duration::from_millis(100))
///         .on_miss(MissPolicy::CatchUp)
///         .await?;
///     assert_eq!(ctx.active_timer_count(), 3);
///     assert!(ctx.cancel_timer(id));
///     Ok(())
/// }
/// # let _ = demo;
/// ```
pub trait Attach: DerefMut<Target = ContextCore> + Sized {
    /// Schedules `msg` to this actor: once (`.at`, `.after`) or on a period
    /// (`.every`, with `.on_miss`); finish with `.await` (or `.start()`) to
    /// get the [`TimerId`](TimerId). See the [timer docs](crate::timer)
    /// for the exact semantics.
    fn schedule<M>(&mut self, msg: M) -> ScheduleBuilder<'_>
    where
        M: Message + Clone + Sync,
        Self: Accepts<M>,
    {
        let dispatcher = <Self as Accepts<M>>::dispatcher();
        let core: &mut ContextCore = self;
        let trace = core.trace_id;
        core.timers.schedule(&core.shared, msg, dispatcher, trace)
    }

    /// Schedules the messages `factory` builds, a new one for each tick:
    /// for message types that are not `Clone` (or whose contents change
    /// from tick to tick). Pick when as with [`schedule`](Self::schedule).
    ///
    /// A factory that panics ends its timer (logged at error level, counted
    /// in `troupe_timer_failures_total`): it is a failure of that timer,
    /// not of the actor, which goes on.
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use troupe::prelude::*;
    ///
    /// // Not `Clone`: each tick carries its own instant.
    /// #[message]
    /// struct Sample { taken: Instant }
    ///
    /// #[derive(Default)]
    /// struct Sampler { samples: u32 }
    ///
    /// impl Actor for Sampler {
    ///     async fn pre_start(&mut self, ctx: &mut ActorContext<Self>) -> HandlerResult {
    ///         ctx.schedule_with(|| Sample { taken: Instant::now() })
    ///             .every(Duration::from_millis(5))
    ///             .await?;
    ///         Ok(())
    ///     }
    /// }
    ///
    /// impl Handler<Sample> for Sampler {
    ///     async fn handle(&mut self, msg: Sample, ctx: &mut ActorContext<Self>) -> HandlerResult {
    ///         assert!(msg.taken <= Instant::now());
    ///         self.samples += 1;
    ///         if self.samples == 3 {
    ///             ctx.stop();
    ///         }
    ///         Ok(())
    ///     }
    /// }
    ///
    /// # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let sampler = Sampler::default().spawn().await?;
    /// assert_eq!(sampler.wait_for_exit().await, ExitReason::Normal);
    /// # Ok(()) }
    /// ```
    fn schedule_with<M, F>(&mut self, factory: F) -> ScheduleBuilder<'_>
    where
        M: Message,
        F: Fn() -> M + Send + Sync + 'static,
        Self: Accepts<M>,
    {
        let dispatcher = <Self as Accepts<M>>::dispatcher();
        let core: &mut ContextCore = self;
        let trace = core.trace_id;
        core.timers
            .schedule_factory(&core.shared, factory, dispatcher, trace)
    }

    /// Every `interval`, the message `factory` builds: shorthand for
    /// `schedule_with(factory).every(interval)` (then `.on_miss` and
    /// `.await` as usual).
    fn every_with<M, F>(&mut self, interval: Duration, factory: F) -> RecurringBuilder<'_>
    where
        M: Message,
        F: Fn() -> M + Send + Sync + 'static,
        Self: Accepts<M>,
    {
        self.schedule_with(factory).every(interval)
    }

    /// Attaches a stream: each item arrives as a message, then its end as
    /// [`StreamEvent::Finished`]. The stream is polled only as fast as the
    /// mailbox takes its items. See the [stream docs](crate::stream). The items
    /// must be messages; [`add_item_stream`](Self::add_item_stream) takes
    /// items of any type.
    fn add_stream<S>(&mut self, stream: S) -> StreamId
    where
        S: Stream + Send + 'static,
        S::Item: Message,
        Self: Accepts<S::Item> + Accepts<StreamEvent>,
    {
        let item = <Self as Accepts<S::Item>>::dispatcher();
        let how = attaching::<Self>(self);
        let core: &mut ContextCore = self;
        core.streams.add(&core.shared, stream, item, how)
    }

    /// Attaches a stream of items of any type: each item `t` arrives as
    /// the message [`StreamItem(t)`](StreamItem) (a struct actor implements
    /// `Handler<StreamItem<T>>`), then its end as
    /// [`StreamEvent::Finished`]. For items that are messages themselves,
    /// [`add_stream`](Self::add_stream) delivers them as they are. See the
    /// [stream docs](crate::stream).
    fn add_item_stream<S>(&mut self, stream: S) -> StreamId
    where
        S: Stream + Send + 'static,
        S::Item: Send + 'static,
        Self: Accepts<StreamItem<S::Item>> + Accepts<StreamEvent>,
    {
        let item = <Self as Accepts<StreamItem<S::Item>>>::dispatcher();
        let how = attaching::<Self>(self);
        let core: &mut ContextCore = self;
        core.streams.add_items(&core.shared, stream, item, how)
    }

    /// Attaches a stream of results: `Ok(t)` arrives as the message `t`,
    /// `Err(e)` as [`StreamEvent::Error`] (the stream goes on), and its end
    /// as [`StreamEvent::Finished`]. For errors that are messages of their
    /// own, [`add_result_stream`](Self::add_result_stream) delivers them as
    /// they are.
    fn add_try_stream<S, T, E>(&mut self, stream: S) -> StreamId
    where
        S: Stream<Item = Result<T, E>> + Send + 'static,
        T: Message,
        E: Into<BoxError> + Send + 'static,
        Self: Accepts<T> + Accepts<StreamEvent>,
    {
        let item = <Self as Accepts<T>>::dispatcher();
        let how = attaching::<Self>(self);
        let core: &mut ContextCore = self;
        core.streams.add_try(&core.shared, stream, item, how)
    }

    /// Attaches a stream of results whose both sides are messages (elfo's
    /// `Result` stream items): `Ok(t)` arrives as the message `t`, `Err(e)`
    /// as the message `e`, each handled by its own handler (or `msg!` arm)
    /// like any message, not wrapped; then the stream's end as
    /// [`StreamEvent::Finished`]. The stream goes on after an `Err`.
    ///
    /// Unlike [`add_try_stream`](Self::add_try_stream), whose errors are
    /// any error type and arrive as [`StreamEvent::Error`], and
    /// [`add_item_stream`](Self::add_item_stream), which wraps each item
    /// in a [`StreamItem`], nothing here says that a message came from a
    /// stream: a failure is a message of the program's own.
    ///
    /// ```
    /// use troupe::prelude::*;
    ///
    /// #[message]
    /// struct Fetched(u32);
    ///
    /// #[message]
    /// struct FetchFailed(String);
    ///
    /// #[derive(Default)]
    /// struct Fetcher { seen: Vec<String> }
    ///
    /// impl Actor for Fetcher {
    ///     async fn pre_start(&mut self, ctx: &mut ActorContext<Self>) -> HandlerResult {
    ///         let results = [Ok(Fetched(1)), Err(FetchFailed("timeout".into())), Ok(Fetched(3))];
    ///         ctx.add_result_stream(tokio_stream::iter(results));
    ///         Ok(())
    ///     }
    /// }
    ///
    /// impl Handler<Fetched> for Fetcher {
    ///     async fn handle(&mut self, Fetched(n): Fetched, _: &mut ActorContext<Self>) -> HandlerResult {
    ///         self.seen.push(n.to_string());
    ///         Ok(())
    ///     }
    /// }
    ///
    /// impl Handler<FetchFailed> for Fetcher {
    ///     async fn handle(&mut self, FetchFailed(why): FetchFailed, _: &mut ActorContext<Self>) -> HandlerResult {
    ///         self.seen.push(why);
    ///         Ok(())
    ///     }
    /// }
    ///
    /// impl Handler<StreamEvent> for Fetcher {
    ///     async fn handle(&mut self, _: StreamEvent, ctx: &mut ActorContext<Self>) -> HandlerResult {
    ///         assert_eq!(self.seen, ["1", "timeout", "3"]); // `Finished`: the last one
    ///         ctx.stop();
    ///         Ok(())
    ///     }
    /// }
    ///
    /// # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let fetcher = Fetcher::default().spawn().await?;
    /// assert_eq!(fetcher.wait_for_exit().await, ExitReason::Normal);
    /// # Ok(()) }
    /// ```
    fn add_result_stream<S, T, E>(&mut self, stream: S) -> StreamId
    where
        S: Stream<Item = Result<T, E>> + Send + 'static,
        T: Message,
        E: Message,
        Self: Accepts<T> + Accepts<E> + Accepts<StreamEvent>,
    {
        let ok = <Self as Accepts<T>>::dispatcher();
        let err = <Self as Accepts<E>>::dispatcher();
        let how = attaching::<Self>(self);
        let core: &mut ContextCore = self;
        core.streams
            .add_results(&core.shared, stream, (ok, err), how)
    }

    /// Attaches a stream built from a generator (elfo's
    /// `Stream::generate`): `generator` gets an [`Emitter`] and returns a
    /// future that sends messages of any type the actor accepts with
    /// `emitter.emit(msg).await`, each waiting until it is in the mailbox.
    /// It runs as an attached stream does: on its own task, cancelled with
    /// [`cancel_stream`](ContextCore::cancel_stream) (and with the
    /// incarnation), and its end (the future returns, or panics) arrives
    /// as [`StreamEvent::Finished`] (after a [`StreamEvent::Error`] for a
    /// panic). `generator` itself is called at once, by the caller.
    ///
    /// Its messages carry the trace of the scope that attached it.
    ///
    /// ```
    /// use std::time::Duration;
    /// use troupe::prelude::*;
    ///
    /// #[message]
    /// struct Progress(u32);
    ///
    /// #[message]
    /// struct Done;
    ///
    /// #[derive(Default)]
    /// struct Job { steps: Vec<u32>, done: bool }
    ///
    /// impl Actor for Job {
    ///     async fn pre_start(&mut self, ctx: &mut ActorContext<Self>) -> HandlerResult {
    ///         ctx.add_generator(|e| async move {
    ///             for step in 1..=3 {
    ///                 tokio::time::sleep(Duration::from_secs(1)).await; // some work
    ///                 e.emit(Progress(step)).await;
    ///             }
    ///             e.emit(Done).await;
    ///         });
    ///         Ok(())
    ///     }
    /// }
    ///
    /// impl Handler<Progress> for Job {
    ///     async fn handle(&mut self, Progress(step): Progress, _: &mut ActorContext<Self>) -> HandlerResult {
    ///         self.steps.push(step);
    ///         Ok(())
    ///     }
    /// }
    ///
    /// impl Handler<Done> for Job {
    ///     async fn handle(&mut self, _: Done, _: &mut ActorContext<Self>) -> HandlerResult {
    ///         self.done = true;
    ///         Ok(())
    ///     }
    /// }
    ///
    /// impl Handler<StreamEvent> for Job {
    ///     async fn handle(&mut self, event: StreamEvent, ctx: &mut ActorContext<Self>) -> HandlerResult {
    ///         if let StreamEvent::Finished(_) = event {
    ///             assert_eq!((self.steps.as_slice(), self.done), (&[1, 2, 3][..], true));
    ///             ctx.stop();
    ///         }
    ///         Ok(())
    ///     }
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let job = Job::default().spawn().await?;
    /// assert_eq!(job.wait_for_exit().await, ExitReason::Normal);
    /// # Ok(()) }
    /// ```
    fn add_generator<G, F>(&mut self, generator: G) -> StreamId
    where
        G: FnOnce(Emitter<Self>) -> F,
        F: Future<Output = ()> + Send + 'static,
        Self: Accepts<StreamEvent>,
    {
        let how = attaching::<Self>(self);
        let core: &mut ContextCore = self;
        core.streams.add_generator(&core.shared, generator, how)
    }

    /// Replaces the message a running recurring timer sends (elfo's
    /// `Interval::set_message`): its next tick sends `msg` (cloned for
    /// each tick), on the same schedule. A tick already in the mailbox, or
    /// waiting for space in it, keeps the message it had.
    ///
    /// `msg` must be of the type the timer sends (the message of
    /// [`schedule`](Self::schedule), or the one a factory of
    /// [`schedule_with`](Self::schedule_with) builds, which `msg` then
    /// replaces); another type fails with [`TimerError::WrongMessage`].
    /// An inactive timer fails with [`TimerError::NotActive`], a one-shot
    /// one with [`TimerError::OneShot`].
    ///
    /// ```
    /// use std::time::Duration;
    /// use troupe::prelude::*;
    /// use troupe::TimerId;
    ///
    /// #[derive(Clone)]
    /// #[message]
    /// struct Beat(u32);
    ///
    /// #[derive(Default)]
    /// struct Drummer { timer: Option<TimerId>, beats: Vec<u32> }
    ///
    /// impl Actor for Drummer {
    ///     async fn pre_start(&mut self, ctx: &mut ActorContext<Self>) -> HandlerResult {
    ///         self.timer = Some(ctx.schedule(Beat(0)).every(Duration::from_millis(10)).await?);
    ///         Ok(())
    ///     }
    /// }
    ///
    /// impl Handler<Beat> for Drummer {
    ///     async fn handle(&mut self, Beat(n): Beat, ctx: &mut ActorContext<Self>) -> HandlerResult {
    ///         self.beats.push(n);
    ///         if let Some(timer) = self.timer {
    ///             ctx.set_timer_message(timer, Beat(n + 1))?;
    ///         }
    ///         if self.beats.len() == 3 {
    ///             assert_eq!(self.beats, [0, 1, 2]);
    ///             ctx.stop();
    ///         }
    ///         Ok(())
    ///     }
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let drummer = Drummer::default().spawn().await?;
    /// assert_eq!(drummer.wait_for_exit().await, ExitReason::Normal);
    /// # Ok(()) }
    /// ```
    fn set_timer_message<M>(&self, id: TimerId, msg: M) -> Result<(), TimerError>
    where
        M: Message + Clone + Sync,
        Self: Accepts<M>,
    {
        let dispatcher = <Self as Accepts<M>>::dispatcher();
        let core: &ContextCore = self;
        let make = timer::cloning(core.shared.addr, msg, dispatcher);
        core.timers.set_message::<M>(id, make)
    }
}

/// How a context attaches a stream: in the trace of the envelope it
/// handles, its events to its `Handler<StreamEvent>` if it is a struct
/// actor.
fn attaching<C: Accepts<StreamEvent>>(ctx: &C) -> Attaching {
    Attaching {
        trace: ctx.trace_id,
        event: <C as Accepts<StreamEvent>>::dispatcher(),
    }
}

impl<C: DerefMut<Target = ContextCore>> Attach for C {}
