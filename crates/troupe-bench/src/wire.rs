//! The one line a child run prints on stdout for its parent: the run's [`Sample`] or its
//! [`BenchError`], and the count of unexpected panics it saw.
//!
//! Format (one line, fields separated by single spaces, the message last so that it may hold
//! spaces):
//!
//! ```text
//! troupe-bench-outcome v1 ok panics=0 elapsed_ns=1234 heap=- events=17 latencies_ns=5,6,7
//! troupe-bench-outcome v1 err panics=0 kind=failed msg=the reason, on one line
//! ```
//!
//! `-` stands for "none"; `heap` is written with Rust's shortest round-trip float format, so a
//! decoded sample equals the encoded one. Anything else is a [`WireError`].
//!
//! The parent passes a run's [`Sizes`] to the child as one argument, `name=value` pairs joined
//! by commas ([`encode_sizes`], [`decode_sizes`]).

use std::borrow::Cow;
use std::time::Duration;

use crate::config::Sizes;
use crate::harness::{BenchError, RunResult};
use crate::workloads::Sample;

/// First word of the outcome line; the parent ignores every other line of the child's stdout.
pub const PREFIX: &str = "troupe-bench-outcome";

/// Version of the format, checked by the parent.
const VERSION: &str = "v1";

/// A line or an argument that does not follow the format the parent and the child share.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// The child printed no outcome line at all.
    #[error("no `{PREFIX}` line on the child's stdout")]
    NoOutcome,
    /// The line is from another version of the format.
    #[error("outcome format `{0}`, expected `{VERSION}`")]
    Version(String),
    /// A field the format requires is absent.
    #[error("field `{0}` is missing")]
    Missing(&'static str),
    /// A field is not followed by a value of its type.
    #[error("field `{field}` has the malformed value `{value}`")]
    Malformed {
        /// Name of the field.
        field: String,
        /// Its text.
        value: String,
    },
    /// A field that the format does not know.
    #[error("unknown field `{0}`")]
    Unknown(String),
    /// A field given twice.
    #[error("field `{0}` given twice")]
    Duplicate(String),
}

impl WireError {
    /// A malformed value of `field`.
    pub fn malformed(field: &str, value: &str) -> Self {
        WireError::Malformed {
            field: field.to_string(),
            value: value.to_string(),
        }
    }
}

/// What the parent learns from a child that printed its outcome.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The run's sample or error.
    pub result: RunResult,
    /// Panics the child saw other than the supervision workload's deliberate ones.
    pub other_panics: usize,
}

/// The outcome line of a run (without the trailing newline).
pub fn encode(result: &RunResult, other_panics: usize) -> String {
    match result {
        Ok(sample) => {
            let latencies = if sample.latencies.is_empty() {
                "-".to_string()
            } else {
                let ns: Vec<String> = sample
                    .latencies
                    .iter()
                    .map(|d| d.as_nanos().to_string())
                    .collect();
                ns.join(",")
            };
            format!(
                "{PREFIX} {VERSION} ok panics={other_panics} elapsed_ns={} heap={} events={} \
                 latencies_ns={latencies}",
                sample.elapsed.as_nanos(),
                sample.heap_bytes.map_or("-".to_string(), |h| h.to_string()),
                sample.events.map_or("-".to_string(), |e| e.to_string()),
            )
        }
        Err(e) => {
            let (kind, msg): (&str, Cow<'_, str>) = match e {
                BenchError::Unsupported(m) => ("unsupported", Cow::Borrowed(m)),
                BenchError::Timeout(d) => ("timeout", Cow::Owned(d.as_nanos().to_string())),
                BenchError::Panicked(m) => ("panicked", Cow::Borrowed(m)),
                BenchError::Failed(m) => ("failed", Cow::Borrowed(m)),
            };
            let one_line = msg.replace(['\n', '\r'], " ");
            format!("{PREFIX} {VERSION} err panics={other_panics} kind={kind} msg={one_line}")
        }
    }
}

