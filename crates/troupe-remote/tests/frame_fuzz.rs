//! Property tests of the frame codec: arbitrary frames round-trip, and
//! arbitrary or mutated bytes decode to a frame or a typed error, never a
//! panic, and never allocate much more than their own size.
//!
//! `TROUPE_FUZZ_CASES` is the number of fuzzed inputs decoded, half random
//! bytes and half mutated encodings; the round-trip property runs a quarter
//! as many frames. The default, 1,600, makes 2,000 cases in all and runs in
//! a few seconds. The seed is fixed (`TROUPE_FUZZ_SEED` changes it), so a
//! run is reproducible.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::collections::BTreeMap;
use std::sync::Mutex;

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{RngSeed, TestCaseError, TestRunner};
use troupe_remote::frame::{
    Frame, FrameError, WireExit, WireFailure, WireStop, DEFAULT_MAX_FRAME, VERSION,
};

// ---- allocation accounting -------------------------------------------------

/// Counts the bytes the current thread allocates while `COUNTING` is set.
struct CountingAlloc;

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static ALLOCATED: Cell<usize> = const { Cell::new(0) };
}

fn note(bytes: usize) {
    let _ = COUNTING.try_with(|on| {
        if on.get() {
            let _ = ALLOCATED.try_with(|n| n.set(n.get().saturating_add(bytes)));
        }
    });
}

// SAFETY: every call is forwarded to the system allocator unchanged; the
// accounting only touches `const` thread-locals, which do not allocate.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        System.alloc(layout)
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        System.alloc_zeroed(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size);
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

/// Decodes `bytes` and returns what the decoder allocated, in bytes.
fn decode_counted(bytes: &[u8], max: usize) -> (Result<Frame, FrameError>, usize) {
    ALLOCATED.with(|n| n.set(0));
    COUNTING.with(|on| on.set(true));
    let result = Frame::decode(bytes, max);
    COUNTING.with(|on| on.set(false));
    (result, ALLOCATED.with(Cell::get))
}

/// What the decoder may allocate for an input of `len` bytes: its strings
/// and payloads (at most `len` bytes in all) plus an error's text.
fn allocation_bound(len: usize) -> usize {
    2 * len + 1024
}

// ---- configuration ---------------------------------------------------------

fn fuzz_cases() -> u32 {
    std::env::var("TROUPE_FUZZ_CASES")
        .ok()
        .and_then(|s| s.replace(['_', ','], "").parse().ok())
        .unwrap_or(1_600)
}

