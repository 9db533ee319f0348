//! Adding a stage of each kind to a [`PipelineBuilder`].

use std::fmt;
use std::sync::Arc;

use crate::builder::{Channel, Make, PipelineBuilder, StageHead, StageId};
use crate::error::WiringError;
use crate::scheduler::OnExit;
use crate::signal::Signal;
use crate::stage::{
    Filter, FilterRunner, Gather, GatherRunner, Incarnation, Merge, MergeRunner, Rule, Scatter,
    ScatterRunner, Sink, SinkRunner, Source, SourceRunner, Split, SplitRunner,
};

/// Makes the first incarnation of a stage, when the pipeline is built.
pub(crate) trait First<S>: FnOnce() -> Incarnation<S> + Send + 'static {}

impl<S, F: FnOnce() -> Incarnation<S> + Send + 'static> First<S> for F {}

/// A stage being added: made by [`PipelineBuilder::add`], finished by the
/// method of the stage's kind, which returns the stage's [`StageId`].
#[must_use = "a stage is only added by calling the method of its kind"]
pub struct StageSpec<'a> {
    builder: &'a mut PipelineBuilder,
    name: String,
    rule: Rule,
    thread: Option<usize>,
    restart: Option<Box<dyn OnExit>>,
}

fn end<T>(channel: Channel<T>) -> (u64, usize) {
    channel.end()
}

impl<'a> StageSpec<'a> {
    pub(crate) fn new(builder: &'a mut PipelineBuilder, name: &str, rule: Rule) -> Self {
        Self {
            builder,
            name: name.to_owned(),
            rule,
            thread: None,
            restart: None,
        }
    }

    /// Sets what happens when the stage ends (restartable stages only).
    #[cfg_attr(not(feature = "supervision"), allow(dead_code))]
    pub(crate) fn set_restart(&mut self, restart: Box<dyn OnExit>) {
        self.restart = Some(restart);
    }
}

impl StageSpec<'_> {
    /// Runs the stage on scheduler thread `thread` (checked by `build`).
    pub fn on_thread(mut self, thread: usize) -> Self {
        self.thread = Some(thread);
        self
    }

    fn register(self, inputs: &[(u64, usize)], outputs: &[(u64, usize)], make: Make) -> StageId {
        self.register_with(inputs, outputs, make, Signal::new())
    }

    fn register_with(
        self,
        inputs: &[(u64, usize)],
        outputs: &[(u64, usize)],
        make: Make,
        signal: Arc<Signal>,
    ) -> StageId {
        let Self {
            builder,
            name,
            rule,
            thread,
            restart,
        } = self;
        let head = StageHead {
            name,
            rule,
            thread,
            signal,
            restart,
        };
        builder.register(head, inputs, outputs, make)
    }

    /// Adds a source whose signal was made beforehand (so that the stage can
    /// hold its own [`Notifier`]).
    pub(crate) fn source_with_signal<O: Send + 'static>(
        self,
        output: Channel<O>,
        stage: impl Source<O>,
        signal: Arc<Signal>,
    ) -> StageId {
        let make: Make = Box::new(move |t| {
            let output = t.writer(output)?;
            let stage = Incarnation::fixed(stage);
            Ok(Box::new(SourceRunner { stage, output }))
        });
        self.register_with(&[], &[end(output)], make, signal)
    }

    /// Adds a [`Source`] writing to `output`.
    pub fn source<O: Send + 'static>(self, output: Channel<O>, stage: impl Source<O>) -> StageId {
        self.source_first(output, move || Incarnation::fixed(stage))
    }

    /// Adds a [`Sink`] reading `input`.
    pub fn sink<I: Send + 'static>(self, input: Channel<I>, stage: impl Sink<I>) -> StageId {
        self.sink_first(input, move || Incarnation::fixed(stage))
    }

    /// Adds a [`Filter`] reading `input` and writing `output`.
    pub fn filter<I: Send + 'static, O: Send + 'static>(
        self,
        input: Channel<I>,
        output: Channel<O>,
        stage: impl Filter<I, O>,
    ) -> StageId {
        self.filter_first(input, output, move || Incarnation::fixed(stage))
    }

    /// Adds a [`Scatter`] reading `input` and writing each of `outputs`.
    pub fn scatter<I: Send + 'static, O: Send + 'static>(
        self,
        input: Channel<I>,
        outputs: &[Channel<O>],
        stage: impl Scatter<I, O>,
    ) -> StageId {
        self.scatter_first(input, outputs, move || Incarnation::fixed(stage))
    }

    /// Adds a [`Gather`] reading each of `inputs` and writing `output`.
    pub fn gather<I: Send + 'static, O: Send + 'static>(
        self,
        inputs: &[Channel<I>],
        output: Channel<O>,
        stage: impl Gather<I, O>,
    ) -> StageId {
        self.gather_first(inputs, output, move || Incarnation::fixed(stage))
    }

    /// Adds a [`Split`] reading `input` and writing `left` and `right`.
    pub fn split<I: Send + 'static, L: Send + 'static, R: Send + 'static>(
        self,
        input: Channel<I>,
        left: Channel<L>,
        right: Channel<R>,
        stage: impl Split<I, L, R>,
    ) -> StageId {
        self.split_first(input, left, right, move || Incarnation::fixed(stage))
    }

    /// Adds a [`Merge`] reading `left` and `right` and writing `output`.
    pub fn merge<L: Send + 'static, R: Send + 'static, O: Send + 'static>(
        self,
        left: Channel<L>,
        right: Channel<R>,
        output: Channel<O>,
        stage: impl Merge<L, R, O>,
    ) -> StageId {
        self.merge_first(left, right, output, move || Incarnation::fixed(stage))
    }
}