/// Finds the outcome line in a child's stdout and decodes it.
pub fn decode_stdout(stdout: &str) -> Result<Outcome, WireError> {
    let line = stdout
        .lines()
        .rev()
        .find(|l| l.starts_with(PREFIX))
        .ok_or(WireError::NoOutcome)?;
    decode(line)
}

/// Decodes one outcome line.
pub fn decode(line: &str) -> Result<Outcome, WireError> {
    let rest = line
        .strip_prefix(PREFIX)
        .and_then(|r| r.strip_prefix(' '))
        .ok_or(WireError::NoOutcome)?;
    let (version, rest) = rest.split_once(' ').unwrap_or((rest, ""));
    if version != VERSION {
        return Err(WireError::Version(version.to_string()));
    }
    let (status, rest) = rest.split_once(' ').unwrap_or((rest, ""));
    match status {
        "ok" => decode_ok(rest),
        "err" => decode_err(rest),
        "" => Err(WireError::Missing("ok|err")),
        other => Err(WireError::malformed("status", other)),
    }
}

/// Splits `name=value` fields separated by spaces; `last`, if given, takes the rest of the line.
fn fields<'a>(
    text: &'a str,
    last: Option<&str>,
) -> Result<std::collections::HashMap<&'a str, &'a str>, WireError> {
    let mut out = std::collections::HashMap::new();
    let mut rest = text;
    while !rest.is_empty() {
        let (name, after) = rest
            .split_once('=')
            .ok_or_else(|| WireError::malformed(rest, ""))?;
        let (value, next) = if Some(name) == last {
            (after, "")
        } else {
            after.split_once(' ').unwrap_or((after, ""))
        };
        if out.insert(name, value).is_some() {
            return Err(WireError::Duplicate(name.to_string()));
        }
        rest = next;
    }
    Ok(out)
}

fn take<'a>(
    map: &mut std::collections::HashMap<&str, &'a str>,
    name: &'static str,
) -> Result<&'a str, WireError> {
    map.remove(name).ok_or(WireError::Missing(name))
}

fn number<T: std::str::FromStr>(field: &str, value: &str) -> Result<T, WireError> {
    value
        .parse::<T>()
        .map_err(|_| WireError::malformed(field, value))
}

fn optional<T: std::str::FromStr>(field: &str, value: &str) -> Result<Option<T>, WireError> {
    if value == "-" {
        Ok(None)
    } else {
        number(field, value).map(Some)
    }
}

fn nanos(field: &str, value: &str) -> Result<Duration, WireError> {
    number::<u64>(field, value).map(Duration::from_nanos)
}

fn no_more(map: std::collections::HashMap<&str, &str>) -> Result<(), WireError> {
    match map.into_keys().next() {
        Some(name) => Err(WireError::Unknown(name.to_string())),
        None => Ok(()),
    }
}

fn decode_ok(rest: &str) -> Result<Outcome, WireError> {
    let mut map = fields(rest, None)?;
    let other_panics = number("panics", take(&mut map, "panics")?)?;
    let elapsed = nanos("elapsed_ns", take(&mut map, "elapsed_ns")?)?;
    let heap_bytes = optional::<f64>("heap", take(&mut map, "heap")?)?;
    let events = optional::<usize>("events", take(&mut map, "events")?)?;
    let latencies = match take(&mut map, "latencies_ns")? {
        "-" => Vec::new(),
        list => list
            .split(',')
            .map(|ns| nanos("latencies_ns", ns))
            .collect::<Result<_, _>>()?,
    };
    no_more(map)?;
    Ok(Outcome {
        result: Ok(Sample {
            elapsed,
            latencies,
            heap_bytes,
            events,
        }),
        other_panics,
    })
}

