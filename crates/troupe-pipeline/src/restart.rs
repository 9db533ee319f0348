//! Restartable stages (feature `supervision`): a stage declared with a
//! [`StageRestart`] is re-initialised from its factory when it ends, by the
//! rules of troupe's supervision engine.
//!
//! The vocabulary and the rules are troupe's, not a copy:
//! [`RestartType`] decides whether an exit is followed by a restart
//! ([`RestartType::restarts_after`]), a [`RestartBudget`] counts restarts in
//! a sliding window, and a [`Backoff`] spaces them. A panic is an abnormal
//! exit (`failed: panic: ...`); returning [`Flow::Done`](crate::Flow::Done)
//! is a normal one.
//!
//! What differs from a supervised process is only where it happens: the
//! restart is made on the stage's own scheduler thread, without stopping the
//! other stages, and the stage keeps its endpoints. Its queues stay as they
//! are: what was unread is read by the next incarnation, and what its
//! writers overwrote while it was down is counted as lost, as for any lagging
//! reader ([`ChannelReport::lost`](crate::ChannelReport::lost)). An item the
//! failed incarnation had taken out of a queue but not passed on is gone
//! with it.
//!
//! When a stage needs a restart that would exceed its budget, the pipeline
//! gives up: it stops (its threads drop their stages and exit, as
//! [`Pipeline::stop`](crate::Pipeline::stop) would), and says why in
//! [`Pipeline::gave_up`](crate::Pipeline::gave_up) and
//! [`StopReport::gave_up`](crate::StopReport::gave_up), as a supervisor
//! whose budget is exceeded stops its children and exits.

use std::fmt;
use std::time::Duration;

use troupe::supervision::{Backoff, RestartBudget, RestartType, SupervisorConfig};
use troupe::ExitReason;

use crate::builder::{Channel, StageId};
use crate::error::RestartsExhausted;
use crate::scheduler::{Decision, OnExit, StageExit};
use crate::spec::StageSpec;
use crate::stage::{Filter, Gather, Incarnation, Merge, Scatter, Sink, Source, Split};

/// How a restartable stage is restarted: its [`RestartType`], its restart
/// budget and an optional [`Backoff`], with the meanings they have for
/// supervised children.
///
/// Defaults are a supervisor's: at most 3 restarts within 5 s, no backoff.
/// [`StageRestart::transient`] is the usual choice for stages: restarted
/// after a panic, not after `Flow::Done`. A permanent stage is restarted
/// even after `Flow::Done` (as an OTP permanent child that stops normally);
/// a temporary one is never restarted.
///
/// ```
/// use std::time::Duration;
/// use troupe::supervision::{Backoff, RestartType};
/// use troupe_pipeline::StageRestart;
///
/// let restart = StageRestart::transient()
///     .max_restarts(10, Duration::from_secs(60))
///     .with_backoff(Backoff::exponential(Duration::from_millis(10), Duration::from_secs(1)));
/// assert_eq!(restart.restart_type(), RestartType::Transient);
/// assert_eq!(restart.budget(), (10, Duration::from_secs(60)));
/// assert_eq!(StageRestart::permanent().budget(), (3, Duration::from_secs(5)));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StageRestart {
    restart: RestartType,
    max_restarts: usize,
    within: Duration,
    backoff: Option<Backoff>,
}

impl StageRestart {
    /// Restarts by `restart`, with a supervisor's default budget (3 in 5 s)
    /// and no backoff.
    pub fn new(restart: RestartType) -> Self {
        let (max_restarts, within) = SupervisorConfig::default().budget();
        Self {
            restart,
            max_restarts,
            within,
            backoff: None,
        }
    }

    /// Restarted whenever it ends, even by `Flow::Done`.
    pub fn permanent() -> Self {
        Self::new(RestartType::Permanent)
    }

    /// Restarted only after a panic.
    pub fn transient() -> Self {
        Self::new(RestartType::Transient)
    }

    /// Never restarted (a stage that is not restartable behaves so too).
    pub fn temporary() -> Self {
        Self::new(RestartType::Temporary)
    }

