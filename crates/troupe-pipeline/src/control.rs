//! What a running pipeline's handle and its scheduler threads share: the
//! stop flag, whether the stages still run (or the pipeline gave up), which
//! threads have exited, the panics, and the threads' parkers.

use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering::Release;
use std::sync::Arc;
use std::time::Instant;

use parking_lot::{Condvar, Mutex};

use crate::error::{RestartsExhausted, StagePanic};
use crate::signal::Parker;

/// Called once when a pipeline has ended (see [`Control::when_ended`]).
type EndListener = Box<dyn FnOnce() + Send>;

/// Whether the pipeline still runs: its stages and whether it gave up.
#[derive(Default)]
struct RunState {
    /// Stages neither finished nor ended for good.
    active: usize,
    /// Set when a stage's restart budget was exhausted.
    gave_up: Option<RestartsExhausted>,
    /// Called when the pipeline has ended.
    on_end: Vec<EndListener>,
}

impl RunState {
    fn ended(&self) -> bool {
        self.active == 0 || self.gave_up.is_some()
    }
}

/// What the pipeline handle and all its threads share.
pub(crate) struct Control {
    pub(crate) stop: AtomicBool,
    run: Mutex<RunState>,
    finished: Condvar,
    /// One flag per thread, set when the thread has left its loop.
    exited: Mutex<Vec<bool>>,
    exited_cv: Condvar,
    pub(crate) panics: Mutex<Vec<StagePanic>>,
    /// One per thread, to wake them all when the pipeline stops.
    parkers: Vec<Arc<Parker>>,
}

impl Control {
    pub(crate) fn new(stages: usize, parkers: Vec<Arc<Parker>>) -> Self {
        Self {
            stop: AtomicBool::new(false),
            run: Mutex::new(RunState {
                active: stages,
                ..RunState::default()
            }),
            finished: Condvar::new(),
            exited: Mutex::new(vec![false; parkers.len()]),
            exited_cv: Condvar::new(),
            panics: Mutex::new(Vec::new()),
            parkers,
        }
    }

    /// Waits until no stage is active or the pipeline gave up, or until
    /// `deadline`.
    pub(crate) fn wait_finished(&self, deadline: Instant) -> bool {
        let mut run = self.run.lock();
        while !run.ended() {
            if self.finished.wait_until(&mut run, deadline).timed_out() {
                return run.ended();
            }
        }
        true
    }

    /// Calls `listener` once the pipeline has ended (every stage finished
    /// or ended for good, or it gave up): at once if it already has,
    /// otherwise on the thread that ends it. It must not block.
    #[cfg_attr(not(feature = "supervision"), allow(dead_code))]
    pub(crate) fn when_ended(&self, listener: impl FnOnce() + Send + 'static) {
        let mut run = self.run.lock();
        if run.ended() {
            drop(run);
            listener();
        } else {
            run.on_end.push(Box::new(listener));
        }
    }

    /// Waits until every thread left its loop, or until `deadline`; returns
    /// the per-thread exited flags.
    pub(crate) fn wait_exited(&self, deadline: Instant) -> Vec<bool> {
        let mut exited = self.exited.lock();
        while !exited.iter().all(|&e| e) {
            if self.exited_cv.wait_until(&mut exited, deadline).timed_out() {
                break;
            }
        }
        exited.clone()
    }

    /// Thread number `index` has left its loop.
    pub(crate) fn thread_exited(&self, index: usize) {
        let mut exited = self.exited.lock();
        if let Some(flag) = exited.get_mut(index) {
            *flag = true;
        }
        self.exited_cv.notify_all();
    }

    pub(crate) fn panics(&self) -> Vec<StagePanic> {
        self.panics.lock().clone()
    }

    pub(crate) fn gave_up(&self) -> Option<RestartsExhausted> {
        self.run.lock().gave_up.clone()
    }

    /// Asks every thread to stop and wakes them.
    pub(crate) fn request_stop(&self) {
        self.stop.store(true, Release);
        for parker in &self.parkers {
            parker.unpark();
        }
    }

    pub(crate) fn stage_ended(&self) {
        let mut run = self.run.lock();
        run.active = run.active.saturating_sub(1);
        self.notify_if_ended(run);
    }

    /// A stage exhausted its restart budget: the pipeline stops.
    pub(crate) fn give_up(&self, error: RestartsExhausted) {
        let mut run = self.run.lock();
        run.gave_up.get_or_insert(error);
        self.request_stop();
        self.notify_if_ended(run);
    }

    fn notify_if_ended(&self, mut run: parking_lot::MutexGuard<'_, RunState>) {
        if !run.ended() {
            return;
        }
        self.finished.notify_all();
        let listeners = std::mem::take(&mut run.on_end);
        drop(run);
        for listener in listeners {
            listener();
        }
    }
}

impl std::fmt::Debug for Control {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Control")
            .field("stop", &self.stop)
            .field("threads", &self.parkers.len())
            .finish_non_exhaustive()
    }
}
