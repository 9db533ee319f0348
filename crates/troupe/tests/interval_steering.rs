//! Intervals steered from inside their actor: a first tick apart from the
//! period (`starting_after`), a new period (`set_timer_period`), a new
//! message (`set_timer_message`), typed errors, the miss policy kept, and
//! ticks in the trace of the scope that scheduled them.
//!
//! Written as elfo's own interval tests are: a group under the test kit's
//! proxy, on paused Tokio time, so every tick comes at an exact instant.

use std::time::Duration;

use tokio::time::{advance, sleep, Instant};
use troupe::prelude::*;
use troupe::testkit::Proxy;
use troupe::{MissPolicy, TimerError, TimerId, TraceId};

fn ms(millis: u64) -> Duration {
    Duration::from_millis(millis)
}

#[derive(Clone)]
#[message]
struct Tick(u32);

/// Another message type, for a timer that must refuse it.
#[derive(Clone)]
#[message]
struct Other;

/// Starts the interval: every period, from now (or from the delay).
#[message]
struct Start {
    period: Duration,
    after: Option<Duration>,
    policy: MissPolicy,
}

/// Starts the interval with its first tick at an instant.
#[message]
struct StartAt(Instant, Duration);

#[message(ret = Result<(), TimerError>)]
struct SetPeriod(Duration);

#[message(ret = Result<(), TimerError>)]
struct SetMessage(u32);

#[message(ret = Result<(), TimerError>)]
struct SetOther;

#[message(ret = bool)]
struct Cancel;

/// Schedules a one-shot timer and answers the result of steering it.
#[message(ret = (Result<(), TimerError>, Result<(), TimerError>))]
struct SteerOneShot;

/// A tick the group handled: its number, when (virtual ms since the test
/// began) and its trace.
#[message]
#[derive(Debug, PartialEq)]
struct Ticked {
    no: u32,
    at: u64,
    trace: TraceId,
}

/// The trace of the envelope that started the interval.
#[message]
#[derive(Debug, PartialEq)]
struct Started(TraceId);

/// elfo's `sample()`: one interval, steered by what the proxy sends.
fn sample(t0: Instant) -> Schema {
    ActorGroup::new().exec(move |mut ctx| async move {
        // Steering requests come after `Start`; before it, their tokens
        // are dropped (the proxy would see `RequestError::Dropped`).
        let mut timer: Option<TimerId> = None;
        while let Some(envelope) = ctx.recv().await {
            let trace = envelope.trace_id();
            msg!(match envelope {
                Start {
                    period,
                    after,
                    policy,
                } => {
                    let builder = ctx.schedule(Tick(0)).every(period).on_miss(policy);
                    let builder = match after {
                        Some(delay) => builder.starting_after(delay),
                        None => builder,
                    };
                    timer = Some(builder.start().expect("a valid interval"));
                    let _ = ctx.send(Started(trace)).await;
                }
                StartAt(first, period) => {
                    let builder = ctx.schedule(Tick(0)).every(period).starting_at(first);
                    timer = Some(builder.start().expect("a valid interval"));
                    let _ = ctx.send(Started(trace)).await;
                }
                (SetPeriod(period), token) => {
                    if let Some(id) = timer {
                        ctx.respond(token, ctx.set_timer_period(id, period));
                    }
                }
                (SetMessage(no), token) => {
                    if let Some(id) = timer {
                        ctx.respond(token, ctx.set_timer_message(id, Tick(no)));
                    }
                }
                (SetOther, token) => {
                    if let Some(id) = timer {
                        ctx.respond(token, ctx.set_timer_message(id, Other));
                    }
                }
                (Cancel, token) => {
                    let cancelled = timer.is_some_and(|id| ctx.cancel_timer(id));
                    ctx.respond(token, cancelled);
                }
                (SteerOneShot, token) => {
                    let once = ctx.schedule(Tick(99)).after(Duration::from_secs(3600));
                    let id = once.start().expect("a one-shot timer");
                    let period = ctx.set_timer_period(id, ms(5));
                    let message = ctx.set_timer_message(id, Tick(98));
                    ctx.respond(token, (period, message));
                }
                Tick(no) => {
                    let at = t0.elapsed().as_millis() as u64;
                    let _ = ctx.send(Ticked { no, at, trace }).await;
                }
            })
        }
    })
}

/// elfo's `Checker`: the proxy, and the instant of the last tick.
struct Checker {
    proxy: Proxy,
    prev: u64,
}

impl Checker {
    async fn start(t0: Instant) -> Self {
        let proxy = Proxy::start(sample(t0)).await.unwrap();
        Self { proxy, prev: 0 }
    }

