//! Running a child under valgrind's callgrind, and reading the instructions it counted.
//!
//! The child is run with `--compress-strings=no --compress-pos=no`, so that every function
//! name is written out in full wherever it appears in the output file and every cost line
//! stands on its own: the file can then be read line by line, without the name tables and
//! relative positions of the compressed format.

use std::path::Path;
use std::process::Command;

/// The function whose cost is left out of every count: troupe's one-off clock calibration
/// (`troupe::stamp::calibrate`, never inlined for this), which runs for a wall-clock time and
/// so takes more or fewer instructions from one run to the next.
pub const LEFT_OUT: &str = "troupe::stamp::calibrate";

/// Why a callgrind output could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallgrindError {
    /// The file has no `totals:` or `summary:` line.
    #[error("no total in the callgrind output")]
    NoTotal,
    /// A number that does not parse.
    #[error("malformed callgrind line `{0}`")]
    Malformed(String),
    /// The file could not be read.
    #[error("cannot read the callgrind output: {0}")]
    Io(String),
}

/// What one callgrind output holds that the bench uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counted {
    /// Instructions of the whole process.
    pub total: u64,
    /// Instructions of [`LEFT_OUT`] and everything it called.
    pub left_out: u64,
}

impl Counted {
    /// The instructions counted, without [`LEFT_OUT`]'s.
    pub fn kept(&self) -> u64 {
        self.total.saturating_sub(self.left_out)
    }
}

/// Whether `valgrind` can be started (`valgrind --version` succeeds).
pub fn available() -> bool {
    Command::new("valgrind")
        .arg("--version")
        .output()
        .is_ok_and(|out| out.status.success())
}

/// The command that runs `program args...` under callgrind, writing its counts to `out`.
pub fn command(out: &Path, program: &Path) -> Command {
    let mut command = Command::new("valgrind");
    command
        .arg("--tool=callgrind")
        .arg("--compress-strings=no")
        .arg("--compress-pos=no")
        .arg(format!("--callgrind-out-file={}", out.display()))
        .arg(program);
    command
}

/// Reads the callgrind output at `path`.
pub fn read(path: &Path) -> Result<Counted, CallgrindError> {
    let text = std::fs::read_to_string(path).map_err(|e| CallgrindError::Io(e.to_string()))?;
    parse(&text, LEFT_OUT)
}

/// Reads an uncompressed callgrind output: its total, and the inclusive cost of the function
/// named `left_out` (its own cost lines, and the inclusive cost line that follows each of its
/// `calls=` lines). Only the first event (instructions, `Ir`) is read.
pub fn parse(text: &str, left_out: &str) -> Result<Counted, CallgrindError> {
    let (mut total, mut summary) = (None, None);
    let mut left = 0u64;
    let mut inside = false;
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("totals:") {
            total = Some(first_number(rest, line)?);
            continue;
        }
        if let Some(rest) = line.strip_prefix("summary:") {
            summary = Some(first_number(rest, line)?);
            continue;
        }
        if let Some(name) = line.strip_prefix("fn=") {
            inside = name == left_out;
            continue;
        }
        let is_cost = line
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_digit() || b == b'+' || b == b'-' || b == b'*');
        // A cost line (a position, then the events' costs) under `fn=` is the function's own
        // cost, or, right after a `calls=` line, the inclusive cost of that call: both count.
        if is_cost && inside {
            let mut fields = line.split_whitespace();
            let _position = fields.next();
            if let Some(cost) = fields.next() {
                left += cost
                    .parse::<u64>()
                    .map_err(|_| CallgrindError::Malformed(line.to_string()))?;
            }
        }
    }
    let total = total.or(summary).ok_or(CallgrindError::NoTotal)?;
    Ok(Counted {
        total,
        left_out: left,
    })
}

fn first_number(rest: &str, line: &str) -> Result<u64, CallgrindError> {
    rest.split_whitespace()
        .next()
        .and_then(|n| n.parse::<u64>().ok())
        .ok_or_else(|| CallgrindError::Malformed(line.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const OUTPUT: &str = "\
# callgrind format
version: 1
creator: callgrind-3.19.0
pid: 4242
cmd:  troupe-bench --child ask troupe-1t
positions: line
events: Ir
summary: 1000

ob=troupe-bench
fl=???
fn=main
0 100
cfn=troupe::stamp::calibrate
calls=1 0
0 300
cfn=work
calls=5 0
0 500

fn=troupe::stamp::calibrate
0 20
cfi=???
cfn=once_cell::imp::OnceCell<T>::initialize
calls=1 0
0 280

fn=once_cell::imp::OnceCell<T>::initialize
0 280

fn=work
0 500
totals: 1000
";

    #[test]
    fn the_left_out_function_is_counted_with_what_it_calls() {
        let counted = parse(OUTPUT, "troupe::stamp::calibrate").unwrap();
        assert_eq!(
            counted,
            Counted {
                total: 1000,
                left_out: 300
            }
        );
        assert_eq!(counted.kept(), 700);
    }

    #[test]
    fn a_function_that_did_not_run_leaves_nothing_out() {
        let counted = parse(OUTPUT, "absent").unwrap();
        assert_eq!(counted.left_out, 0);
        assert_eq!(counted.kept(), 1000);
    }

    #[test]
    fn the_summary_stands_in_for_a_missing_total() {
        let text = OUTPUT.replace("totals: 1000\n", "");
        assert_eq!(parse(&text, LEFT_OUT).unwrap().total, 1000);
    }

    #[test]
    fn an_output_without_a_total_or_with_a_bad_number_is_an_error() {
        let text = OUTPUT
            .replace("totals: 1000\n", "")
            .replace("summary: 1000\n", "");
        assert_eq!(parse(&text, LEFT_OUT), Err(CallgrindError::NoTotal));
        let text = OUTPUT.replace(
            "fn=troupe::stamp::calibrate\n0 20",
            "fn=troupe::stamp::calibrate\n0 2x0",
        );
        assert!(matches!(
            parse(&text, LEFT_OUT),
            Err(CallgrindError::Malformed(_))
        ));
        assert!(matches!(
            read(Path::new("/nonexistent/callgrind.out")),
            Err(CallgrindError::Io(_))
        ));
    }
}
