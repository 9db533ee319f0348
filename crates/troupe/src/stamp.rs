//! Instants in 8 bytes, read cheaply: what an envelope and every process
//! keep of a time.
//!
//! A `std::time::Instant` takes 16 bytes on Linux (a `timespec`); a
//! [`Stamp`] keeps one reading of a 64-bit clock, and gives an `Instant`
//! back on demand. The send time is in every queued envelope and the start
//! time in every process: 8 bytes less in each (see `tests/memory.rs`).
//!
//! The clock is `quanta`'s: the CPU's time-stamp counter where it is
//! invariant (`quanta` checks, and calibrates it against the monotonic
//! clock once, on the first stamp: about a millisecond), the monotonic
//! clock elsewhere. Every message is stamped when it is sent, and reading
//! the monotonic clock (`clock_gettime`, through the vDSO) cost 13 % of a
//! tell between two worker threads (`perf`); with the counter, a tell took
//! about 30 % less wall time on a 2-worker runtime
//! (`HOTPATH_THREADS=2 cargo run --release --example hotpath -- tell 1000000`).
//!
//! Durations between two stamps ([`Stamp::elapsed`]) use that clock alone.
//! An `Instant` is given back through an anchor, an `Instant` and a stamp
//! taken together; the counter and the monotonic clock drift apart slowly
//! (parts per million), so the anchor is taken again when it is over a
//! second old, and the instant of a recent stamp is off by well under a
//! microsecond.

use std::time::{Duration, Instant};

use parking_lot::Mutex;

/// An instant, as a reading of [`clock`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Stamp(u64);

/// The clock stamps read.
fn clock() -> &'static quanta::Clock {
    static CLOCK: std::sync::OnceLock<quanta::Clock> = std::sync::OnceLock::new();
    CLOCK.get_or_init(quanta::Clock::new)
}

/// How old an anchor may be before it is taken again.
const ANCHOR_AGE: Duration = Duration::from_secs(1);

/// An `Instant` and the stamp of (about) the same moment, recent.
fn anchor() -> (Instant, Stamp) {
    static ANCHOR: Mutex<Option<(Instant, Stamp)>> = Mutex::new(None);
    let mut anchor = ANCHOR.lock();
    match *anchor {
        Some((at, stamp)) if stamp.elapsed() < ANCHOR_AGE => (at, stamp),
        _ => {
            let fresh = (Instant::now(), Stamp::now());
            *anchor = Some(fresh);
            fresh
        }
    }
}

impl Stamp {
    /// Now.
    #[inline]
    pub(crate) fn now() -> Self {
        Self(clock().raw())
    }

    /// The instant it stands for.
    pub(crate) fn instant(self) -> Instant {
        let (at, stamp) = anchor();
        self.instant_by(at, stamp)
    }

    /// The instant it stands for, through an anchor of the caller's:
    /// `at` and `stamp` taken together (see the module's docs).
    pub(crate) fn instant_by(self, at: Instant, stamp: Stamp) -> Instant {
        if self >= stamp {
            at + clock().delta(stamp.0, self.0)
        } else {
            at.checked_sub(clock().delta(self.0, stamp.0)).unwrap_or(at)
        }
    }

    /// The time from `earlier` to it (zero if `earlier` is later).
    pub(crate) fn since(self, earlier: Stamp) -> Duration {
        if self > earlier {
            clock().delta(earlier.0, self.0)
        } else {
            Duration::ZERO
        }
    }

    /// The time since it.
    pub(crate) fn elapsed(self) -> Duration {
        let now = Self::now();
        if now > self {
            clock().delta(self.0, now.0)
        } else {
            Duration::ZERO
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_follow_the_clock_of_instants() {
        assert_eq!(std::mem::size_of::<Stamp>(), 8);
        let (at, _) = anchor();
        let first = Stamp::now();
        let later = Instant::now();
        let second = Stamp::now();
        assert!(first <= second);
        // The instant of a stamp is after the anchor and within the
        // anchor's error (well under a millisecond) of the clock.
        let slack = Duration::from_millis(50);
        assert!(first.instant() + slack >= at);
        assert!(first.instant() <= later + slack);
        assert!(second.instant() + slack >= later);
    }

    #[test]
    fn elapsed_counts_from_the_stamp() {
        let stamp = Stamp::now();
        let start = Instant::now();
        while start.elapsed() < Duration::from_millis(2) {
            std::hint::spin_loop();
        }
        // Less a calibration error (parts per million of the counter).
        assert!(stamp.elapsed() >= Duration::from_micros(1_990));
    }

    #[test]
    fn a_stamp_before_the_anchor_gives_an_earlier_instant() {
        let early = Stamp::now();
        let (at, stamp) = anchor();
        if early < stamp {
            assert!(early.instant() <= at);
        }
        assert_eq!(stamp.instant(), at);
    }
}
