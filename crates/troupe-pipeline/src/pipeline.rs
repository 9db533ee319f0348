//! A running pipeline: waiting for it, watching it, stopping it.

use std::fmt;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::builder::StageId;
use crate::control::Control;
use crate::error::{RestartsExhausted, StagePanic, StopError};
use crate::queue::Probe;
use crate::scheduler::{panic_message, StageState};
use crate::signal::{Notifier, Signal};

/// How long [`Drop`] waits for the threads of a pipeline that was not stopped.
const DROP_STOP_WAIT: Duration = Duration::from_secs(1);

/// Where a stage is in its life.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum StageOutcome {
    /// Still scheduled. In a [`StopReport`], this means the stage's thread
    /// did not stop within the wait.
    Running,
    /// `process` returned [`Flow::Done`](crate::Flow::Done).
    Finished,
    /// `process` panicked with this message; the stage was dropped and is
    /// not restarted (it is not restartable, its restart type says no, or
    /// its restart budget is exhausted).
    Panicked(String),
    /// A restartable stage ended and waits for its backoff delay; then a
    /// fresh incarnation is made from its factory.
    Restarting,
    /// The pipeline was stopped while the stage was still scheduled.
    Stopped,
}

/// A stage's name, thread, number of runs and outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageReport {
    /// The stage's name.
    pub name: String,
    /// Index of the scheduler thread that runs it.
    pub thread: usize,
    /// How many times `process` was called (by all its incarnations).
    pub runs: u64,
    /// How many times it was restarted (always 0 for a stage that is not
    /// restartable).
    pub restarts: u64,
    /// Where it is in its life.
    pub outcome: StageOutcome,
}

/// A channel's counters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelReport {
    /// The channel's name.
    pub name: String,
    /// Items written to it.
    pub written: u64,
    /// Items its reader lost (overwritten before they were read).
    pub lost: u64,
}

/// What [`Pipeline::stop`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StopReport {
    /// Every stage, in the order it was added.
    pub stages: Vec<StageReport>,
    /// Every channel, in the order it was created.
    pub channels: Vec<ChannelReport>,
    /// Names of the scheduler threads that did not stop within the wait; they
    /// were left running (detached).
    pub unstopped_threads: Vec<String>,
    /// Set if the pipeline stopped because a stage exhausted its restart
    /// budget: which stage, its budget and its last exit.
    pub gave_up: Option<RestartsExhausted>,
}

impl StopReport {
    /// The stages that panicked, with their messages.
    pub fn panics(&self) -> Vec<StagePanic> {
        self.stages
            .iter()
            .filter_map(|stage| match &stage.outcome {
                StageOutcome::Panicked(message) => Some(StagePanic {
                    stage: stage.name.clone(),
                    message: message.clone(),
                }),
                _ => None,
            })
            .collect()
    }

    /// `true` if no stage ended by a panic (a restarted stage that runs
    /// again does not count), the pipeline did not give up, and every
    /// thread stopped.
    pub fn is_clean(&self) -> bool {
        self.unstopped_threads.is_empty() && self.panics().is_empty() && self.gave_up.is_none()
    }

    /// `Ok(self)` if the stop was clean, else the panics and unstopped
    /// threads as a [`StopError`].
    ///
    /// # Errors
    /// When a stage panicked (and was not restarted), the pipeline gave up,
    /// or a thread did not stop.
    pub fn into_result(self) -> Result<Self, StopError> {
        if self.is_clean() {
            Ok(self)
        } else {
            Err(StopError {
                panics: self.panics(),
                unstopped_threads: self.unstopped_threads,
                gave_up: self.gave_up,
            })
        }
    }

    /// The report of the stage named `name`.
    pub fn stage(&self, name: &str) -> Option<&StageReport> {
        self.stages.iter().find(|stage| stage.name == name)
    }

    /// The report of the channel named `name`.
    pub fn channel(&self, name: &str) -> Option<&ChannelReport> {
        self.channels.iter().find(|channel| channel.name == name)
    }
}

pub(crate) struct Worker {
    pub(crate) name: String,
    pub(crate) handle: Option<JoinHandle<()>>,
}

/// A running pipeline, made by [`PipelineBuilder::build`](crate::PipelineBuilder::build).
///
/// Its threads run until [`Pipeline::stop`] (or until it is dropped, which
/// stops it and waits up to one second for its threads).
pub struct Pipeline {
    pub(crate) name: String,
    pub(crate) builder_id: u64,
    pub(crate) control: Arc<Control>,
    pub(crate) workers: Vec<Worker>,
    pub(crate) stages: Vec<Arc<StageState>>,
    pub(crate) signals: Vec<Arc<Signal>>,
    pub(crate) channels: Vec<(String, Probe)>,
}

