//! Streams attached to an actor: items arrive as messages, the end and
//! errors as `StreamEvent`s, and a fast stream is held back by the mailbox.
//!
//! The counter attaches three streams: 1..=1000 as fast as it can go (into
//! a mailbox of 4: the stream waits for space, nothing is dropped), a
//! fallible stream with an error in the middle, and an endless ticking
//! stream that it cancels after three items. It stops once the two finite
//! streams have finished. Run with
//! `cargo run -p troupe-examples --example stream_counter`.

use std::time::Duration;

use tokio_stream::wrappers::IntervalStream;
use tokio_stream::StreamExt;
use troupe::prelude::*;
use troupe::{StreamEvent, StreamId};

#[message]
struct Number(u64);

#[message]
struct Ping;

#[derive(Default)]
struct Counter {
    sum: u64,
    count: u64,
    max_queued: usize,
    pings: u32,
    ticking: Option<StreamId>,
    finished: u32,
}

impl Actor for Counter {
    async fn pre_start(&mut self, ctx: &mut ActorContext<Self>) -> HandlerResult {
        ctx.add_stream(tokio_stream::iter(1..=1000).map(Number));
        let results = [Ok(Number(5000)), Err("sensor offline"), Ok(Number(6000))];
        ctx.add_try_stream(tokio_stream::iter(results));
        let interval = tokio::time::interval(Duration::from_millis(10));
        self.ticking = Some(ctx.add_stream(IntervalStream::new(interval).map(|_| Ping)));
        println!("attached {} streams", ctx.active_stream_count());
        Ok(())
    }
}

impl Handler<Number> for Counter {
    async fn handle(&mut self, n: Number, ctx: &mut ActorContext<Self>) -> HandlerResult {
        self.sum += n.0;
        self.count += 1;
        let queued = ctx.self_handle().mailbox_len();
        self.max_queued = self.max_queued.max(queued);
        Ok(())
    }
}

impl Handler<Ping> for Counter {
    async fn handle(&mut self, _: Ping, ctx: &mut ActorContext<Self>) -> HandlerResult {
        self.pings += 1;
        if self.pings == 3 {
            if let Some(id) = self.ticking.take() {
                println!(
                    "cancelling the ticking stream after 3 pings: {}",
                    ctx.cancel_stream(id)
                );
            }
        }
        self.stop_when_done(ctx);
        Ok(())
    }
}

impl Handler<StreamEvent> for Counter {
    async fn handle(&mut self, event: StreamEvent, ctx: &mut ActorContext<Self>) -> HandlerResult {
        match event {
            StreamEvent::Finished(id) => {
                self.finished += 1;
                println!(
                    "{id} finished; {} streams still active",
                    ctx.active_stream_count()
                );
            }
            StreamEvent::Error(id, e) => println!("{id} reported an error: {e}"),
            other => println!("{other:?}"),
        }
        self.stop_when_done(ctx);
        Ok(())
    }
}

impl Counter {
    /// Stops once both finite streams finished and the ticking one is cancelled.
    fn stop_when_done(&mut self, ctx: &mut ActorContext<Self>) {
        if self.finished == 2 && self.ticking.is_none() {
            println!(
                "{} numbers, sum {}, at most {} messages queued (mailbox of 4), {} pings",
                self.count, self.sum, self.max_queued, self.pings
            );
            ctx.stop();
        }
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = ActorConfig::default().with_mailbox_capacity(4);
    let counter = Counter::default().spawn().with_config(config).await?;
    let exit = tokio::time::timeout(Duration::from_secs(10), counter.wait_for_exit()).await?;
    println!("counter exited: {exit}");
    Ok(())
}