    /// Sets the restart budget: at most `max` restarts within any window of
    /// `within` (OTP's intensity and period); `max == 0` never restarts.
    pub fn max_restarts(mut self, max: usize, within: Duration) -> Self {
        self.max_restarts = max;
        self.within = within;
        self
    }

    /// Waits before each restart (see [`Backoff`]). The stage is out of its
    /// thread's rounds meanwhile; the other stages run on.
    pub fn with_backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = Some(backoff);
        self
    }

    /// The restart type.
    pub fn restart_type(&self) -> RestartType {
        self.restart
    }

    /// The restart budget: `(max_restarts, within)`.
    pub fn budget(&self) -> (usize, Duration) {
        (self.max_restarts, self.within)
    }

    /// The backoff, if any.
    pub fn backoff(&self) -> Option<Backoff> {
        self.backoff
    }
}

/// A stage's restart policy at run time: its settings and its budget.
struct Policy {
    settings: StageRestart,
    budget: RestartBudget,
}

impl OnExit for Policy {
    /// As the supervision engine decides for a child: the restart type
    /// first, then the budget, then the backoff delay.
    fn on_exit(&mut self, stage: &str, exit: &StageExit) -> Decision {
        let reason = match exit {
            StageExit::Finished => ExitReason::Normal,
            StageExit::Panicked(message) => ExitReason::Failed(format!("panic: {message}")),
        };
        if !self.settings.restart.restarts_after(&reason) {
            return Decision::End;
        }
        // Outside a Tokio runtime (a scheduler thread), the system clock.
        if !self.budget.record(tokio::time::Instant::now()) {
            let (max_restarts, within) = self.budget.limits();
            return Decision::GiveUp(RestartsExhausted {
                stage: stage.to_owned(),
                max_restarts,
                within,
                last_exit: reason.to_string(),
            });
        }
        let delay = self.settings.backoff.map_or(Duration::ZERO, |backoff| {
            backoff.delay(self.budget.recent())
        });
        Decision::Restart(delay)
    }
}

impl<'a> StageSpec<'a> {
    /// Makes the stage restartable by `restart`; finish with the method of
    /// its kind, which takes a factory (called once when the pipeline is
    /// built, then once per restart, on the stage's thread) instead of a
    /// stage value.
    ///
    /// ```
    /// use std::time::Duration;
    /// use troupe_pipeline::{Flow, PipelineBuilder, Reader, Rule, StageRestart, Writer};
    ///
    /// let mut builder = PipelineBuilder::new("restartable");
    /// let numbers = builder.channel::<u32>("numbers", 16);
    /// let mut n = 0;
    /// builder.add("count", Rule::Loop).source(numbers, move |out: &mut Writer<u32>| {
    ///     if out.is_full() { return Flow::Continue; }
    ///     n += 1;
    ///     out.push(n);
    ///     if n == 6 { Flow::Done } else { Flow::Continue }
    /// });
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// builder
    ///     .add("check", Rule::OnMessage)
    ///     .restartable(StageRestart::transient())
    ///     .sink(numbers, move || {
    ///         let tx = tx.clone();
    ///         move |input: &mut Reader<u32>| {
    ///             while let Some(n) = input.pop() {
    ///                 assert!(n != 3, "three is bad");
    ///                 let _ = tx.send(n);
    ///             }
    ///             if input.is_closed() { Flow::Done } else { Flow::Continue }
    ///         }
    ///     });
    /// let pipeline = builder.build()?;
    /// assert!(pipeline.wait_finished(Duration::from_secs(5)));
    /// // 3 was lost with the incarnation that panicked on it; the next one went on.
    /// assert_eq!(rx.try_iter().collect::<Vec<_>>(), [1, 2, 4, 5, 6]);
    /// let report = pipeline.stop(Duration::from_secs(5));
    /// assert_eq!(report.stage("check").map(|s| s.restarts), Some(1));
    /// assert!(report.is_clean());
    /// # Ok::<(), troupe_pipeline::BuildError>(())
    /// ```
    pub fn restartable(mut self, restart: StageRestart) -> RestartableSpec<'a> {
        let (max, within) = restart.budget();
        self.set_restart(Box::new(Policy {
            settings: restart,
            budget: RestartBudget::new(max, within),
        }));
        RestartableSpec { spec: self }
    }
}