impl Pipeline {
    /// The pipeline's name (its threads are named `name#0`, `name#1`, ...).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Names of the scheduler threads.
    pub fn thread_names(&self) -> Vec<String> {
        self.workers.iter().map(|w| w.name.clone()).collect()
    }

    /// A notifier for the stage `stage` (see [`Rule::OnExternalEvent`](crate::Rule)),
    /// or `None` if the id comes from another builder.
    pub fn notifier(&self, stage: StageId) -> Option<Notifier> {
        if stage.builder != self.builder_id {
            return None;
        }
        self.signals
            .get(stage.index)
            .map(|signal| Notifier::new(Arc::clone(signal)))
    }

    /// Waits until every stage has finished (returned [`Flow::Done`](crate::Flow))
    /// or panicked for good (a restartable stage that will be restarted has
    /// not), or until the pipeline gave up ([`Pipeline::gave_up`]), for at
    /// most `timeout`. Returns `true` if it has ended so.
    pub fn wait_finished(&self, timeout: Duration) -> bool {
        self.control.wait_finished(Instant::now() + timeout)
    }

    /// Every panic so far, including those of stages that were restarted
    /// (and of their factories, as `restart: ...`).
    pub fn panics(&self) -> Vec<StagePanic> {
        self.control.panics()
    }

    /// Set once a stage has exhausted its restart budget: the pipeline then
    /// stops its threads by itself (each drops its stages and exits);
    /// [`Pipeline::stop`] still collects them and reports.
    pub fn gave_up(&self) -> Option<RestartsExhausted> {
        self.control.gave_up()
    }

    /// Calls `listener` once the pipeline has ended (as for
    /// [`Pipeline::wait_finished`]), on the thread that ends it, or at once.
    #[cfg_attr(not(feature = "supervision"), allow(dead_code))]
    pub(crate) fn when_ended(&self, listener: impl FnOnce() + Send + 'static) {
        self.control.when_ended(listener);
    }

    /// A snapshot of every stage.
    pub fn stages(&self) -> Vec<StageReport> {
        self.stages
            .iter()
            .map(|state| StageReport {
                name: state.name.clone(),
                thread: state.thread,
                runs: state.runs(),
                restarts: state.restarts(),
                outcome: state.outcome(),
            })
            .collect()
    }

    /// A snapshot of every channel's counters.
    pub fn channels(&self) -> Vec<ChannelReport> {
        self.channels
            .iter()
            .map(|(name, probe)| {
                let counts = probe.counts();
                ChannelReport {
                    name: name.clone(),
                    written: counts.written,
                    lost: counts.lost,
                }
            })
            .collect()
    }

    /// Stops the threads, waiting at most `timeout` for them, and reports what
    /// happened to every stage. Stages still scheduled are dropped on their
    /// threads. Threads that did not stop in time are named in the report and
    /// left running.
    pub fn stop(mut self, timeout: Duration) -> StopReport {
        self.stop_threads(timeout)
    }

    fn stop_threads(&mut self, timeout: Duration) -> StopReport {
        self.control.request_stop();
        let exited = self.control.wait_exited(Instant::now() + timeout);
        let mut unstopped_threads = Vec::new();
        for (worker, exited) in self.workers.iter_mut().zip(exited) {
            let Some(handle) = worker.handle.take() else {
                continue;
            };
            if !exited {
                unstopped_threads.push(worker.name.clone());
                continue; // Detached: joining could block forever.
            }
            // It has left its loop, so this join is short.
            if let Err(payload) = handle.join() {
                tracing::error!(
                    thread = %worker.name,
                    message = %panic_message(payload.as_ref()),
                    "pipeline thread panicked"
                );
            }
        }
        StopReport {
            stages: self.stages(),
            channels: self.channels(),
            unstopped_threads,
            gave_up: self.gave_up(),
        }
    }
}

impl Drop for Pipeline {
    fn drop(&mut self) {
        if self.workers.iter().any(|w| w.handle.is_some()) {
            let report = self.stop_threads(DROP_STOP_WAIT);
            if !report.unstopped_threads.is_empty() {
                tracing::warn!(threads = ?report.unstopped_threads, "pipeline threads did not stop");
            }
        }
    }
}

impl fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pipeline")
            .field("name", &self.name)
            .field("threads", &self.workers.len())
            .field("stages", &self.stages.len())
            .finish_non_exhaustive()
    }
}
