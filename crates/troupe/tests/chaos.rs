//! Chaos test: a thousand supervised struct actors under load, with handlers
//! that panic, actors that stop themselves, restarts, mixed mailbox
//! policies, and eight producers sending fire-and-forget messages and
//! requests. At the end every message must be accounted for, exactly:
//!
//! - every fire-and-forget message sent was handled, reported as a dead
//!   letter, or refused at send (`notify` returned an error), exactly one of
//!   the three;
//! - every request resolved once, with its answer or one typed error, and
//!   was likewise handled, dead-lettered or refused at send.
//!
//! A message counts as handled when its handler ran, even if the handler
//! then panicked (that is what the counter in the handler sees: it counts on
//! entry, before deciding the message's fate).
//!
//! Dead letters are read from the system's dead-letter stream, by a thread
//! of its own, to tell notifies from requests. A broadcast receiver can fall
//! behind and miss reports, so the test checks that it missed none and that
//! its total equals `dead_letter_count()`, the system's exact count. A
//! request not handled was dead-lettered or refused at send, and its
//! requester saw `Gone` or `Full` either way: the requests refused at send
//! are those answered so and not dead-lettered.
//!
//! Nothing may hang: every await is bounded and fails the test with a message
//! saying what did not finish. The end is deterministic, with no sleep: the
//! producers stop, the system shuts down (after which every queued message
//! has been handled or reported as a dead letter), and only then are the
//! counts compared.
//!
//! By default the traffic lasts two seconds. For a long run set
//! `TROUPE_CHAOS_SECS`, e.g.
//! `TROUPE_CHAOS_SECS=600 cargo test -p troupe --release --test chaos -- --nocapture`.
//! With `--nocapture` it prints a one-line summary.

use std::future::IntoFuture;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{broadcast, watch};
use tokio::time::Instant;
use troupe::prelude::*;
use troupe::supervision::{RestartType, SupervisorConfig};
use troupe::{Failure, OverflowPolicy, SystemConfig};

const SUPERVISORS: usize = 10;
const CHILDREN: usize = 100;
const PRODUCERS: u64 = 8;
/// One operation in this many is a request; the others are notifies.
const REQUEST_EVERY: u64 = 16;
/// Half the operations go to this many actors.
const HOT: u64 = 40;
/// The default length of the traffic phase.
const DEFAULT_TRAFFIC: Duration = Duration::from_secs(2);
/// The bound of each single await in the test (a send, a spawn, a query).
const STEP_BOUND: Duration = Duration::from_secs(60);
/// Requests get a deadline of their own far beyond any expected wait, so
/// that a timeout means a stuck actor (it is still counted as an outcome).
const REQUEST_DEADLINE: Duration = Duration::from_secs(30);
/// Room for dead letters not yet read by the counting thread; more than this
/// backlog would make the split by message type inexact (checked).
const DEAD_LETTER_BUFFER: usize = 1 << 16;
/// Marks the panics this test causes, so that the panic hook keeps quiet
/// about them.
const DELIBERATE: &str = "chaos: deliberate panic";

#[message(name = "chaos::Work")]
struct Work {
    seq: u64,
}

#[message(name = "chaos::Ask", ret = u64)]
struct Ask {
    seq: u64,
}

/// What a message makes its handler do, decided by its sequence number.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Fate {
    /// Panic (1% of messages).
    Panic,
    /// Stop the actor once handled (0.2%).
    Stop,
    /// Yield to the scheduler once, then finish (5%).
    Yield,
    /// Finish at once.
    Plain,
}

/// A 64-bit mix (splitmix64's finaliser): a well-spread hash of `x`.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

fn fate(seq: u64) -> Fate {
    match mix(seq ^ 0x00c0_ffee) % 1000 {
        0..10 => Fate::Panic,
        10..12 => Fate::Stop,
        12..62 => Fate::Yield,
        _ => Fate::Plain,
    }
}

/// Seeded xorshift64: each producer's choices of target and operation.
struct XorShift(u64);

