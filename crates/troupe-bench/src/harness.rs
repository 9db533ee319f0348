//! Running one (framework, workload) pair in isolation, inside the process that makes the run
//! (see [`crate::child`]: every run has a process of its own): its own thread, its own
//! runtime, a time limit, and panics and failures turned into error cells instead of crashes.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use crate::workloads::Sample;

/// Why a run produced no sample.
#[derive(Debug, Clone, thiserror::Error)]
pub enum BenchError {
    /// The framework has no idiomatic way to run this workload (shown as "n/a").
    #[error("n/a: {0}")]
    Unsupported(std::borrow::Cow<'static, str>),
    /// The run did not finish within its time limit.
    #[error("timed out after {0:?}")]
    Timeout(Duration),
    /// The run panicked outside of the framework's own supervision.
    #[error("panicked: {0}")]
    Panicked(String),
    /// The framework returned an error, or a result check failed.
    #[error("failed: {0}")]
    Failed(String),
}

impl BenchError {
    /// A failure with a message.
    pub fn failed(msg: impl std::fmt::Display) -> Self {
        BenchError::Failed(msg.to_string())
    }
}

/// Result of one run.
pub type RunResult = Result<Sample, BenchError>;

/// Extension to turn any displayable error into a [`BenchError::Failed`] with context.
pub trait Context<T> {
    /// Maps the error to `Failed("{what}: {err}")`.
    fn ctx(self, what: &str) -> Result<T, BenchError>;
}

impl<T, E: std::fmt::Display> Context<T> for Result<T, E> {
    fn ctx(self, what: &str) -> Result<T, BenchError> {
        self.map_err(|e| BenchError::Failed(format!("{what}: {e}")))
    }
}

impl<T> Context<T> for Option<T> {
    fn ctx(self, what: &str) -> Result<T, BenchError> {
        self.ok_or_else(|| BenchError::Failed(what.to_string()))
    }
}

/// Checks that a counted result matches what the workload sent.
pub fn check_count(what: &str, got: u64, want: usize) -> Result<(), BenchError> {
    if got == want as u64 {
        Ok(())
    } else {
        Err(BenchError::Failed(format!(
            "{what}: counted {got}, expected {want}"
        )))
    }
}

/// Runs `job` on a fresh thread and waits for it at most `limit` plus a grace period.
///
/// The job is expected to enforce `limit` itself (see [`run_tokio`]); the outer wait only
/// catches a job so stuck that it cannot even time out, whose thread is then left behind.
pub fn run_isolated<F>(name: String, limit: Duration, job: F) -> RunResult
where
    F: FnOnce() -> RunResult + Send + 'static,
{
    let (tx, rx) = mpsc::channel();
    let spawned = std::thread::Builder::new().name(name).spawn(move || {
        let outcome = std::panic::catch_unwind(AssertUnwindSafe(job))
            .unwrap_or_else(|payload| Err(BenchError::Panicked(panic_message(&*payload))));
        let _ = tx.send(outcome);
    });
    let thread = match spawned {
        Ok(thread) => thread,
        Err(e) => return Err(BenchError::failed(format!("cannot spawn run thread: {e}"))),
    };
    match rx.recv_timeout(limit + TEARDOWN_LIMIT + Duration::from_secs(5)) {
        Ok(outcome) => {
            // The thread ends right after sending; wait for it so that nothing of this run
            // is still being freed when the next one starts.
            let _ = thread.join();
            outcome
        }
        Err(_) => Err(BenchError::Timeout(limit)),
    }
}

/// Text of a panic payload.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_string()
    }
}