fn decode_err(rest: &str) -> Result<Outcome, WireError> {
    let mut map = fields(rest, Some("msg"))?;
    let other_panics = number("panics", take(&mut map, "panics")?)?;
    let kind = take(&mut map, "kind")?;
    let msg = take(&mut map, "msg")?.to_string();
    no_more(map)?;
    let error = match kind {
        "unsupported" => BenchError::Unsupported(Cow::Owned(msg)),
        "timeout" => BenchError::Timeout(nanos("msg", &msg)?),
        "panicked" => BenchError::Panicked(msg),
        "failed" => BenchError::Failed(msg),
        other => return Err(WireError::malformed("kind", other)),
    };
    Ok(Outcome {
        result: Err(error),
        other_panics,
    })
}

/// Encodes and decodes every field of [`Sizes`] as `name=value` pairs joined by commas: how
/// the parent passes the sizes of a run to the child process that makes it. The list of
/// fields is written once, here, for both directions.
macro_rules! sizes_codec {
    ($($field:ident),* $(,)?) => {
        /// The sizes as one command-line argument (see [`decode_sizes`]).
        pub fn encode_sizes(sizes: &Sizes) -> String {
            let mut parts = vec![$(format!("{}={}", stringify!($field), sizes.$field)),*];
            parts.push(format!("restart_window_ms={}", sizes.restart_window.as_millis()));
            parts.join(",")
        }

        /// Sizes from [`encode_sizes`]'s text; every field must be given exactly once.
        pub fn decode_sizes(text: &str) -> Result<Sizes, WireError> {
            let mut sizes = Sizes::quick();
            let mut seen: Vec<&str> = Vec::new();
            for part in text.split(',') {
                let (name, value) = part
                    .split_once('=')
                    .ok_or_else(|| WireError::malformed(part, ""))?;
                let n: u64 = value
                    .parse()
                    .map_err(|_| WireError::malformed(name, value))?;
                let count = usize::try_from(n).map_err(|_| WireError::malformed(name, value));
                match name {
                    $(stringify!($field) => sizes.$field = count?,)*
                    "restart_window_ms" => sizes.restart_window = Duration::from_millis(n),
                    other => return Err(WireError::Unknown(other.to_string())),
                }
                if seen.contains(&name) {
                    return Err(WireError::Duplicate(name.to_string()));
                }
                seen.push(name);
            }
            for name in [$(stringify!($field)),*, "restart_window_ms"] {
                if !seen.contains(&name) {
                    return Err(WireError::Missing(name));
                }
            }
            Ok(sizes)
        }
    };
}

