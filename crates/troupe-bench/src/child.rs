//! One process per run: the bench re-executes itself (`--child ...`) for every run, warm-ups
//! included, and reads the child's outcome back from its stdout (see [`crate::wire`]).
//!
//! Why: in one long process a run's figures depended on what ran before it. The allocator keeps
//! the arenas and freed pages of earlier runs, earlier runtimes may still be tearing down, and
//! so restarts/s of troupe was about half as high in a full run as alone. A fresh process
//! starts every run from the same state: an empty heap, no other thread.
//!
//! The parent enforces the time limit by killing the child. A child that crashes, is killed or
//! prints no outcome becomes an error cell ([`BenchError::Panicked`], [`BenchError::Timeout`]
//! or [`BenchError::Failed`]) carrying the tail of the child's stderr.

use std::io::{Read, Write};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::adapters::Framework;
use crate::config::Sizes;
use crate::harness::{self, BenchError, RunResult};
use crate::wire::{self, WireError};
use crate::workloads::Workload;

/// The flag of the hidden child mode.
pub const CHILD_FLAG: &str = "--child";

/// How long past the run's own limit the parent waits before it kills the child: the child
/// enforces the limit itself and this only catches a child too stuck to do so.
pub const KILL_GRACE: Duration = Duration::from_secs(20);

/// How often the parent checks whether the child has ended.
const POLL: Duration = Duration::from_millis(2);

/// Bytes of the child's stderr quoted in an error.
const STDERR_TAIL: usize = 1_500;

/// One run, as the parent hands it to a child.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    /// The workload to run.
    pub workload: Workload,
    /// The framework to run it on.
    pub framework: Framework,
    /// Its sizes.
    pub sizes: Sizes,
    /// Its time limit.
    pub limit: Duration,
}

/// Why the arguments of the child mode could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JobError {
    /// Not the four values the child mode takes.
    #[error("{CHILD_FLAG} takes <workload> <framework> <sizes> <limit-ms>, got {0} value(s)")]
    Arity(usize),
    /// An unknown workload id.
    #[error("unknown workload `{0}`")]
    Workload(String),
    /// An unknown framework name.
    #[error("unknown framework `{0}`")]
    Framework(String),
    /// A time limit that is not a number of milliseconds.
    #[error("time limit `{0}` is not a number of milliseconds")]
    Limit(String),
    /// Malformed sizes.
    #[error("sizes: {0}")]
    Sizes(#[from] WireError),
}

impl Job {
    /// The child's arguments, after [`CHILD_FLAG`].
    pub fn to_args(&self) -> [String; 4] {
        [
            self.workload.spec().id.to_string(),
            self.framework.name().to_string(),
            wire::encode_sizes(&self.sizes),
            self.limit.as_millis().to_string(),
        ]
    }

    /// A job from the arguments that follow [`CHILD_FLAG`].
    pub fn from_args(args: &[String]) -> Result<Self, JobError> {
        let [workload, framework, sizes, limit] = args else {
            return Err(JobError::Arity(args.len()));
        };
        Ok(Self {
            workload: Workload::from_id(workload)
                .ok_or_else(|| JobError::Workload(workload.clone()))?,
            framework: Framework::from_name(framework)
                .ok_or_else(|| JobError::Framework(framework.clone()))?,
            sizes: wire::decode_sizes(sizes)?,
            limit: limit
                .parse::<u64>()
                .map(Duration::from_millis)
                .map_err(|_| JobError::Limit(limit.clone()))?,
        })
    }
}

/// The child mode: makes the one run of `args` (what follows [`CHILD_FLAG`]), prints its
/// outcome line, and ends the process at once, without waiting for anything the run left
/// behind. Exit code 0 when an outcome was printed (even an error), 2 on bad arguments.
pub fn child_main(args: &[String]) -> ! {
    let job = match Job::from_args(args) {
        Ok(job) => job,
        Err(e) => {
            eprintln!("troupe-bench {CHILD_FLAG}: {e}");
            std::process::exit(2);
        }
    };
    harness::install_quiet_panic_hook();
    harness::skip_teardown();
    let name = format!("{}-{}", job.workload.spec().id, job.framework.name());
    let Job {
        workload,
        framework,
        sizes,
        limit,
    } = job;
    let result = harness::run_isolated(name, limit, move || framework.run(workload, &sizes, limit));
    let line = wire::encode(&result, harness::other_panics());
    let mut stdout = std::io::stdout().lock();
    let written = writeln!(stdout, "{line}").and_then(|()| stdout.flush());
    std::process::exit(if written.is_ok() { 0 } else { 1 })
}