thread_local! {
    /// Set while a run of the single-thread table builds its runtime (see [`single_thread`]).
    static SINGLE_THREAD: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `job` (on the calling thread) so that [`run_tokio`] gives it a current-thread runtime:
/// the driver and every actor on one thread, as actix runs (the single-thread table).
pub fn single_thread<T>(job: impl FnOnce() -> T) -> T {
    SINGLE_THREAD.with(|s| s.set(true));
    let out = job();
    SINGLE_THREAD.with(|s| s.set(false));
    out
}

/// Builds the runtime every Tokio-based framework runs on: multi-thread, 2 workers; or, for a
/// run of the single-thread table, a current-thread runtime.
pub fn tokio_runtime() -> Result<tokio::runtime::Runtime, BenchError> {
    let mut builder = if SINGLE_THREAD.with(|s| s.get()) {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut b = tokio::runtime::Builder::new_multi_thread();
        b.worker_threads(2);
        b
    };
    builder
        .enable_all()
        .build()
        .ctx("cannot build the Tokio runtime")
}

/// Longest wait for a runtime's tasks to be dropped after a run (it normally takes far less; a
/// run's memory must be freed before the next run measures its own).
const TEARDOWN_LIMIT: Duration = Duration::from_secs(10);

/// Runs a workload future as a task of a fresh 2-worker runtime (so that the driver, like the
/// actors, runs on the workers; in [`single_thread`], of a current-thread runtime), bounded by
/// `limit`. The runtime is then shut down, waiting up to
/// [`TEARDOWN_LIMIT`] for its tasks to be dropped (one second after a timed-out run).
pub fn run_tokio<Fut>(limit: Duration, fut: Fut) -> RunResult
where
    Fut: Future<Output = RunResult> + Send + 'static,
{
    let rt = tokio_runtime()?;
    let outcome: RunResult = rt.block_on(async move {
        let task = tokio::spawn(fut);
        let abort = task.abort_handle();
        match tokio::time::timeout(limit, task).await {
            Ok(Ok(result)) => result,
            Ok(Err(join)) if join.is_panic() => {
                Err(BenchError::Panicked(panic_message(&*join.into_panic())))
            }
            Ok(Err(join)) => Err(BenchError::failed(format!("driver task ended: {join}"))),
            Err(_) => {
                abort.abort();
                Err(BenchError::Timeout(limit))
            }
        }
    });
    if SKIP_TEARDOWN.load(Ordering::Relaxed) {
        rt.shutdown_background();
        return outcome;
    }
    let teardown = match outcome {
        Err(BenchError::Timeout(_)) => Duration::from_secs(1),
        _ => TEARDOWN_LIMIT,
    };
    rt.shutdown_timeout(teardown);
    outcome
}

/// Set in a child process, whose run is its only one: see [`skip_teardown`].
static SKIP_TEARDOWN: AtomicBool = AtomicBool::new(false);

/// Makes [`run_tokio`] return as soon as the run is measured, leaving its runtime to shut down
/// in the background: in a process that makes one run and then exits, nothing comes after it
/// whose figures the teardown could disturb, and the exit frees everything at once.
pub fn skip_teardown() {
    SKIP_TEARDOWN.store(true, Ordering::Relaxed);
}

/// Panics seen so far that were not the supervision workload's deliberate ones.
static OTHER_PANICS: AtomicUsize = AtomicUsize::new(0);

/// Number of panics so far that were not deliberate (see [`install_quiet_panic_hook`]).
pub fn other_panics() -> usize {
    OTHER_PANICS.load(Ordering::SeqCst)
}

/// Installs a panic hook that stays silent for the supervision workload's deliberate panics,
/// and prints any other panic as one line (thread, location, message), without a backtrace,
/// counting it so that the report can say which runs had one.
pub fn install_quiet_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let message = panic_message(info.payload());
        if message.contains(crate::util::CRASH_MARKER) {
            return;
        }
        OTHER_PANICS.fetch_add(1, Ordering::SeqCst);
        let thread = std::thread::current();
        let location = info
            .location()
            .map_or_else(|| "?".to_string(), |l| format!("{}:{}", l.file(), l.line()));
        eprintln!(
            "panic in thread '{}' at {location}: {message}",
            thread.name().unwrap_or("?")
        );
    }));
}