/// The kinds again, each given how to make its first incarnation (a fixed
/// stage value, or a restartable stage's factory).
impl StageSpec<'_> {
    pub(crate) fn source_first<O: Send + 'static, S: Source<O>>(
        self,
        output: Channel<O>,
        first: impl First<S>,
    ) -> StageId {
        let make: Make = Box::new(move |t| {
            let output = t.writer(output)?;
            let stage = first();
            Ok(Box::new(SourceRunner { stage, output }))
        });
        self.register(&[], &[end(output)], make)
    }

    pub(crate) fn sink_first<I: Send + 'static, S: Sink<I>>(
        self,
        input: Channel<I>,
        first: impl First<S>,
    ) -> StageId {
        let make: Make = Box::new(move |t| {
            let input = t.reader(input)?;
            let stage = first();
            Ok(Box::new(SinkRunner { stage, input }))
        });
        self.register(&[end(input)], &[], make)
    }

    pub(crate) fn filter_first<I: Send + 'static, O: Send + 'static, S: Filter<I, O>>(
        self,
        input: Channel<I>,
        output: Channel<O>,
        first: impl First<S>,
    ) -> StageId {
        let make: Make = Box::new(move |t| {
            let input = t.reader(input)?;
            let output = t.writer(output)?;
            let stage = first();
            Ok(Box::new(FilterRunner {
                stage,
                input,
                output,
            }))
        });
        self.register(&[end(input)], &[end(output)], make)
    }

    pub(crate) fn scatter_first<I: Send + 'static, O: Send + 'static, S: Scatter<I, O>>(
        self,
        input: Channel<I>,
        outputs: &[Channel<O>],
        first: impl First<S>,
    ) -> StageId {
        if outputs.is_empty() {
            self.builder.errors.push(WiringError::NoEndpoints {
                stage: self.name.clone(),
                side: "outputs",
            });
        }
        let channels = outputs.to_vec();
        let make: Make = Box::new(move |t| {
            let input = t.reader(input)?;
            let outputs = channels
                .into_iter()
                .map(|c| t.writer(c))
                .collect::<Result<_, _>>()?;
            let stage = first();
            Ok(Box::new(ScatterRunner {
                stage,
                input,
                outputs,
            }))
        });
        let outs = outputs.iter().copied().map(end).collect::<Vec<_>>();
        self.register(&[end(input)], &outs, make)
    }

    pub(crate) fn gather_first<I: Send + 'static, O: Send + 'static, S: Gather<I, O>>(
        self,
        inputs: &[Channel<I>],
        output: Channel<O>,
        first: impl First<S>,
    ) -> StageId {
        if inputs.is_empty() {
            self.builder.errors.push(WiringError::NoEndpoints {
                stage: self.name.clone(),
                side: "inputs",
            });
        }
        let channels = inputs.to_vec();
        let make: Make = Box::new(move |t| {
            let inputs = channels
                .into_iter()
                .map(|c| t.reader(c))
                .collect::<Result<_, _>>()?;
            let output = t.writer(output)?;
            let stage = first();
            Ok(Box::new(GatherRunner {
                stage,
                inputs,
                output,
            }))
        });
        let ins = inputs.iter().copied().map(end).collect::<Vec<_>>();
        self.register(&ins, &[end(output)], make)
    }

    pub(crate) fn split_first<
        I: Send + 'static,
        L: Send + 'static,
        R: Send + 'static,
        S: Split<I, L, R>,
    >(
        self,
        input: Channel<I>,
        left: Channel<L>,
        right: Channel<R>,
        first: impl First<S>,
    ) -> StageId {
        let make: Make = Box::new(move |t| {
            let input = t.reader(input)?;
            let left = t.writer(left)?;
            let right = t.writer(right)?;
            let stage = first();
            Ok(Box::new(SplitRunner {
                stage,
                input,
                left,
                right,
            }))
        });
        self.register(&[end(input)], &[end(left), end(right)], make)
    }

    pub(crate) fn merge_first<
        L: Send + 'static,
        R: Send + 'static,
        O: Send + 'static,
        S: Merge<L, R, O>,
    >(
        self,
        left: Channel<L>,
        right: Channel<R>,
        output: Channel<O>,
        first: impl First<S>,
    ) -> StageId {
        let make: Make = Box::new(move |t| {
            let left = t.reader(left)?;
            let right = t.reader(right)?;
            let output = t.writer(output)?;
            let stage = first();
            Ok(Box::new(MergeRunner {
                stage,
                left,
                right,
                output,
            }))
        });
        self.register(&[end(left), end(right)], &[end(output)], make)
    }
}

impl fmt::Debug for StageSpec<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StageSpec")
            .field("name", &self.name)
            .field("rule", &self.rule)
            .field("thread", &self.thread)
            .field("restartable", &self.restart.is_some())
            .finish_non_exhaustive()
    }
}
