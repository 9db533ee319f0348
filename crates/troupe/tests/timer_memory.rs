//! Memory of one recurring timer and one attached stream, measured with a
//! counting global allocator: the live heap bytes that scheduling one more
//! timer (attaching one more stream) adds, task included.

mod counting_alloc;

use counting_alloc::{live, Counting};
use std::time::Duration;

use troupe::prelude::*;
use troupe::{MissPolicy, StreamEvent};

#[global_allocator]
static GLOBAL: Counting = Counting;

#[derive(Clone)]
#[message]
struct Tick;

#[message]
struct Item;

/// Schedules `n` hourly timers and attaches `n` pending streams, returning
/// the live heap bytes each added.
#[message(ret = (f64, f64))]
struct Measure(usize);

struct Host;
impl Actor for Host {}

impl Handler<Tick> for Host {
    async fn handle(&mut self, _: Tick, _: &mut ActorContext<Self>) -> HandlerResult {
        Ok(())
    }
}

impl Handler<Item> for Host {
    async fn handle(&mut self, _: Item, _: &mut ActorContext<Self>) -> HandlerResult {
        Ok(())
    }
}

impl Handler<StreamEvent> for Host {
    async fn handle(&mut self, _: StreamEvent, _: &mut ActorContext<Self>) -> HandlerResult {
        Ok(())
    }
}

impl Handler<Measure> for Host {
    async fn handle(
        &mut self,
        Measure(n): Measure,
        ctx: &mut ActorContext<Self>,
    ) -> HandlerResult<(f64, f64)> {
        // Warm up: the registries and their first entries.
        for _ in 0..64 {
            ctx.schedule(Tick).every(Duration::from_secs(3600)).await?;
            ctx.add_stream(tokio_stream::pending::<Item>());
        }
        let before = live();
        for _ in 0..n {
            ctx.schedule(Tick)
                .every(Duration::from_secs(3600))
                .on_miss(MissPolicy::Skip)
                .await?;
        }
        tokio::task::yield_now().await; // let the tasks reach their first sleep
        let mid = live();
        for _ in 0..n {
            ctx.add_stream(tokio_stream::pending::<Item>());
        }
        tokio::task::yield_now().await;
        let after = live();
        assert_eq!(ctx.active_timer_count(), n + 64);
        assert_eq!(ctx.active_stream_count(), n + 64);
        Ok((
            (mid - before) as f64 / n as f64,
            (after - mid) as f64 / n as f64,
        ))
    }
}

#[test]
fn one_timer_or_stream_costs_at_most_1_5_kib() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let host = Host.spawn().await.unwrap();
        let (timer, stream) = host.send(Measure(2_000)).await.unwrap();
        println!("one recurring timer: {timer:.0} B live heap; one stream: {stream:.0} B");
        assert!(timer <= 1536.0, "a timer costs {timer:.0} B");
        assert!(stream <= 1536.0, "a stream costs {stream:.0} B");
        host.kill().await.unwrap();
    });
}
