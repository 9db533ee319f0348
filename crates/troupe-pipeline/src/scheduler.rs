//! The scheduler threads: each runs a fixed set of stages by their rules.
//!
//! One round of a thread looks at each of its live stages once:
//! * `Loop` stages run every round;
//! * `OnMessage` and `OnExternalEvent` stages run if their signal is raised
//!   (by a queue writer, a [`Notifier`](crate::Notifier), or by the thread
//!   itself when the stage left input unread);
//! * `Periodic` stages run when their deadline has passed.
//!
//! After a round in which nothing ran, a thread without `Loop` stages watches
//! its signals for a few microseconds (spinning, then yielding), then parks
//! until the earliest periodic deadline or until a signal unparks it; a thread
//! with `Loop` stages yields to the OS instead. A panic in `process` is caught:
//! the stage is dropped and reported, and the thread goes on with its others.

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Instant;

use parking_lot::{Condvar, Mutex};

use crate::error::StagePanic;
use crate::pipeline::StageOutcome;
use crate::signal::{Parker, Signal};
use crate::stage::{Flow, Rule, Runner};

/// What the pipeline handle and the threads share about one stage.
#[derive(Debug)]
pub(crate) struct StageState {
    pub(crate) name: String,
    pub(crate) thread: usize,
    runs: AtomicU64,
    outcome: Mutex<StageOutcome>,
}

impl StageState {
    pub(crate) fn new(name: String, thread: usize) -> Self {
        Self {
            name,
            thread,
            runs: AtomicU64::new(0),
            outcome: Mutex::new(StageOutcome::Running),
        }
    }

    pub(crate) fn runs(&self) -> u64 {
        self.runs.load(Relaxed)
    }

    pub(crate) fn outcome(&self) -> StageOutcome {
        self.outcome.lock().clone()
    }
}

/// What the pipeline handle and all its threads share.
#[derive(Debug)]
pub(crate) struct Control {
    pub(crate) stop: AtomicBool,
    /// Stages neither finished nor panicked.
    active: Mutex<usize>,
    finished: Condvar,
    /// One flag per thread, set when the thread has left its loop.
    exited: Mutex<Vec<bool>>,
    exited_cv: Condvar,
    panics: Mutex<Vec<StagePanic>>,
}

impl Control {
    pub(crate) fn new(stages: usize, threads: usize) -> Self {
        Self {
            stop: AtomicBool::new(false),
            active: Mutex::new(stages),
            finished: Condvar::new(),
            exited: Mutex::new(vec![false; threads]),
            exited_cv: Condvar::new(),
            panics: Mutex::new(Vec::new()),
        }
    }

    /// Waits until no stage is active, or until `deadline`.
    pub(crate) fn wait_finished(&self, deadline: Instant) -> bool {
        let mut active = self.active.lock();
        while *active > 0 {
            if self.finished.wait_until(&mut active, deadline).timed_out() {
                return *active == 0;
            }
        }
        true
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

    pub(crate) fn panics(&self) -> Vec<StagePanic> {
        self.panics.lock().clone()
    }

    fn stage_ended(&self) {
        let mut active = self.active.lock();
        *active = active.saturating_sub(1);
        if *active == 0 {
            self.finished.notify_all();
        }
    }
}

/// One stage as its thread holds it.
pub(crate) struct Task {
    pub(crate) runner: Box<dyn Runner>,
    pub(crate) rule: Rule,
    pub(crate) signal: Arc<Signal>,
    pub(crate) state: Arc<StageState>,
}

struct Slot {
    runner: Option<Box<dyn Runner>>,
    rule: Rule,
    signal: Arc<Signal>,
    state: Arc<StageState>,
    next_due: Instant,
}

/// Spawns scheduler thread number `index`, running `tasks`.
pub(crate) fn spawn(
    name: String,
    index: usize,
    tasks: Vec<Task>,
    parker: Arc<Parker>,
    control: Arc<Control>,
) -> std::io::Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name(name)
        .spawn(move || run_thread(index, tasks, &parker, &control))
}

fn run_thread(index: usize, tasks: Vec<Task>, parker: &Parker, control: &Control) {
    let start = Instant::now();
    let slots = tasks
        .into_iter()
        .map(|task| Slot {
            next_due: match task.rule {
                Rule::Periodic(period) => start + period,
                _ => start,
            },
            runner: Some(task.runner),
            rule: task.rule,
            signal: task.signal,
            state: task.state,
        })
        .collect::<Vec<_>>();
    // Whatever happens below, the stages are dropped and the exit reported.
    let mut guard = ExitGuard {
        index,
        slots,
        control,
    };
    while !control.stop.load(Acquire) {
        let round = run_round(&mut guard.slots, control);
        if round.ran_loop {
            if !round.ran_other {
                std::thread::yield_now();
            }
        } else if !round.ran_other && !wait_briefly(&guard.slots) {
            parker.park_until(round.next_deadline);
        }
    }
}