    /// Starts the interval; returns the trace of the envelope that did.
    async fn begin(
        &mut self,
        period: Duration,
        after: Option<Duration>,
        policy: MissPolicy,
    ) -> TraceId {
        let start = Start {
            period,
            after,
            policy,
        };
        self.proxy.send(start).await.unwrap();
        let started = self.proxy.recv().await;
        started.message::<Started>().expect("`Started` first").0
    }

    /// Starts the interval with its first tick at `first`.
    async fn begin_at(&mut self, first: Instant, period: Duration) {
        self.proxy.send(StartAt(first, period)).await.unwrap();
        troupe::assert_msg!(self.proxy.recv().await, Started(_));
    }

    /// The next tick comes `elapsed` after the previous one (or the test's
    /// start), and carries `no`; returns its trace.
    async fn tick(&mut self, elapsed: Duration, no: u32) -> TraceId {
        let envelope = self.proxy.recv().await;
        let ticked = envelope.message::<Ticked>().expect("a tick");
        assert_eq!(ticked.no, no, "the tick's message");
        let elapsed = elapsed.as_millis() as u64;
        assert_eq!(ticked.at - self.prev, elapsed, "ms since the last tick");
        self.prev = ticked.at;
        ticked.trace
    }
}

#[tokio::test(start_paused = true)]
async fn starting_after_ticks_first_after_the_delay_then_every_period() {
    let mut c = Checker::start(Instant::now()).await;
    c.begin(ms(10), Some(ms(15)), MissPolicy::Skip).await;
    c.tick(ms(15), 0).await;
    c.tick(ms(10), 0).await;
    c.tick(ms(10), 0).await;
}

#[tokio::test(start_paused = true)]
async fn starting_after_zero_ticks_at_once() {
    let mut c = Checker::start(Instant::now()).await;
    c.begin(ms(10), Some(Duration::ZERO), MissPolicy::Skip)
        .await;
    c.tick(ms(0), 0).await;
    c.tick(ms(10), 0).await;
}

#[tokio::test(start_paused = true)]
async fn starting_at_ticks_first_at_the_instant_then_on_its_grid() {
    let t0 = Instant::now();
    let mut c = Checker::start(t0).await;
    c.begin_at(t0 + ms(25), ms(10)).await;
    c.tick(ms(25), 0).await;
    c.tick(ms(10), 0).await;
    c.proxy.finish().await;

    // An instant in the past ticks at once; the grid stays anchored on it.
    let t1 = Instant::now();
    let mut c = Checker::start(t1).await;
    let past = t1.checked_sub(ms(5)).expect("an instant 5 ms ago");
    c.begin_at(past, ms(10)).await;
    c.tick(ms(0), 0).await; // at 0
    c.tick(ms(5), 0).await; // at 5: -5 + 10
    c.tick(ms(10), 0).await; // at 15
}

#[tokio::test(start_paused = true)]
async fn set_period_counts_from_the_last_tick_or_ticks_at_once_if_late() {
    // No tick is late here: every policy ticks at the same instants.
    for policy in [MissPolicy::Skip, MissPolicy::CatchUp, MissPolicy::Delay] {
        let mut c = Checker::start(Instant::now()).await;
        c.begin(ms(10), None, policy).await;
        c.tick(ms(10), 0).await;

        // At 17 the period becomes 15: the next tick is 15 after the last
        // (10).
        sleep(ms(7)).await;
        assert_eq!(c.proxy.request(SetPeriod(ms(15))).await, Ok(Ok(())));
        c.tick(ms(15), 0).await;

        // At 35 it becomes 5: 25 + 5 has passed, so one tick at once (35)...
        sleep(ms(10)).await;
        assert_eq!(c.proxy.request(SetPeriod(ms(5))).await, Ok(Ok(())));
        c.tick(ms(10), 0).await;
        // ...not a burst for the instants of the new grid that passed: the
        // next one is a period later.
        c.tick(ms(5), 0).await;
        c.tick(ms(5), 0).await;
        c.proxy.finish().await;
    }
}

#[tokio::test(start_paused = true)]
async fn set_period_before_the_first_tick_counts_from_the_start() {
    let mut c = Checker::start(Instant::now()).await;
    c.begin(ms(10), None, MissPolicy::Skip).await;
    sleep(ms(4)).await;
    assert_eq!(c.proxy.request(SetPeriod(ms(6))).await, Ok(Ok(())));
    c.tick(ms(6), 0).await;
    c.tick(ms(6), 0).await;
}

