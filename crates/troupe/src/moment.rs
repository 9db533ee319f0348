//! Points of one process-wide timeline, in one signed word: how request
//! deadlines are computed, carried in a token, kept by the deadline
//! registry and compared.
//!
//! An `Instant` is 16 bytes, and a request's deadline went through three
//! forms (an `Instant` from the send stamp, the token's compact form, the
//! registry's armed state), each conversion a `timespec` subtraction and a
//! 128-bit division. A [`Moment`] is the nanoseconds from one epoch, read
//! once per process: a deadline computed from a send stamp is a scaling and
//! two additions away from it (see [`crate::stamp::Anchor::moment`]), the
//! token and the registry keep it as it is, and an `Instant` is made only
//! to sleep until a deadline or to show it. On a 2-worker runtime this took
//! an ask from 3,255 to 3,076 instructions (callgrind of
//! `troupe-bench --child ask troupe` at two request counts).

use std::sync::OnceLock;
use std::time::Duration;

use tokio::time::Instant;

/// A point of the process's timeline: nanoseconds from its epoch (an
/// `Instant` read the first time one is needed), negative before it.
/// Exact within 146 years either side of the epoch; points beyond are
/// clamped there.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Moment(i64);

impl Moment {
    /// The earliest point (146 years before the epoch).
    pub(crate) const MIN: Moment = Moment(-(1 << 62));
    /// The latest point (146 years after the epoch).
    pub(crate) const MAX: Moment = Moment(1 << 62);

    fn epoch() -> std::time::Instant {
        static EPOCH: OnceLock<std::time::Instant> = OnceLock::new();
        *EPOCH.get_or_init(std::time::Instant::now)
    }

    fn clamped(nanos: i64) -> Self {
        Self(nanos.clamp(Self::MIN.0, Self::MAX.0))
    }

    /// The moment of an instant (of Tokio's clock: paused or not, it reads
    /// as an `Instant`).
    pub(crate) fn from_instant(at: Instant) -> Self {
        let at = at.into_std();
        let epoch = Self::epoch();
        let nanos = |d: Duration| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX);
        Self::clamped(match at.checked_duration_since(epoch) {
            Some(after) => nanos(after),
            None => -nanos(epoch.duration_since(at)),
        })
    }

    /// The instant it stands for.
    pub(crate) fn instant(self) -> Instant {
        let epoch = Self::epoch();
        let at = if self.0 >= 0 {
            epoch.checked_add(Duration::from_nanos(self.0.unsigned_abs()))
        } else {
            epoch.checked_sub(Duration::from_nanos(self.0.unsigned_abs()))
        };
        // Out of the platform's range of instants (not on Linux): the epoch
        // is the nearest instant that surely exists.
        Instant::from_std(at.unwrap_or(epoch))
    }

    /// `nanos` nanoseconds later (earlier, if negative), clamped.
    pub(crate) fn offset(self, nanos: i64) -> Self {
        Self::clamped(self.0.saturating_add(nanos))
    }

    /// `d` later, clamped.
    pub(crate) fn after(self, d: Duration) -> Self {
        self.offset(i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
    }

    /// Its distance from [`Moment::MIN`]: an order-preserving `u64`
    /// (at most 2^63) for atomic states.
    pub(crate) fn above_min(self) -> u64 {
        self.0.abs_diff(Self::MIN.0)
    }

    /// The moment `n` nanoseconds after [`Moment::MIN`] (the inverse of
    /// [`Moment::above_min`]).
    pub(crate) fn min_plus(n: u64) -> Self {
        Self::MIN.offset(i64::try_from(n).unwrap_or(i64::MAX))
    }

    /// Its nanoseconds from the epoch (for a compact optional form).
    pub(crate) fn nanos(self) -> i64 {
        self.0
    }

    /// The moment of nanoseconds from the epoch, clamped.
    pub(crate) fn from_nanos(nanos: i64) -> Self {
        Self::clamped(nanos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_convert_back_to_themselves() {
        let now = Instant::now();
        for at in [
            now,
            now + Duration::from_nanos(1),
            now + Duration::from_secs(5),
            now + Duration::from_secs(3600 * 24 * 365 * 10),
        ] {
            assert_eq!(Moment::from_instant(at).instant(), at);
        }
        // Before the epoch (the epoch is read at the latest by `now`'s
        // moment above).
        let epoch = Moment::epoch();
        if let Some(before) = epoch.checked_sub(Duration::from_millis(3)) {
            let before = Instant::from_std(before);
            let m = Moment::from_instant(before);
            assert!(m.nanos() < 0);
            assert_eq!(m.instant(), before);
        }
    }

    #[test]
    fn moments_order_as_their_instants_and_as_their_states() {
        let now = Instant::now();
        let a = Moment::from_instant(now);
        let b = Moment::from_instant(now + Duration::from_micros(1));
        assert!(a < b);
        assert!(a.above_min() < b.above_min());
        assert_eq!(Moment::min_plus(a.above_min()), a);
        assert_eq!(Moment::MIN.above_min(), 0);
        assert_eq!(Moment::MAX.above_min(), 1 << 63);
        assert!(Moment::from_nanos(i64::MIN).above_min() == 0);
    }

    #[test]
    fn arithmetic_saturates_at_the_ends() {
        let now = Moment::from_instant(Instant::now());
        assert_eq!(now.after(Duration::MAX), Moment::MAX);
        assert_eq!(now.offset(i64::MIN), Moment::MIN);
        assert_eq!(
            now.after(Duration::from_secs(5)).nanos() - now.nanos(),
            5_000_000_000
        );
        assert_eq!(Moment::MAX.after(Duration::from_secs(1)), Moment::MAX);
    }
}
