//! Timers: the three miss policies, one-shot and past instants,
//! cancellation and counts, timers dying with their actor.
//!
//! Every test runs on paused Tokio time: the clock only moves when every
//! task is idle (auto-advance) or by `tokio::time::advance`, so tick times
//! are exact. A `sleep` here waits until the whole runtime is quiescent at
//! that virtual instant; it never hopes that real time was long enough.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, Semaphore};
use tokio::time::{advance, sleep, sleep_until, Instant};
use troupe::prelude::*;
use troupe::{DeadLetterReason, MissPolicy, OverflowPolicy, TimerError, TimerId};

const MS: Duration = Duration::from_millis(1);

/// A tick; the label tells timers apart. Holds an `Arc` so that a test can
/// see when every copy (the timer tasks own one) is gone.
#[derive(Clone)]
#[message]
struct Tick {
    label: &'static str,
    _token: Arc<()>,
}

#[message(ret = Result<TimerId, TimerError>)]
struct Every(Duration, MissPolicy);

#[message(ret = Result<TimerId, TimerError>)]
struct After(Duration);

#[message(ret = Result<TimerId, TimerError>)]
struct At(Instant);

#[message(ret = bool)]
struct Cancel(TimerId);

#[message(ret = usize)]
struct CancelAll;

#[message(ret = (usize, u64))]
struct Counts;

/// Blocks the handler until the test adds a permit to the gate.
#[message]
struct Stall;

