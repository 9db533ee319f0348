//! The run loop of a struct actor: lifecycle hooks, the system channel
//! first, then one message at a time through its `Handler`.

use std::any::TypeId;
use std::borrow::Cow;
use std::sync::Arc;

use tokio::sync::oneshot;
use tracing::Instrument;

use crate::actor::{Actor, Failure, FailureCause, HandlerFn, Outcome};
use crate::actor_ref::ActorRef;
use crate::addr::ActorMeta;
use crate::catch::{catch, CatchUnwind};
use crate::context::{set_current_trace, unhandled, ActorContext, Current, CURRENT};
use crate::envelope::TraceId;
use crate::error::{SpawnError, StopError};
use crate::future_slot::FutureSlot;
use crate::mailbox::Item;
use crate::process::{launch, ExitGuard, ExitReason, Shared, StopReason, SysMsg};
use crate::request::drop_failed;
use crate::spawn::ActorConfig;
use crate::status::ActorStatus;
use crate::supervision::{Engine, SupervisorConfig};
use crate::system::ActorSystem;

/// The last path segment of a type name, without generics' paths.
pub(crate) fn short_type_name<T: ?Sized>() -> &'static str {
    let full = std::any::type_name::<T>();
    let base = full.split('<').next().unwrap_or(full);
    base.rsplit("::").next().unwrap_or(base)
}

/// Resolves once `pre_start` has run: `Err` carries its error.
pub(crate) type Started = oneshot::Receiver<Result<(), String>>;

/// The process of a struct actor, not yet registered nor running.
pub(crate) fn prepare<A: Actor>(
    system: &ActorSystem,
    name: Option<String>,
    config: &ActorConfig,
) -> Arc<Shared> {
    let key = match &name {
        Some(n) => Cow::Owned(n.clone()),
        None => Cow::Borrowed("_"),
    };
    let meta = ActorMeta::new(short_type_name::<A>(), key);
    Shared::new(system.clone(), meta, name.map(Arc::from), config)
}

/// Registers a prepared (or finished and reset, for a restart in place)
/// process and runs `actor` in it; the receiver resolves once `pre_start`
/// has run.
pub(crate) fn start_in<A: Actor>(
    actor: A,
    shared: Arc<Shared>,
    supervision: Option<SupervisorConfig>,
) -> Result<Started, SpawnError> {
    let system = shared.system.clone();
    let runtime = system
        .runtime_for(&shared.meta)
        .ok_or(SpawnError::NoRuntime)?;
    system.register(&shared, TypeId::of::<A>)?;

    let (started_tx, started_rx) = oneshot::channel();
    let engine = engine(&shared, supervision);
    let trace_id = TraceId::generate();
    launch(&shared, &runtime, trace_id, |guard| {
        run(actor, shared.clone(), engine, trace_id, guard, started_tx)
    });
    Ok(started_rx)
}

/// The supervision engine of an actor spawned as a supervisor.
fn engine(shared: &Arc<Shared>, supervision: Option<SupervisorConfig>) -> Option<Box<Engine>> {
    supervision.map(|config| {
        let name = match &shared.name {
            Some(n) => n.clone(),
            None => Arc::from(shared.meta.to_string()),
        };
        Box::new(Engine::new(config, shared, name))
    })
}

struct Stats {
    processed: u64,
    failures: u64,
}

fn status(shared: &Shared, stats: &Stats) -> ActorStatus {
    ActorStatus {
        addr: shared.addr,
        meta: shared.meta.clone(),
        name: shared.name.as_deref().map(str::to_owned),
        lifecycle: shared.lifecycle(),
        mailbox_len: shared.mailbox.len(),
        mailbox_capacity: shared.mailbox.capacity(),
        processed: stats.processed,
        failures: stats.failures,
        dropped: shared.mailbox.dropped(),
        uptime: shared.started_at.elapsed(),
    }
}

/// Builds an incarnation's context.
fn context<A: Actor>(
    shared: &Arc<Shared>,
    supervision: Option<Box<Engine>>,
    trace_id: TraceId,
) -> ActorContext<A> {
    let mut ctx = ActorContext::new(shared.clone());
    ctx.trace_id = trace_id;
    ctx.supervision = supervision;
    ctx
}

