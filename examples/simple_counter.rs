//! The basics: a counter actor, fire-and-forget `notify` and request `send`.

use troupe::prelude::*;

#[message]
struct Increment(u64);

#[message(ret = u64)]
struct GetCount;

#[derive(Default)]
struct Counter {
    count: u64,
}

impl Actor for Counter {}

impl Handler<Increment> for Counter {
    async fn handle(&mut self, msg: Increment, _ctx: &mut ActorContext<Self>) -> HandlerResult {
        self.count += msg.0;
        Ok(())
    }
}

impl Handler<GetCount> for Counter {
    async fn handle(&mut self, _: GetCount, _ctx: &mut ActorContext<Self>) -> HandlerResult<u64> {
        Ok(self.count)
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let counter = Counter::default().spawn().named("counter").await?;
    for i in 1..=10 {
        counter.notify(Increment(i)).await?;
    }
    let count = counter.send(GetCount).await?;
    println!("count after 10 increments: {count}");
    assert_eq!(count, 55);
    counter.stop(StopReason::Graceful).await?;
    println!("counter stopped: {:?}", counter.exit_reason());
    Ok(())
}
