//! Error types of the crate.

use std::fmt;
use std::time::Duration;

/// Why a lossy queue could not be created.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum QueueError {
    /// A queue must hold at least one item.
    #[error("queue capacity must be at least 1")]
    ZeroCapacity,
    /// The capacity cannot be indexed.
    #[error("queue capacity {capacity} is too large")]
    CapacityTooLarge {
        /// The capacity asked for.
        capacity: usize,
    },
}

/// One mistake in the wiring of a pipeline, found by
/// [`PipelineBuilder::build`](crate::PipelineBuilder::build).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WiringError {
    /// A pipeline needs at least one scheduler thread.
    #[error("a pipeline needs at least one thread")]
    NoThreads,
    /// Two stages have the same name.
    #[error("two stages are named `{stage}`")]
    DuplicateStage {
        /// The name used twice.
        stage: String,
    },
    /// A channel could not be created.
    #[error("channel `{channel}`: {source}")]
    Queue {
        /// The channel's name.
        channel: String,
        /// Why.
        source: QueueError,
    },
    /// A stage was given a channel made by another builder.
    #[error("stage `{stage}` uses a channel of another pipeline builder")]
    ForeignChannel {
        /// The stage.
        stage: String,
    },
    /// No stage writes to this channel: its reader would wait forever.
    #[error("channel `{channel}` has no writer")]
    NoWriter {
        /// The channel's name.
        channel: String,
    },
    /// No stage reads this channel.
    #[error("channel `{channel}` has no reader")]
    NoReader {
        /// The channel's name.
        channel: String,
    },
    /// More than one stage (or one stage twice) writes to this channel;
    /// queues have a single producer.
    #[error("channel `{channel}` is written by more than one stage: {stages:?}")]
    SeveralWriters {
        /// The channel's name.
        channel: String,
        /// The writing stages, in the order they were added.
        stages: Vec<String>,
    },
    /// More than one stage (or one stage twice) reads this channel; queues
    /// have a single consumer.
    #[error("channel `{channel}` is read by more than one stage: {stages:?}")]
    SeveralReaders {
        /// The channel's name.
        channel: String,
        /// The reading stages, in the order they were added.
        stages: Vec<String>,
    },
    /// A stage's rule is [`Rule::OnMessage`](crate::Rule::OnMessage) but it
    /// has no input, so it would never run.
    #[error("stage `{stage}` runs on messages but has no input")]
    OnMessageWithoutInput {
        /// The stage.
        stage: String,
    },
    /// A scatter without outputs or a gather without inputs.
    #[error("stage `{stage}` has no {side}")]
    NoEndpoints {
        /// The stage.
        stage: String,
        /// `"outputs"` or `"inputs"`.
        side: &'static str,
    },
    /// A periodic rule with a zero period would busy-spin.
    #[error("stage `{stage}` has a zero period")]
    ZeroPeriod {
        /// The stage.
        stage: String,
    },
    /// Making a stage panicked while the pipeline was built (the first call
    /// of a restartable stage's factory).
    #[error("stage `{stage}` panicked while it was made: {message}")]
    StagePanicked {
        /// The stage.
        stage: String,
        /// The panic message.
        message: String,
    },
    /// A stage was pinned to a thread the pipeline does not have.
    #[error("stage `{stage}` is pinned to thread {thread}, but the pipeline has {threads}")]
    NoSuchThread {
        /// The stage.
        stage: String,
        /// The thread asked for.
        thread: usize,
        /// The number of threads.
        threads: usize,
    },
}

/// Why a pipeline could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The wiring is wrong; every mistake found is listed.
    #[error("invalid pipeline wiring: {}", list(.0))]
    Wiring(Vec<WiringError>),
    /// A scheduler thread could not be spawned.
    #[error("could not spawn scheduler thread `{thread}`: {source}")]
    Spawn {
        /// The thread's name.
        thread: String,
        /// The OS error.
        source: std::io::Error,
    },
}

impl BuildError {
    /// The wiring mistakes, if that is what this error is.
    pub fn wiring(&self) -> &[WiringError] {
        match self {
            Self::Wiring(errors) => errors,
            Self::Spawn { .. } => &[],
        }
    }
}

fn list(errors: &[WiringError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// A stage that panicked: its name and the panic message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("stage `{stage}` panicked: {message}")]
pub struct StagePanic {
    /// The stage's name.
    pub stage: String,
    /// The panic message (or a placeholder if the payload was not a string).
    pub message: String,
}

/// A restartable stage exhausted its restart budget, so its pipeline gave
/// up and stopped (as a supervisor whose budget is exceeded stops its
/// children). Found in [`StopReport::gave_up`](crate::StopReport::gave_up)
/// and [`Pipeline::gave_up`](crate::Pipeline::gave_up).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "stage `{stage}` needed more than {max_restarts} restart(s) within {within:?} \
     (last exit: {last_exit}): the pipeline gave up"
)]
pub struct RestartsExhausted {
    /// The stage.
    pub stage: String,
    /// Its budget: at most this many restarts...
    pub max_restarts: usize,
    /// ...within any window of this length.
    pub within: Duration,
    /// How its last incarnation ended (e.g. `failed: panic: boom`).
    pub last_exit: String,
}

/// A pipeline that did not stop cleanly: see
/// [`StopReport::into_result`](crate::StopReport::into_result).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "pipeline did not stop cleanly: {} stage(s) panicked, {} thread(s) did not stop{}",
    .panics.len(),
    .unstopped_threads.len(),
    .gave_up.as_ref().map_or_else(String::new, |e| format!("; {e}"))
)]
pub struct StopError {
    /// The stages that panicked and were not restarted.
    pub panics: Vec<StagePanic>,
    /// Names of the scheduler threads that did not stop within the wait.
    pub unstopped_threads: Vec<String>,
    /// The stage whose restart budget was exhausted, if the pipeline gave up.
    pub gave_up: Option<RestartsExhausted>,
}

/// Why [`SourceFeeder::try_push`](crate::SourceFeeder::try_push) did not take
/// an item; the item is given back.
#[derive(PartialEq, Eq, thiserror::Error)]
pub enum FeedError<T> {
    /// The feeder's buffer is full: the source stage has not caught up.
    #[error("source feeder is full")]
    Full(T),
    /// The source stage is gone (finished, panicked or the pipeline stopped).
    #[error("source stage is gone")]
    Closed(T),
}

impl<T> FeedError<T> {
    /// The item that was not taken.
    pub fn into_inner(self) -> T {
        match self {
            Self::Full(item) | Self::Closed(item) => item,
        }
    }
}

impl<T> fmt::Debug for FeedError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Full(_) => f.write_str("Full(..)"),
            Self::Closed(_) => f.write_str("Closed(..)"),
        }
    }
}
