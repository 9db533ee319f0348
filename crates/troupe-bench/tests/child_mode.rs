//! The bench's executable end to end: every run goes through a child process of its own.

use std::process::Command;

fn bench() -> Command {
    Command::new(env!("CARGO_BIN_EXE_troupe-bench"))
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
    let sizes = "ask_warmup=10,ask_n=100,tell_n=1000,pingpong_n=100,ring_actors=10,\
                 ring_hops=100,fanout_actors=10,fanout_n=1000,fanout_idle=0,big_actors=10,\
                 big_pings=10,spawn_n=100,bp_producers=2,bp_n=1000,bp_capacity=8,restarts=10,\
                 tree_depth=2,tree_breadth=2,restart_window_ms=1000";
    let out = bench()
        .args(["--child", "ask", "tokio", sizes, "10000"])
        .output()
        .expect("the bench starts");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout.trim();
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
