//! Bridges between a pipeline and the rest of a program (actors, I/O loops).
//!
//! * Out of a pipeline: [`DeliverSink`] is a sink stage that hands each item
//!   to a [`Deliver`] implementation, e.g. a closure around an actor's
//!   non-blocking `try_notify`. A refused item (full mailbox, dead actor) is
//!   counted as dropped; the scheduler thread never waits.
//! * Into a pipeline: [`StageSpec::feeder_source`] adds a source stage fed
//!   from outside through a cloneable [`SourceFeeder`], whose
//!   [`try_push`](SourceFeeder::try_push) never blocks.
//!
//! Neither depends on troupe's actor core; anything can sit on the other side.

use std::fmt;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::mpsc::{self, Receiver, SyncSender, TryRecvError, TrySendError};
use std::sync::Arc;

use crate::builder::{Channel, StageId};
use crate::error::FeedError;
use crate::queue::{Reader, Writer};
use crate::signal::{Notifier, Signal};
use crate::spec::StageSpec;
use crate::stage::{Flow, Sink, Source};

/// Items a bridge stage moves per run at most, so that it does not hog its
/// thread; it is run again at once if more are waiting.
pub const DEFAULT_BATCH: usize = 256;

/// Something that takes items without blocking, or refuses them.
///
/// Implemented for every `FnMut(T) -> Result<(), E>`, so an actor's
/// `try_notify` fits in a closure: `move |m| actor.try_notify(m)`.
pub trait Deliver<T>: Send + 'static {
    /// Why an item was refused.
    type Error;

    /// Hands `item` over, or refuses it. Must not block.
    ///
    /// # Errors
    /// When the item is refused; [`DeliverSink`] counts it as dropped.
    fn deliver(&mut self, item: T) -> Result<(), Self::Error>;
}

impl<T, E, F> Deliver<T> for F
where
    F: FnMut(T) -> Result<(), E> + Send + 'static,
{
    type Error = E;

    fn deliver(&mut self, item: T) -> Result<(), E> {
        self(item)
    }
}

#[derive(Debug, Default)]
struct Counters {
    delivered: AtomicU64,
    dropped: AtomicU64,
    lost: AtomicU64,
}

/// Counters of a [`DeliverSink`], readable from any thread while it runs.
#[derive(Debug, Clone, Default)]
pub struct DeliveryStats {
    counters: Arc<Counters>,
}

impl DeliveryStats {
    /// Items the target accepted.
    pub fn delivered(&self) -> u64 {
        self.counters.delivered.load(Relaxed)
    }

    /// Items the target refused (e.g. a full mailbox): dropped, not retried.
    pub fn dropped(&self) -> u64 {
        self.counters.dropped.load(Relaxed)
    }

    /// Items lost before they reached the sink (overwritten in its input queue).
    pub fn lost(&self) -> u64 {
        self.counters.lost.load(Relaxed)
    }
}

/// A sink stage that hands every item to a [`Deliver`] target.
///
/// Refused items are counted in [`DeliveryStats::dropped`] and dropped: the
/// sink never blocks nor retries. The stage finishes when its input is closed
/// and drained.
///
/// # Example
/// ```
/// use std::time::Duration;
/// use troupe_pipeline::{DeliverSink, Flow, PipelineBuilder, Rule, Writer};
///
/// let mut builder = PipelineBuilder::new("bridge");
/// let numbers = builder.channel::<u32>("numbers", 8);
/// let mut n = 0;
/// builder.add("numbers", Rule::Loop).source(numbers, move |out: &mut Writer<u32>| {
///     if out.is_full() { return Flow::Continue; }
///     n += 1;
///     out.push(n);
///     if n == 4 { Flow::Done } else { Flow::Continue }
/// });
/// // A "mailbox" of capacity 2, standing in for an actor's `try_notify`.
/// let (tx, rx) = std::sync::mpsc::sync_channel::<u32>(2);
/// let sink = DeliverSink::new(move |m| tx.try_send(m));
/// let stats = sink.stats();
/// builder.add("to-actor", Rule::OnMessage).sink(numbers, sink);
/// let pipeline = builder.build()?;
/// assert!(pipeline.wait_finished(Duration::from_secs(5)));
/// // Nobody read the mailbox: 2 items fit, 2 were refused and counted.
/// assert_eq!((stats.delivered(), stats.dropped()), (2, 2));
/// assert_eq!(rx.try_iter().collect::<Vec<_>>(), [1, 2]);
/// # Ok::<(), troupe_pipeline::BuildError>(())
/// ```
pub struct DeliverSink<T, D> {
    target: D,
    stats: DeliveryStats,
    batch: usize,
    _item: PhantomData<fn(T)>,
}