fn config(cases: u32) -> ProptestConfig {
    let seed = std::env::var("TROUPE_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x7209_e5f2_a3c1);
    ProptestConfig {
        cases: cases.max(1),
        rng_seed: RngSeed::Fixed(seed),
        // The seed is fixed: a failure is reproduced by running again.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

// ---- strategies ------------------------------------------------------------

fn number() -> impl Strategy<Value = u64> {
    prop_oneof![0..300u64, any::<u64>(), Just(u64::MAX)]
}

fn text() -> impl Strategy<Value = String> {
    vec(any::<char>(), 0..24).prop_map(String::from_iter)
}

fn payload() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![9 => vec(any::<u8>(), 0..64), 1 => vec(any::<u8>(), 0..2048)]
}

fn failure() -> impl Strategy<Value = WireFailure> {
    prop_oneof![
        Just(WireFailure::Gone),
        Just(WireFailure::Full),
        Just(WireFailure::Dropped),
        Just(WireFailure::Timeout),
        text().prop_map(WireFailure::Failed),
        Just(WireFailure::Unhandled),
        text().prop_map(WireFailure::UnknownMessage),
        text().prop_map(WireFailure::Undecodable),
        Just(WireFailure::NodeDown),
        Just(WireFailure::TooLarge),
    ]
}

fn exit() -> impl Strategy<Value = WireExit> {
    prop_oneof![
        Just(WireExit::Normal),
        Just(WireExit::Shutdown),
        Just(WireExit::Killed),
        text().prop_map(WireExit::Failed),
        text().prop_map(WireExit::StartFailed),
        Just(WireExit::NoProc),
        text().prop_map(WireExit::Custom),
        Just(WireExit::NodeDown),
    ]
}

fn stop() -> impl Strategy<Value = WireStop> {
    prop_oneof![
        Just(WireStop::Graceful),
        Just(WireStop::Shutdown),
        Just(WireStop::Kill),
        Just(WireStop::Drain),
    ]
}

fn frame() -> impl Strategy<Value = Frame> {
    let n = number;
    prop_oneof![
        (any::<u16>(), text(), any::<[u8; 16]>(), any::<[u8; 32]>()).prop_map(
            |(node, cluster, nonce, proof)| Frame::Hello {
                node,
                cluster,
                nonce,
                proof
            }
        ),
        (n(), n(), n(), text(), payload()).prop_map(|(from, to, trace, name, payload)| {
            Frame::Tell {
                from,
                to,
                trace,
                name,
                payload,
            }
        }),
        (n(), n(), n(), n(), n(), text(), payload()).prop_map(
            |(from, to, trace, id, timeout_ms, name, payload)| Frame::Request {
                from,
                to,
                trace,
                id,
                timeout_ms,
                name,
                payload,
            }
        ),
        (n(), payload()).prop_map(|(id, payload)| Frame::Response { id, payload }),
        (n(), failure()).prop_map(|(id, failure)| Frame::Failure { id, failure }),
        (n(), n(), n(), text(), failure()).prop_map(|(from, to, trace, name, failure)| {
            Frame::Refused {
                from,
                to,
                trace,
                name,
                failure,
            }
        }),
        (n(), n(), stop()).prop_map(|(id, to, how)| Frame::Stop { id, to, how }),
        n().prop_map(|id| Frame::Stopped { id }),
        (n(), n(), n()).prop_map(|(watcher, target, reference)| Frame::Monitor {
            watcher,
            target,
            reference,
        }),
        (n(), n(), n()).prop_map(|(watcher, target, reference)| Frame::Demonitor {
            watcher,
            target,
            reference,
        }),
        (n(), n(), n(), exit()).prop_map(|(watcher, target, reference, reason)| Frame::Down {
            watcher,
            target,
            reference,
            reason,
        }),
        n().prop_map(|seq| Frame::Ping { seq }),
        n().prop_map(|seq| Frame::Pong { seq }),
        (n(), text()).prop_map(|(id, name)| Frame::Lookup { id, name }),
        (n(), proptest::option::of(n())).prop_map(|(id, addr)| Frame::Found { id, addr }),
        (n(), text(), n(), text(), payload()).prop_map(|(from, group, trace, name, payload)| {
            Frame::GroupTell {
                from,
                group,
                trace,
                name,
                payload,
            }
        }),
        (n(), n()).prop_map(|(from, to)| Frame::Link { from, to }),
        (n(), n()).prop_map(|(from, to)| Frame::Unlink { from, to }),
        (n(), text(), n(), n(), n(), text(), payload()).prop_map(
            |(from, group, trace, id, timeout_ms, name, payload)| Frame::GroupRequest {
                from,
                group,
                trace,
                id,
                timeout_ms,
                name,
                payload,
            }
        ),
    ]
}

/// Random bytes, mostly behind the right version byte and a plausible
/// variant index so that they reach the fields.
fn random_bytes() -> impl Strategy<Value = Vec<u8>> {
    (
        prop_oneof![9 => Just(Some(VERSION)), 1 => any::<u8>().prop_map(Some), 1 => Just(None)],
        prop_oneof![9 => (0..16u8).prop_map(Some), 1 => Just(None)],
        prop_oneof![9 => vec(any::<u8>(), 0..48), 1 => vec(any::<u8>(), 0..512)],
    )
        .prop_map(|(version, tag, tail)| version.into_iter().chain(tag).chain(tail).collect())
}

/// One change to an encoding.
#[derive(Clone, Debug)]
enum Mutation {
    Flip(Index, u8),
    Set(Index, u8),
    Insert(Index, u8),
    Delete(Index),
    Truncate(Index),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        3 => (any::<Index>(), 0..8u8).prop_map(|(at, bit)| Mutation::Flip(at, bit)),
        2 => (any::<Index>(), any::<u8>()).prop_map(|(at, byte)| Mutation::Set(at, byte)),
        2 => (any::<Index>(), any::<u8>()).prop_map(|(at, byte)| Mutation::Insert(at, byte)),
        2 => any::<Index>().prop_map(Mutation::Delete),
        1 => any::<Index>().prop_map(Mutation::Truncate),
    ]
}

fn mutate(bytes: &mut Vec<u8>, mutation: &Mutation) {
    let len = bytes.len();
    match *mutation {
        Mutation::Insert(ref at, byte) => bytes.insert(at.index(len + 1), byte),
        _ if len == 0 => {}
        Mutation::Flip(ref at, bit) => bytes[at.index(len)] ^= 1 << bit,
        Mutation::Set(ref at, byte) => bytes[at.index(len)] = byte,
        Mutation::Delete(ref at) => {
            bytes.remove(at.index(len));
        }
        Mutation::Truncate(ref at) => bytes.truncate(at.index(len)),
    }
}

// ---- checks ----------------------------------------------------------------

/// What must hold of any decode of any input; returns how it decoded.
fn check_decode(bytes: &[u8], max: usize) -> Result<&'static str, TestCaseError> {
    let (result, allocated) = decode_counted(bytes, max);
    prop_assert!(
        allocated <= allocation_bound(bytes.len()),
        "decoding {} bytes allocated {allocated}",
        bytes.len()
    );
    let outcome = match &result {
        Ok(_) => "ok",
        Err(FrameError::Empty) => "empty",
        Err(FrameError::TooLarge { .. }) => "too large",
        Err(FrameError::Version { .. }) => "version",
        Err(FrameError::Malformed(_)) => "malformed",
        Err(FrameError::Trailing { .. }) => "trailing",
    };
    match result {
        Ok(frame) => {
            prop_assert!(!bytes.is_empty() && bytes.len() <= max && bytes[0] == VERSION);
            // A decoded frame encodes to a frame that decodes to itself
            // (not always to the same bytes: a varint may have been padded).
            let again = frame
                .encode(usize::MAX)
                .map_err(|e| TestCaseError::fail(format!("re-encode: {e}")))?;
            prop_assert!(again.len() <= bytes.len());
            prop_assert_eq!(Frame::decode(&again, max), Ok(frame));
        }
        Err(FrameError::Empty) => prop_assert!(bytes.is_empty()),
        Err(FrameError::TooLarge { len, max: limit }) => {
            prop_assert_eq!((len, limit), (bytes.len(), max));
            prop_assert!(len > max);
        }
        Err(FrameError::Version { found, expected }) => {
            prop_assert_eq!((found, expected), (bytes[0], VERSION));
            prop_assert!(found != VERSION);
        }
        Err(FrameError::Malformed(why)) => prop_assert!(!why.is_empty()),
        Err(FrameError::Trailing { extra }) => prop_assert!(extra > 0 && extra < bytes.len()),
    }
    Ok(outcome)
}

