//! A running pipeline: waiting for it, watching it, stopping it.

use std::fmt;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::builder::StageId;
use crate::error::{StagePanic, StopError};
use crate::queue::Probe;
use crate::scheduler::{self, panic_message, Control, StageState};
use crate::signal::{Notifier, Parker, Signal};

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
    /// `process` panicked with this message; the stage was dropped.
    Panicked(String),
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
    /// How many times `process` was called.
    pub runs: u64,
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

    /// `true` if no stage panicked and every thread stopped.
    pub fn is_clean(&self) -> bool {
        self.unstopped_threads.is_empty() && self.panics().is_empty()
    }

    /// `Ok(self)` if the stop was clean, else the panics and unstopped
    /// threads as a [`StopError`].
    ///
    /// # Errors
    /// When a stage panicked or a thread did not stop.
    pub fn into_result(self) -> Result<Self, StopError> {
        if self.is_clean() {
            Ok(self)
        } else {
            Err(StopError {
                panics: self.panics(),
                unstopped_threads: self.unstopped_threads,
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
    pub(crate) parker: Arc<Parker>,
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
    /// or panicked, for at most `timeout`. Returns `true` if they all have.
    pub fn wait_finished(&self, timeout: Duration) -> bool {
        self.control.wait_finished(Instant::now() + timeout)
    }

    /// The stages that panicked so far.
    pub fn panics(&self) -> Vec<StagePanic> {
        self.control.panics()
    }

    /// A snapshot of every stage.
    pub fn stages(&self) -> Vec<StageReport> {
        self.stages
            .iter()
            .map(|state| StageReport {
                name: state.name.clone(),
                thread: state.thread,
                runs: state.runs(),
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
        let parkers = self
            .workers
            .iter()
            .map(|w| Arc::clone(&w.parker))
            .collect::<Vec<_>>();
        scheduler::request_stop(&self.control, &parkers);
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
