//! The bench's executable end to end: every run goes through a child process of its own.

use std::process::Command;

const SMALL: &str = "ask_warmup=10,ask_n=100,tell_n=1000,pingpong_n=100,ring_actors=10,\
                     ring_hops=100,fanout_actors=10,fanout_n=1000,fanout_idle=0,big_actors=10,\
                     big_pings=10,spawn_n=100,bp_producers=2,bp_n=1000,bp_capacity=8,\
                     restarts=10,tree_depth=2,tree_breadth=2,tree_rounds=1,restart_window_ms=1000";

/// The bench executable.
fn bench() -> Command {
    Command::new(env!("CARGO_BIN_EXE_troupe-bench"))
}

/// Runs a child that must succeed, and returns its one outcome line.
fn outcome_line(mut child: Command) -> String {
    let out = child.output().expect("the bench starts");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// A quick, filtered run: its one cell comes back from a child process as a figure.
#[test]
fn a_quick_run_reports_the_figure_its_child_measured() {
    let out = bench()
        .args(["--quick", "--only", "tell", "--frameworks", "tokio"])
        .output()
        .expect("the bench starts");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let row = stdout
        .lines()
        .find(|l| l.starts_with("| tokio |"))
        .unwrap_or_else(|| panic!("no tokio row in:\n{stdout}\n{stderr}"));
    assert!(
        !row.contains("error") && !row.contains("not run") && row.contains('±'),
        "{row}"
    );
    assert!(stdout.contains("A difference under the spread is noise"));
}

/// The child mode prints one outcome line on stdout.
#[test]
fn the_child_mode_prints_one_outcome_line() {
    let mut child = bench();
    child.args(["--child", "ask", "tokio", SMALL, "10000"]);
    let line = outcome_line(child);
    assert!(
        line.starts_with("troupe-bench-outcome v1 ok panics=0 elapsed_ns="),
        "{line}"
    );
    // 100 recorded latencies.
    let latencies = line.rsplit("latencies_ns=").next().unwrap_or("");
    assert_eq!(latencies.split(',').count(), 100, "{line}");
}

/// Bad child arguments are a usage error (exit code 2) naming the problem, not a panic.
#[test]
fn bad_child_arguments_are_a_clear_error() {
    let out = bench()
        .args(["--child", "tell", "no-such-framework", "x=1", "10"])
        .output()
        .expect("the bench starts");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("unknown framework `no-such-framework`"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());
}

/// With `TROUPE_BENCH_TIMED_ONLY`, a spawn child ends right after its timed window and still
/// prints its outcome (the time, without the heap figure that only the teardown would give).
#[test]
fn a_spawn_child_cut_after_its_timed_window_prints_its_outcome() {
    let mut child = bench();
    child
        .env("TROUPE_BENCH_TIMED_ONLY", "1")
        .args(["--child", "spawn", "tokio-1t", SMALL, "10000"]);
    let line = outcome_line(child);
    assert!(
        line.starts_with("troupe-bench-outcome v1 ok panics=0 elapsed_ns=")
            && line.contains(" heap=- "),
        "{line}"
    );
}

/// `--instructions` makes the instruction counts alone: with valgrind, a row of counts;
/// without it, a report that says so.
#[test]
fn the_instruction_counts_run_under_valgrind_or_say_it_is_missing() {
    let valgrind = Command::new("valgrind")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    let out = bench()
        .args([
            "--instructions",
            "--only",
            "ring",
            "--frameworks",
            "tokio-1t",
        ])
        .output()
        .expect("the bench starts");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("## Instructions per operation"), "{stdout}");
    // Only the counts: no table of times.
    assert!(!stdout.contains("## 4. Ring"), "{stdout}");
    if valgrind {
        let row = stdout
            .lines()
            .find(|l| l.starts_with("| ring | hop |"))
            .unwrap_or_else(|| panic!("no ring row in:\n{stdout}\n{stderr}"));
        let count: f64 = row
            .trim_end_matches('|')
            .rsplit('|')
            .next()
            .map(|c| c.trim().replace(',', ""))
            .and_then(|c| c.parse().ok())
            .unwrap_or_else(|| panic!("no count in {row}"));
        // A hop of raw Tokio: a send, a wake and a receive, hundreds of instructions.
        assert!((100.0..100_000.0).contains(&count), "{row}");
    } else {
        assert!(
            stdout.contains("Not measured: valgrind was not found"),
            "{stdout}"
        );
    }
}