impl<T, D: Deliver<T>> DeliverSink<T, D> {
    /// A sink delivering to `target`, [`DEFAULT_BATCH`] items per run at most.
    pub fn new(target: D) -> Self {
        Self {
            target,
            stats: DeliveryStats::default(),
            batch: DEFAULT_BATCH,
            _item: PhantomData,
        }
    }

    /// Sets the most items delivered per run (at least 1).
    pub fn batch(mut self, batch: usize) -> Self {
        self.batch = batch.max(1);
        self
    }

    /// A handle on this sink's counters.
    pub fn stats(&self) -> DeliveryStats {
        self.stats.clone()
    }
}

impl<T: Send + 'static, D: Deliver<T>> Sink<T> for DeliverSink<T, D> {
    fn process(&mut self, input: &mut Reader<T>) -> Flow {
        let counters = &self.stats.counters;
        let (mut delivered, mut dropped) = (0, 0);
        for _ in 0..self.batch {
            let Some(item) = input.pop() else { break };
            match self.target.deliver(item) {
                Ok(()) => delivered += 1,
                Err(_) => dropped += 1,
            }
        }
        counters.delivered.fetch_add(delivered, Relaxed);
        counters.dropped.fetch_add(dropped, Relaxed);
        counters.lost.fetch_add(input.take_lost(), Relaxed);
        if input.is_closed() {
            Flow::Done
        } else {
            Flow::Continue
        }
    }
}

impl<T, D> fmt::Debug for DeliverSink<T, D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeliverSink")
            .field("stats", &self.stats)
            .field("batch", &self.batch)
            .finish_non_exhaustive()
    }
}

/// A cloneable, non-blocking handle that feeds a source stage from outside
/// the pipeline (an actor, an I/O thread). Made by [`StageSpec::feeder_source`].
///
/// Items wait in a bounded buffer until the stage's next run moves them into
/// the pipeline. When the buffer is full, [`try_push`](Self::try_push) gives
/// the item back instead of waiting. Once every feeder is dropped, the stage
/// finishes (after moving what was buffered), closing its output.
pub struct SourceFeeder<T> {
    /// `None` only inside `drop`, which disconnects before it notifies.
    sender: Option<SyncSender<T>>,
    notifier: Notifier,
}

impl<T> SourceFeeder<T> {
    fn new(sender: SyncSender<T>, notifier: Notifier) -> Self {
        Self {
            sender: Some(sender),
            notifier,
        }
    }
}

impl<T> Clone for SourceFeeder<T> {
    fn clone(&self) -> Self {
        Self {
            sender: self.sender.clone(),
            notifier: self.notifier.clone(),
        }
    }
}

impl<T: Send> SourceFeeder<T> {
    /// Hands `item` to the source stage and wakes it. Never blocks.
    ///
    /// # Errors
    /// [`FeedError::Full`] if the buffer is full, [`FeedError::Closed`] if the
    /// stage is gone; both give the item back.
    pub fn try_push(&self, item: T) -> Result<(), FeedError<T>> {
        let Some(sender) = &self.sender else {
            return Err(FeedError::Closed(item)); // Unreachable: only `drop` empties it.
        };
        match sender.try_send(item) {
            Ok(()) => {
                self.notifier.notify();
                Ok(())
            }
            Err(TrySendError::Full(item)) => {
                // The stage may be asleep with a full buffer: wake it anyway.
                self.notifier.notify();
                Err(FeedError::Full(item))
            }
            Err(TrySendError::Disconnected(item)) => Err(FeedError::Closed(item)),
        }
    }
}

impl<T> Drop for SourceFeeder<T> {
    fn drop(&mut self) {
        // Lets the stage see the disconnection if this was the last feeder.
        // The sender must go first: a run woken by this notification may
        // start at once, and if it found the buffer still connected it would
        // return `Continue` and wait for a notification that never comes.
        // (The fields would only be dropped after this method returns.)
        drop(self.sender.take());
        self.notifier.notify();
    }
}

impl<T> fmt::Debug for SourceFeeder<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SourceFeeder").finish_non_exhaustive()
    }
}

/// The source stage behind a [`SourceFeeder`].
struct FeedSource<T> {
    receiver: Receiver<T>,
    notifier: Notifier,
    batch: usize,
}