/// What the parent got from one child.
#[derive(Debug)]
pub struct Report {
    /// The run's sample or error.
    pub result: RunResult,
    /// Unexpected panics the child reported (0 when it reported nothing).
    pub other_panics: usize,
    /// Everything the child wrote on stderr.
    pub stderr: String,
}

/// Runs `job` in a child process of this executable.
pub fn run(job: &Job) -> Report {
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => {
            return Report {
                result: Err(BenchError::failed(format!(
                    "cannot find the bench's own executable: {e}"
                ))),
                other_panics: 0,
                stderr: String::new(),
            }
        }
    };
    let mut command = Command::new(exe);
    command.arg(CHILD_FLAG).args(job.to_args());
    run_command(command, job.limit)
}

/// Runs `command` as a child whose stdout ends with an outcome line, killing it if it is still
/// running [`KILL_GRACE`] after `limit`.
pub fn run_command(command: Command, limit: Duration) -> Report {
    run_command_within(command, limit, limit + KILL_GRACE)
}

/// [`run_command`] with an explicit deadline for the kill.
fn run_command_within(mut command: Command, limit: Duration, deadline: Duration) -> Report {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(e) => {
            return Report {
                result: Err(BenchError::failed(format!("cannot start the child: {e}"))),
                other_panics: 0,
                stderr: String::new(),
            }
        }
    };
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if started.elapsed() >= deadline => {
                // Killing a child that has just ended fails harmlessly; wait reaps it.
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => std::thread::sleep(POLL),
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                return Report {
                    result: Err(BenchError::failed(format!(
                        "cannot wait for the child: {e}"
                    ))),
                    other_panics: 0,
                    stderr: collect(&stderr),
                };
            }
        }
    };
    let (stdout, stderr) = (collect(&stdout), collect(&stderr));
    let (result, other_panics) = match status {
        None => (Err(BenchError::Timeout(limit)), 0),
        Some(status) => interpret(status, &stdout, &stderr),
    };
    Report {
        result,
        other_panics,
        stderr,
    }
}

/// Reads a pipe to its end on a thread of its own, so that a child writing much to one pipe
/// never blocks on it while the parent waits.
fn drain<R: Read + Send + 'static>(pipe: Option<R>) -> mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel();
    if let Some(mut pipe) = pipe {
        let spawned = std::thread::Builder::new()
            .name("child-pipe".into())
            .spawn(move || {
                let mut bytes = Vec::new();
                let _ = pipe.read_to_end(&mut bytes);
                let _ = tx.send(bytes);
            });
        // Without a reader thread the pipe is dropped and the child gets EPIPE: an error cell.
        drop(spawned);
    }
    rx
}

/// What a pipe held, waiting a little for its reader: a grandchild may keep a pipe open after
/// the child ended, and must not hang the bench.
fn collect(rx: &mpsc::Receiver<Vec<u8>>) -> String {
    rx.recv_timeout(Duration::from_secs(1))
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .unwrap_or_default()
}

/// The outcome of a child that ended on its own: its outcome line if it printed one, otherwise
/// an error naming how it ended, with the tail of its stderr.
fn interpret(status: ExitStatus, stdout: &str, stderr: &str) -> (RunResult, usize) {
    match wire::decode_stdout(stdout) {
        Ok(outcome) => (outcome.result, outcome.other_panics),
        Err(WireError::NoOutcome) => {
            let tail = tail(stderr);
            let error = match (status.code(), signal(status)) {
                (Some(101), _) => BenchError::Panicked(format!("the child panicked: {tail}")),
                (_, Some(6)) => BenchError::Panicked(format!("the child aborted: {tail}")),
                (_, Some(sig)) => {
                    BenchError::failed(format!("the child was killed by signal {sig}: {tail}"))
                }
                (code, None) => BenchError::failed(format!(
                    "the child ended ({}) without an outcome: {tail}",
                    code.map_or_else(|| status.to_string(), |c| format!("exit code {c}"))
                )),
            };
            (Err(error), 0)
        }
        Err(e) => (
            Err(BenchError::failed(format!(
                "malformed outcome from the child ({e}): {}",
                tail(stderr)
            ))),
            0,
        ),
    }
}

#[cfg(unix)]
fn signal(status: ExitStatus) -> Option<i32> {
    std::os::unix::process::ExitStatusExt::signal(&status)
}

#[cfg(not(unix))]
fn signal(_: ExitStatus) -> Option<i32> {
    None
}