#[tokio::test(start_paused = true)]
async fn set_period_before_a_delayed_first_tick_keeps_that_tick() {
    let mut c = Checker::start(Instant::now()).await;
    c.begin(ms(10), Some(ms(15)), MissPolicy::Skip).await;
    sleep(ms(5)).await;
    assert_eq!(c.proxy.request(SetPeriod(ms(20))).await, Ok(Ok(())));
    c.tick(ms(15), 0).await;
    c.tick(ms(20), 0).await;
    c.tick(ms(20), 0).await;
}

#[tokio::test(start_paused = true)]
async fn set_message_changes_what_the_next_ticks_send() {
    let mut c = Checker::start(Instant::now()).await;
    c.begin(ms(10), None, MissPolicy::Skip).await;
    c.tick(ms(10), 0).await;
    assert_eq!(c.proxy.request(SetMessage(1)).await, Ok(Ok(())));
    c.tick(ms(10), 1).await;
    assert_eq!(c.proxy.request(SetMessage(2)).await, Ok(Ok(())));
    c.tick(ms(10), 2).await;
    c.tick(ms(10), 2).await;
}

#[tokio::test(start_paused = true)]
async fn a_message_of_another_type_is_refused_and_the_timer_goes_on() {
    let mut c = Checker::start(Instant::now()).await;
    c.begin(ms(10), None, MissPolicy::Skip).await;
    let refused = c.proxy.request(SetOther).await.unwrap();
    let Err(TimerError::WrongMessage {
        expected, found, ..
    }) = refused
    else {
        panic!("expected a WrongMessage error, got {refused:?}");
    };
    assert!(expected.ends_with("Tick"), "{expected}");
    assert!(found.ends_with("Other"), "{found}");
    c.tick(ms(10), 0).await;
    c.tick(ms(10), 0).await;
}

#[tokio::test(start_paused = true)]
async fn steering_a_cancelled_unknown_or_one_shot_timer_is_a_typed_error() {
    let mut c = Checker::start(Instant::now()).await;
    c.begin(ms(10), None, MissPolicy::Skip).await;
    assert_eq!(
        c.proxy.request(SetPeriod(Duration::ZERO)).await,
        Ok(Err(TimerError::ZeroInterval))
    );
    assert!(c.proxy.request(Cancel).await.unwrap());
    let after_cancel = c.proxy.request(SetPeriod(ms(5))).await.unwrap();
    assert!(
        matches!(after_cancel, Err(TimerError::NotActive(_))),
        "{after_cancel:?}"
    );
    let after_cancel = c.proxy.request(SetMessage(7)).await.unwrap();
    assert!(
        matches!(after_cancel, Err(TimerError::NotActive(_))),
        "{after_cancel:?}"
    );
    let (period, message) = c.proxy.request(SteerOneShot).await.unwrap();
    assert!(matches!(period, Err(TimerError::OneShot(_))), "{period:?}");
    assert!(
        matches!(message, Err(TimerError::OneShot(_))),
        "{message:?}"
    );
    // The cancelled timer sends nothing more.
    c.proxy.sync().await.unwrap();
    assert!(c.proxy.try_recv().is_none());
}

/// The timer task wakes late once (the runtime "stalls" from 0 to 65 ms,
/// which `advance` plays) after its period became 20 ms: each policy
/// treats the ticks due then as it did before the change.
#[tokio::test(start_paused = true)]
async fn a_new_period_keeps_the_miss_policy() {
    for (policy, expected) in [
        // 20, 40 and 60 are due at 65.
        (MissPolicy::Skip, [65, 80, 100]),
        (MissPolicy::CatchUp, [65, 65, 65]),
        (MissPolicy::Delay, [65, 85, 105]),
    ] {
        let mut c = Checker::start(Instant::now()).await;
        c.begin(ms(10), None, policy).await;
        assert_eq!(c.proxy.request(SetPeriod(ms(20))).await, Ok(Ok(())));
        advance(ms(65)).await;
        let mut got = Vec::new();
        for _ in 0..expected.len() {
            let envelope = c.proxy.recv().await;
            got.push(envelope.message::<Ticked>().expect("a tick").at);
        }
        assert_eq!(got, expected, "{policy:?}");
        c.proxy.finish().await;
    }
}

#[tokio::test(start_paused = true)]
async fn ticks_carry_the_trace_of_the_scope_that_scheduled_the_timer() {
    let mut c = Checker::start(Instant::now()).await;
    let started = c.begin(ms(10), None, MissPolicy::Skip).await;
    assert_eq!(c.tick(ms(10), 0).await, started);
    // A new message keeps the timer's trace, not the steering scope's.
    assert_eq!(c.proxy.request(SetMessage(1)).await, Ok(Ok(())));
    assert_eq!(c.tick(ms(10), 1).await, started);
}