/// Before parking, watches the signals for a few microseconds: under load the
/// next write usually comes within that time, and catching it here saves the
/// writer a futex wake and this thread a sleep. Returns `true` if a signal was
/// raised (run a round instead of parking).
fn wait_briefly(slots: &[Slot]) -> bool {
    let pending = || {
        slots.iter().any(|slot| {
            slot.runner.is_some()
                && matches!(slot.rule, Rule::OnMessage | Rule::OnExternalEvent)
                && slot.signal.is_pending()
        })
    };
    for step in 0..SPIN_STEPS {
        for _ in 0..1u32 << step {
            std::hint::spin_loop();
        }
        if pending() {
            return true;
        }
    }
    for _ in 0..YIELDS {
        std::thread::yield_now();
        if pending() {
            return true;
        }
    }
    false
}

/// Exponential spin steps before parking (1 + 2 + ... + 64 pauses).
const SPIN_STEPS: u32 = 7;
/// Yields to the OS after spinning, before parking.
const YIELDS: u32 = 2;

#[derive(Default)]
struct Round {
    ran_loop: bool,
    ran_other: bool,
    next_deadline: Option<Instant>,
}

fn run_round(slots: &mut [Slot], control: &Control) -> Round {
    let mut round = Round::default();
    let mut now: Option<Instant> = None;
    for slot in slots.iter_mut() {
        let Some(runner) = slot.runner.as_mut() else {
            continue;
        };
        let due = match slot.rule {
            Rule::Loop => true,
            Rule::OnMessage | Rule::OnExternalEvent => slot.signal.take(),
            Rule::Periodic(period) => {
                let now = *now.get_or_insert_with(Instant::now);
                if now >= slot.next_due {
                    slot.next_due += period;
                    if slot.next_due <= now {
                        // Missed runs are skipped, not caught up.
                        slot.next_due = now + period;
                    }
                    true
                } else {
                    round.next_deadline = Some(
                        round
                            .next_deadline
                            .map_or(slot.next_due, |d| d.min(slot.next_due)),
                    );
                    false
                }
            }
        };
        if !due {
            continue;
        }
        if slot.rule == Rule::Loop {
            round.ran_loop = true;
        } else {
            round.ran_other = true;
        }
        let result = catch_unwind(AssertUnwindSafe(|| runner.run()));
        slot.state
            .runs
            .store(slot.state.runs.load(Relaxed) + 1, Relaxed);
        match result {
            Ok(Flow::Continue) => {
                if slot.rule == Rule::OnMessage && runner.has_input() {
                    // It returned before reading everything: run it again.
                    slot.signal.set_local();
                }
            }
            Ok(Flow::Done) => end_stage(slot, StageOutcome::Finished, control),
            Err(payload) => {
                let message = panic_message(payload.as_ref());
                tracing::error!(stage = %slot.state.name, %message, "pipeline stage panicked");
                control.panics.lock().push(StagePanic {
                    stage: slot.state.name.clone(),
                    message: message.clone(),
                });
                end_stage(slot, StageOutcome::Panicked(message), control);
            }
        }
    }
    round
}

/// Drops the stage (closing its outputs) and records how it ended.
fn end_stage(slot: &mut Slot, outcome: StageOutcome, control: &Control) {
    drop_runner(slot);
    *slot.state.outcome.lock() = outcome;
    control.stage_ended();
}

fn drop_runner(slot: &mut Slot) {
    if let Some(runner) = slot.runner.take() {
        // A panicking destructor must not take the thread down.
        if catch_unwind(AssertUnwindSafe(move || drop(runner))).is_err() {
            tracing::error!(stage = %slot.state.name, "pipeline stage panicked while dropped");
        }
    }
}

/// Turns a panic payload into a message.
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(message) = payload.downcast_ref::<&str>() {
        (*message).to_owned()
    } else if let Some(message) = payload.downcast_ref::<String>() {
        message.clone()
    } else {
        "<non-string panic payload>".to_owned()
    }
}

struct ExitGuard<'a> {
    index: usize,
    slots: Vec<Slot>,
    control: &'a Control,
}

impl Drop for ExitGuard<'_> {
    fn drop(&mut self) {
        for slot in &mut self.slots {
            if slot.runner.is_some() {
                drop_runner(slot);
                *slot.state.outcome.lock() = StageOutcome::Stopped;
            }
        }
        let mut exited = self.control.exited.lock();
        if let Some(flag) = exited.get_mut(self.index) {
            *flag = true;
        }
        self.control.exited_cv.notify_all();
    }
}

/// Asks every thread to stop and wakes them.
pub(crate) fn request_stop(control: &Control, parkers: &[Arc<Parker>]) {
    control.stop.store(true, Release);
    for parker in parkers {
        parker.unpark();
    }
}
