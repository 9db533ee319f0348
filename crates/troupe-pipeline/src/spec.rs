//! Adding a stage of each kind to a [`PipelineBuilder`].

use std::fmt;
use std::sync::Arc;

use crate::builder::{Channel, Make, PipelineBuilder, StageId};
use crate::error::WiringError;
use crate::signal::Signal;
use crate::stage::{
    Filter, FilterRunner, Gather, GatherRunner, Merge, MergeRunner, Rule, Scatter, ScatterRunner,
    Sink, SinkRunner, Source, SourceRunner, Split, SplitRunner,
};

/// A stage being added: made by [`PipelineBuilder::add`], finished by the
/// method of the stage's kind, which returns the stage's [`StageId`].
#[must_use = "a stage is only added by calling the method of its kind"]
pub struct StageSpec<'a> {
    builder: &'a mut PipelineBuilder,
    name: String,
    rule: Rule,
    thread: Option<usize>,
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
        }
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
        } = self;
        builder.register((name, rule, thread, signal), inputs, outputs, make)
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
            Ok(Box::new(SourceRunner { stage, output }))
        });
        self.register_with(&[], &[end(output)], make, signal)
    }

    /// Adds a [`Source`] writing to `output`.
    pub fn source<O: Send + 'static>(self, output: Channel<O>, stage: impl Source<O>) -> StageId {
        let make: Make = Box::new(move |t| {
            let output = t.writer(output)?;
            Ok(Box::new(SourceRunner { stage, output }))
        });
        self.register(&[], &[end(output)], make)
    }

    /// Adds a [`Sink`] reading `input`.
    pub fn sink<I: Send + 'static>(self, input: Channel<I>, stage: impl Sink<I>) -> StageId {
        let make: Make = Box::new(move |t| {
            let input = t.reader(input)?;
            Ok(Box::new(SinkRunner { stage, input }))
        });
        self.register(&[end(input)], &[], make)
    }

    /// Adds a [`Filter`] reading `input` and writing `output`.
    pub fn filter<I: Send + 'static, O: Send + 'static>(
        self,
        input: Channel<I>,
        output: Channel<O>,
        stage: impl Filter<I, O>,
    ) -> StageId {
        let make: Make = Box::new(move |t| {
            let input = t.reader(input)?;
            let output = t.writer(output)?;
            Ok(Box::new(FilterRunner {
                stage,
                input,
                output,
            }))
        });
        self.register(&[end(input)], &[end(output)], make)
    }

    /// Adds a [`Scatter`] reading `input` and writing each of `outputs`.
    pub fn scatter<I: Send + 'static, O: Send + 'static>(
        self,
        input: Channel<I>,
        outputs: &[Channel<O>],
        stage: impl Scatter<I, O>,
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
            Ok(Box::new(ScatterRunner {
                stage,
                input,
                outputs,
            }))
        });
        let outs = outputs.iter().copied().map(end).collect::<Vec<_>>();
        self.register(&[end(input)], &outs, make)
    }

    /// Adds a [`Gather`] reading each of `inputs` and writing `output`.
    pub fn gather<I: Send + 'static, O: Send + 'static>(
        self,
        inputs: &[Channel<I>],
        output: Channel<O>,
        stage: impl Gather<I, O>,
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
            Ok(Box::new(GatherRunner {
                stage,
                inputs,
                output,
            }))
        });
        let ins = inputs.iter().copied().map(end).collect::<Vec<_>>();
        self.register(&ins, &[end(output)], make)
    }

    /// Adds a [`Split`] reading `input` and writing `left` and `right`.
    pub fn split<I: Send + 'static, L: Send + 'static, R: Send + 'static>(
        self,
        input: Channel<I>,
        left: Channel<L>,
        right: Channel<R>,
        stage: impl Split<I, L, R>,
    ) -> StageId {
        let make: Make = Box::new(move |t| {
            let input = t.reader(input)?;
            let left = t.writer(left)?;
            let right = t.writer(right)?;
            Ok(Box::new(SplitRunner {
                stage,
                input,
                left,
                right,
            }))
        });
        self.register(&[end(input)], &[end(left), end(right)], make)
    }

    /// Adds a [`Merge`] reading `left` and `right` and writing `output`.
    pub fn merge<L: Send + 'static, R: Send + 'static, O: Send + 'static>(
        self,
        left: Channel<L>,
        right: Channel<R>,
        output: Channel<O>,
        stage: impl Merge<L, R, O>,
    ) -> StageId {
        let make: Make = Box::new(move |t| {
            let left = t.reader(left)?;
            let right = t.reader(right)?;
            let output = t.writer(output)?;
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
            .finish_non_exhaustive()
    }
}
