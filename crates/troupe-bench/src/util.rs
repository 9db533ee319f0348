//! Small tools shared by the adapters: a countdown latch, a deterministic generator, memory
//! readings and the marker of deliberate panics.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

/// Text carried by every deliberate panic of the supervision workload; the bench's panic hook
/// stays quiet for panics whose message contains it.
pub const CRASH_MARKER: &str = "troupe-bench: deliberate crash";

/// Panics on purpose, with [`CRASH_MARKER`] as the message.
pub fn crash() -> ! {
    std::panic::panic_any(CRASH_MARKER)
}

/// The environment variable that makes a child end its process as soon as
/// the timed window of the spawn workload is over, before the actors are
/// stopped: a profiler run on the child (`valgrind --tool=callgrind`,
/// `perf record`) then sees the timed part alone, where the teardown of
/// 100,000 actors would otherwise take more than half of the profile.
/// The bench's instruction counts ([`crate::instructions`]) and
/// `scripts/callgrind-bench.sh` set it:
///
/// ```sh
/// bash scripts/callgrind-bench.sh spawn troupe-1t actix
/// ```
pub const TIMED_ONLY: &str = "TROUPE_BENCH_TIMED_ONLY";

/// Ends the process if [`TIMED_ONLY`] is set, after printing the outcome
/// line of a run that took `elapsed` (without the heap figure, which the
/// teardown left out would have followed); called by every adapter's spawn
/// workload right after its timed window.
pub fn end_of_timed_spawn(elapsed: std::time::Duration) {
    if std::env::var_os(TIMED_ONLY).is_some() {
        use std::io::Write as _;
        let outcome = crate::wire::encode(
            &Ok(crate::workloads::Sample::timed(elapsed)),
            crate::harness::other_panics(),
        );
        let mut stdout = std::io::stdout().lock();
        let written = writeln!(stdout, "{outcome}").and_then(|()| stdout.flush());
        std::process::exit(if written.is_ok() { 0 } else { 1 });
    }
}

/// A latch that fires a oneshot when it has been hit `n` times. Used by actors to signal the
/// driver that a phase is over, in the same way for every framework.
#[derive(Debug)]
pub struct Countdown {
    left: AtomicUsize,
    done: Mutex<Option<oneshot::Sender<()>>>,
}

impl Countdown {
    /// A latch expecting `n` hits, and the receiver that resolves after the last one.
    pub fn new(n: usize) -> (Arc<Self>, oneshot::Receiver<()>) {
        let (tx, rx) = oneshot::channel();
        let latch = Arc::new(Self {
            left: AtomicUsize::new(n),
            done: Mutex::new(Some(tx)),
        });
        if n == 0 {
            latch.fire();
        }
        (latch, rx)
    }

    /// Counts one hit; the last one fires the receiver. Extra hits are ignored.
    pub fn hit(&self) {
        let prev = self
            .left
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |left| {
                left.checked_sub(1)
            });
        if prev == Ok(1) {
            self.fire();
        }
    }

    fn fire(&self) {
        let sender = match self.done.lock() {
            Ok(mut guard) => guard.take(),
            Err(poisoned) => poisoned.into_inner().take(),
        };
        if let Some(tx) = sender {
            let _ = tx.send(());
        }
    }
}

/// State shared by the incarnations of the supervision workload's crashing child: counts its
/// starts, and tells each incarnation whether to crash or to report completion.
#[derive(Debug, Clone)]
pub struct Churn {
    starts: Arc<AtomicUsize>,
    restarts: usize,
    done: Arc<Countdown>,
}

impl Churn {
    /// Shared state for `restarts` restarts, and the receiver that fires after the last one.
    pub fn new(restarts: usize) -> (Self, oneshot::Receiver<()>) {
        let (done, finished) = Countdown::new(1);
        let churn = Self {
            starts: Arc::new(AtomicUsize::new(0)),
            restarts,
            done,
        };
        (churn, finished)
    }

