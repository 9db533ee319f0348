//! Struct actors on the core run loop: starting (`pre_start`), dispatching
//! each envelope to its `Handler`, the failure asymmetry, and the hooks the
//! loop calls (`pre_stop`, `on_stopped`).

use std::any::TypeId;
use std::collections::BTreeMap;
use std::future::{poll_fn, Future};
use std::pin::pin;
use std::sync::Arc;
use std::task::Poll;

use parking_lot::RwLock;
use tokio::runtime::Handle;
use tokio::sync::oneshot;

use super::dispatch::{Handled, HandlerFn};
use super::{Actor, ActorContext, ActorRef, Failure, FailureCause};
use crate::addr::ActorMeta;
use crate::catch::{catch, BoxFuture, CatchUnwind};
use crate::core::config::ActorConfig;
use crate::core::current::unhandled;
use crate::core::launch::{self, ExitGuard};
use crate::core::link::Exit;
use crate::core::monitor::Down;
use crate::core::process::Shared;
use crate::core::restart::{ChildExited, Engine, SupervisorConfig};
use crate::core::run_loop::{end, next, teardown, Frontend, Next};
use crate::core::system::ActorSystem;
use crate::envelope::{Envelope, TraceId};
use crate::error::SpawnError;
use crate::exit::{ExitReason, StopReason};
use crate::future_slot::FutureSlot;
use crate::request::drop_failed;

/// The last path segment of a type name, without generics' paths.
///
/// A byte scan: it runs at every child spawn, and a substring search
/// (`rsplit("::")`) cost about 600 instructions there (callgrind).
pub(crate) fn short_type_name<T: ?Sized>() -> &'static str {
    let full = std::any::type_name::<T>();
    let base = full.find('<').map_or(full, |at| &full[..at]);
    match base.as_bytes().windows(2).rposition(|w| w == b"::") {
        Some(at) => &base[at + 2..],
        None => base,
    }
}

/// Resolves once `pre_start` has run: `Err` carries its error.
pub(crate) type Started = oneshot::Receiver<Result<(), String>>;

/// The process of a struct actor, not yet registered nor running.
pub(crate) fn prepare<A: Actor>(
    system: &ActorSystem,
    name: Option<String>,
    key: Option<String>,
    config: &ActorConfig,
) -> Arc<Shared> {
    let meta = match (&name, key) {
        (Some(n), _) => Arc::new(ActorMeta::new(short_type_name::<A>(), n.clone())),
        (None, Some(k)) => Arc::new(ActorMeta::new(short_type_name::<A>(), k)),
        (None, None) => type_meta::<A>(),
    };
    Shared::new(system.clone(), meta, name.is_some(), config)
}

/// The meta of the unkeyed actors of type `A` (group: its short type name,
/// key `_`), built once per type and shared by all of them: one process
/// state keeps a pointer (8 bytes) instead of a meta (48).
fn type_meta<A: Actor>() -> Arc<ActorMeta> {
    static METAS: RwLock<BTreeMap<TypeId, Arc<ActorMeta>>> = RwLock::new(BTreeMap::new());
    let id = TypeId::of::<A>();
    if let Some(meta) = METAS.read().get(&id) {
        return meta.clone();
    }
    METAS
        .write()
        .entry(id)
        .or_insert_with(|| Arc::new(ActorMeta::new(short_type_name::<A>(), "_")))
        .clone()
}

/// The process of an unregistered struct actor with a key of its own.
pub(crate) fn prepare_keyed<A: Actor>(
    system: &ActorSystem,
    key: String,
    config: &ActorConfig,
) -> Arc<Shared> {
    prepare::<A>(system, None, Some(key), config)
}

/// The supervision engine of an actor spawned as a supervisor.
pub(crate) fn engine(
    shared: &Arc<Shared>,
    supervision: Option<SupervisorConfig>,
) -> Option<Box<Engine>> {
    supervision.map(|config| {
        let name = match shared.name() {
            Some(n) => Arc::from(n),
            None if shared.meta.key != "_" => Arc::from(&*shared.meta.key),
            None => Arc::from(shared.meta.to_string()),
        };
        Box::new(Engine::new(config, shared, name))
    })
}

/// A struct actor in its run loop: the actor and the buffer its handler
/// futures are built in.
struct Running<A> {
    actor: A,
    slot: FutureSlot,
}

impl<A: Actor> Frontend<ActorContext<A>> for Running<A> {
    /// An injected panic fails the handling, as the handler's would.
    #[cfg(feature = "testkit")]
    const PANICS_IN_NEXT: bool = false;

    fn pre_stop(
        &mut self,
        ctx: &mut ActorContext<A>,
        reason: StopReason,
    ) -> impl Future<Output = bool> + Send {
        self.actor.pre_stop(ctx, reason)
    }