/// Runs `pre_start`. On failure the incarnation is finished (children it
/// started are stopped first) and the error is returned.
async fn begin<A: Actor>(actor: &mut A, ctx: &mut ActorContext<A>) -> Result<(), String> {
    let shared = ctx.shared.clone();
    tracing::info!(
        addr = %shared.addr,
        thread = std::thread::current().name().unwrap_or("?"),
        "started"
    );
    let start_error = match catch(actor.pre_start(ctx)).await {
        Ok(Ok(())) => None,
        Ok(Err(e)) => Some(e.to_string()),
        Err(panic) => Some(format!("panic: {panic}")),
    };
    let Some(e) = start_error else {
        return Ok(());
    };
    tracing::warn!(error = %e, "pre_start failed");
    ctx.end_attached();
    // Children it started before failing stop first (in reverse).
    if let Some(stopping) = crate::supervision::stop_children(ctx) {
        stopping.await;
    }
    shared.finish(ExitReason::StartFailed(e.clone()));
    Err(e)
}

/// Runs one incarnation in its own task: `pre_start`, then the loop. The
/// context is built here, not passed in, so that the future stores it once
/// (an async fn keeps its arguments apart).
async fn run<A: Actor>(
    mut actor: A,
    shared: Arc<Shared>,
    supervision: Option<Box<Engine>>,
    trace_id: TraceId,
    guard: ExitGuard,
    started: oneshot::Sender<Result<(), String>>,
) {
    let mut ctx = context(&shared, supervision, trace_id);
    if shared.exit_reason().is_some() {
        return; // killed before it ever ran
    }
    if let Err(e) = begin(&mut actor, &mut ctx).await {
        drop(guard);
        let _ = started.send(Err(e));
        return;
    }
    shared.set_running();
    let _ = started.send(Ok(()));
    serve(actor, ctx, guard).await;
}

/// Spawns a struct actor and runs its `pre_start` right here, in the
/// spawner's task, when the actor stays on the spawner's runtime: the
/// spawn then costs no round trip to the new task and back (OTP's
/// `start_link` waits for `init` all the same). `pre_start` still runs in
/// the actor's span, with the actor as the sender of what it sends. An
/// actor pinned to another runtime starts there, and the spawner waits.
pub(crate) async fn spawn<A: Actor>(
    mut actor: A,
    system: ActorSystem,
    name: Option<String>,
    config: ActorConfig,
    supervision: Option<SupervisorConfig>,
) -> Result<ActorRef<A>, SpawnError> {
    let shared = prepare::<A>(&system, name, &config);
    let Some(here) = system.runtimes().current_if_selected(&shared.meta) else {
        let started = start_in(actor, shared.clone(), supervision)?;
        return match started.await {
            Ok(Ok(())) => Ok(ActorRef::from_shared(shared)),
            Ok(Err(e)) => Err(SpawnError::StartFailed(e)),
            Err(_) => Err(killed_while_starting()),
        };
    };
    system.register(&shared, TypeId::of::<A>)?;
    let trace_id = TraceId::generate();
    let mut ctx = context(&shared, engine(&shared, supervision), trace_id);
    let span = crate::process::span(&shared);
    let begun = CURRENT
        .scope(
            Current::new(&shared, trace_id),
            begin(&mut actor, &mut ctx).instrument(span),
        )
        .await;
    begun.map_err(SpawnError::StartFailed)?;
    if shared.exit_reason().is_some() {
        // Killed while its pre_start ran.
        ctx.end_attached();
        return Err(killed_while_starting());
    }
    shared.set_running();
    launch(&shared, &here, trace_id, |guard| serve(actor, ctx, guard));
    Ok(ActorRef::from_shared(shared))
}

fn killed_while_starting() -> SpawnError {
    SpawnError::StartFailed("the actor was killed while starting".into())
}

