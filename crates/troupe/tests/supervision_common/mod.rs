//! Helpers shared by the supervision tests: controllable plain processes,
//! struct-actor workers, and a compact view of supervision events.
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use tokio::sync::mpsc;
use troupe::prelude::*;
use troupe::supervision::{process_fn, ShutdownStrategy, Supervisable, SupervisionEvent};

#[path = "../bounded_common/mod.rs"]
mod bounded_common;

pub use bounded_common::{system, BOUND};

/// One line per supervision event: `start a`, `restart a`, `exit a failed: boom`,
/// `stop a shutdown`, `start-failed a`, `gave up`. Events of the nested
/// supervisors of these tests (`sub`, `team`) are prefixed with their name.
pub fn brief(ev: &SupervisionEvent) -> String {
    let prefix = |sup: &str| {
        if matches!(sup, "sub" | "team") {
            format!("{sup}: ")
        } else {
            String::new()
        }
    };
    match ev {
        SupervisionEvent::Started {
            supervisor,
            name,
            restart,
            ..
        } => format!(
            "{}{} {name}",
            prefix(supervisor),
            if *restart { "restart" } else { "start" }
        ),
        SupervisionEvent::StartFailed {
            supervisor, name, ..
        } => format!("{}start-failed {name}", prefix(supervisor)),
        SupervisionEvent::Exited {
            supervisor,
            name,
            reason,
            ..
        } => format!("{}exit {name} {reason}", prefix(supervisor)),
        SupervisionEvent::Stopped {
            supervisor,
            name,
            reason,
            ..
        } => match reason {
            Some(r) => format!("{}stop {name} {r}", prefix(supervisor)),
            None => format!("{}stop {name} stuck", prefix(supervisor)),
        },
        SupervisionEvent::BudgetExceeded { supervisor } => format!("{}gave up", prefix(supervisor)),
    }
}

/// Receives the next `n` events, each within [`BOUND`].
pub async fn take(rx: &mut mpsc::UnboundedReceiver<SupervisionEvent>, n: usize) -> Vec<String> {
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let ev = tokio::time::timeout(BOUND, rx.recv())
            .await
            .unwrap_or_else(|_| panic!("no event within {BOUND:?}; got so far: {out:?}"))
            .expect("observer closed");
        out.push(brief(&ev));
    }
    out
}

/// Asserts that nothing more happens: waits (virtual time, so only once
/// every task is idle) and expects no event.
pub async fn quiet(rx: &mut mpsc::UnboundedReceiver<SupervisionEvent>) {
    if let Ok(Some(ev)) = tokio::time::timeout(Duration::from_millis(100), rx.recv()).await {
        panic!("unexpected event: {}", brief(&ev));
    }
}

/// What a controlled process does next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmd {
    /// Return an error (abnormal exit).
    Fail,
    /// Return `Ok` (normal exit).
    Exit,
    /// Panic (abnormal exit).
    Panic,
}

/// Plain processes a test drives by name: each run registers a command
/// channel; commands go to the run that is current.
#[derive(Clone, Default)]
pub struct Workers {
    cmds: Arc<Mutex<HashMap<String, mpsc::UnboundedSender<Cmd>>>>,
    runs: Arc<Mutex<HashMap<String, u32>>>,
}

impl Workers {
    pub fn new() -> Self {
        Self::default()
    }

    /// A process that waits for a command or its shutdown.
    pub fn worker(&self, name: &str) -> impl Supervisable {
        self.build(name, false)
    }

    /// A process that ignores its shutdown signal (it must be killed).
    pub fn stubborn(&self, name: &str) -> impl Supervisable {
        self.build(name, true)
    }