    fn on_stopped(
        &mut self,
        ctx: &mut ActorContext<A>,
        reason: &ExitReason,
    ) -> impl Future<Output = ()> + Send {
        self.actor.on_stopped(ctx, reason)
    }

    fn on_child_stopped(
        &mut self,
        ctx: &mut ActorContext<A>,
        child: ChildExited,
    ) -> impl Future<Output = ()> + Send {
        self.actor.on_child_stopped(ctx, child)
    }

    fn on_idle(&mut self) {
        // Going idle frees the handler futures' buffer if it is large.
        self.slot.idle();
    }
}

/// Registers a prepared (or finished and reset, for a restart in place)
/// process and runs `actor` in it; the receiver resolves once `pre_start`
/// has run.
pub(crate) fn start_in<A: Actor>(
    actor: A,
    shared: Arc<Shared>,
    supervision: Option<SupervisorConfig>,
) -> Result<Started, SpawnError> {
    let (started_tx, started_rx) = oneshot::channel();
    let engine = engine(&shared, supervision);
    let trace_id = TraceId::generate();
    let process = shared.clone();
    launch::start(&shared, TypeId::of::<A>, trace_id, |guard| {
        run(actor, process, engine, trace_id, guard, started_tx)
    })?;
    Ok(started_rx)
}

/// Runs `pre_start`. On failure the children it started are stopped (in
/// reverse) and the error is returned: the caller ends the incarnation
/// with [`end`], which releases the actor before the exit is published.
async fn begin<A: Actor>(actor: &mut A, ctx: &mut ActorContext<A>) -> Result<(), String> {
    tracing::info!(
        addr = %ctx.shared().addr,
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
    ctx.core.end_attached();
    // Children it started before failing stop first (in reverse).
    crate::core::run_loop::stop_children(ctx).await;
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
    let mut ctx = ActorContext::new(shared, trace_id, supervision);
    if ctx.shared().exit_reason().is_some() {
        return; // killed before it ever ran
    }
    if let Err(e) = begin(&mut actor, &mut ctx).await {
        end(ctx, actor, ExitReason::StartFailed(e.clone()), guard);
        let _ = started.send(Err(e));
        return;
    }
    ctx.shared().set_running();
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
    actor: A,
    system: ActorSystem,
    name: Option<String>,
    config: ActorConfig,
    supervision: Option<SupervisorConfig>,
) -> Result<ActorRef<A>, SpawnError> {
    let shared = prepare::<A>(&system, name, None, &config);
    spawn_in(actor, shared, supervision).await
}

/// Spawns an unregistered struct actor under a key of its own (a plain
/// supervisor's name).
pub(crate) async fn spawn_keyed<A: Actor>(
    actor: A,
    system: ActorSystem,
    key: String,
    config: ActorConfig,
    supervision: Option<SupervisorConfig>,
) -> Result<ActorRef<A>, SpawnError> {
    let shared = prepare::<A>(&system, None, Some(key), &config);
    spawn_in(actor, shared, supervision).await
}

async fn spawn_in<A: Actor>(
    actor: A,
    shared: Arc<Shared>,
    supervision: Option<SupervisorConfig>,
) -> Result<ActorRef<A>, SpawnError> {
    let system = shared.system.clone();
    let Some(here) = system.runtimes().current_if_selected(&shared) else {
        let started = start_in(actor, shared.clone(), supervision)?;
        // A spawner that stops waiting (its future dropped) kills the
        // actor it was starting: a cancelled spawn leaves nothing behind.
        let abandoned = KillOnDrop(Some(&shared));
        let started = started.await;
        abandoned.disarm();
        return match started {
            Ok(Ok(())) => Ok(ActorRef::from_shared(shared)),
            Ok(Err(e)) => Err(SpawnError::StartFailed(e)),
            // The task ended without a word: it was killed.
            Err(_) => Err(SpawnError::Killed),
        };
    };
    start_here(actor, shared.clone(), supervision, here).await?;
    Ok(ActorRef::from_shared(shared))
}

/// Starts a prepared process right in the calling task, which must run on
/// `here`, the runtime the process runs on: registers it, runs its
/// `pre_start` here (in the actor's span, with the actor as the sender),
/// then spawns its loop on `here`. A spawn and a supervisor's (re)start of
/// a struct actor both start this way when they can: no round trip to a
/// new task and back before the start is known.
///
/// Dropping the returned future before it resolves (a start timeout, an
/// abandoned spawn) finishes the process: nothing is left behind.
pub(crate) async fn start_here<A: Actor>(
    mut actor: A,
    shared: Arc<Shared>,
    supervision: Option<SupervisorConfig>,
    here: Handle,
) -> Result<(), SpawnError> {
    let system = shared.system.clone();
    system.register(&shared, TypeId::of::<A>)?;
    // Registered: from here on, however the spawn ends (an error, a kill,
    // the spawner dropping this future), the guard finishes the process,
    // which unregisters it and kills the children it linked. Once the
    // start succeeded, it moves into the actor's task.
    let guard = ExitGuard::new(shared.clone());
    let incarnation = shared.incarnation();
    let trace_id = TraceId::generate();
    let mut ctx = ActorContext::new(shared.clone(), trace_id, engine(&shared, supervision));
    let begun = {
        let begin = launch::in_process(&shared, trace_id, begin(&mut actor, &mut ctx));
        // A kill finishes a process without a task at once: the start ends
        // then, and `pre_start` is dropped at its current await point.
        let killed = shared.wait_exit_of(incarnation);
        let (mut begin, mut killed) = (pin!(begin), pin!(killed));
        // `pre_start` first: most are done at their first poll, and the
        // wait for a kill then never registers (nor allocates its waiter);
        // a kill that came before is seen by the check below.
        poll_fn(|cx| {
            if let Poll::Ready(begun) = begin.as_mut().poll(cx) {
                return Poll::Ready(Some(begun));
            }
            if killed.as_mut().poll(cx).is_ready() {
                return Poll::Ready(None);
            }
            Poll::Pending
        })
        .await
    };
    match begun {
        Some(Ok(())) if shared.exit_reason().is_none() => {}
        Some(Err(e)) => {
            end(ctx, actor, ExitReason::StartFailed(e.clone()), guard);
            return Err(SpawnError::StartFailed(e));
        }
        // Killed while its pre_start ran.
        Some(Ok(())) | None => {
            ctx.core.end_attached();
            return Err(SpawnError::Killed);
        }
    }
    shared.set_running();
    launch::spawn_task(guard, &here, trace_id, |guard| serve(actor, ctx, guard));
    Ok(())
}

/// Kills a starting actor when dropped armed: its spawner stopped waiting.
pub(crate) struct KillOnDrop<'a>(pub(crate) Option<&'a Shared>);

