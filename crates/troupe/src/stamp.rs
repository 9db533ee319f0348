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
//! clock once per process), the monotonic clock elsewhere. The calibration
//! runs until its error is below 10 ns, for 0.5 ms at least and 200 ms at
//! most: 0.6 ms on a quiet 2-core machine, the full 200 ms on one whose
//! threads are interrupted often (measured under a 20 kHz sampling
//! profiler). It runs when the first actor system is built ([`calibrate`]),
//! not at the first stamp, which the first spawn or message would take and
//! pay for with its latency.
//!
//! Every message is stamped when it is sent, and reading
//! the monotonic clock (`clock_gettime`, through the vDSO) cost 13 % of a
//! tell between two worker threads (`perf`); with the counter, a tell took
//! about 30 % less wall time on a 2-worker runtime
//! (`HOTPATH_THREADS=2 cargo run --release --example hotpath -- tell 1000000`).
//!
//! Durations between two stamps ([`Stamp::elapsed`]) use that clock alone.
//! An `Instant` is given back through an anchor, an `Instant` and a stamp
//! taken together (within [`ANCHOR_ERROR`] of each other, see
//! [`Anchor::now`]); the counter and the monotonic clock drift apart
//! slowly (parts per million), so the anchor is taken again when it is
//! over a second old, and the instant of a recent stamp is off by tens of
//! microseconds at most.

use std::time::{Duration, Instant};

use parking_lot::Mutex;

use crate::moment::Moment;

/// An instant, as a reading of [`clock`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Stamp(u64);

/// The clock stamps read, once calibrated.
static CLOCK: std::sync::OnceLock<quanta::Clock> = std::sync::OnceLock::new();

/// Calibrates the clock now, if it is not yet: building an actor system
/// does, so that no spawn or message waits for it.
///
/// Never inlined, so that a profile can leave it out by name: the
/// calibration runs for a wall-clock time, so the instructions it takes
/// differ from one run to the next.
#[inline(never)]
pub(crate) fn calibrate() {
    clock();
}

/// Whether the clock is calibrated.
pub(crate) fn calibrated() -> bool {
    CLOCK.get().is_some()
}

/// The clock stamps read.
fn clock() -> &'static quanta::Clock {
    CLOCK.get_or_init(|| {
        // Miri runs no `cpuid` or `rdtsc`: its clock stands still (the unit
        // tests of the unsafe code build envelopes, which are stamped).
        #[cfg(miri)]
        let clock = quanta::Clock::mock().0;
        #[cfg(not(miri))]
        let clock = quanta::Clock::new();
        clock
    })
}

/// How old the process-wide anchor may be (from the stamp it converts)
/// before it is taken again.
const ANCHOR_AGE: Duration = Duration::from_secs(1);

/// An `Instant` and the stamp of (about) the same moment, recent.
fn anchor() -> Anchor {
    static ANCHOR: Mutex<Option<Anchor>> = Mutex::new(None);
    let mut anchor = ANCHOR.lock();
    let anchor = anchor.get_or_insert_with(Anchor::now);
    anchor.refresh(Stamp::now(), ANCHOR_AGE);
    *anchor
}

/// The most an anchor's stamp may be off the moment of its instant.
const ANCHOR_ERROR: Duration = Duration::from_micros(20);

/// How many times [`Anchor::now`] reads the pair at most.
const ANCHOR_TRIES: usize = 16;

/// An instant and the stamp of the same moment (to within
/// [`ANCHOR_ERROR`]), through which stamps are given back as instants: the
/// process-wide one behind [`Stamp::instant`], or a thread's own (request
/// deadlines, `deadline.rs`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Anchor {
    stamp: Stamp,
    /// The instant read with `stamp`, on the process's timeline.
    moment: Moment,
}

impl Anchor {
    /// An anchor taken now. The instant is read between two stamps, and
    /// again while they are farther apart than twice [`ANCHOR_ERROR`] (the
    /// thread was preempted between them: an anchor taken across a
    /// preemption put every instant given through it off by the
    /// preemption's length, measured at 40 ms on a loaded 2-core machine).
    /// After [`ANCHOR_TRIES`] reads the closest pair serves.
    pub(crate) fn now() -> Self {
        Self::read_by(|| (Stamp::now(), Instant::now(), Stamp::now()))
    }

    /// [`Anchor::now`] with the readings of `read` (a stamp, an instant, a
    /// stamp).
    fn read_by(mut read: impl FnMut() -> (Stamp, Instant, Stamp)) -> Self {
        let bound = 2 * ANCHOR_ERROR;
        let mut best: Option<(Duration, Self)> = None;
        for _ in 0..ANCHOR_TRIES {
            let (before, at, after) = read();
            let gap = after.since(before);
            // The midpoint of the two stamps.
            let stamp = Stamp(before.0 + (after.0.saturating_sub(before.0)) / 2);
            if best.is_none_or(|(g, _)| gap < g) {
                best = Some((gap, Self::pair(at, stamp)));
            }
            if gap <= bound {
                break;
            }
        }
        best.map_or_else(Self::now_unchecked, |(_, anchor)| anchor)
    }

