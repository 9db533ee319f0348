//! Wiring a pipeline: typed channels, stages, and the checks done by `build`.

use std::any::Any;
use std::collections::HashSet;
use std::fmt;
use std::marker::PhantomData;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

use crate::control::Control;
use crate::error::{BuildError, WiringError};
use crate::pipeline::{Pipeline, Worker};
use crate::queue::{self, Probe, Reader, Wake, Writer};
use crate::scheduler::{self, panic_message, OnExit, StageState, Task};
use crate::signal::{Notifier, Parker, Signal};
use crate::spec::StageSpec;
use crate::stage::{Rule, Runner};

static NEXT_BUILDER: AtomicU64 = AtomicU64::new(1);

/// A typed channel of a [`PipelineBuilder`]: a lossy queue that must be
/// written by exactly one stage and read by exactly one stage.
///
/// It is a small copyable name for the queue; the queue's ends are handed to
/// the two stages when the pipeline is built.
pub struct Channel<T> {
    builder: u64,
    index: usize,
    _type: PhantomData<fn(T) -> T>,
}

impl<T> Clone for Channel<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Channel<T> {}

impl<T> Channel<T> {
    /// Builder id and index, as the builder records stage endpoints.
    pub(crate) fn end(self) -> (u64, usize) {
        (self.builder, self.index)
    }
}

impl<T> fmt::Debug for Channel<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Channel")
            .field("index", &self.index)
            .finish()
    }
}

/// Names a stage of a pipeline, e.g. to get its [`Notifier`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StageId {
    pub(crate) builder: u64,
    pub(crate) index: usize,
}

/// A channel's two ends, before the stages take them.
struct Ends<T> {
    writer: Option<Writer<T>>,
    reader: Option<Reader<T>>,
}

trait ErasedEnds: Send {
    fn as_any(&mut self) -> &mut dyn Any;
    fn set_wake(&mut self, wake: Arc<dyn Wake>);
    fn probe(&self) -> Option<Probe>;
}

impl<T: Send + 'static> ErasedEnds for Ends<T> {
    fn as_any(&mut self) -> &mut dyn Any {
        self
    }
    fn set_wake(&mut self, wake: Arc<dyn Wake>) {
        if let Some(writer) = &mut self.writer {
            writer.set_wake(wake);
        }
    }
    fn probe(&self) -> Option<Probe> {
        self.writer.as_ref().map(Writer::probe)
    }
}

struct ChannelEntry {
    name: String,
    ends: Option<Box<dyn ErasedEnds>>,
    writers: Vec<usize>,
    readers: Vec<usize>,
}

/// The channels while stages take their ends, during `build`.
pub(crate) struct Table {
    channels: Vec<ChannelEntry>,
}

impl Table {
    fn ends<T: 'static>(&mut self, index: usize) -> Option<&mut Ends<T>> {
        self.channels
            .get_mut(index)?
            .ends
            .as_mut()?
            .as_any()
            .downcast_mut::<Ends<T>>()
    }

    fn name(&self, index: usize) -> String {
        self.channels
            .get(index)
            .map_or_else(String::new, |c| c.name.clone())
    }

    pub(crate) fn writer<T: 'static>(
        &mut self,
        channel: Channel<T>,
    ) -> Result<Writer<T>, WiringError> {
        self.ends::<T>(channel.index)
            .and_then(|ends| ends.writer.take())
            .ok_or_else(|| WiringError::SeveralWriters {
                channel: self.name(channel.index),
                stages: Vec::new(),
            })
    }

    pub(crate) fn reader<T: 'static>(
        &mut self,
        channel: Channel<T>,
    ) -> Result<Reader<T>, WiringError> {
        self.ends::<T>(channel.index)
            .and_then(|ends| ends.reader.take())
            .ok_or_else(|| WiringError::SeveralReaders {
                channel: self.name(channel.index),
                stages: Vec::new(),
            })
    }
}

