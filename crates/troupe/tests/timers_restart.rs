//! Timers die with their incarnation: after a supervisor restarts an actor,
//! only the timers its new incarnation schedules run.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use troupe::prelude::*;
use troupe::supervision::{SupervisionEvent, SupervisorConfig};

#[derive(Clone)]
#[message]
struct Tick(u32);

#[message(ret = ())]
struct Crash;

#[message(ret = usize)]
struct ActiveTimers;

struct Ticker {
    incarnation: u32,
    ticks: mpsc::UnboundedSender<u32>,
}

impl Actor for Ticker {
    async fn pre_start(&mut self, ctx: &mut ActorContext<Self>) -> HandlerResult {
        ctx.schedule(Tick(self.incarnation))
            .every(Duration::from_millis(10))
            .await?;
        Ok(())
    }
}

impl Handler<Tick> for Ticker {
    async fn handle(&mut self, tick: Tick, _: &mut ActorContext<Self>) -> HandlerResult {
        let _ = self.ticks.send(tick.0);
        Ok(())
    }
}

impl Handler<Crash> for Ticker {
    async fn handle(&mut self, _: Crash, _: &mut ActorContext<Self>) -> HandlerResult<()> {
        Err("crash".into())
    }
}

impl Handler<ActiveTimers> for Ticker {
    async fn handle(
        &mut self,
        _: ActiveTimers,
        ctx: &mut ActorContext<Self>,
    ) -> HandlerResult<usize> {
        Ok(ctx.active_timer_count())
    }
}

struct Parent {
    ticks: mpsc::UnboundedSender<u32>,
    incarnations: Arc<AtomicU32>,
}

impl Actor for Parent {
    async fn pre_start(&mut self, ctx: &mut ActorContext<Self>) -> HandlerResult {
        let ticks = self.ticks.clone();
        let incarnations = self.incarnations.clone();
        ctx.spawn_child(move || Ticker {
            incarnation: incarnations.fetch_add(1, Ordering::SeqCst) + 1,
            ticks: ticks.clone(),
        })
        .named("ticker")
        .await?;
        Ok(())
    }
}

#[tokio::test(start_paused = true)]
async fn a_restarted_actor_runs_only_the_timers_of_its_new_incarnation() {
    let system = ActorSystem::create("timers-restart").unwrap();
    let (ticks_tx, mut ticks) = mpsc::unbounded_channel();
    let (observer, mut events) = mpsc::unbounded_channel();
    Parent {
        ticks: ticks_tx,
        incarnations: Arc::new(AtomicU32::new(0)),
    }
    .spawn()
    .on_system(&system)
    .with_supervision(SupervisorConfig::one_for_one().observe(observer))
    .await
    .unwrap();
    let ticker = system.get::<Ticker>("ticker").unwrap();
    assert_eq!(ticks.recv().await, Some(1));
    assert_eq!(ticks.recv().await, Some(1));
    assert!(ticker.send(Crash).await.is_err());
    loop {
        match tokio::time::timeout(Duration::from_secs(5), events.recv()).await {
            Ok(Some(SupervisionEvent::Started { restart: true, .. })) => break,
            Ok(Some(_)) => continue,
            other => panic!("no restart: {other:?}"),
        }
    }
    assert_eq!(
        ticker.send(ActiveTimers).await,
        Ok(1),
        "only the new incarnation's timer"
    );
    // From now on every tick comes from incarnation 2: the first
    // incarnation's timer died with it.
    for _ in 0..5 {
        let tick = tokio::time::timeout(Duration::from_secs(1), ticks.recv()).await;
        match tick {
            Ok(Some(2)) => {}
            Ok(Some(1)) => panic!("a tick of the first incarnation after the restart"),
            other => panic!("expected a tick of incarnation 2, got {other:?}"),
        }
    }
    system.shutdown().await;
}