    /// Called by every incarnation as it starts: `true` if it must crash, `false` for the
    /// incarnation after the last restart, which has just reported completion.
    pub fn should_crash(&self) -> bool {
        if self.starts.fetch_add(1, Ordering::Relaxed) >= self.restarts {
            self.done.hit();
            false
        } else {
            true
        }
    }

    /// Restarts so far.
    pub fn restarts_so_far(&self) -> usize {
        self.starts
            .load(Ordering::Relaxed)
            .saturating_sub(1)
            .min(self.restarts)
    }

    /// Waits until all restarts are done or `window` has passed since `start`, and returns the
    /// sample: the time taken and the number of restarts made in it.
    pub async fn finish(
        &self,
        finished: oneshot::Receiver<()>,
        start: std::time::Instant,
        window: std::time::Duration,
    ) -> Result<crate::workloads::Sample, crate::harness::BenchError> {
        let left = window.saturating_sub(start.elapsed());
        let restarts = match tokio::time::timeout(left, finished).await {
            Ok(Ok(())) => self.restarts,
            Ok(Err(_)) => {
                return Err(crate::harness::BenchError::failed(
                    "the supervisor ended before the last restart",
                ))
            }
            Err(_) => self.restarts_so_far(),
        };
        let elapsed = start.elapsed();
        if restarts == 0 {
            return Err(crate::harness::BenchError::failed(format!(
                "no restart within {window:?}"
            )));
        }
        Ok(crate::workloads::Sample::timed(elapsed).with_events(restarts))
    }
}

/// xorshift64*: a tiny deterministic generator, so that every framework draws the same peers.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator seeded from `seed` (any value, zero included).
    pub fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// Next value in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33) as usize % n
    }

    /// A peer index in `0..n` that differs from `me` (when `n` > 1).
    pub fn peer(&mut self, me: usize, n: usize) -> usize {
        if n <= 1 {
            return 0;
        }
        let p = self.below(n - 1);
        if p >= me {
            p + 1
        } else {
            p
        }
    }
}

/// Memory readings: live heap bytes from a counting global allocator that counts only while a
/// [`mem::Probe`] is running.
pub mod mem {
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::cell::Cell;
    use std::sync::atomic::{AtomicBool, AtomicIsize, AtomicUsize, Ordering};
    use std::sync::Arc;

    /// The system allocator, plus live-byte counting while a probe runs. When no probe runs the
    /// only extra work per allocation is one relaxed load of a flag.
    pub struct CountingAlloc;

    const SHARDS: usize = 16;

    /// One counter per cache line, so that threads counting at once do not contend.
    #[repr(align(64))]
    struct Shard(AtomicIsize);

    static COUNTING: AtomicBool = AtomicBool::new(false);
    static LIVE: [Shard; SHARDS] = [const { Shard(AtomicIsize::new(0)) }; SHARDS];
    static NEXT_SHARD: AtomicUsize = AtomicUsize::new(0);

    thread_local! {
        static MY_SHARD: Cell<usize> = const { Cell::new(usize::MAX) };
    }

    fn count(delta: isize) {
        let shard = MY_SHARD
            .try_with(|s| {
                if s.get() == usize::MAX {
                    s.set(NEXT_SHARD.fetch_add(1, Ordering::Relaxed) % SHARDS);
                }
                s.get()
            })
            .unwrap_or(0);
        LIVE[shard].0.fetch_add(delta, Ordering::Relaxed);
    }

    // SAFETY: every call is forwarded unchanged to the system allocator; the counting around it
    // allocates nothing.
    unsafe impl GlobalAlloc for CountingAlloc {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            // SAFETY: same contract as the caller's.
            let p = unsafe { System.alloc(layout) };
            if !p.is_null() && COUNTING.load(Ordering::Relaxed) {
                count(layout.size() as isize);
            }
            p
        }

        unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
            // SAFETY: same contract as the caller's.
            let p = unsafe { System.alloc_zeroed(layout) };
            if !p.is_null() && COUNTING.load(Ordering::Relaxed) {
                count(layout.size() as isize);
            }
            p
        }

        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            if COUNTING.load(Ordering::Relaxed) {
                count(-(layout.size() as isize));
            }
            // SAFETY: same contract as the caller's.
            unsafe { System.dealloc(ptr, layout) }
        }

        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            // SAFETY: same contract as the caller's.
            let p = unsafe { System.realloc(ptr, layout, new_size) };
            if !p.is_null() && COUNTING.load(Ordering::Relaxed) {
                count(new_size as isize - layout.size() as isize);
            }
            p
        }
    }

    fn live_heap() -> isize {
        LIVE.iter().map(|s| s.0.load(Ordering::Relaxed)).sum()
    }

    /// Measures live heap growth between its start and its end (bytes counted by
    /// [`CountingAlloc`]); with [`Probe::start_with_peak`], also the highest live heap seen,
    /// sampled every millisecond.
    #[derive(Debug)]
    pub struct Probe {
        heap: isize,
        sampler: Option<(Arc<AtomicBool>, std::thread::JoinHandle<isize>)>,
    }

    /// What a probe measured, per unit (e.g. per actor).
    #[derive(Debug, Clone, Copy)]
    pub struct Growth {
        /// Live heap growth per unit, in bytes.
        pub heap: f64,
        /// Highest live heap growth seen, per unit, in bytes (0 without a sampler).
        pub peak_heap: f64,
    }

    impl Probe {
        /// Reads the baseline and starts counting allocations.
        pub fn start() -> Self {
            COUNTING.store(true, Ordering::SeqCst);
            Self {
                heap: live_heap(),
                sampler: None,
            }
        }

        /// Like [`Probe::start`], plus a thread that samples the live heap every millisecond
        /// and keeps its highest value.
        pub fn start_with_peak() -> Self {
            let mut probe = Self::start();
            let stop = Arc::new(AtomicBool::new(false));
            let flag = stop.clone();
            let spawned = std::thread::Builder::new()
                .name("heap-sampler".into())
                .spawn(move || {
                    let mut peak = live_heap();
                    while !flag.load(Ordering::Relaxed) {
                        peak = peak.max(live_heap());
                        std::thread::sleep(std::time::Duration::from_millis(1));
                    }
                    peak.max(live_heap())
                });
            probe.sampler = spawned.ok().map(|handle| (stop, handle));
            probe
        }

        /// Stops counting; returns the growth divided by `units`.
        pub fn finish(self, units: usize) -> Growth {
            let live = live_heap();
            let peak = match self.sampler {
                Some((stop, handle)) => {
                    stop.store(true, Ordering::Relaxed);
                    handle.join().unwrap_or(live)
                }
                None => self.heap,
            };
            COUNTING.store(false, Ordering::SeqCst);
            let units = units.max(1) as f64;
            Growth {
                heap: (live - self.heap) as f64 / units,
                peak_heap: (peak - self.heap).max(0) as f64 / units,
            }
        }
    }
}

#[cfg(test)]
pub static TEST_LOCK: Mutex<()> = Mutex::new(());

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn countdown_fires_once_after_n_hits() {
        let (latch, mut rx) = Countdown::new(3);
        latch.hit();
        latch.hit();
        assert!(rx.try_recv().is_err());
        latch.hit();
        assert!(rx.try_recv().is_ok());
        latch.hit();
    }

    #[test]
    fn countdown_of_zero_is_already_done() {
        let (_latch, mut rx) = Countdown::new(0);
        assert!(rx.try_recv().is_ok());
    }

    #[test]
    fn rng_peer_is_never_self() {
        let mut rng = Rng::new(7);
        for _ in 0..1000 {
            let p = rng.peer(3, 10);
            assert!(p < 10 && p != 3);
        }
    }

    #[test]
    fn probe_counts_live_heap() {
        let _serial = TEST_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        let probe = mem::Probe::start();
        let kept: Vec<Box<[u8; 1000]>> = (0..100).map(|_| Box::new([0u8; 1000])).collect();
        let growth = probe.finish(100);
        assert!(growth.heap >= 1000.0, "heap growth {}", growth.heap);
        drop(kept);
    }
}