/// The loop of a started incarnation: the system channel first, then one
/// message at a time; then `on_stopped` and the exit.
fn serve<A: Actor>(
    actor: A,
    ctx: ActorContext<A>,
    guard: ExitGuard,
) -> impl std::future::Future<Output = ()> + Send {
    // An `async move` block, not an `async fn`: an async fn keeps its
    // arguments and the locals they move into apart, which cost 64 bytes
    // in every actor's task.
    let (mut actor, mut ctx) = (actor, ctx);
    async move {
        let shared = ctx.shared.clone();
        let mut slot = FutureSlot::new();

        let mut stats = Stats {
            processed: 0,
            failures: 0,
        };
        let mut stop_reply = None;
        let reason = loop {
            if ctx.stop_requested {
                break ExitReason::Normal;
            }
            // Going idle frees the handler futures' buffer if it is large.
            let Some(item) = shared.mailbox.recv_or_idle(|| slot.idle()).await else {
                break ExitReason::Shutdown;
            };
            let env = match item {
                Item::Sys(SysMsg::Status(tx)) => {
                    let _ = tx.send(status(&shared, &stats));
                    continue;
                }
                Item::Sys(SysMsg::Supervision(msg)) => {
                    match crate::supervision::on_sys(&mut ctx, msg).await {
                        Some(reason) => break reason,
                        None => continue,
                    }
                }
                Item::Sys(SysMsg::Stop { reason, reply }) => match reason {
                    StopReason::Graceful => match catch(actor.pre_stop(&mut ctx, reason)).await {
                        Ok(true) => {
                            stop_reply = reply;
                            break ExitReason::Normal;
                        }
                        Ok(false) => {
                            if let Some(r) = reply {
                                let _ = r.send(Err(StopError::Vetoed));
                            }
                            continue;
                        }
                        Err(panic) => {
                            stop_reply = reply;
                            break ExitReason::Failed(format!("pre_stop panicked: {panic}"));
                        }
                    },
                    StopReason::Shutdown => {
                        stop_reply = reply;
                        break ExitReason::Shutdown;
                    }
                    StopReason::Kill => {
                        ctx.end_attached();
                        drop(guard);
                        if let Some(r) = reply {
                            let _ = r.send(Ok(()));
                        }
                        return;
                    }
                },
                Item::Msg(env) => env,
            };

            stats.processed += 1;
            ctx.sender = env.sender;
            ctx.trace_id = env.trace_id;
            set_current_trace(env.trace_id);
            let Some(handler) = env
                .dispatcher
                .and_then(|d| (*d).downcast_ref::<HandlerFn<A>>())
            else {
                unhandled(env);
                continue;
            };
            let is_request = env.payload.is_request();
            let message = env.payload.name();
            let mut fut = handler(&mut actor, &mut ctx, env.payload, &mut slot);
            let cause = match CatchUnwind(&mut fut).await {
                Ok(Outcome::Done) => continue,
                Ok(Outcome::NotifyFailed(e)) => {
                    drop(fut);
                    FailureCause::Error(e)
                }
                Ok(Outcome::RequestFailed(e)) => {
                    break ExitReason::Failed(format!("{message}: {e}"));
                }
                Err(panic) => {
                    drop_failed(fut);
                    FailureCause::Panic(panic)
                }
            };
            stats.failures += 1;
            if is_request {
                break ExitReason::Failed(format!("{message}: {cause}"));
            }
            let failure = Failure { message, cause };
            if let Err(panic) = catch(actor.handle_failure(&mut ctx, failure)).await {
                break ExitReason::Failed(format!("handle_failure panicked: {panic}"));
            }
        };

        shared.set_stopping();
        ctx.end_attached();
        if let Some(stopping) = crate::supervision::stop_children(&mut ctx) {
            stopping.await;
        }
        if let Err(panic) = catch(actor.on_stopped(&mut ctx, &reason)).await {
            tracing::error!(%panic, "on_stopped panicked");
        }
        shared.finish(reason);
        drop(guard);
        if let Some(r) = stop_reply {
            let _ = r.send(Ok(()));
        }
    }
}
