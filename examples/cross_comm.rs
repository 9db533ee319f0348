//! Several actors coordinating: workers report to an aggregator, found by
//! name in the system registry.

use troupe::prelude::*;

#[message]
struct Work {
    amount: u64,
}

#[message]
struct Report {
    worker: usize,
    amount: u64,
}

#[message(ret = (u64, usize))]
struct Total;

#[derive(Default)]
struct Aggregator {
    total: u64,
    reports: usize,
}

impl Actor for Aggregator {}

impl Handler<Report> for Aggregator {
    async fn handle(&mut self, msg: Report, _ctx: &mut ActorContext<Self>) -> HandlerResult {
        self.total += msg.amount;
        self.reports += 1;
        println!("aggregator: worker {} reported {}", msg.worker, msg.amount);
        Ok(())
    }
}

impl Handler<Total> for Aggregator {
    async fn handle(
        &mut self,
        _: Total,
        _ctx: &mut ActorContext<Self>,
    ) -> HandlerResult<(u64, usize)> {
        Ok((self.total, self.reports))
    }
}

struct Worker {
    id: usize,
}

impl Actor for Worker {}

impl Handler<Work> for Worker {
    async fn handle(&mut self, msg: Work, ctx: &mut ActorContext<Self>) -> HandlerResult {
        let aggregator = ctx
            .system()
            .get::<Aggregator>("aggregator")
            .ok_or("no aggregator registered")?;
        aggregator
            .notify(Report {
                worker: self.id,
                amount: msg.amount * 2,
            })
            .await?;
        Ok(())
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let aggregator = Aggregator::default().spawn().named("aggregator").await?;
    let mut workers = Vec::new();
    for id in 0..4 {
        workers.push(Worker { id }.spawn().named(format!("worker-{id}")).await?);
    }
    // Any message can be sent as a request: `send` returns once the worker
    // has handled it (and so has queued its report to the aggregator).
    for (i, w) in workers.iter().enumerate() {
        w.send(Work {
            amount: i as u64 + 1,
        })
        .await?;
    }
    let (total, reports) = aggregator.send(Total).await?;
    println!(
        "total {total} from {reports} reports; registered: {:?}",
        ActorSystem::default().registered()
    );
    assert_eq!((total, reports), (20, 4));
    ActorSystem::default().shutdown().await;
    Ok(())
}
