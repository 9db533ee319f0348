//! elfo: functional actors (`ActorGroup::exec` over a `Context`, `msg!` dispatch) wired by a
//! `Topology`; the driver of each workload is itself an actor group of the same system.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ::elfo::config::AnyConfig;
use ::elfo::{ActorGroup, Blueprint, Context, Topology};
use tokio::sync::oneshot;

use crate::config::Sizes;
use crate::harness::{run_tokio, BenchError, Context as _, RunResult};
use crate::workloads::Workload;

mod lifecycle;
mod messaging;

/// Setup notes for the report.
pub const NOTES: &[&str] = &[
    "functional actors: each actor group is an `exec` closure looping on `ctx.recv()` with \
     `msg!` dispatch; keyed groups use a `MapRouter`, actors are spawned on their key's first \
     message (the idiomatic elfo spawn). Groups talk through `Topology` routes (`route_to` with \
     `msg!` filters), tells are `ctx.send(..).await`, asks `ctx.request(..).resolve().await`, \
     multi-actor asks `.all()`. Each run starts its own system (`elfo::init::try_start` with a \
     fixture configurer); the workload's driver is an actor group of that system. Default \
     mailbox capacity (100); the backpressure sink calls `ctx.set_mailbox_capacity(64)` and its \
     8 producers are actors of a keyed group.",
    "supervision: restarts use the group's `RestartPolicy::on_failure` with zero backoff; a \
     panic in `exec` is caught and the supervisor re-spawns the actor. With zero backoff, elfo \
     0.2.0-alpha.21's supervisor itself sometimes panics with \"just created\" \
     (`supervisor.rs:433`): the restarted actor fails and unregisters before its spawner looks \
     it up. The restart chain goes on and the count stays right; the report's warnings list how \
     often it happened. Tree: n/a — elfo \
     supervises flat, keyed actor groups; an actor does not spawn child actors, so there is no \
     tree of actors to shut down.",
];

/// Runs one workload in a fresh elfo system.
pub fn run(workload: Workload, sizes: &Sizes, limit: Duration) -> RunResult {
    let s = sizes.clone();
    match workload {
        Workload::Ask => messaging::run_ask(limit, s),
        Workload::Tell => messaging::run_tell(limit, s),
        Workload::PingPong => messaging::run_pingpong(limit, s),
        Workload::Ring => messaging::run_ring(limit, s),
        Workload::FanOut => messaging::run_fanout(limit, s),
        Workload::Big => messaging::run_big(limit, s),
        Workload::Spawn => lifecycle::run_spawn(limit, s),
        Workload::Backpressure => lifecycle::run_backpressure(limit, s),
        Workload::Restarts => lifecycle::run_restarts(limit, s),
        Workload::Tree => Err(BenchError::Unsupported(
            "elfo supervises flat actor groups; actors have no child actors".into(),
        )),
    }
}

/// A value that one of several clones can take out, once.
pub(super) struct Once<T>(Arc<Mutex<Option<T>>>);

impl<T> Clone for Once<T> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<T> Once<T> {
    pub(super) fn new(value: T) -> Self {
        Self(Arc::new(Mutex::new(Some(value))))
    }

    pub(super) fn take(&self) -> Option<T> {
        match self.0.lock() {
            Ok(mut guard) => guard.take(),
            Err(poisoned) => poisoned.into_inner().take(),
        }
    }
}

/// Waits until the driver's mailbox yields a message of type `M`.
pub(super) async fn wait_for<M: ::elfo::Message>(ctx: &mut Context) -> Result<(), BenchError> {
    while let Some(envelope) = ctx.recv().await {
        if envelope.is::<M>() {
            return Ok(());
        }
    }
    Err(BenchError::failed("the driver's mailbox closed"))
}

/// Checks the answers of a request sent to many actors.
pub(super) fn all_ok<T, E: std::fmt::Display>(
    what: &str,
    answers: Vec<Result<T, E>>,
    expected: usize,
) -> Result<Vec<T>, BenchError> {
    if answers.len() != expected {
        return Err(BenchError::failed(format!(
            "{what}: {} answers, expected {expected}",
            answers.len()
        )));
    }
    answers.into_iter().map(|a| a.ctx(what)).collect()
}

/// Builds a topology (a fixture configurer, plus what `build` declares: the groups, their
/// routes, and the driver group, whose blueprint it is given), starts the system, and waits for
/// the driver's result. The runtime's shutdown ends the system.
pub(super) fn run_system<B, D, Fut>(limit: Duration, s: Sizes, driver: D, build: B) -> RunResult
where
    B: FnOnce(&Topology, Blueprint, &Sizes) + Send + 'static,
    D: Fn(Context, Sizes) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = RunResult> + Send + 'static,
{
    run_tokio(limit, async move {
        let (tx, rx) = oneshot::channel::<RunResult>();
        let slot = Once::new(tx);
        let topology = Topology::empty();
        let configurers = topology.local("system.configurers").entrypoint();
        let driver = Arc::new(driver);
        let sizes = s.clone();
        let driver_group = ActorGroup::new().exec(move |ctx| {
            let slot = slot.clone();
            let driver = driver.clone();
            let s = sizes.clone();
            async move {
                let outcome = driver(ctx, s).await;
                if let Some(tx) = slot.take() {
                    let _ = tx.send(outcome);
                }
            }
        });
        build(&topology, driver_group, &s);
        configurers.mount(::elfo::batteries::configurer::fixture(
            &topology,
            AnyConfig::default(),
        ));
        let system = tokio::spawn(::elfo::init::try_start(topology));
        let outcome = rx.await;
        system.abort();
        outcome.unwrap_or_else(|_| Err(BenchError::failed("the driver actor never reported")))
    })
}