    fn build(&self, name: &str, stubborn: bool) -> impl Supervisable {
        let cmds = self.cmds.clone();
        let runs = self.runs.clone();
        let key = name.to_string();
        process_fn(name, move |mut shutdown| {
            let (tx, mut rx) = mpsc::unbounded_channel();
            cmds.lock().insert(key.clone(), tx);
            *runs.lock().entry(key.clone()).or_default() += 1;
            async move {
                loop {
                    tokio::select! {
                        _ = shutdown.wait_for_shutdown(), if !stubborn => return Ok(()),
                        cmd = rx.recv() => match cmd {
                            Some(Cmd::Fail) => return Err("boom".into()),
                            Some(Cmd::Exit) => return Ok(()),
                            Some(Cmd::Panic) => panic!("kaboom"),
                            None => std::future::pending::<()>().await,
                        },
                    }
                }
            }
        })
        .with_shutdown(ShutdownStrategy::Graceful(Duration::from_secs(1)))
    }

    /// Sends a command to the current run of `name`.
    pub fn send(&self, name: &str, cmd: Cmd) {
        let cmds = self.cmds.lock();
        let tx = cmds.get(name).unwrap_or_else(|| panic!("{name} never ran"));
        tx.send(cmd)
            .unwrap_or_else(|_| panic!("{name} is not running"));
    }

    /// How many times `name` was started.
    pub fn runs(&self, name: &str) -> u32 {
        self.runs.lock().get(name).copied().unwrap_or(0)
    }
}

/// A struct actor worker: counts its incarnations and can be made to fail.
pub struct Worker {
    pub incarnation: u32,
    pub value: u32,
    pub events: mpsc::UnboundedSender<String>,
    pub fail_start: bool,
}

#[message]
pub struct Add(pub u32);

/// Answers `(incarnation, value)`.
#[message(ret = (u32, u32))]
pub struct Query;

/// A request whose handler fails: the actor stops with `Failed`.
#[message(ret = ())]
pub struct Crash;

/// Stops the actor normally (`ctx.stop()`).
#[message]
pub struct Quit;

impl Actor for Worker {
    async fn pre_start(&mut self, ctx: &mut ActorContext<Self>) -> HandlerResult {
        if self.fail_start {
            return Err("cannot start".into());
        }
        let name = ctx.actor_name().unwrap_or("?").to_string();
        let _ = self
            .events
            .send(format!("{name} started #{}", self.incarnation));
        Ok(())
    }

    async fn on_stopped(&mut self, ctx: &mut ActorContext<Self>, reason: &ExitReason) {
        let name = ctx.actor_name().unwrap_or("?").to_string();
        let _ = self.events.send(format!("{name} stopped: {reason}"));
    }
}

impl Handler<Add> for Worker {
    async fn handle(&mut self, msg: Add, _: &mut ActorContext<Self>) -> HandlerResult {
        self.value += msg.0;
        Ok(())
    }
}

impl Handler<Query> for Worker {
    async fn handle(&mut self, _: Query, _: &mut ActorContext<Self>) -> HandlerResult<(u32, u32)> {
        Ok((self.incarnation, self.value))
    }
}

impl Handler<Crash> for Worker {
    async fn handle(&mut self, _: Crash, _: &mut ActorContext<Self>) -> HandlerResult<()> {
        Err("crash requested".into())
    }
}

impl Handler<Quit> for Worker {
    async fn handle(&mut self, _: Quit, ctx: &mut ActorContext<Self>) -> HandlerResult {
        ctx.stop();
        Ok(())
    }
}

/// A factory of [`Worker`]s numbering incarnations from 1; `fail_from`
/// makes incarnations from that number on fail to start.
pub fn worker_factory(
    events: mpsc::UnboundedSender<String>,
    fail_from: Option<u32>,
) -> impl Fn() -> Worker + Send + Sync + 'static {
    let counter = Arc::new(AtomicU32::new(0));
    move || {
        let incarnation = counter.fetch_add(1, Ordering::Relaxed) + 1;
        Worker {
            incarnation,
            value: 0,
            events: events.clone(),
            fail_start: fail_from.is_some_and(|f| incarnation >= f),
        }
    }
}

/// Receives the next line from a worker event channel within [`BOUND`].
pub async fn line(rx: &mut mpsc::UnboundedReceiver<String>) -> String {
    tokio::time::timeout(BOUND, rx.recv())
        .await
        .expect("no worker event in time")
        .expect("worker events closed")
}