impl<T: Send + 'static> Source<T> for FeedSource<T> {
    fn process(&mut self, output: &mut Writer<T>) -> Flow {
        for _ in 0..self.batch {
            match self.receiver.try_recv() {
                Ok(item) => {
                    output.push(item);
                }
                Err(TryRecvError::Empty) => return Flow::Continue,
                Err(TryRecvError::Disconnected) => return Flow::Done,
            }
        }
        // Batch used up: more may be waiting, so ask for another run.
        self.notifier.notify();
        Flow::Continue
    }
}

impl StageSpec<'_> {
    /// Adds a source stage fed through the returned [`SourceFeeder`], which
    /// buffers up to `capacity` items (at least 1). Give the stage the rule
    /// [`Rule::OnExternalEvent`](crate::Rule::OnExternalEvent): each push
    /// wakes it.
    ///
    /// ```
    /// use std::time::Duration;
    /// use troupe_pipeline::{Flow, PipelineBuilder, Reader, Rule};
    ///
    /// let mut builder = PipelineBuilder::new("fed");
    /// let words = builder.channel::<&'static str>("words", 8);
    /// let (_, feeder) = builder.add("in", Rule::OnExternalEvent).feeder_source(words, 8);
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// builder.add("out", Rule::OnMessage).sink(words, move |input: &mut Reader<&'static str>| {
    ///     input.drain().for_each(|w| { let _ = tx.send(w); });
    ///     if input.is_closed() { Flow::Done } else { Flow::Continue }
    /// });
    /// let pipeline = builder.build()?;
    /// feeder.try_push("hello").expect("room in the buffer");
    /// assert_eq!(rx.recv_timeout(Duration::from_secs(5)).ok(), Some("hello"));
    /// drop(feeder); // the source finishes, then the sink
    /// assert!(pipeline.wait_finished(Duration::from_secs(5)));
    /// # Ok::<(), troupe_pipeline::BuildError>(())
    /// ```
    pub fn feeder_source<T: Send + 'static>(
        self,
        output: Channel<T>,
        capacity: usize,
    ) -> (StageId, SourceFeeder<T>) {
        let (sender, receiver) = mpsc::sync_channel(capacity.max(1));
        let signal = Signal::new();
        let notifier = Notifier::new(Arc::clone(&signal));
        let stage = FeedSource {
            receiver,
            notifier: notifier.clone(),
            batch: DEFAULT_BATCH,
        };
        let id = self.source_with_signal(output, stage, signal);
        (id, SourceFeeder::new(sender, notifier))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::queue;
    use crate::signal::Parker;
    use std::time::{Duration, Instant};

    /// The last feeder's drop must make the disconnection visible before it
    /// wakes the stage. Otherwise a run that starts on that wake-up (its
    /// flag already taken) finds the buffer empty but still connected,
    /// returns `Continue`, and nothing ever wakes the stage again: it never
    /// finishes. Here the dropping thread is held inside its wake-up, so the
    /// stage's run is guaranteed to fall in that window.
    #[test]
    fn last_feeder_disconnects_before_it_wakes_the_stage() {
        let (sender, receiver) = mpsc::sync_channel::<u32>(4);
        let signal = Signal::new();
        let parker = Arc::new(Parker::default());
        signal.attach(Arc::clone(&parker));
        let notifier = Notifier::new(Arc::clone(&signal));
        let mut stage = FeedSource {
            receiver,
            notifier: notifier.clone(),
            batch: DEFAULT_BATCH,
        };
        let feeder = SourceFeeder::new(sender, notifier);
        let (mut output, _reader) = queue::channel::<u32>(4).expect("capacity > 0");

        // Act as the stage's thread on its way to sleep: an unpark from
        // another thread now blocks until `held` is dropped.
        let held = parker.hold_parked();
        let dropper = std::thread::spawn(move || drop(feeder));
        // Raised by the drop's wake-up, which then blocks until `held` goes.
        let deadline = Instant::now() + Duration::from_secs(5);
        while !signal.is_pending() {
            assert!(
                Instant::now() < deadline,
                "dropping the feeder did not wake the stage"
            );
            std::thread::yield_now();
        }
        // What the scheduler does on that wake-up: take the flag, run.
        assert!(signal.take());
        let flow = stage.process(&mut output);
        drop(held);
        dropper.join().expect("dropping the feeder does not panic");
        assert_eq!(
            flow,
            Flow::Done,
            "woken before the disconnection: the stage would sleep forever"
        );
        assert!(!signal.take(), "no other wake-up is coming");
    }
}