/// Runs `property` on `cases` values of `strategy`, panics with the
/// smallest failing value if one fails, and prints how many cases ran and
/// how they decoded (`scripts/fuzz-frames.sh` adds these lines up).
fn run<S: Strategy>(
    name: &str,
    cases: u32,
    strategy: S,
    property: impl Fn(S::Value) -> Result<&'static str, TestCaseError>,
) where
    S::Value: std::fmt::Debug,
{
    let outcomes = Mutex::new(BTreeMap::<&str, u64>::new());
    let mut runner = TestRunner::new(config(cases));
    let result = runner.run(&strategy, |value| {
        let outcome = property(value)?;
        if let Ok(mut outcomes) = outcomes.lock() {
            *outcomes.entry(outcome).or_default() += 1;
        }
        Ok(())
    });
    if let Err(failure) = result {
        panic!("{name}: {failure}");
    }
    let outcomes = outcomes.into_inner().unwrap_or_default();
    let ran: u64 = outcomes.values().sum();
    let detail: Vec<String> = outcomes.iter().map(|(k, n)| format!("{k} {n}")).collect();
    println!("frame_fuzz: {name}: {ran} cases ({})", detail.join(", "));
}

#[test]
fn every_frame_round_trips() {
    run("round trip", fuzz_cases() / 4, frame(), |frame| {
        let bytes = frame
            .encode(DEFAULT_MAX_FRAME)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(bytes[0], VERSION);
        let (decoded, allocated) = decode_counted(&bytes, DEFAULT_MAX_FRAME);
        prop_assert_eq!(decoded, Ok(frame.clone()));
        prop_assert!(allocated <= allocation_bound(bytes.len()));
        // At the exact size the frame passes, one byte under it does not.
        prop_assert_eq!(frame.encode(bytes.len()), Ok(bytes.clone()));
        let too_large = FrameError::TooLarge {
            len: bytes.len(),
            max: bytes.len() - 1,
        };
        prop_assert_eq!(frame.encode(bytes.len() - 1), Err(too_large.clone()));
        prop_assert_eq!(Frame::decode(&bytes, bytes.len() - 1), Err(too_large));
        Ok("ok")
    });
}