/// What a stage is besides its endpoints, as [`StageSpec`] hands it over.
pub(crate) struct StageHead {
    pub(crate) name: String,
    pub(crate) rule: Rule,
    pub(crate) thread: Option<usize>,
    pub(crate) signal: Arc<Signal>,
    pub(crate) restart: Option<Box<dyn OnExit>>,
}

pub(crate) type Make = Box<dyn FnOnce(&mut Table) -> Result<Box<dyn Runner>, WiringError> + Send>;

struct StageEntry {
    name: String,
    rule: Rule,
    thread: Option<usize>,
    signal: Arc<Signal>,
    inputs: usize,
    make: Make,
    restart: Option<Box<dyn OnExit>>,
}

/// Wires channels and stages, then [`build`](PipelineBuilder::build)s a
/// running [`Pipeline`].
///
/// Mistakes (a channel without a writer or reader, a channel used twice, two
/// stages with one name, ...) are collected and returned together by `build`
/// as [`BuildError::Wiring`]; nothing is started then.
///
/// # Example
/// ```
/// use std::time::Duration;
/// use troupe_pipeline::{Flow, PipelineBuilder, Reader, Rule, Writer};
///
/// let mut builder = PipelineBuilder::new("demo").threads(1);
/// let numbers = builder.channel::<u64>("numbers", 16);
/// let (tx, rx) = std::sync::mpsc::channel();
/// let mut next = 0;
/// builder.add("count", Rule::Loop).source(numbers, move |out: &mut Writer<u64>| {
///     if out.is_full() {
///         return Flow::Continue; // let the sink catch up: lose nothing
///     }
///     next += 1;
///     out.push(next);
///     if next == 10 { Flow::Done } else { Flow::Continue }
/// });
/// let mut sum = 0;
/// builder.add("sum", Rule::OnMessage).sink(numbers, move |input: &mut Reader<u64>| {
///     sum += input.drain().sum::<u64>();
///     if input.is_closed() {
///         let _ = tx.send(sum);
///         return Flow::Done;
///     }
///     Flow::Continue
/// });
/// let pipeline = builder.build()?;
/// assert_eq!(rx.recv_timeout(Duration::from_secs(5)).ok(), Some(55));
/// assert!(pipeline.wait_finished(Duration::from_secs(5)));
/// assert!(pipeline.stop(Duration::from_secs(5)).is_clean());
/// # Ok::<(), troupe_pipeline::BuildError>(())
/// ```
pub struct PipelineBuilder {
    id: u64,
    name: String,
    threads: usize,
    channels: Vec<ChannelEntry>,
    stages: Vec<StageEntry>,
    pub(crate) errors: Vec<WiringError>,
}

