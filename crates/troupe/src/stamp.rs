//! Instants in 8 bytes: what an envelope and every process keep of a time.
//!
//! A `std::time::Instant` takes 16 bytes on Linux (a `timespec`); a
//! [`Stamp`] keeps nanoseconds of the monotonic clock in a `u64` (584
//! years), and gives the `Instant` back on demand. The send time is in
//! every queued envelope and the start time in every process: 8 bytes less
//! in each (see `tests/memory.rs`).
//!
//! On Linux a stamp is `CLOCK_MONOTONIC` read straight (the clock behind
//! `Instant`), which costs the clock read alone: turning an `Instant` into
//! nanoseconds since some epoch cost about 70 instructions more per message
//! (`scripts/callgrind.sh tell`). An instant is given back through an
//! anchor, one `Instant` and one stamp taken together once, so it may be off
//! by the time between those two reads (tens of nanoseconds). Elsewhere a
//! stamp counts from the first stamp taken.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// An instant, as nanoseconds of the monotonic clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Stamp(u64);

/// An `Instant` and the stamp of (about) the same moment.
static ANCHOR: OnceLock<(Instant, Stamp)> = OnceLock::new();

fn anchor() -> (Instant, Stamp) {
    *ANCHOR.get_or_init(|| (Instant::now(), Stamp::read()))
}

impl Stamp {
    /// Now.
    #[inline]
    pub(crate) fn now() -> Self {
        Self::read()
    }

    #[cfg(target_os = "linux")]
    #[inline]
    fn read() -> Self {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `ts` is a valid, writable `timespec`; CLOCK_MONOTONIC is
        // always supported on Linux, so the call cannot fail (and if it
        // did, `ts` would keep its zeros: a stamp at the clock's origin).
        unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
        let secs = u64::try_from(ts.tv_sec).unwrap_or(0);
        let nanos = u64::try_from(ts.tv_nsec).unwrap_or(0);
        Self(secs.wrapping_mul(1_000_000_000).wrapping_add(nanos))
    }

    #[cfg(not(target_os = "linux"))]
    fn read() -> Self {
        static EPOCH: OnceLock<Instant> = OnceLock::new();
        let epoch = *EPOCH.get_or_init(Instant::now);
        let nanos = Instant::now().saturating_duration_since(epoch).as_nanos();
        Self(u64::try_from(nanos).unwrap_or(u64::MAX))
    }

    /// The instant it stands for.
    pub(crate) fn instant(self) -> Instant {
        let (at, stamp) = anchor();
        if self >= stamp {
            at + Duration::from_nanos(self.0 - stamp.0)
        } else {
            let before = Duration::from_nanos(stamp.0 - self.0);
            at.checked_sub(before).unwrap_or(at)
        }
    }

    /// The time since it.
    pub(crate) fn elapsed(self) -> Duration {
        Duration::from_nanos(Self::now().0.saturating_sub(self.0))
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
        assert!(stamp.elapsed() >= Duration::from_millis(2));
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
