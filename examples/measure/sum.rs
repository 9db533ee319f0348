//! The actor the measuring examples (`hotpath`, `lifepath`) run: a sum,
//! told `Add` and asked `Get`.

use troupe::prelude::*;

/// Adds to the sum.
#[message]
pub struct Add(pub u64);

/// Asks for the sum.
#[message(ret = u64)]
pub struct Get;

/// A running total.
#[derive(Default)]
pub struct Sum {
    total: u64,
}

impl Actor for Sum {}

impl Handler<Add> for Sum {
    async fn handle(&mut self, msg: Add, _: &mut ActorContext<Self>) -> HandlerResult {
        self.total += msg.0;
        Ok(())
    }
}

impl Handler<Get> for Sum {
    async fn handle(&mut self, _: Get, _: &mut ActorContext<Self>) -> HandlerResult<u64> {
        Ok(self.total)
    }
}