/// The last [`STDERR_TAIL`] bytes of the child's stderr, on one line ("no stderr" if empty).
fn tail(stderr: &str) -> String {
    let trimmed = stderr.trim();
    if trimmed.is_empty() {
        return "no stderr".to_string();
    }
    let mut start = trimmed.len().saturating_sub(STDERR_TAIL);
    while !trimmed.is_char_boundary(start) {
        start += 1;
    }
    let prefix = if start > 0 { "…" } else { "" };
    format!("{prefix}{}", trimmed[start..].replace('\n', " | "))
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use crate::workloads::Sample;

    fn sh(script: &str) -> Command {
        let mut command = Command::new("sh");
        command.arg("-c").arg(script);
        command
    }

    #[test]
    fn job_arguments_come_back_unchanged() {
        let job = Job {
            workload: Workload::Backpressure,
            framework: Framework::TroupeSingle,
            sizes: Sizes {
                bp_capacity: 4_096,
                ..Sizes::full()
            },
            limit: Duration::from_secs(30),
        };
        assert_eq!(Job::from_args(&job.to_args()), Ok(job));
    }

    #[test]
    fn bad_job_arguments_are_typed_errors() {
        let good = Job {
            workload: Workload::Tell,
            framework: Framework::Tokio,
            sizes: Sizes::quick(),
            limit: Duration::from_secs(1),
        }
        .to_args();
        let with = |i: usize, value: &str| {
            let mut args = good.to_vec();
            args[i] = value.to_string();
            Job::from_args(&args)
        };
        assert_eq!(Job::from_args(&good[..3]), Err(JobError::Arity(3)));
        assert_eq!(with(0, "nap"), Err(JobError::Workload("nap".into())));
        assert_eq!(with(1, "akka"), Err(JobError::Framework("akka".into())));
        assert_eq!(with(3, "1s"), Err(JobError::Limit("1s".into())));
        assert_eq!(
            with(2, "ask_n=1"),
            Err(JobError::Sizes(WireError::Missing("ask_warmup")))
        );
    }

    #[test]
    fn an_outcome_line_is_read_back() {
        let line = wire::encode(&Ok(Sample::timed(Duration::from_millis(7))), 1);
        let report = run_command(
            sh(&format!("echo chatter; echo '{line}'; echo warn >&2")),
            Duration::from_secs(10),
        );
        let sample = report.result.expect("a sample");
        assert_eq!(sample.elapsed, Duration::from_millis(7));
        assert_eq!(report.other_panics, 1);
        assert_eq!(report.stderr.trim(), "warn");
    }

    #[test]
    fn a_child_past_its_deadline_is_killed_and_times_out() {
        let started = Instant::now();
        let report = run_command_within(
            sh("exec sleep 30"),
            Duration::from_millis(100),
            Duration::from_millis(200),
        );
        assert!(
            matches!(report.result, Err(BenchError::Timeout(d)) if d == Duration::from_millis(100)),
            "{:?}",
            report.result
        );
        assert!(started.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn a_killed_child_fails_with_its_stderr() {
        let report = run_command(
            sh("echo 'last words' >&2; kill -9 $$"),
            Duration::from_secs(10),
        );
        match report.result {
            Err(BenchError::Failed(msg)) => {
                assert!(
                    msg.contains("signal 9") && msg.contains("last words"),
                    "{msg}"
                )
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_child_exiting_as_a_panic_does_is_a_panicked_cell() {
        let report = run_command(
            sh("echo \"thread 'main' panicked at x.rs:1\" >&2; exit 101"),
            Duration::from_secs(10),
        );
        match report.result {
            Err(BenchError::Panicked(msg)) => assert!(msg.contains("x.rs:1"), "{msg}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_child_without_an_outcome_or_with_a_malformed_one_fails() {
        let silent = run_command(sh("exit 0"), Duration::from_secs(10));
        match silent.result {
            Err(BenchError::Failed(msg)) => {
                assert!(
                    msg.contains("exit code 0") && msg.contains("no stderr"),
                    "{msg}"
                )
            }
            other => panic!("{other:?}"),
        }
        let garbled = run_command(
            sh("echo 'troupe-bench-outcome v1 ok panics=x'"),
            Duration::from_secs(10),
        );
        match garbled.result {
            Err(BenchError::Failed(msg)) => assert!(msg.contains("malformed"), "{msg}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_stderr_tail_is_bounded_and_on_one_line() {
        let long = "é".repeat(STDERR_TAIL) + "\nend";
        let t = tail(&long);
        assert!(t.starts_with('…') && t.ends_with(" | end"), "{t}");
        // The tail is cut before the line breaks become " | " (two bytes more each).
        assert!(t.len() <= '…'.len_utf8() + STDERR_TAIL + 2, "{}", t.len());
    }
}