impl PipelineBuilder {
    /// A builder for a pipeline called `name`, with one thread by default.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            id: NEXT_BUILDER.fetch_add(1, Relaxed),
            name: name.into(),
            threads: 1,
            channels: Vec::new(),
            stages: Vec::new(),
            errors: Vec::new(),
        }
    }

    /// Sets the number of scheduler threads (named `name#0`, `name#1`, ...).
    /// Stages not pinned with [`StageSpec::on_thread`] are spread over them
    /// round-robin, in the order they were added.
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = threads;
        self
    }

    /// Creates a channel of `T` holding up to `capacity` unread items.
    pub fn channel<T: Send + 'static>(&mut self, name: &str, capacity: usize) -> Channel<T> {
        let ends = match queue::channel::<T>(capacity) {
            Ok((writer, reader)) => Some(Box::new(Ends {
                writer: Some(writer),
                reader: Some(reader),
            }) as Box<dyn ErasedEnds>),
            Err(source) => {
                self.errors.push(WiringError::Queue {
                    channel: name.to_owned(),
                    source,
                });
                None
            }
        };
        self.channels.push(ChannelEntry {
            name: name.to_owned(),
            ends,
            writers: Vec::new(),
            readers: Vec::new(),
        });
        Channel {
            builder: self.id,
            index: self.channels.len() - 1,
            _type: PhantomData,
        }
    }

    /// Starts adding a stage called `name`, run by `rule`; finish with the
    /// method of its kind ([`StageSpec::source`], [`StageSpec::filter`], ...).
    pub fn add(&mut self, name: &str, rule: Rule) -> StageSpec<'_> {
        StageSpec::new(self, name, rule)
    }

    /// The notifier of stage `stage`, for [`Rule::OnExternalEvent`]. It can be
    /// handed out before the pipeline is built; notifications sent before the
    /// start are kept. `None` if the id comes from another builder.
    pub fn notifier(&self, stage: StageId) -> Option<Notifier> {
        if stage.builder != self.id {
            return None;
        }
        self.stages
            .get(stage.index)
            .map(|entry| Notifier::new(Arc::clone(&entry.signal)))
    }

    pub(crate) fn register(
        &mut self,
        head: StageHead,
        inputs: &[(u64, usize)],
        outputs: &[(u64, usize)],
        make: Make,
    ) -> StageId {
        let StageHead {
            name,
            rule,
            thread,
            signal,
            restart,
        } = head;
        let index = self.stages.len();
        let mut foreign = false;
        for &(builder, channel) in inputs {
            match self.channels.get_mut(channel) {
                Some(entry) if builder == self.id => entry.readers.push(index),
                _ => foreign = true,
            }
        }
        for &(builder, channel) in outputs {
            match self.channels.get_mut(channel) {
                Some(entry) if builder == self.id => entry.writers.push(index),
                _ => foreign = true,
            }
        }
        if foreign {
            self.errors.push(WiringError::ForeignChannel {
                stage: name.clone(),
            });
        }
        self.stages.push(StageEntry {
            name,
            rule,
            thread,
            signal,
            inputs: inputs.len(),
            make,
            restart,
        });
        StageId {
            builder: self.id,
            index,
        }
    }

    /// Checks the wiring, then starts the threads.
    ///
    /// # Errors
    /// [`BuildError::Wiring`] listing every wiring mistake, or
    /// [`BuildError::Spawn`] if a thread could not be started (the threads
    /// already started are stopped again).
    pub fn build(mut self) -> Result<Pipeline, BuildError> {
        let errors = self.check();
        if !errors.is_empty() {
            return Err(BuildError::Wiring(errors));
        }
        // OnMessage readers are woken by their channel's writer.
        for channel in &mut self.channels {
            let (Some(ends), Some(&reader)) = (channel.ends.as_mut(), channel.readers.first())
            else {
                continue;
            };
            if let Some(stage) = self.stages.get(reader) {
                if stage.rule == Rule::OnMessage {
                    ends.set_wake(Arc::clone(&stage.signal) as Arc<dyn Wake>);
                }
            }
        }
        let probes = self
            .channels
            .iter()
            .filter_map(|c| Some((c.name.clone(), c.ends.as_ref()?.probe()?)))
            .collect::<Vec<_>>();
        let parkers = (0..self.threads)
            .map(|_| Arc::new(Parker::default()))
            .collect::<Vec<_>>();
        let mut table = Table {
            channels: std::mem::take(&mut self.channels),
        };
        let mut per_thread = (0..self.threads).map(|_| Vec::new()).collect::<Vec<_>>();
        let mut states = Vec::with_capacity(self.stages.len());
        let mut signals = Vec::with_capacity(self.stages.len());
        let mut round_robin = 0;
        let mut errors = Vec::new();
        for stage in std::mem::take(&mut self.stages) {
            let thread = stage.thread.unwrap_or_else(|| {
                round_robin += 1;
                (round_robin - 1) % self.threads
            });
            let state = Arc::new(StageState::new(stage.name, thread));
            states.push(Arc::clone(&state));
            signals.push(Arc::clone(&stage.signal));
            stage.signal.attach(Arc::clone(&parkers[thread]));
            // A restartable stage's factory runs here for the first time.
            let made = catch_unwind(AssertUnwindSafe(|| (stage.make)(&mut table)));
            match made {
                Ok(Ok(runner)) => per_thread[thread].push(Task {
                    runner,
                    rule: stage.rule,
                    signal: stage.signal,
                    state,
                    restart: stage.restart,
                }),
                Ok(Err(error)) => errors.push(error),
                Err(payload) => errors.push(WiringError::StagePanicked {
                    stage: state.name.clone(),
                    message: panic_message(payload.as_ref()),
                }),
            }
        }
        if !errors.is_empty() {
            // Unreachable after `check`, but never start a half-wired pipeline.
            return Err(BuildError::Wiring(errors));
        }
        drop(table); // The ends nobody took (none, after `check`).
        let control = Arc::new(Control::new(states.len(), parkers.clone()));
        let mut pipeline = Pipeline {
            name: std::mem::take(&mut self.name),
            builder_id: self.id,
            control: Arc::clone(&control),
            workers: Vec::with_capacity(self.threads),
            stages: states,
            signals,
            channels: probes,
        };
        for (index, (tasks, parker)) in per_thread.into_iter().zip(parkers).enumerate() {
            let name = format!("{}#{index}", pipeline.name);
            let spawned =
                scheduler::spawn(name.clone(), index, tasks, parker, Arc::clone(&control));
            match spawned {
                Ok(handle) => pipeline.workers.push(Worker {
                    name,
                    handle: Some(handle),
                }),
                Err(source) => {
                    // Dropping the pipeline stops the threads already started.
                    return Err(BuildError::Spawn {
                        thread: name,
                        source,
                    });
                }
            }
        }
        Ok(pipeline)
    }

    /// Every wiring mistake, in a stable order.
    fn check(&mut self) -> Vec<WiringError> {
        let mut errors = std::mem::take(&mut self.errors);
        if self.threads == 0 {
            errors.push(WiringError::NoThreads);
        }
        let mut names = HashSet::new();
        for stage in &self.stages {
            if !names.insert(stage.name.as_str()) {
                errors.push(WiringError::DuplicateStage {
                    stage: stage.name.clone(),
                });
            }
            match stage.rule {
                Rule::OnMessage if stage.inputs == 0 => {
                    errors.push(WiringError::OnMessageWithoutInput {
                        stage: stage.name.clone(),
                    });
                }
                Rule::Periodic(period) if period.is_zero() => {
                    errors.push(WiringError::ZeroPeriod {
                        stage: stage.name.clone(),
                    });
                }
                _ => {}
            }
            if let Some(thread) = stage.thread {
                if thread >= self.threads {
                    errors.push(WiringError::NoSuchThread {
                        stage: stage.name.clone(),
                        thread,
                        threads: self.threads,
                    });
                }
            }
        }
        let stage_names = |indices: &[usize]| {
            indices
                .iter()
                .filter_map(|&i| self.stages.get(i).map(|s| s.name.clone()))
                .collect::<Vec<_>>()
        };
        for channel in &self.channels {
            let name = channel.name.clone();
            match channel.writers.len() {
                0 => errors.push(WiringError::NoWriter {
                    channel: name.clone(),
                }),
                1 => {}
                _ => errors.push(WiringError::SeveralWriters {
                    channel: name.clone(),
                    stages: stage_names(&channel.writers),
                }),
            }
            match channel.readers.len() {
                0 => errors.push(WiringError::NoReader { channel: name }),
                1 => {}
                _ => errors.push(WiringError::SeveralReaders {
                    channel: name,
                    stages: stage_names(&channel.readers),
                }),
            }
        }
        errors
    }
}

impl fmt::Debug for PipelineBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PipelineBuilder")
            .field("name", &self.name)
            .field("threads", &self.threads)
            .field("channels", &self.channels.len())
            .field("stages", &self.stages.len())
            .finish_non_exhaustive()
    }
}
