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
//!
//! A restartable stage (one with an [`OnExit`] policy) that ends is asked
//! about: the policy says end, restart now, restart after a delay, or give
//! up. A restart drops the stage value and makes a fresh one from its
//! factory, here on the stage's own thread, keeping its endpoints; while it
//! waits for its delay the stage is out of the rounds, and its thread parks
//! no longer than the delay. Giving up stops the whole pipeline. None of
//! this touches a round in which no stage ends.

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering::{Acquire, Relaxed};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use crate::control::Control;
use crate::error::{RestartsExhausted, StagePanic};
use crate::pipeline::StageOutcome;
use crate::signal::{Parker, Signal};
use crate::stage::{Flow, Rule, Runner};

/// How a stage's incarnation ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StageExit {
    /// `process` returned [`Flow::Done`].
    Finished,
    /// `process` (or, on a restart, the factory) panicked with this message.
    Panicked(String),
}

impl StageExit {
    fn outcome(self) -> StageOutcome {
        match self {
            Self::Finished => StageOutcome::Finished,
            Self::Panicked(message) => StageOutcome::Panicked(message),
        }
    }
}

/// What to do about a stage that ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(not(feature = "supervision"), allow(dead_code))]
pub(crate) enum Decision {
    /// It stays ended.
    End,
    /// Make a fresh incarnation after this delay (zero: now).
    Restart(Duration),
    /// Its restart budget is exhausted: stop the pipeline.
    GiveUp(RestartsExhausted),
}

/// The restart policy of a restartable stage, asked on the stage's thread
/// each time an incarnation ends (a failed restart counts as an end too).
pub(crate) trait OnExit: Send {
    fn on_exit(&mut self, stage: &str, exit: &StageExit) -> Decision;
}

/// What the pipeline handle and the threads share about one stage.
#[derive(Debug)]
pub(crate) struct StageState {
    pub(crate) name: String,
    pub(crate) thread: usize,
    runs: AtomicU64,
    restarts: AtomicU64,
    outcome: Mutex<StageOutcome>,
}

impl StageState {
    pub(crate) fn new(name: String, thread: usize) -> Self {
        Self {
            name,
            thread,
            runs: AtomicU64::new(0),
            restarts: AtomicU64::new(0),
            outcome: Mutex::new(StageOutcome::Running),
        }
    }

    pub(crate) fn runs(&self) -> u64 {
        self.runs.load(Relaxed)
    }

    pub(crate) fn restarts(&self) -> u64 {
        self.restarts.load(Relaxed)
    }

    pub(crate) fn outcome(&self) -> StageOutcome {
        self.outcome.lock().clone()
    }
}

/// One stage as its thread holds it.
pub(crate) struct Task {
    pub(crate) runner: Box<dyn Runner>,
    pub(crate) rule: Rule,
    pub(crate) signal: Arc<Signal>,
    pub(crate) state: Arc<StageState>,
    pub(crate) restart: Option<Box<dyn OnExit>>,
}

struct Slot {
    /// The stage while it is scheduled.
    runner: Option<Box<dyn Runner>>,
    rule: Rule,
    signal: Arc<Signal>,
    state: Arc<StageState>,
    next_due: Instant,
    restart: Option<Box<dyn OnExit>>,
    /// The stage while it waits for its restart delay, and when it is due.
    resting: Option<(Box<dyn Runner>, Instant)>,
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
            restart: task.restart,
            resting: None,
        })
        .collect::<Vec<_>>();
    // Whatever happens below, the stages are dropped and the exit reported.
    let mut guard = ExitGuard {
        index,
        slots,
        control,
    };
    // Stages waiting for their restart delay, and the earliest due.
    let mut resting = Resting::default();
    while !control.stop.load(Acquire) {
        if resting.count > 0 {
            restart_due(&mut guard.slots, &mut resting, control);
        }
        let round = run_round(&mut guard.slots, &mut resting, control);
        if round.ran_loop {
            if !round.ran_other {
                std::thread::yield_now();
            }
        } else if !round.ran_other && !wait_briefly(&guard.slots) {
            let deadline = match (round.next_deadline, resting.next_due) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            parker.park_until(deadline);
        }
    }
}

/// The stages of a thread that wait for their restart delay.
#[derive(Default)]
struct Resting {
    count: usize,
    next_due: Option<Instant>,
}

impl Resting {
    fn add(&mut self, due: Instant) {
        self.count += 1;
        self.next_due = Some(self.next_due.map_or(due, |d| d.min(due)));
    }
}