impl KillOnDrop<'_> {
    pub(crate) fn disarm(mut self) {
        self.0 = None;
    }
}

impl Drop for KillOnDrop<'_> {
    fn drop(&mut self) {
        if let Some(shared) = self.0 {
            shared.kill();
        }
    }
}

/// The loop of a started incarnation: one envelope at a time through its
/// `Handler`, then the teardown.
fn serve<A: Actor>(
    actor: A,
    ctx: ActorContext<A>,
    guard: ExitGuard,
) -> impl Future<Output = ()> + Send {
    // An `async move` block, not an `async fn`: an async fn keeps its
    // arguments and the locals they move into apart, which cost 64 bytes
    // in every actor's task.
    let (mut run, mut ctx) = (
        Running {
            actor,
            slot: FutureSlot::new(),
        },
        ctx,
    );
    async move {
        // What lives across an `.await` here is kept in every actor's task
        // for its whole life: each envelope is taken apart in a block of its
        // own, and the rare paths (signals, failures) await a boxed future,
        // so that only the handler's future (in `run.slot`) and a few words
        // are kept while a handler runs. `tests/actor_memory.rs` guards it.
        let reason = 'serve: loop {
            if ctx.core.stop_requested {
                break ctx.shared().requested_exit().unwrap_or(ExitReason::Normal);
            }
            let env = 'take: {
                let signal = match next(&mut ctx, &mut run).await {
                    Next::Envelope(env) => break 'take env,
                    Next::Signal(env) => on_signal(&mut run.actor, &mut ctx, env),
                    Next::Stop(stop) => break 'serve stop.exit_reason(),
                    Next::Exit(reason) => break 'serve reason,
                    // Drained (see `StopReason::Drain`).
                    Next::Closed => break 'serve ExitReason::Normal,
                };
                match signal.await {
                    Some(reason) => break 'serve reason,
                    None => continue 'serve,
                }
            };
            // (A `let` whose scrutinee is the block: the block's value is
            // gone before the failure's future is awaited.)
            let (handler, env, is_request, message) = 'prepare: {
                #[allow(clippy::blocks_in_conditions)] // on purpose: see above
                let failed = match {
                    let env = env;
                    ctx.sender = env.0.sender;
                    // A typed send carries its handler; an envelope that came
                    // by address alone is looked up in the receiver's table.
                    let dispatcher = env
                        .0
                        .dispatcher
                        .or_else(|| super::dispatch::lookup::<A>(env.0.payload.type_id()));
                    let Some(handler) =
                        dispatcher.and_then(|d| (*d).downcast_ref::<HandlerFn<A>>())
                    else {
                        unhandled(env);
                        continue 'serve;
                    };
                    let is_request = env.0.payload.is_request();
                    let message = env.0.payload.name();
                    // With the test kit, an injected panic (`core/probe.rs`)
                    // fails this handling as the handler's own panic would.
                    #[cfg(feature = "testkit")]
                    if let Some(panic) = crate::core::probe::take_panic(ctx.shared().addr) {
                        let cause = FailureCause::Panic(drop_failed(env, panic));
                        Err(on_failure(
                            &mut run.actor,
                            &mut ctx,
                            message,
                            is_request,
                            cause,
                        ))
                    } else {
                        Ok((handler, env, is_request, message))
                    }
                    #[cfg(not(feature = "testkit"))]
                    Ok::<_, BoxFuture<'_, Option<ExitReason>>>((handler, env, is_request, message))
                } {
                    Ok(prepared) => break 'prepare prepared,
                    Err(failed) => failed,
                };
                match failed.await {
                    Some(reason) => break 'serve reason,
                    None => continue 'serve,
                }
            };
            let cause = {
                let mut fut = handler(&mut run.actor, &mut ctx, env, &mut run.slot);
                match CatchUnwind(&mut fut).await {
                    Ok(Handled::Done) => continue,
                    Ok(Handled::NotifyFailed(e)) => {
                        drop(fut);
                        FailureCause::Error(e)
                    }
                    Ok(Handled::RequestFailed(e)) => {
                        drop(fut);
                        ctx.shared().count_failure();
                        break ExitReason::Failed(crate::exit::with_detail(message, &e));
                    }
                    Ok(Handled::RequestPanicked(panic)) => {
                        drop(fut);
                        FailureCause::Panic(panic)
                    }
                    Err(panic) => FailureCause::Panic(drop_failed(fut, panic)),
                }
            };
            let failed = on_failure(&mut run.actor, &mut ctx, message, is_request, cause);
            if let Some(reason) = failed.await {
                break reason;
            }
        };
        let reason = teardown(&mut ctx, &mut run, reason).await;
        end(ctx, run, reason, guard);
    }
}