#[derive(Debug, PartialEq)]
enum Ev {
    /// A tick: label, virtual ms since the test start, active timers then.
    Tick(&'static str, u64, usize),
    Stalled,
}

struct Clock {
    t0: Instant,
    events: mpsc::UnboundedSender<Ev>,
    gate: Arc<Semaphore>,
    token: Arc<()>,
}

impl Actor for Clock {}

impl Handler<Tick> for Clock {
    async fn handle(&mut self, tick: Tick, ctx: &mut ActorContext<Self>) -> HandlerResult {
        assert_eq!(ctx.sender(), ctx.addr(), "a timer is sent by its actor");
        let at = (Instant::now() - self.t0).as_millis() as u64;
        let _ = self
            .events
            .send(Ev::Tick(tick.label, at, ctx.active_timer_count()));
        Ok(())
    }
}

impl Handler<Every> for Clock {
    async fn handle(
        &mut self,
        Every(interval, policy): Every,
        ctx: &mut ActorContext<Self>,
    ) -> HandlerResult<Result<TimerId, TimerError>> {
        let tick = Tick {
            label: "every",
            _token: self.token.clone(),
        };
        Ok(ctx.schedule(tick).every(interval).on_miss(policy).await)
    }
}

impl Handler<After> for Clock {
    async fn handle(
        &mut self,
        After(delay): After,
        ctx: &mut ActorContext<Self>,
    ) -> HandlerResult<Result<TimerId, TimerError>> {
        let tick = Tick {
            label: "after",
            _token: self.token.clone(),
        };
        Ok(ctx.schedule(tick).after(delay).await)
    }
}

impl Handler<At> for Clock {
    async fn handle(
        &mut self,
        At(at): At,
        ctx: &mut ActorContext<Self>,
    ) -> HandlerResult<Result<TimerId, TimerError>> {
        // The synchronous form.
        let tick = Tick {
            label: "at",
            _token: self.token.clone(),
        };
        Ok(ctx.schedule(tick).at(at).start())
    }
}

impl Handler<Cancel> for Clock {
    async fn handle(
        &mut self,
        Cancel(id): Cancel,
        ctx: &mut ActorContext<Self>,
    ) -> HandlerResult<bool> {
        Ok(ctx.cancel_timer(id))
    }
}

impl Handler<CancelAll> for Clock {
    async fn handle(&mut self, _: CancelAll, ctx: &mut ActorContext<Self>) -> HandlerResult<usize> {
        Ok(ctx.cancel_all_timers())
    }
}

impl Handler<Counts> for Clock {
    async fn handle(
        &mut self,
        _: Counts,
        ctx: &mut ActorContext<Self>,
    ) -> HandlerResult<(usize, u64)> {
        Ok((ctx.active_timer_count(), ctx.dropped_timer_ticks()))
    }
}

impl Handler<Stall> for Clock {
    async fn handle(&mut self, _: Stall, _: &mut ActorContext<Self>) -> HandlerResult {
        let _ = self.events.send(Ev::Stalled);
        self.gate.acquire().await?.forget();
        Ok(())
    }
}

struct Setup {
    clock: ActorRef<Clock>,
    events: mpsc::UnboundedReceiver<Ev>,
    gate: Arc<Semaphore>,
    token: Arc<()>,
    t0: Instant,
    system: ActorSystem,
}

async fn setup(name: &str, capacity: usize) -> Setup {
    setup_with(name, ActorConfig::default().with_mailbox_capacity(capacity)).await
}

async fn setup_with(name: &str, config: ActorConfig) -> Setup {
    let system = ActorSystem::create(name).unwrap();
    let (tx, events) = mpsc::unbounded_channel();
    let gate = Arc::new(Semaphore::new(0));
    let token = Arc::new(());
    let t0 = Instant::now();
    let clock = Clock {
        t0,
        events: tx,
        gate: gate.clone(),
        token: token.clone(),
    }
    .spawn()
    .on_system(&system)
    .with_config(config)
    .await
    .unwrap();
    Setup {
        clock,
        events,
        gate,
        token,
        t0,
        system,
    }
}

/// Every event received so far (the runtime is quiescent when called).
fn drain(events: &mut mpsc::UnboundedReceiver<Ev>) -> Vec<Ev> {
    let mut out = Vec::new();
    while let Ok(ev) = events.try_recv() {
        out.push(ev);
    }
    out
}

fn ticks(at: &[u64]) -> Vec<Ev> {
    at.iter().map(|&t| Ev::Tick("every", t, 1)).collect()
}

/// A recurring timer every 10 ms with `policy`, on an actor with a mailbox of
/// 2 that stalls from 0 to 55 ms. Returns the ticks handled up to 77 ms.
async fn stalled(name: &str, policy: MissPolicy) -> (Setup, Vec<Ev>) {
    let mut s = setup(name, 2).await;
    s.clock.send(Every(10 * MS, policy)).await.unwrap().unwrap();
    s.clock.notify(Stall).await.unwrap();
    assert_eq!(s.events.recv().await, Some(Ev::Stalled));
    sleep_until(s.t0 + 55 * MS).await;
    assert_eq!(drain(&mut s.events), [], "nothing handled while stalled");
    assert_eq!(s.clock.mailbox_len(), 2, "ticks at 10 and 20 ms are queued");
    s.gate.add_permits(1);
    sleep_until(s.t0 + 77 * MS).await;
    let got = drain(&mut s.events);
    (s, got)
}

#[tokio::test(start_paused = true)]
async fn skip_delivers_the_waiting_tick_then_keeps_the_grid() {
    // 10, 20 queued; 30 waits for space and is delivered at 55 when the
    // actor resumes; 40 and 50 are skipped; then 60 and 70 on the grid.
    let (_, got) = stalled("timers-skip", MissPolicy::Skip).await;
    assert_eq!(got, ticks(&[55, 55, 55, 60, 70]));
}

#[tokio::test(start_paused = true)]
async fn delay_restarts_the_interval_from_the_late_delivery() {
    // As Skip up to 55, then 65 and 75: the grid moved by the delay.
    let (_, got) = stalled("timers-delay", MissPolicy::Delay).await;
    assert_eq!(got, ticks(&[55, 55, 55, 65, 75]));
}

#[tokio::test(start_paused = true)]
async fn catch_up_never_waits_and_reports_the_ticks_that_do_not_fit() {
    let system_name = "timers-catchup";
    // Subscribe before anything is dropped: build the system first.
    let mut s = setup(system_name, 2).await;
    let mut dead = s.system.dead_letters();
    s.clock
        .send(Every(10 * MS, MissPolicy::CatchUp))
        .await
        .unwrap()
        .unwrap();
    s.clock.notify(Stall).await.unwrap();
    assert_eq!(s.events.recv().await, Some(Ev::Stalled));
    sleep_until(s.t0 + 55 * MS).await;
    // 10 and 20 fit; 30, 40 and 50 found the mailbox full and were dropped.
    for _ in 0..3 {
        let d = dead.try_recv().unwrap();
        assert_eq!(d.message, "troupe::Tick");
        assert_eq!(d.reason, DeadLetterReason::Overflow);
        assert_eq!(d.recipient, s.clock.addr());
    }
    assert!(dead.try_recv().is_err());
    s.gate.add_permits(1);
    sleep_until(s.t0 + 77 * MS).await;
    assert_eq!(drain(&mut s.events), ticks(&[55, 55, 60, 70]));
    assert_eq!(s.clock.send(Counts).await.unwrap(), (1, 3));
    assert_eq!(s.system.dead_letter_count(), 3);
}

#[tokio::test(start_paused = true)]
async fn under_a_fail_fast_mailbox_a_tick_that_finds_it_full_is_dropped() {
    let config = ActorConfig::default()
        .with_mailbox_capacity(1)
        .with_overflow(OverflowPolicy::FailFast);
    let mut s = setup_with("timers-fail-fast", config).await;
    let mut dead = s.system.dead_letters();
    s.clock
        .send(Every(10 * MS, MissPolicy::Skip))
        .await
        .unwrap()
        .unwrap();
    s.clock.notify(Stall).await.unwrap();
    assert_eq!(s.events.recv().await, Some(Ev::Stalled));
    sleep_until(s.t0 + 55 * MS).await;
    // 10 is queued; 20, 30, 40 and 50 could not wait.
    for _ in 0..4 {
        assert_eq!(dead.try_recv().unwrap().reason, DeadLetterReason::Overflow);
    }
    s.gate.add_permits(1);
    sleep_until(s.t0 + 77 * MS).await;
    assert_eq!(drain(&mut s.events), ticks(&[55, 60, 70]));
    assert_eq!(s.clock.send(Counts).await.unwrap(), (1, 4));
}

#[tokio::test(start_paused = true)]
async fn a_late_timer_task_catches_up_skips_or_delays() {
    // The runtime "stalls" from 0 to 35 ms: every timer task wakes late
    // once, with the ticks at 10, 20 and 30 due.
    for (policy, expected) in [
        (MissPolicy::Skip, vec![35, 40, 50, 60]),
        (MissPolicy::CatchUp, vec![35, 35, 35, 40, 50, 60]),
        (MissPolicy::Delay, vec![35, 45, 55]),
    ] {
        let name = format!("timers-late-{policy:?}");
        let mut s = setup(&name, 16).await;
        s.clock.send(Every(10 * MS, policy)).await.unwrap().unwrap();
        advance(35 * MS).await;
        sleep_until(s.t0 + 62 * MS).await;
        assert_eq!(drain(&mut s.events), ticks(&expected), "{policy:?}");
        assert_eq!(s.clock.send(Counts).await.unwrap(), (1, 0));
    }
}

#[tokio::test(start_paused = true)]
async fn one_shot_timers_and_instants_in_the_past() {
    let mut s = setup("timers-once", 8).await;
    let past = s.t0.checked_sub(Duration::from_secs(3600)).unwrap_or(s.t0);
    s.clock.send(At(past)).await.unwrap().unwrap();
    // A past instant fires at once; the fired timer is no longer active
    // when its message is handled.
    assert_eq!(s.events.recv().await, Some(Ev::Tick("at", 0, 0)));

    let id = s.clock.send(After(25 * MS)).await.unwrap().unwrap();
    s.clock.send(After(Duration::ZERO)).await.unwrap().unwrap();
    assert_eq!(s.events.recv().await, Some(Ev::Tick("after", 0, 1)));
    assert_eq!(s.events.recv().await, Some(Ev::Tick("after", 25, 0)));
    assert_eq!(Instant::now() - s.t0, 25 * MS);
    // Cancelling a fired timer does nothing.
    assert!(!s.clock.send(Cancel(id)).await.unwrap());

    // A delay too large to represent never fires and does not panic.
    s.clock.send(After(Duration::MAX)).await.unwrap().unwrap();
    assert_eq!(s.clock.send(Counts).await.unwrap(), (1, 0));
    sleep(Duration::from_secs(3600)).await;
    assert_eq!(drain(&mut s.events), []);
}

#[tokio::test(start_paused = true)]
async fn cancel_one_cancel_all_and_counts() {
    let mut s = setup("timers-cancel", 8).await;
    let a = s
        .clock
        .send(Every(10 * MS, MissPolicy::Skip))
        .await
        .unwrap()
        .unwrap();
    let b = s
        .clock
        .send(Every(10 * MS, MissPolicy::Delay))
        .await
        .unwrap()
        .unwrap();
    let c = s.clock.send(After(100 * MS)).await.unwrap().unwrap();
    let _d = s
        .clock
        .send(Every(7 * MS, MissPolicy::CatchUp))
        .await
        .unwrap()
        .unwrap();
    assert_ne!(a, b);
    assert_eq!(s.clock.send(Counts).await.unwrap(), (4, 0));

    assert!(s.clock.send(Cancel(a)).await.unwrap());
    assert!(!s.clock.send(Cancel(a)).await.unwrap(), "already cancelled");
    assert!(s.clock.send(Cancel(c)).await.unwrap());
    assert_eq!(s.clock.send(Counts).await.unwrap(), (2, 0));

    // b ticks at 10 ms with 2 timers active.
    assert_eq!(s.events.recv().await, Some(Ev::Tick("every", 7, 2)));
    assert_eq!(s.events.recv().await, Some(Ev::Tick("every", 10, 2)));
    assert_eq!(s.clock.send(CancelAll).await.unwrap(), 2);
    assert_eq!(s.clock.send(Counts).await.unwrap(), (0, 0));
    assert_eq!(s.clock.send(CancelAll).await.unwrap(), 0);
    sleep(Duration::from_secs(1)).await;
    assert_eq!(drain(&mut s.events), [], "no tick after cancel_all");
    // Every timer task is gone, with its copy of the message.
    assert_eq!(Arc::strong_count(&s.token), 2, "the test's and the actor's");
}

#[tokio::test(start_paused = true)]
async fn a_zero_interval_is_refused() {
    let s = setup("timers-zero", 8).await;
    let res = s.clock.send(Every(Duration::ZERO, MissPolicy::Skip)).await;
    assert_eq!(res, Ok(Err(TimerError::ZeroInterval)));
    assert_eq!(s.clock.send(Counts).await.unwrap(), (0, 0));
}

#[tokio::test(start_paused = true)]
async fn timers_die_with_their_actor() {
    for stop in [StopReason::Graceful, StopReason::Shutdown, StopReason::Kill] {
        let name = format!("timers-die-{stop:?}");
        let s = setup(&name, 8).await;
        s.clock
            .send(Every(Duration::from_secs(3600), MissPolicy::Skip))
            .await
            .unwrap()
            .unwrap();
        s.clock
            .send(After(Duration::from_secs(3600)))
            .await
            .unwrap()
            .unwrap();
        // Two timer tasks hold a copy of the tick each.
        assert_eq!(Arc::strong_count(&s.token), 4, "{stop:?}");
        s.clock.stop(stop).await.unwrap();
        // Aborted tasks are dropped when the runtime next runs them.
        tokio::task::yield_now().await;
        assert_eq!(
            Arc::strong_count(&s.token),
            1,
            "{stop:?}: timers outlived the actor"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn a_timer_waiting_for_space_dies_with_its_actor() {
    let mut s = setup("timers-die-waiting", 1).await;
    s.clock
        .send(Every(10 * MS, MissPolicy::Skip))
        .await
        .unwrap()
        .unwrap();
    s.clock.notify(Stall).await.unwrap();
    assert_eq!(s.events.recv().await, Some(Ev::Stalled));
    // 10 is queued, 20 waits for space.
    sleep_until(s.t0 + 25 * MS).await;
    assert_eq!(s.clock.mailbox_len(), 1);
    s.clock.kill().await.unwrap();
    tokio::task::yield_now().await;
    assert_eq!(Arc::strong_count(&s.token), 1);
}

/// Issue item 5: a 1 ns `CatchUp` timer has about a million ticks due at
/// every wake (the timer wheel wakes it every 1 ms). Each wake tries at
/// most `CATCH_UP_MAX_TICKS` of them, drops the rest in one report and
/// yields: the actor still answers requests and stops at once.
#[tokio::test(start_paused = true)]
async fn a_nanosecond_catch_up_timer_does_not_stall_its_actor() {
    use troupe::defaults::CATCH_UP_MAX_TICKS;
    let s = setup("timers-catchup-1ns", 64).await;
    let bound = Duration::from_secs(1);
    s.clock
        .send(Every(Duration::from_nanos(1), MissPolicy::CatchUp))
        .await
        .unwrap()
        .unwrap();
    sleep(10 * MS).await;
    let (active, dropped) = tokio::time::timeout(bound, s.clock.send(Counts))
        .await
        .expect("the actor answers within a bounded (virtual) time")
        .unwrap();
    assert_eq!(active, 1);
    // At least one wake with ~10^6 ticks due, of which at most the bound
    // (in fact at most the mailbox's 64) were sent.
    assert!(
        dropped >= 1_000_000 - CATCH_UP_MAX_TICKS,
        "dropped {dropped}"
    );
    let dead = s.system.dead_letter_count();
    assert!(dead >= 1, "the drops are reported");
    // One report per wake, not per tick: at most one wake per virtual ms.
    let wakes = (Instant::now() - s.t0).as_millis() as u64 + 1;
    assert!(dead <= wakes, "{dead} dead letters for {wakes} wakes");

    sleep(10 * MS).await;
    let (_, later) = tokio::time::timeout(bound, s.clock.send(Counts))
        .await
        .expect("the actor still answers")
        .unwrap();
    assert!(later >= dropped + 5_000_000, "{dropped} then {later}");
    let wakes = (Instant::now() - s.t0).as_millis() as u64 + 1;
    assert!(s.system.dead_letter_count() <= wakes);

    let t = Instant::now();
    tokio::time::timeout(bound, s.clock.stop(StopReason::Graceful))
        .await
        .expect("the actor stops within a bounded (virtual) time")
        .unwrap();
    assert_eq!(s.clock.wait_for_exit().await, ExitReason::Normal);
    assert!(Instant::now() - t < bound);
}

/// The same on real time, where every wake finds ticks due at once: the
/// timer task must yield between wakes or the actor (on the same thread)
/// never runs. Bounded waits, no sleeps.
#[tokio::test]
async fn a_nanosecond_catch_up_timer_on_real_time_lets_its_actor_run() {
    let s = setup("timers-catchup-1ns-real", 64).await;
    let bound = Duration::from_secs(10);
    s.clock
        .send(Every(Duration::from_nanos(1), MissPolicy::CatchUp))
        .await
        .unwrap()
        .unwrap();
    let mut last = 0;
    for _ in 0..3 {
        let (_, dropped) = tokio::time::timeout(bound, s.clock.send(Counts))
            .await
            .expect("the actor answers")
            .unwrap();
        assert!(dropped >= last);
        last = dropped;
    }
    tokio::time::timeout(bound, s.clock.stop(StopReason::Graceful))
        .await
        .expect("the actor stops")
        .unwrap();
    assert_eq!(s.clock.wait_for_exit().await, ExitReason::Normal);
}