sizes_codec!(
    ask_warmup,
    ask_n,
    tell_n,
    pingpong_n,
    ring_actors,
    ring_hops,
    fanout_actors,
    fanout_n,
    fanout_idle,
    big_actors,
    big_pings,
    spawn_n,
    bp_producers,
    bp_n,
    bp_capacity,
    restarts,
    tree_depth,
    tree_breadth,
    tree_rounds,
);

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(result: RunResult, panics: usize) -> Outcome {
        let line = encode(&result, panics);
        assert!(!line.contains('\n'), "{line}");
        match decode_stdout(&format!("some adapter output\n{line}\n")) {
            Ok(outcome) => outcome,
            Err(e) => panic!("{line}: {e}"),
        }
    }

    #[test]
    fn a_full_sample_comes_back_unchanged() {
        let sample = Sample {
            elapsed: Duration::from_nanos(123_456_789),
            latencies: vec![Duration::from_nanos(480), Duration::from_micros(12)],
            heap_bytes: Some(1177.25),
            events: Some(20_000),
        };
        let back = round_trip(Ok(sample.clone()), 2);
        assert_eq!(back.other_panics, 2);
        let got = back.result.expect("a sample");
        assert_eq!(got.elapsed, sample.elapsed);
        assert_eq!(got.latencies, sample.latencies);
        assert_eq!(got.heap_bytes, sample.heap_bytes);
        assert_eq!(got.events, sample.events);
    }

    #[test]
    fn an_empty_sample_comes_back_unchanged() {
        let got = round_trip(Ok(Sample::timed(Duration::from_millis(5))), 0)
            .result
            .expect("a sample");
        assert_eq!(got.elapsed, Duration::from_millis(5));
        assert!(got.latencies.is_empty());
        assert_eq!((got.heap_bytes, got.events), (None, None));
    }

    #[test]
    fn every_error_kind_comes_back_with_its_message() {
        let errors = [
            BenchError::Unsupported("no tree here".into()),
            BenchError::Timeout(Duration::from_secs(30)),
            BenchError::Panicked("boom at a.rs:1\nsecond line".to_string()),
            BenchError::Failed("counted 3, expected 4 (msg=x kind=y)".to_string()),
        ];
        for error in errors {
            let back = round_trip(Err(error.clone()), 1);
            let got = back.result.expect_err("an error");
            assert_eq!(
                got.to_string(),
                error.to_string().replace('\n', " "),
                "{error:?}"
            );
            assert_eq!(std::mem::discriminant(&got), std::mem::discriminant(&error));
        }
    }

    #[test]
    fn malformed_lines_are_typed_errors() {
        let cases: [(&str, WireError); 8] = [
            ("nothing useful\n", WireError::NoOutcome),
            (
                "troupe-bench-outcome v0 ok",
                WireError::Version("v0".into()),
            ),
            ("troupe-bench-outcome v1", WireError::Missing("ok|err")),
            (
                "troupe-bench-outcome v1 maybe",
                WireError::malformed("status", "maybe"),
            ),
            (
                "troupe-bench-outcome v1 ok panics=0 elapsed_ns=12x heap=- events=- latencies_ns=-",
                WireError::malformed("elapsed_ns", "12x"),
            ),
            (
                "troupe-bench-outcome v1 ok panics=0 heap=- events=- latencies_ns=-",
                WireError::Missing("elapsed_ns"),
            ),
            (
                "troupe-bench-outcome v1 ok panics=0 elapsed_ns=1 heap=- events=- \
                 latencies_ns=- extra=1",
                WireError::Unknown("extra".into()),
            ),
            (
                "troupe-bench-outcome v1 err panics=0 kind=exploded msg=x",
                WireError::malformed("kind", "exploded"),
            ),
        ];
        for (text, want) in cases {
            assert_eq!(decode_stdout(text).map(|_| ()), Err(want), "{text}");
        }
    }

    #[test]
    fn a_field_given_twice_is_an_error() {
        let line = "troupe-bench-outcome v1 err panics=0 panics=1 kind=failed msg=x";
        assert_eq!(
            decode(line).map(|_| ()),
            Err(WireError::Duplicate("panics".into()))
        );
    }

    /// Decoding starts from the quick sizes, so a field left out of `sizes_codec!` would come
    /// back with its quick value and fail this test on the full sizes.
    #[test]
    fn sizes_come_back_unchanged() {
        for sizes in [
            Sizes::full(),
            Sizes::quick(),
            Sizes {
                spawn_n: 1_000_000,
                restart_window: Duration::from_millis(1_500),
                ..Sizes::full()
            },
            Sizes {
                fanout_actors: 10_000,
                fanout_idle: 990_000,
                ..Sizes::full()
            },
        ] {
            assert_eq!(decode_sizes(&encode_sizes(&sizes)), Ok(sizes));
        }
    }

    #[test]
    fn bad_sizes_are_typed_errors() {
        let full = encode_sizes(&Sizes::full());
        let without_ring = full
            .split(',')
            .filter(|p| !p.starts_with("ring_hops="))
            .collect::<Vec<_>>()
            .join(",");
        let cases = [
            (without_ring, WireError::Missing("ring_hops")),
            (
                full.replace("tell_n=1000000", "tell_n=lots"),
                WireError::malformed("tell_n", "lots"),
            ),
            (
                format!("{full},colour=7"),
                WireError::Unknown("colour".into()),
            ),
            (
                format!("{full},ask_n=1"),
                WireError::Duplicate("ask_n".into()),
            ),
            (format!("{full},ask_n"), WireError::malformed("ask_n", "")),
        ];
        for (text, want) in cases {
            assert_eq!(decode_sizes(&text), Err(want), "{text}");
        }
    }
}
