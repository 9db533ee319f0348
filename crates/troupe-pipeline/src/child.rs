//! A whole pipeline as a child of a troupe supervisor (feature
//! `supervision`): [`PipelineChild`].
//!
//! It is a plain supervised process ([`Supervisable`]), so the supervision
//! engine starts, stops and restarts it as it does any other child, next to
//! struct actors, groups, plain processes and nested supervisors, under any
//! strategy: a one-for-all sibling restart stops the pipeline and builds a
//! fresh one.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use troupe::supervision::{ProcessShutdown, ShutdownStrategy, Supervisable, SupervisorFuture};
use troupe::BoxError;

use crate::builder::PipelineBuilder;
use crate::pipeline::{Pipeline, StopReport};

type MakeBuilder = dyn Fn() -> PipelineBuilder + Send + Sync;
type OnStop = dyn Fn(&StopReport) + Send + Sync;

/// A pipeline that a troupe supervisor starts, stops and restarts.
///
/// Each start calls the factory for a [`PipelineBuilder`] and builds it
/// (a wiring error is a failed start, counted by the supervisor like any
/// other). The run is a troupe process that lasts as long as the pipeline:
///
/// * asked to stop (its supervisor stops or restarts it, or the system shuts
///   down), it stops the pipeline, waiting up to its stop wait for the
///   threads, and exits with reason `shutdown`;
/// * when the pipeline ends by itself, it exits: normally if every stage
///   finished, abnormally ([`ExitReason::Failed`](troupe::ExitReason::Failed))
///   if a stage ended by a panic, a thread did not stop, or the pipeline
///   gave up because a stage exhausted its restart budget (the reason then
///   names the stage, its budget and its last exit).
///
/// Its restart type is the child spec's, as for every child (permanent by
/// default; `ChildSpec::worker(child).restart(RestartType::Transient)` to
/// let a pipeline that finished stay finished). Its shutdown strategy is
/// graceful: the stop wait plus one second, then it is killed (the pipeline
/// is then stopped in the background).
///
/// ```
/// use std::time::Duration;
/// use troupe::prelude::*;
/// use troupe::supervision::{Supervisor, SupervisorConfig};
/// use troupe_pipeline::{Flow, PipelineBuilder, PipelineChild, Reader, Rule, Writer};
///
/// # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let system = ActorSystem::create("doc-pipeline-child")?;
/// let ticks = PipelineChild::new("ticks", || {
///     let mut builder = PipelineBuilder::new("ticks");
///     let ticks = builder.channel::<u64>("ticks", 8);
///     let mut n = 0;
///     builder.add("tick", Rule::Periodic(Duration::from_millis(10))).source(
///         ticks,
///         move |out: &mut Writer<u64>| {
///             n += 1;
///             out.push(n);
///             Flow::Continue
///         },
///     );
///     builder.add("drop", Rule::OnMessage).sink(ticks, |input: &mut Reader<u64>| {
///         input.drain().for_each(drop);
///         Flow::Continue
///     });
///     builder
/// });
/// let root = Supervisor::new("root")
///     .with_config(SupervisorConfig::one_for_all())
///     .with_worker(ticks)
///     .spawn(&system)
///     .await?;
/// assert!(root.children().await?[0].alive);
/// root.shutdown().await?; // stops the pipeline's threads
/// # Ok(()) }
/// ```
pub struct PipelineChild {
    name: String,
    make: Arc<MakeBuilder>,
    stop_wait: Duration,
    on_stop: Option<Arc<OnStop>>,
}

impl PipelineChild {
    /// A child named `name` whose every start builds what `make` returns.
    /// The stop wait is a worker's default shutdown time (5 s).
    pub fn new(
        name: impl Into<String>,
        make: impl Fn() -> PipelineBuilder + Send + Sync + 'static,
    ) -> Self {
        Self {
            name: name.into(),
            make: Arc::new(make),
            stop_wait: troupe::defaults::WORKER_SHUTDOWN,
            on_stop: None,
        }
    }

    /// Sets how long a stop waits for the pipeline's threads
    /// ([`Pipeline::stop`]'s timeout).
    pub fn stop_wait(mut self, wait: Duration) -> Self {
        self.stop_wait = wait;
        self
    }

    /// Hands the [`StopReport`] of every run, however it ended, to `report`
    /// (called on a blocking thread of the runtime, before the run exits).
    pub fn on_stop(mut self, report: impl Fn(&StopReport) + Send + Sync + 'static) -> Self {
        self.on_stop = Some(Arc::new(report));
        self
    }
}

impl Supervisable for PipelineChild {
    fn name(&self) -> &str {
        &self.name
    }

    fn shutdown_strategy(&self) -> ShutdownStrategy {
        ShutdownStrategy::Graceful(self.stop_wait.saturating_add(Duration::from_secs(1)))
    }

    fn initialize(&self, shutdown: ProcessShutdown) -> Result<SupervisorFuture, BoxError> {
        let pipeline = (self.make)().build()?;
        let (ended_tx, ended) = tokio::sync::oneshot::channel::<()>();
        pipeline.when_ended(move || {
            let _ = ended_tx.send(());
        });
        let run = Run {
            pipeline: Some(pipeline),
            stop_wait: self.stop_wait,
            on_stop: self.on_stop.clone(),
        };
        Ok(Box::pin(run.until_end(shutdown, ended)))
    }
}

/// One run of a [`PipelineChild`]. If the run is dropped before it stopped
/// its pipeline (its process was killed), the pipeline is stopped on a
/// blocking thread, not on the runtime's.
struct Run {
    pipeline: Option<Pipeline>,
    stop_wait: Duration,
    on_stop: Option<Arc<OnStop>>,
}

impl Run {
    async fn until_end(
        mut self,
        mut shutdown: ProcessShutdown,
        ended: tokio::sync::oneshot::Receiver<()>,
    ) -> Result<(), BoxError> {
        tokio::select! {
            () = shutdown.wait_for_shutdown() => {}
            _ = ended => {}
        }
        let Some(pipeline) = self.pipeline.take() else {
            return Ok(());
        };
        let (wait, on_stop) = (self.stop_wait, self.on_stop.clone());
        let report = tokio::task::spawn_blocking(move || {
            let report = pipeline.stop(wait);
            if let Some(on_stop) = on_stop {
                on_stop(&report);
            }
            report
        })
        .await?;
        if let Some(gave_up) = report.gave_up.clone() {
            return Err(gave_up.into());
        }
        report.into_result()?;
        Ok(())
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        let Some(pipeline) = self.pipeline.take() else {
            return;
        };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                // Dropping a pipeline stops it, waiting for its threads.
                drop(runtime.spawn_blocking(move || drop(pipeline)));
            }
            Err(_) => drop(pipeline),
        }
    }
}

impl fmt::Debug for PipelineChild {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PipelineChild")
            .field("name", &self.name)
            .field("stop_wait", &self.stop_wait)
            .finish_non_exhaustive()
    }
}