#[test]
fn random_bytes_never_panic() {
    let max = prop_oneof![4 => Just(DEFAULT_MAX_FRAME), 1 => 0..64usize];
    run(
        "random bytes",
        fuzz_cases() / 2,
        (random_bytes(), max),
        |(bytes, max)| check_decode(&bytes, max),
    );
}

#[test]
fn mutated_frames_never_panic() {
    run(
        "mutated frames",
        fuzz_cases() / 2,
        (frame(), vec(mutation(), 1..6)),
        |(frame, mutations)| {
            let mut bytes = frame
                .encode(DEFAULT_MAX_FRAME)
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            for mutation in &mutations {
                mutate(&mut bytes, mutation);
            }
            check_decode(&bytes, DEFAULT_MAX_FRAME)
        },
    );
}

/// A few bytes that claim a 2^60-byte payload are an error, not an
/// allocation.
#[test]
fn a_claimed_2_pow_60_byte_payload_allocates_nothing_much() {
    // A request whose payload length prefix says 2^60 bytes, then 8 bytes.
    let mut bytes = vec![VERSION, 2, 1, 2, 3, 4, 0, 1, b'x'];
    let mut claim: u64 = 1 << 60;
    while claim >= 0x80 {
        bytes.push((claim as u8) | 0x80);
        claim >>= 7;
    }
    bytes.push(claim as u8);
    bytes.extend_from_slice(&[0; 8]);
    let (result, allocated) = decode_counted(&bytes, DEFAULT_MAX_FRAME);
    assert!(
        matches!(result, Err(FrameError::Malformed(_))),
        "{result:?}"
    );
    assert!(allocated <= allocation_bound(bytes.len()), "{allocated}");
}

/// A payload one byte short of its length prefix is refused before it is
/// allocated; a whole one is allocated once.
#[test]
fn a_payload_is_allocated_only_when_present() {
    let payload = vec![7u8; 100_000];
    let frame = Frame::Response { id: 1, payload };
    let bytes = frame.encode(DEFAULT_MAX_FRAME).expect("encodes");
    let (result, allocated) = decode_counted(&bytes, DEFAULT_MAX_FRAME);
    assert_eq!(result, Ok(frame));
    assert!(allocated >= 100_000 && allocated <= allocation_bound(bytes.len()));
    let (result, allocated) = decode_counted(&bytes[..bytes.len() - 1], DEFAULT_MAX_FRAME);
    assert!(matches!(result, Err(FrameError::Malformed(_))));
    assert!(allocated < 1024, "{allocated}");
}