impl XorShift {
    fn new(seed: u64) -> Self {
        Self(mix(seed) | 1)
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
}

/// What the actors count.
#[derive(Default)]
struct Counters {
    /// `Work` handlers that ran (including those that then panicked).
    handled_work: AtomicU64,
    /// `Ask` handlers that ran (including those that then panicked).
    handled_ask: AtomicU64,
    /// `Work` handlers that panicked.
    work_panics: AtomicU64,
    /// `Ask` handlers that panicked.
    ask_panics: AtomicU64,
    /// Handlers that stopped their actor.
    self_stops: AtomicU64,
    /// Calls of `handle_failure` (a `Work` handler panicked).
    failures: AtomicU64,
}

struct Worker {
    counters: Arc<Counters>,
}

impl Actor for Worker {
    async fn handle_failure(&mut self, _ctx: &mut ActorContext<Self>, _failure: Failure) {
        self.counters.failures.fetch_add(1, Relaxed);
    }
}

impl Worker {
    async fn act(&self, seq: u64, panics: &AtomicU64, ctx: &mut ActorContext<Self>) {
        match fate(seq) {
            Fate::Panic => {
                panics.fetch_add(1, Relaxed);
                panic!("{DELIBERATE} on message {seq:#x}");
            }
            Fate::Stop => {
                self.counters.self_stops.fetch_add(1, Relaxed);
                ctx.stop();
            }
            Fate::Yield => tokio::task::yield_now().await,
            Fate::Plain => {}
        }
    }
}

impl Handler<Work> for Worker {
    async fn handle(&mut self, msg: Work, ctx: &mut ActorContext<Self>) -> HandlerResult {
        self.counters.handled_work.fetch_add(1, Relaxed);
        self.act(msg.seq, &self.counters.work_panics, ctx).await;
        Ok(())
    }
}

impl Handler<Ask> for Worker {
    async fn handle(&mut self, msg: Ask, ctx: &mut ActorContext<Self>) -> HandlerResult<u64> {
        self.counters.handled_ask.fetch_add(1, Relaxed);
        self.act(msg.seq, &self.counters.ask_panics, ctx).await;
        Ok(msg.seq)
    }
}

/// The kind of the `c`-th child of a supervisor: restart type and mailbox.
fn child_setup(c: usize) -> (RestartType, ActorConfig) {
    let base = ActorConfig::default();
    match c % 10 {
        // Small mailboxes: producers often wait for space.
        0..=2 => (RestartType::Permanent, base.with_mailbox_capacity(4)),
        // Lossy: overflow becomes dead letters, requests fail with `Full`.
        3 => (
            RestartType::Permanent,
            base.with_mailbox_capacity(4)
                .with_overflow(OverflowPolicy::DropOldest),
        ),
        4 => (
            RestartType::Permanent,
            base.with_mailbox_capacity(4)
                .with_overflow(OverflowPolicy::DropNewest),
        ),
        // Fail-fast: a full mailbox refuses at send.
        5 => (
            RestartType::Permanent,
            base.with_mailbox_capacity(4)
                .with_overflow(OverflowPolicy::FailFast),
        ),
        // Transient: a child that stops itself stays down (sends to it are
        // refused from then on); one that panics in a request comes back.
        9 => (RestartType::Transient, base),
        _ => (RestartType::Permanent, base),
    }
}

/// A supervisor actor that starts its hundred children in `pre_start`.
struct Boss {
    index: usize,
    counters: Arc<Counters>,
    workers: Arc<Mutex<Vec<ActorRef<Worker>>>>,
}

impl Actor for Boss {
    async fn pre_start(&mut self, ctx: &mut ActorContext<Self>) -> HandlerResult {
        for c in 0..CHILDREN {
            let (restart, config) = child_setup(c);
            let counters = self.counters.clone();
            let child = ctx
                .spawn_child(move || Worker {
                    counters: counters.clone(),
                })
                .named(format!("worker-{}-{c}", self.index))
                .restart_type(restart)
                .with_config(config)
                .await?;
            self.workers.lock().expect("not poisoned").push(child);
        }
        Ok(())
    }
}

/// What one producer sent and how each send ended.
#[derive(Default, Debug)]
struct Sent {
    work: u64,
    /// `notify` failed: the message was refused at send.
    work_refused: u64,
    asks: u64,
    ask_ok: u64,
    ask_failed: u64,
    ask_gone: u64,
    ask_full: u64,
    ask_timeout: u64,
    /// Any other error (`Dropped`, `Unhandled`): none is expected.
    ask_other: u64,
}

impl Sent {
    fn add(&mut self, o: &Sent) {
        self.work += o.work;
        self.work_refused += o.work_refused;
        self.asks += o.asks;
        self.ask_ok += o.ask_ok;
        self.ask_failed += o.ask_failed;
        self.ask_gone += o.ask_gone;
        self.ask_full += o.ask_full;
        self.ask_timeout += o.ask_timeout;
        self.ask_other += o.ask_other;
    }
}

/// Awaits `fut` within `bound`, or fails the test saying what hung.
/// (`what` is called only then: the fast path allocates nothing.)
async fn bounded<F: IntoFuture, S: std::fmt::Display>(
    what: impl FnOnce() -> S,
    bound: Duration,
    fut: F,
) -> F::Output {
    match tokio::time::timeout(bound, fut).await {
        Ok(v) => v,
        Err(_) => panic!("hang: {} did not finish within {bound:?}", what()),
    }
}

/// Sends until `until`: each operation picks a target (half of them among
/// [`HOT`] actors, to fill mailboxes), then sends it a request or a burst of
/// up to eight notifies (fire-and-forget: a burst fills a small mailbox,
/// so that senders wait, lossy mailboxes drop and fail-fast ones refuse).
async fn produce(id: u64, workers: Arc<Vec<ActorRef<Worker>>>, until: Instant) -> Sent {
    let mut rng = XorShift::new(id);
    let mut sent = Sent::default();
    let mut n = 0u64;
    let len = workers.len() as u64;
    while Instant::now() < until {
        let r = rng.next();
        let index = if r & 1 == 0 {
            (r >> 1) % HOT * 997 % len
        } else {
            (r >> 1) % len
        };
        let target = &workers[index as usize];
        if (r >> 32) % REQUEST_EVERY == 0 {
            n += 1;
            // Unique across producers: the producer in the top byte.
            let seq = (id << 56) | n;
            sent.asks += 1;
            let what = || format!("request {seq:#x} to {}", target.addr());
            let asked = target.send_timeout(Ask { seq }, Some(REQUEST_DEADLINE));
            match bounded(what, STEP_BOUND, asked).await {
                Ok(answer) => {
                    assert_eq!(answer, seq, "a request got another one's answer");
                    sent.ask_ok += 1;
                }
                Err(RequestError::Failed(_)) => sent.ask_failed += 1,
                Err(RequestError::Gone { .. }) => sent.ask_gone += 1,
                Err(RequestError::Full) => sent.ask_full += 1,
                Err(RequestError::Timeout(_)) => sent.ask_timeout += 1,
                Err(_) => sent.ask_other += 1,
            }
        } else {
            for _ in 0..1 + (r >> 40) % 8 {
                n += 1;
                let seq = (id << 56) | n;
                sent.work += 1;
                let what = || format!("notify {seq:#x} to {}", target.addr());
                if bounded(what, STEP_BOUND, target.notify(Work { seq }))
                    .await
                    .is_err()
                {
                    sent.work_refused += 1;
                }
            }
        }
    }
    sent
}

/// Dead letters of this test's messages, counted by a thread of its own
/// (not a task: the runtime being busy cannot make it fall behind).
#[derive(Default)]
struct DeadCount {
    work: AtomicU64,
    ask: AtomicU64,
    other: AtomicU64,
    /// Reports the receiver missed because it fell behind.
    lagged: AtomicU64,
}

fn count_dead_letters(
    mut rx: broadcast::Receiver<troupe::DeadLetter>,
    dead: Arc<DeadCount>,
    seen: watch::Sender<u64>,
) {
    std::thread::spawn(move || loop {
        match rx.blocking_recv() {
            Ok(letter) => {
                let counter = if letter.message == <Work as Message>::NAME {
                    &dead.work
                } else if letter.message == <Ask as Message>::NAME {
                    &dead.ask
                } else {
                    &dead.other
                };
                counter.fetch_add(1, Relaxed);
                seen.send_modify(|n| *n += 1);
            }
            Err(broadcast::error::RecvError::Lagged(n)) => {
                dead.lagged.fetch_add(n, Relaxed);
                seen.send_modify(|s| *s += n);
            }
            Err(broadcast::error::RecvError::Closed) => return,
        }
    });
}

/// Keeps the panic hook quiet about the panics this test causes on purpose
/// (thousands of them); any other panic is reported as usual.
fn silence_deliberate_panics() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let text = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or("");
        if !text.starts_with(DELIBERATE) {
            default(info);
        }
    }));
}