    fn now_unchecked() -> Self {
        Self::pair(Instant::now(), Stamp::now())
    }

    fn pair(at: Instant, stamp: Stamp) -> Self {
        Self {
            stamp,
            moment: Moment::from_instant(at.into()),
        }
    }

    /// Takes the anchor again if `stamp` is `max_age` or more past it (the
    /// counter and the monotonic clock drift apart by parts per million).
    pub(crate) fn refresh(&mut self, stamp: Stamp, max_age: Duration) {
        if stamp.since(self.stamp) >= max_age {
            *self = Self::now();
        }
    }

    /// The moment `stamp` stands for: a scaling of the counter's ticks
    /// and an addition (no `Instant` arithmetic).
    pub(crate) fn moment(&self, stamp: Stamp) -> Moment {
        let nanos = |d: u64| i64::try_from(d).unwrap_or(i64::MAX);
        if stamp >= self.stamp {
            let d = clock().delta_as_nanos(self.stamp.0, stamp.0);
            self.moment.offset(nanos(d))
        } else {
            let d = clock().delta_as_nanos(stamp.0, self.stamp.0);
            self.moment.offset(-nanos(d))
        }
    }

    /// The instant `stamp` stands for.
    pub(crate) fn instant(&self, stamp: Stamp) -> Instant {
        self.moment(stamp).instant().into_std()
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
        anchor().instant(self)
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

    impl Anchor {
        /// The instant read with its stamp.
        fn at(&self) -> Instant {
            self.instant(self.stamp)
        }
    }

    #[test]
    fn stamps_follow_the_clock_of_instants() {
        assert_eq!(std::mem::size_of::<Stamp>(), 8);
        let at = anchor().at();
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

    /// An anchor read across a preemption (its two stamps far apart) is
    /// read again; the pair kept is the one read without a gap, and its
    /// stamp is the midpoint of the two.
    #[test]
    fn an_anchor_is_read_again_when_its_stamps_are_far_apart() {
        let origin = Stamp::now();
        let at = Instant::now();
        let ticks_per_ms = {
            let mut t = 1u64;
            while origin
                .0
                .checked_add(t)
                .is_some_and(|e| Stamp(e).since(origin) < Duration::from_millis(1))
            {
                t *= 2;
            }
            t
        };
        let mut reads = 0;
        let anchor = Anchor::read_by(|| {
            reads += 1;
            let start = Stamp(origin.0 + reads * 100 * ticks_per_ms);
            // The first read spans 40 ms (a preemption), the second none.
            let gap = if reads == 1 { 40 * ticks_per_ms } else { 0 };
            (
                start,
                at + Duration::from_millis(reads),
                Stamp(start.0 + gap),
            )
        });
        assert_eq!(reads, 2);
        let (kept_at, kept) = (anchor.at(), anchor.stamp);
        assert_eq!(kept_at, at + Duration::from_millis(2));
        assert_eq!(kept, Stamp(origin.0 + 200 * ticks_per_ms));
    }

    /// A machine that is preempted at every read gets the closest pair.
    #[test]
    fn an_anchor_keeps_the_closest_pair_after_its_last_try() {
        let origin = Stamp::now();
        let at = Instant::now();
        let mut reads = 0u64;
        let kept_at = Anchor::read_by(|| {
            reads += 1;
            // Gaps of 1e9 ticks, except 1e8 at the fifth read.
            let gap = if reads == 5 {
                100_000_000
            } else {
                1_000_000_000
            };
            (
                origin,
                at + Duration::from_millis(reads),
                Stamp(origin.0 + gap),
            )
        })
        .at();
        assert_eq!(reads, ANCHOR_TRIES as u64);
        assert_eq!(kept_at, at + Duration::from_millis(5));
    }

    #[test]
    fn a_stamp_before_the_anchor_gives_an_earlier_instant() {
        let early = Stamp::now();
        let taken = anchor();
        let (at, stamp) = (taken.at(), taken.stamp);
        if early < stamp {
            assert!(early.instant() <= at);
        }
        assert_eq!(stamp.instant(), at);
    }

    /// A stamp's moment is its instant's, on either side of the anchor.
    #[test]
    fn a_stamps_moment_is_its_instants() {
        let early = Stamp::now();
        let anchor = Anchor::now();
        let late = Stamp::now();
        for stamp in [early, anchor.stamp, late, Stamp(late.0 + 1_000_000)] {
            // The instant, by `Instant` arithmetic alone.
            let instant = if stamp >= anchor.stamp {
                anchor.at() + clock().delta(anchor.stamp.0, stamp.0)
            } else {
                anchor.at() - clock().delta(stamp.0, anchor.stamp.0)
            };
            assert_eq!(anchor.moment(stamp), Moment::from_instant(instant.into()));
            assert_eq!(anchor.instant(stamp), instant);
        }
    }
}
