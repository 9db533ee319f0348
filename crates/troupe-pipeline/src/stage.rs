//! Stages, classified by the shape of their connections, and their rules.
//!
//! A stage is a value with a non-blocking `process` method. Its kind says how
//! many typed inputs and outputs it has:
//!
//! | kind | inputs | outputs | trait |
//! | --- | --- | --- | --- |
//! | source | none | one | [`Source`] |
//! | sink | one | none | [`Sink`] |
//! | filter | one | one | [`Filter`] |
//! | scatter | one | many (same type) | [`Scatter`] |
//! | gather | many (same type) | one | [`Gather`] |
//! | split | one | two (typed apart) | [`Split`] |
//! | merge | two (typed apart) | one | [`Merge`] |
//!
//! Each trait is implemented for closures of the matching shape, so a stage
//! can be a struct with state or just a closure.
//!
//! `process` must never block: the scheduler cannot preempt it, and every
//! other stage on the same thread waits while it runs. Read what is there,
//! write what you have, and return.

use std::time::Duration;

use crate::queue::{Reader, Writer};

/// What a stage wants after one run of `process`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[must_use]
pub enum Flow {
    /// Run again according to the stage's rule.
    Continue,
    /// The stage is finished: it is dropped, which closes its outputs (their
    /// readers see [`Reader::is_closed`] once they drained them).
    Done,
}

/// When the scheduler runs a stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rule {
    /// As often as possible: every round of its thread. The thread never
    /// sleeps while it has a `Loop` stage, but it yields to the OS between
    /// rounds in which nothing else ran.
    Loop,
    /// When one of its inputs has data (or was closed). Writers wake the
    /// stage's thread; an idle thread sleeps. A run that leaves input unread
    /// (e.g. because its output is full) is followed by another run, so such
    /// a stage is polled like `Loop` until its inputs are drained.
    OnMessage,
    /// Every period, first one period after the pipeline starts. Runs that
    /// were missed (the thread was busy) are skipped, not caught up.
    Periodic(Duration),
    /// When someone calls [`Notifier::notify`](crate::Notifier::notify) on the
    /// stage's notifier (for I/O integration): several notifications before
    /// a run make one run.
    OnExternalEvent,
}

/// A stage with no input and one output.
pub trait Source<O>: Send + 'static {
    /// Does one bounded, non-blocking piece of work.
    fn process(&mut self, output: &mut Writer<O>) -> Flow;
}

impl<O, F> Source<O> for F
where
    F: FnMut(&mut Writer<O>) -> Flow + Send + 'static,
{
    fn process(&mut self, output: &mut Writer<O>) -> Flow {
        self(output)
    }
}

/// A stage with one input and no output.
pub trait Sink<I>: Send + 'static {
    /// Does one bounded, non-blocking piece of work.
    fn process(&mut self, input: &mut Reader<I>) -> Flow;
}

impl<I, F> Sink<I> for F
where
    F: FnMut(&mut Reader<I>) -> Flow + Send + 'static,
{
    fn process(&mut self, input: &mut Reader<I>) -> Flow {
        self(input)
    }
}

/// A stage with one input and one output.
pub trait Filter<I, O>: Send + 'static {
    /// Does one bounded, non-blocking piece of work.
    fn process(&mut self, input: &mut Reader<I>, output: &mut Writer<O>) -> Flow;
}

impl<I, O, F> Filter<I, O> for F
where
    F: FnMut(&mut Reader<I>, &mut Writer<O>) -> Flow + Send + 'static,
{
    fn process(&mut self, input: &mut Reader<I>, output: &mut Writer<O>) -> Flow {
        self(input, output)
    }
}

/// A stage with one input and several outputs of the same type.
pub trait Scatter<I, O>: Send + 'static {
    /// Does one bounded, non-blocking piece of work. `outputs` are in the
    /// order the channels were given to the builder.
    fn process(&mut self, input: &mut Reader<I>, outputs: &mut [Writer<O>]) -> Flow;
}

impl<I, O, F> Scatter<I, O> for F
where
    F: FnMut(&mut Reader<I>, &mut [Writer<O>]) -> Flow + Send + 'static,
{
    fn process(&mut self, input: &mut Reader<I>, outputs: &mut [Writer<O>]) -> Flow {
        self(input, outputs)
    }
}