/// A failed handling: a failed request ends the incarnation (`Some`: its
/// exit reason; its supervisor decides what next); a failed fire-and-forget
/// message goes to `handle_failure` and the actor goes on (`None`), unless
/// `handle_failure` panics. Boxed: failures are rare, and the hook's future
/// would otherwise grow every actor's task.
fn on_failure<'a, A: Actor>(
    actor: &'a mut A,
    ctx: &'a mut ActorContext<A>,
    message: &'static str,
    is_request: bool,
    cause: FailureCause,
) -> BoxFuture<'a, Option<ExitReason>> {
    Box::pin(async move {
        ctx.shared().count_failure();
        let failure = Failure { message, cause };
        if is_request {
            return Some(failure.into());
        }
        catch(actor.handle_failure(ctx, failure))
            .await
            .err()
            .map(|panic| ExitReason::Failed(format!("handle_failure panicked: {panic}")))
    })
}

/// Runs the hook of a signal (`on_down`, or `on_link_exit` for a trapped
/// exit), whose failure is handled as a fire-and-forget message's (by
/// `handle_failure`, and the actor goes on); `Some` is the exit reason when
/// `handle_failure` panicked. Boxed: signals are rare, and the hooks'
/// futures would otherwise grow every actor's task.
fn on_signal<'a, A: Actor>(
    actor: &'a mut A,
    ctx: &'a mut ActorContext<A>,
    env: Envelope,
) -> BoxFuture<'a, Option<ExitReason>> {
    Box::pin(async move {
        ctx.sender = env.0.sender;
        let message = env.message_name();
        let res = match env.downcast::<Down>() {
            Ok(down) => catch(actor.on_down(ctx, down)).await,
            Err(env) => match env.downcast::<Exit>() {
                Ok(exit) => catch(actor.on_link_exit(ctx, exit)).await,
                Err(env) => {
                    unhandled(env);
                    return None;
                }
            },
        };
        let cause = match res {
            Ok(Ok(())) => return None,
            Ok(Err(e)) => FailureCause::Error(e),
            Err(panic) => FailureCause::Panic(panic),
        };
        ctx.shared().count_failure();
        let failure = Failure { message, cause };
        let handled = catch(actor.handle_failure(ctx, failure)).await;
        handled
            .err()
            .map(|panic| ExitReason::Failed(format!("handle_failure panicked: {panic}")))
    })
}

#[cfg(test)]
mod tests {
    use super::short_type_name;

    struct Local;

    #[test]
    fn a_short_type_name_is_the_last_segment_without_generics() {
        assert_eq!(short_type_name::<Local>(), "Local");
        assert_eq!(short_type_name::<u32>(), "u32");
        assert_eq!(short_type_name::<Vec<String>>(), "Vec");
        assert_eq!(
            short_type_name::<std::collections::HashMap<String, Local>>(),
            "HashMap"
        );
    }
}