fn traffic_duration() -> Duration {
    match std::env::var("TROUPE_CHAOS_SECS") {
        Ok(v) => Duration::from_secs(v.trim().parse().unwrap_or_else(|_| {
            panic!("TROUPE_CHAOS_SECS must be a number of seconds, not {v:?}")
        })),
        Err(_) => DEFAULT_TRAFFIC,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_message_is_accounted_for_under_chaos() {
    silence_deliberate_panics();
    let traffic = traffic_duration();
    let started = Instant::now();
    let system = ActorSystem::create_with(
        "chaos",
        SystemConfig {
            dead_letter_buffer: DEAD_LETTER_BUFFER,
            ..SystemConfig::default()
        },
    )
    .expect("system");
    let dead = Arc::new(DeadCount::default());
    let (seen_tx, mut seen) = watch::channel(0u64);
    count_dead_letters(system.dead_letters(), dead.clone(), seen_tx);

    // Ten supervisors of a hundred workers each, with a budget that the
    // chaos never exhausts.
    let counters = Arc::new(Counters::default());
    let workers = Arc::new(Mutex::new(Vec::new()));
    let mut bosses = Vec::new();
    for index in 0..SUPERVISORS {
        let boss = Boss {
            index,
            counters: counters.clone(),
            workers: workers.clone(),
        }
        .spawn()
        .named(format!("boss-{index}"))
        .on_system(&system)
        .with_supervision(
            SupervisorConfig::one_for_one().max_restarts(usize::MAX, Duration::from_secs(1)),
        );
        let boss = bounded(|| format!("spawning boss-{index}"), STEP_BOUND, boss)
            .await
            .expect("supervisor starts");
        bosses.push(boss);
    }
    let workers = Arc::new(std::mem::take(&mut *workers.lock().expect("not poisoned")));
    assert_eq!(workers.len(), SUPERVISORS * CHILDREN);
    assert_eq!(
        system.dead_letter_count(),
        0,
        "no dead letter before traffic"
    );

    // The traffic.
    let until = Instant::now() + traffic;
    let producers: Vec<_> = (0..PRODUCERS)
        .map(|id| tokio::spawn(produce(id, workers.clone(), until)))
        .collect();
    if traffic >= Duration::from_secs(120) {
        // A progress line a minute in long runs.
        let mut tick = tokio::time::interval_at(
            Instant::now() + Duration::from_secs(60),
            Duration::from_secs(60),
        );
        while Instant::now() + Duration::from_secs(60) <= until {
            tick.tick().await;
            println!(
                "chaos: {:>4}s handled {} dead letters {}",
                started.elapsed().as_secs(),
                counters.handled_work.load(Relaxed) + counters.handled_ask.load(Relaxed),
                system.dead_letter_count()
            );
        }
    }
    let mut sent = Sent::default();
    for (id, producer) in producers.into_iter().enumerate() {
        let what = || format!("producer {id}");
        let bound = traffic + STEP_BOUND * 2;
        let done = bounded(what, bound, producer).await.expect("producer ran");
        sent.add(&done);
    }

    // Restarts up to now (a few more may follow while the mailboxes drain;
    // none once the shutdown begins): for the summary only.
    let mut restarts = 0;
    for (i, boss) in bosses.iter().enumerate() {
        let children = bounded(
            || format!("children of boss-{i}"),
            STEP_BOUND,
            boss.children(),
        )
        .await
        .expect("a supervisor answers");
        restarts += children.iter().map(|c| c.restarts).sum::<u64>();
    }

    // The end: after the shutdown every queued message has been handled or
    // reported as a dead letter.
    let report = bounded(|| "system shutdown", STEP_BOUND * 2, system.shutdown()).await;
    assert!(
        report.all_stopped(),
        "actors had to be killed at shutdown: {:?}",
        report.escalated().map(|a| a.addr).collect::<Vec<_>>()
    );
    let dead_total = system.dead_letter_count();
    bounded(
        || "reading the dead-letter stream",
        STEP_BOUND,
        seen.wait_for(|n| *n >= dead_total),
    )
    .await
    .expect("the counting thread is alive");

    let handled_work = counters.handled_work.load(Relaxed);
    let handled_ask = counters.handled_ask.load(Relaxed);
    let dead_work = dead.work.load(Relaxed);
    let dead_ask = dead.ask.load(Relaxed);
    let lagged = dead.lagged.load(Relaxed);
    let refused_work = sent.work_refused;
    // A request not handled was dead-lettered or refused at send, and its
    // requester saw `Gone` or `Full` either way: those not dead-lettered
    // were refused.
    let refused_ask = (sent.ask_gone + sent.ask_full).saturating_sub(dead_ask);
    let summary = format!(
        "chaos: {traffic:?} of traffic, {:.1?} in all: sent {} (notify {}, request {}) = \
         handled {} + dead letters {} + refused at send {} (notify {}, request {}); \
         requests ok {} failed {} gone {} full {} timeout {}; panics {}, self-stops {}, \
         restarts {}",
        started.elapsed(),
        sent.work + sent.asks,
        sent.work,
        sent.asks,
        handled_work + handled_ask,
        dead_total,
        refused_work + refused_ask,
        refused_work,
        refused_ask,
        sent.ask_ok,
        sent.ask_failed,
        sent.ask_gone,
        sent.ask_full,
        sent.ask_timeout,
        counters.work_panics.load(Relaxed) + counters.ask_panics.load(Relaxed),
        counters.self_stops.load(Relaxed),
        restarts,
    );
    println!("{summary}");

    // The dead-letter stream is exact: it missed nothing and holds only this
    // test's messages.
    assert_eq!(lagged, 0, "the dead-letter reader fell behind: {summary}");
    assert_eq!(
        dead.other.load(Relaxed),
        0,
        "foreign dead letters: {summary}"
    );
    assert_eq!(dead_work + dead_ask, dead_total, "{summary}");

    // Fire-and-forget: handled + dead-lettered + refused at send, exactly.
    assert_eq!(
        sent.work,
        handled_work + dead_work + refused_work,
        "notifies do not balance (sent = handled + dead + refused): {summary}"
    );

    // Requests: each resolved exactly once with an answer or a typed error.
    assert_eq!(sent.ask_other, 0, "unexpected request errors: {summary}");
    assert_eq!(
        sent.asks,
        sent.ask_ok + sent.ask_failed + sent.ask_gone + sent.ask_full + sent.ask_timeout,
        "{summary}"
    );
    assert_eq!(sent.ask_timeout, 0, "requests timed out: {summary}");
    // A handled request was answered, or failed because its handler
    // panicked; one that was not handled was dead-lettered or refused at
    // send, and answered `Gone` or `Full` either way.
    assert_eq!(
        sent.ask_failed,
        counters.ask_panics.load(Relaxed),
        "{summary}"
    );
    assert_eq!(handled_ask, sent.ask_ok + sent.ask_failed, "{summary}");
    assert!(
        dead_ask <= sent.ask_gone + sent.ask_full,
        "more dead-lettered requests than requests answered Gone/Full: {summary}"
    );
    // Together: every message sent is accounted for exactly once.
    assert_eq!(
        sent.work + sent.asks,
        handled_work + handled_ask + dead_total + refused_work + refused_ask,
        "{summary}"
    );

    // Each panicking notify handler was reported to `handle_failure`.
    assert_eq!(
        counters.failures.load(Relaxed),
        counters.work_panics.load(Relaxed),
        "{summary}"
    );
    // The chaos happened.
    assert!(counters.work_panics.load(Relaxed) > 0, "{summary}");
    assert!(counters.self_stops.load(Relaxed) > 0, "{summary}");
    assert!(restarts > 0, "{summary}");
    assert!(dead_total > 0, "{summary}");
    assert!(refused_work > 0, "{summary}");
}