/// A stage with several inputs of the same type and one output.
pub trait Gather<I, O>: Send + 'static {
    /// Does one bounded, non-blocking piece of work. `inputs` are in the
    /// order the channels were given to the builder.
    fn process(&mut self, inputs: &mut [Reader<I>], output: &mut Writer<O>) -> Flow;
}

impl<I, O, F> Gather<I, O> for F
where
    F: FnMut(&mut [Reader<I>], &mut Writer<O>) -> Flow + Send + 'static,
{
    fn process(&mut self, inputs: &mut [Reader<I>], output: &mut Writer<O>) -> Flow {
        self(inputs, output)
    }
}

/// A stage with one input and two outputs of (possibly) different types.
pub trait Split<I, L, R>: Send + 'static {
    /// Does one bounded, non-blocking piece of work.
    fn process(
        &mut self,
        input: &mut Reader<I>,
        left: &mut Writer<L>,
        right: &mut Writer<R>,
    ) -> Flow;
}

impl<I, L, R, F> Split<I, L, R> for F
where
    F: FnMut(&mut Reader<I>, &mut Writer<L>, &mut Writer<R>) -> Flow + Send + 'static,
{
    fn process(
        &mut self,
        input: &mut Reader<I>,
        left: &mut Writer<L>,
        right: &mut Writer<R>,
    ) -> Flow {
        self(input, left, right)
    }
}

/// A stage with two inputs of (possibly) different types and one output.
pub trait Merge<L, R, O>: Send + 'static {
    /// Does one bounded, non-blocking piece of work.
    fn process(
        &mut self,
        left: &mut Reader<L>,
        right: &mut Reader<R>,
        output: &mut Writer<O>,
    ) -> Flow;
}

impl<L, R, O, F> Merge<L, R, O> for F
where
    F: FnMut(&mut Reader<L>, &mut Reader<R>, &mut Writer<O>) -> Flow + Send + 'static,
{
    fn process(
        &mut self,
        left: &mut Reader<L>,
        right: &mut Reader<R>,
        output: &mut Writer<O>,
    ) -> Flow {
        self(left, right, output)
    }
}

/// A stage bound to its endpoints, as the scheduler sees it.
pub(crate) trait Runner: Send {
    /// One run of the stage's `process`.
    fn run(&mut self) -> Flow;
    /// `true` if an input still has unread items (the stage stopped early).
    fn has_input(&self) -> bool;
    /// Drops the current stage value, keeping the endpoints (see
    /// [`Incarnation::retire`]).
    fn retire(&mut self);
    /// Makes a fresh stage value from the factory (see
    /// [`Incarnation::renew`]).
    fn renew(&mut self) -> bool;
}

/// A stage that cannot run: only between [`Incarnation::retire`] and a
/// successful [`Incarnation::renew`], when the scheduler does not run it.
struct Retired;

impl Retired {
    #[cold]
    fn flow() -> Flow {
        Flow::Continue
    }
}

/// The stage value a runner drives, and for a restartable stage the factory
/// that makes a fresh one. The endpoints are not part of it: they outlive
/// every incarnation, so a restarted stage finds its queues as they were.
pub(crate) struct Incarnation<S> {
    current: Option<S>,
    factory: Option<Box<dyn FnMut() -> S + Send>>,
}

impl<S> Incarnation<S> {
    /// A stage that is never restarted.
    pub(crate) fn fixed(stage: S) -> Self {
        Self {
            current: Some(stage),
            factory: None,
        }
    }

    /// A restartable stage: its first incarnation is made now.
    #[cfg_attr(not(feature = "supervision"), allow(dead_code))]
    pub(crate) fn first(mut factory: impl FnMut() -> S + Send + 'static) -> Self {
        Self {
            current: Some(factory()),
            factory: Some(Box::new(factory)),
        }
    }

    /// Runs `f` on the current stage value (a retired stage does nothing).
    #[inline(always)]
    fn with(&mut self, f: impl FnOnce(&mut S) -> Flow) -> Flow {
        match &mut self.current {
            Some(stage) => f(stage),
            None => Retired::flow(),
        }
    }

    /// Drops the current stage value (OTP: the old incarnation is gone
    /// before a new one starts).
    pub(crate) fn retire(&mut self) {
        self.current = None;
    }

    /// Makes a fresh stage value from the factory, dropping the current one
    /// first if there still is one. `false` if the stage has no factory.
    pub(crate) fn renew(&mut self) -> bool {
        let Some(factory) = self.factory.as_mut() else {
            return false;
        };
        self.current = None;
        self.current = Some(factory());
        true
    }
}

