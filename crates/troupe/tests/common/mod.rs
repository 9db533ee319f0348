//! Test actors shared by the integration tests.
#![allow(dead_code)]

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::sync::{mpsc, Semaphore};
use troupe::prelude::*;
use troupe::{Failure, StopReason};

/// Polls a future once and says whether it is still pending.
pub fn is_pending<F: Future>(fut: std::pin::Pin<&mut F>) -> bool {
    let waker = std::task::Waker::noop();
    let mut cx = Context::from_waker(waker);
    matches!(fut.poll(&mut cx), Poll::Pending)
}

/// Polls a future once, expecting it to be ready.
pub fn ready<F: Future>(fut: F) -> F::Output {
    let mut fut = pin!(fut);
    let waker = std::task::Waker::noop();
    let mut cx = Context::from_waker(waker);
    match fut.as_mut().poll(&mut cx) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("future was not ready"),
    }
}

/// Events a [`Probe`] reports to its test.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Started,
    Handled(u32),
    Failure(String),
    PreStop(StopReason),
    Stopped(ExitReason),
    Blocked,
}

#[message]
pub struct Push(pub u32);

#[message]
pub struct Fail(pub &'static str);

#[message]
pub struct Panic;

/// Blocks the handler until the gate gets a permit.
#[message]
pub struct Block;

#[message(ret = u32)]
pub struct Get;

#[message(ret = u32)]
pub struct GetFail;

#[message(ret = u32)]
pub struct GetPanic;

/// Waits forever for a permit (a request that never answers in time).
#[message(ret = u32)]
pub struct GetBlocked;

/// A configurable test actor that reports what happens to it.
pub struct Probe {
    pub events: mpsc::UnboundedSender<Event>,
    pub gate: Arc<Semaphore>,
    pub veto: bool,
    pub fail_start: bool,
    pub sum: u32,
}

impl Probe {
    pub fn new() -> (Self, mpsc::UnboundedReceiver<Event>, Arc<Semaphore>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let gate = Arc::new(Semaphore::new(0));
        (
            Self {
                events: tx,
                gate: gate.clone(),
                veto: false,
                fail_start: false,
                sum: 0,
            },
            rx,
            gate,
        )
    }
}

impl Actor for Probe {
    async fn pre_start(&mut self, _ctx: &mut ActorContext<Self>) -> HandlerResult {
        if self.fail_start {
            return Err("refusing to start".into());
        }
        let _ = self.events.send(Event::Started);
        Ok(())
    }

    async fn pre_stop(&mut self, _ctx: &mut ActorContext<Self>, reason: StopReason) -> bool {
        let _ = self.events.send(Event::PreStop(reason));
        !self.veto
    }

    async fn on_stopped(&mut self, _ctx: &mut ActorContext<Self>, reason: &ExitReason) {
        let _ = self.events.send(Event::Stopped(reason.clone()));
    }

    async fn handle_failure(&mut self, _ctx: &mut ActorContext<Self>, failure: Failure) {
        let _ = self.events.send(Event::Failure(failure.to_string()));
    }
}

impl Handler<Push> for Probe {
    async fn handle(&mut self, msg: Push, _: &mut ActorContext<Self>) -> HandlerResult {
        self.sum += msg.0;
        let _ = self.events.send(Event::Handled(msg.0));
        Ok(())
    }
}

impl Handler<Fail> for Probe {
    async fn handle(&mut self, msg: Fail, _: &mut ActorContext<Self>) -> HandlerResult {
        Err(msg.0.into())
    }
}

impl Handler<Panic> for Probe {
    async fn handle(&mut self, _: Panic, _: &mut ActorContext<Self>) -> HandlerResult {
        panic!("boom")
    }
}

impl Handler<Block> for Probe {
    async fn handle(&mut self, _: Block, _: &mut ActorContext<Self>) -> HandlerResult {
        let _ = self.events.send(Event::Blocked);
        self.gate.acquire().await?.forget();
        Ok(())
    }
}

impl Handler<Get> for Probe {
    async fn handle(&mut self, _: Get, _: &mut ActorContext<Self>) -> HandlerResult<u32> {
        Ok(self.sum)
    }
}

impl Handler<GetFail> for Probe {
    async fn handle(&mut self, _: GetFail, _: &mut ActorContext<Self>) -> HandlerResult<u32> {
        Err("no value".into())
    }
}

impl Handler<GetPanic> for Probe {
    async fn handle(&mut self, _: GetPanic, _: &mut ActorContext<Self>) -> HandlerResult<u32> {
        panic!("request boom")
    }
}

impl Handler<GetBlocked> for Probe {
    async fn handle(&mut self, _: GetBlocked, _: &mut ActorContext<Self>) -> HandlerResult<u32> {
        self.gate.acquire().await?.forget();
        Ok(self.sum)
    }
}

/// Receives the next event, failing the test after a bounded wait.
pub async fn next(rx: &mut mpsc::UnboundedReceiver<Event>) -> Event {
    tokio::time::timeout(std::time::Duration::from_secs(5), rx.recv())
        .await
        .expect("no event within 5 s")
        .expect("event channel closed")
}