/// A restartable stage being added: made by [`StageSpec::restartable`],
/// finished by the method of the stage's kind, which takes the stage's
/// factory and returns its [`StageId`].
#[must_use = "a stage is only added by calling the method of its kind"]
pub struct RestartableSpec<'a> {
    spec: StageSpec<'a>,
}

impl RestartableSpec<'_> {
    /// Adds a restartable [`Source`] writing to `output`.
    pub fn source<O, S>(
        self,
        output: Channel<O>,
        factory: impl FnMut() -> S + Send + 'static,
    ) -> StageId
    where
        O: Send + 'static,
        S: Source<O>,
    {
        self.spec
            .source_first(output, move || Incarnation::first(factory))
    }

    /// Adds a restartable [`Sink`] reading `input`.
    pub fn sink<I, S>(
        self,
        input: Channel<I>,
        factory: impl FnMut() -> S + Send + 'static,
    ) -> StageId
    where
        I: Send + 'static,
        S: Sink<I>,
    {
        self.spec
            .sink_first(input, move || Incarnation::first(factory))
    }

    /// Adds a restartable [`Filter`] reading `input` and writing `output`.
    pub fn filter<I, O, S>(
        self,
        input: Channel<I>,
        output: Channel<O>,
        factory: impl FnMut() -> S + Send + 'static,
    ) -> StageId
    where
        I: Send + 'static,
        O: Send + 'static,
        S: Filter<I, O>,
    {
        self.spec
            .filter_first(input, output, move || Incarnation::first(factory))
    }

    /// Adds a restartable [`Scatter`] reading `input` and writing each of
    /// `outputs`.
    pub fn scatter<I, O, S>(
        self,
        input: Channel<I>,
        outputs: &[Channel<O>],
        factory: impl FnMut() -> S + Send + 'static,
    ) -> StageId
    where
        I: Send + 'static,
        O: Send + 'static,
        S: Scatter<I, O>,
    {
        self.spec
            .scatter_first(input, outputs, move || Incarnation::first(factory))
    }

    /// Adds a restartable [`Gather`] reading each of `inputs` and writing
    /// `output`.
    pub fn gather<I, O, S>(
        self,
        inputs: &[Channel<I>],
        output: Channel<O>,
        factory: impl FnMut() -> S + Send + 'static,
    ) -> StageId
    where
        I: Send + 'static,
        O: Send + 'static,
        S: Gather<I, O>,
    {
        self.spec
            .gather_first(inputs, output, move || Incarnation::first(factory))
    }

    /// Adds a restartable [`Split`] reading `input` and writing `left` and
    /// `right`.
    pub fn split<I, L, R, S>(
        self,
        input: Channel<I>,
        left: Channel<L>,
        right: Channel<R>,
        factory: impl FnMut() -> S + Send + 'static,
    ) -> StageId
    where
        I: Send + 'static,
        L: Send + 'static,
        R: Send + 'static,
        S: Split<I, L, R>,
    {
        self.spec
            .split_first(input, left, right, move || Incarnation::first(factory))
    }

    /// Adds a restartable [`Merge`] reading `left` and `right` and writing
    /// `output`.
    pub fn merge<L, R, O, S>(
        self,
        left: Channel<L>,
        right: Channel<R>,
        output: Channel<O>,
        factory: impl FnMut() -> S + Send + 'static,
    ) -> StageId
    where
        L: Send + 'static,
        R: Send + 'static,
        O: Send + 'static,
        S: Merge<L, R, O>,
    {
        self.spec
            .merge_first(left, right, output, move || Incarnation::first(factory))
    }
}

impl fmt::Debug for RestartableSpec<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RestartableSpec")
            .field("spec", &self.spec)
            .finish()
    }
}