/// The [`Runner`] methods that only concern the stage value.
macro_rules! incarnation_methods {
    () => {
        fn retire(&mut self) {
            self.stage.retire();
        }
        fn renew(&mut self) -> bool {
            self.stage.renew()
        }
    };
}

pub(crate) struct SourceRunner<S, O> {
    pub(crate) stage: Incarnation<S>,
    pub(crate) output: Writer<O>,
}

impl<S: Source<O>, O: Send> Runner for SourceRunner<S, O> {
    fn run(&mut self) -> Flow {
        let output = &mut self.output;
        self.stage.with(|stage| stage.process(output))
    }
    fn has_input(&self) -> bool {
        false
    }
    incarnation_methods!();
}

pub(crate) struct SinkRunner<S, I> {
    pub(crate) stage: Incarnation<S>,
    pub(crate) input: Reader<I>,
}

impl<S: Sink<I>, I: Send> Runner for SinkRunner<S, I> {
    fn run(&mut self) -> Flow {
        let input = &mut self.input;
        self.stage.with(|stage| stage.process(input))
    }
    fn has_input(&self) -> bool {
        !self.input.is_empty()
    }
    incarnation_methods!();
}

pub(crate) struct FilterRunner<S, I, O> {
    pub(crate) stage: Incarnation<S>,
    pub(crate) input: Reader<I>,
    pub(crate) output: Writer<O>,
}

impl<S: Filter<I, O>, I: Send, O: Send> Runner for FilterRunner<S, I, O> {
    fn run(&mut self) -> Flow {
        let (input, output) = (&mut self.input, &mut self.output);
        self.stage.with(|stage| stage.process(input, output))
    }
    fn has_input(&self) -> bool {
        !self.input.is_empty()
    }
    incarnation_methods!();
}

pub(crate) struct ScatterRunner<S, I, O> {
    pub(crate) stage: Incarnation<S>,
    pub(crate) input: Reader<I>,
    pub(crate) outputs: Vec<Writer<O>>,
}

impl<S: Scatter<I, O>, I: Send, O: Send> Runner for ScatterRunner<S, I, O> {
    fn run(&mut self) -> Flow {
        let (input, outputs) = (&mut self.input, &mut self.outputs);
        self.stage.with(|stage| stage.process(input, outputs))
    }
    fn has_input(&self) -> bool {
        !self.input.is_empty()
    }
    incarnation_methods!();
}

pub(crate) struct GatherRunner<S, I, O> {
    pub(crate) stage: Incarnation<S>,
    pub(crate) inputs: Vec<Reader<I>>,
    pub(crate) output: Writer<O>,
}

impl<S: Gather<I, O>, I: Send, O: Send> Runner for GatherRunner<S, I, O> {
    fn run(&mut self) -> Flow {
        let (inputs, output) = (&mut self.inputs, &mut self.output);
        self.stage.with(|stage| stage.process(inputs, output))
    }
    fn has_input(&self) -> bool {
        self.inputs.iter().any(|input| !input.is_empty())
    }
    incarnation_methods!();
}

pub(crate) struct SplitRunner<S, I, L, R> {
    pub(crate) stage: Incarnation<S>,
    pub(crate) input: Reader<I>,
    pub(crate) left: Writer<L>,
    pub(crate) right: Writer<R>,
}

impl<S: Split<I, L, R>, I: Send, L: Send, R: Send> Runner for SplitRunner<S, I, L, R> {
    fn run(&mut self) -> Flow {
        let (input, left, right) = (&mut self.input, &mut self.left, &mut self.right);
        self.stage.with(|stage| stage.process(input, left, right))
    }
    fn has_input(&self) -> bool {
        !self.input.is_empty()
    }
    incarnation_methods!();
}

pub(crate) struct MergeRunner<S, L, R, O> {
    pub(crate) stage: Incarnation<S>,
    pub(crate) left: Reader<L>,
    pub(crate) right: Reader<R>,
    pub(crate) output: Writer<O>,
}

impl<S: Merge<L, R, O>, L: Send, R: Send, O: Send> Runner for MergeRunner<S, L, R, O> {
    fn run(&mut self) -> Flow {
        let (left, right, output) = (&mut self.left, &mut self.right, &mut self.output);
        self.stage.with(|stage| stage.process(left, right, output))
    }
    fn has_input(&self) -> bool {
        !self.left.is_empty() || !self.right.is_empty()
    }
    incarnation_methods!();
}