/// Restarts the resting stages whose delay has passed.
fn restart_due(slots: &mut [Slot], resting: &mut Resting, control: &Control) {
    let now = Instant::now();
    if resting.next_due.is_some_and(|due| due > now) {
        return;
    }
    resting.next_due = None;
    for slot in slots.iter_mut() {
        let Some((runner, due)) = slot.resting.take() else {
            continue;
        };
        if due > now {
            slot.resting = Some((runner, due));
            resting.next_due = Some(resting.next_due.map_or(due, |d| d.min(due)));
            continue;
        }
        resting.count -= 1;
        slot.runner = Some(runner);
        restart(slot, resting, control);
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

fn run_round(slots: &mut [Slot], resting: &mut Resting, control: &Control) -> Round {
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
            Ok(Flow::Done) => stage_exit(slot, StageExit::Finished, resting, control),
            Err(payload) => {
                let message = panic_message(payload.as_ref());
                tracing::error!(stage = %slot.state.name, %message, "pipeline stage panicked");
                control.panics.lock().push(StagePanic {
                    stage: slot.state.name.clone(),
                    message: message.clone(),
                });
                stage_exit(slot, StageExit::Panicked(message), resting, control);
            }
        }
    }
    round
}

/// The stage's incarnation ended: ends the stage, or restarts it (now or
/// after its delay), or gives up, as its policy says. Nothing is restarted
/// once the pipeline stops.
fn stage_exit(slot: &mut Slot, exit: StageExit, resting: &mut Resting, control: &Control) {
    let mut exit = exit;
    loop {
        let decision = match slot.restart.as_mut() {
            Some(policy) if !control.stop.load(Acquire) => policy.on_exit(&slot.state.name, &exit),
            _ => Decision::End,
        };
        match decision {
            Decision::End => return end_stage(slot, exit.outcome(), control),
            Decision::GiveUp(error) => {
                tracing::error!(stage = %slot.state.name, %error, "pipeline gives up");
                end_stage(slot, exit.outcome(), control);
                return control.give_up(error);
            }
            Decision::Restart(delay) => {
                // The old incarnation goes first (OTP: it is gone before a
                // new one starts); its endpoints stay with the runner.
                if let Some(runner) = slot.runner.as_mut() {
                    if catch_unwind(AssertUnwindSafe(|| runner.retire())).is_err() {
                        tracing::error!(stage = %slot.state.name, "pipeline stage panicked while dropped");
                    }
                }
                if !delay.is_zero() {
                    if let Some(runner) = slot.runner.take() {
                        let due = Instant::now() + delay;
                        slot.resting = Some((runner, due));
                        resting.add(due);
                        *slot.state.outcome.lock() = StageOutcome::Restarting;
                    }
                    return;
                }
                match renew(slot, control) {
                    Some(failed) => exit = failed,
                    None => return,
                }
            }
        }
    }
}

/// Restarts a stage whose delay has passed.
fn restart(slot: &mut Slot, resting: &mut Resting, control: &Control) {
    if let Some(failed) = renew(slot, control) {
        stage_exit(slot, failed, resting, control);
    }
}

/// Makes a fresh incarnation of the stage from its factory. A factory that
/// panics is a failed restart: returned as another exit of the stage.
fn renew(slot: &mut Slot, control: &Control) -> Option<StageExit> {
    let runner = slot.runner.as_mut()?;
    match catch_unwind(AssertUnwindSafe(|| runner.renew())) {
        Ok(true) => {
            slot.state.restarts.fetch_add(1, Relaxed);
            *slot.state.outcome.lock() = StageOutcome::Running;
            tracing::info!(stage = %slot.state.name, "pipeline stage restarted");
            match slot.rule {
                // One run at least: its input may have been closed while it
                // was down, and no writer will wake it again.
                Rule::OnMessage => slot.signal.set_local(),
                Rule::Periodic(period) => slot.next_due = Instant::now() + period,
                Rule::Loop | Rule::OnExternalEvent => {}
            }
            None
        }
        // No factory: cannot happen (only restartable stages have a policy).
        Ok(false) => {
            end_stage(slot, StageOutcome::Stopped, control);
            None
        }
        Err(payload) => {
            let message = format!("restart: {}", panic_message(payload.as_ref()));
            tracing::error!(stage = %slot.state.name, %message, "pipeline stage factory panicked");
            control.panics.lock().push(StagePanic {
                stage: slot.state.name.clone(),
                message: message.clone(),
            });
            Some(StageExit::Panicked(message))
        }
    }
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
            if let Some((runner, _)) = slot.resting.take() {
                slot.runner = Some(runner);
            }
            if slot.runner.is_some() {
                drop_runner(slot);
                *slot.state.outcome.lock() = StageOutcome::Stopped;
            }
        }
        self.control.thread_exited(self.index);
    }
}
