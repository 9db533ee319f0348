//! Factory timers: a new message built for every tick (so the message need
//! not be `Clone`), and a factory that panics ends its timer, not its actor.
//!
//! On paused Tokio time: ticks come at exact virtual instants.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::{timeout, Instant};
use troupe::prelude::*;

const MS: Duration = Duration::from_millis(1);

/// Not `Clone`: owns a buffer, and its number says which call built it.
#[message]
struct Reading {
    n: u32,
    _buffer: Vec<u8>,
}

/// How many timers the actor has running.
#[message(ret = usize)]
struct ActiveTimers;

struct Meter {
    t0: Instant,
    /// From which call on the factory panics (`u32::MAX`: never).
    panics_from: u32,
    made: Arc<AtomicU32>,
    readings: mpsc::UnboundedSender<(u32, u64)>,
}

impl Actor for Meter {
    async fn pre_start(&mut self, ctx: &mut ActorContext<Self>) -> HandlerResult {
        let (made, panics_from) = (self.made.clone(), self.panics_from);
        ctx.every_with(10 * MS, move || {
            let n = made.fetch_add(1, Ordering::SeqCst) + 1;
            assert!(n < panics_from, "the factory fails at call {n}");
            Reading {
                n,
                _buffer: vec![0; 16],
            }
        })
        .await?;
        Ok(())
    }
}

impl Handler<Reading> for Meter {
    async fn handle(&mut self, msg: Reading, _: &mut ActorContext<Self>) -> HandlerResult {
        let at = u64::try_from((Instant::now() - self.t0).as_millis()).unwrap_or(u64::MAX);
        let _ = self.readings.send((msg.n, at));
        Ok(())
    }
}

impl Handler<ActiveTimers> for Meter {
    async fn handle(
        &mut self,
        _: ActiveTimers,
        ctx: &mut ActorContext<Self>,
    ) -> HandlerResult<usize> {
        Ok(ctx.active_timer_count())
    }
}

fn meter(panics_from: u32) -> (Meter, mpsc::UnboundedReceiver<(u32, u64)>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let meter = Meter {
        t0: Instant::now(),
        panics_from,
        made: Arc::default(),
        readings: tx,
    };
    (meter, rx)
}

#[tokio::test(start_paused = true)]
async fn a_factory_timer_delivers_a_new_message_on_every_tick() {
    let system = ActorSystem::create("factory-ticks").unwrap();
    let (meter, mut readings) = meter(u32::MAX);
    let actor = meter.spawn().on_system(&system).await.unwrap();
    for expected in 1..=5u32 {
        let (n, at) = timeout(Duration::from_secs(1), readings.recv())
            .await
            .expect("a tick in time")
            .expect("open");
        assert_eq!((n, at), (expected, u64::from(expected) * 10));
    }
    assert_eq!(actor.send(ActiveTimers).await, Ok(1));
    system.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_panicking_factory_ends_its_timer_and_the_actor_goes_on() {
    let system = ActorSystem::create("factory-panics").unwrap();
    let (meter, mut readings) = meter(3);
    let made = meter.made.clone();
    let actor = meter.spawn().on_system(&system).await.unwrap();
    for expected in 1..=2u32 {
        let (n, _) = timeout(Duration::from_secs(1), readings.recv())
            .await
            .expect("a tick in time")
            .expect("open");
        assert_eq!(n, expected);
    }
    // The third call panics: the timer ends there, and no later tick comes.
    tokio::time::sleep(100 * MS).await;
    assert_eq!(made.load(Ordering::SeqCst), 3, "no call after the panic");
    assert!(readings.try_recv().is_err(), "no tick after the panic");
    // The actor is not the one that failed: alive, same incarnation, no
    // timer left.
    assert_eq!(actor.send(ActiveTimers).await, Ok(0));
    assert!(actor.is_alive());
    system.shutdown().await;
}
