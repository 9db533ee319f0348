//! The worker the metric tests measure: it takes notes, answers, fails a
//! request, requests itself, holds its handler at a gate, starts a timer.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, Semaphore};
use tokio::time::timeout;
use troupe::prelude::*;
use troupe::{MissPolicy, TimerError, TimerId};

const BOUND: Duration = Duration::from_secs(5);

#[message]
#[derive(Clone)]
pub struct Note;

#[message(ret = u32)]
pub struct Ask;

/// A request the worker fails.
#[message(ret = ())]
pub struct Fall;

/// A request the worker sends to itself.
#[message(ret = bool)]
pub struct AskMyself;

/// Holds the handler until the test adds a permit to the gate.
#[message]
pub struct Hold;

/// Starts a periodic timer of `Note`s.
#[message(ret = Result<TimerId, TimerError>)]
pub struct Every(pub Duration);

pub struct Worker {
    gate: Arc<Semaphore>,
    held: mpsc::UnboundedSender<()>,
}

impl Actor for Worker {}

impl Handler<Note> for Worker {
    async fn handle(&mut self, _: Note, _: &mut ActorContext<Self>) -> HandlerResult {
        Ok(())
    }
}

impl Handler<Ask> for Worker {
    async fn handle(&mut self, _: Ask, _: &mut ActorContext<Self>) -> HandlerResult<u32> {
        Ok(7)
    }
}

impl Handler<Fall> for Worker {
    async fn handle(&mut self, _: Fall, _: &mut ActorContext<Self>) -> HandlerResult<()> {
        Err("fell".into())
    }
}

impl Handler<AskMyself> for Worker {
    async fn handle(&mut self, _: AskMyself, ctx: &mut ActorContext<Self>) -> HandlerResult<bool> {
        let me = ctx.self_handle();
        Ok(me.send(Ask).await == Err(RequestError::CallingSelf))
    }
}

impl Handler<Hold> for Worker {
    async fn handle(&mut self, _: Hold, _: &mut ActorContext<Self>) -> HandlerResult {
        let _ = self.held.send(());
        self.gate.acquire().await?.forget();
        Ok(())
    }
}

impl Handler<Every> for Worker {
    async fn handle(
        &mut self,
        Every(interval): Every,
        ctx: &mut ActorContext<Self>,
    ) -> HandlerResult<Result<TimerId, TimerError>> {
        let every = ctx.schedule(Note).every(interval);
        Ok(every.on_miss(MissPolicy::CatchUp).await)
    }
}

pub struct Held {
    pub gate: Arc<Semaphore>,
    pub holding: mpsc::UnboundedReceiver<()>,
}

pub fn worker() -> (Worker, Held) {
    let gate = Arc::new(Semaphore::new(0));
    let (held, holding) = mpsc::unbounded_channel();
    let w = Worker {
        gate: gate.clone(),
        held,
    };
    (w, Held { gate, holding })
}

/// Spawns a worker with `config` and holds its handler.
pub async fn held_worker(system: &ActorSystem, config: ActorConfig) -> (ActorRef<Worker>, Held) {
    let (w, mut held) = worker();
    let w = w
        .spawn()
        .with_config(config)
        .on_system(system)
        .await
        .unwrap();
    w.notify(Hold).await.unwrap();
    timeout(BOUND, held.holding.recv()).await.unwrap().unwrap();
    (w, held)
}
