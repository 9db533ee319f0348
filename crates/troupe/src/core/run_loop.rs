//! THE run loop, shared by every kind of process.
//!
//! A front-end (struct actor, functional actor, plain process, supervisor)
//! asks [`next`] for what comes next. `next` polls the system channel
//! before the mailbox and handles everything that is not the front-end's
//! business itself: the three stop tiers (asking the front-end only whether
//! it vetoes a graceful stop), supervision traffic (fed to the process's
//! restart engine, if it is a supervisor, then, for a child's own exit,
//! to the front-end's `on_child_stopped`), and the signals of monitors and
//! links (checked against the process's own monitors and links, see
//! `signal.rs`; an exit signal it does not trap becomes an exit decision).
//! The front-end gets the envelopes, the signals it is to see, and a stop
//! or exit decision to act on.
//! When its run ends, [`teardown`] ends the incarnation the same way for
//! every kind: timers and streams stop, `on_stopped` runs, children stop
//! in reverse start order, then the exit is recorded and announced.

use std::future::Future;
use std::sync::Arc;

use super::launch::ExitGuard;
use super::link::{Exit, ExitAction};
use super::mailbox::Item;
use super::monitor::Down;
use super::process::{Shared, SysMsg};
use super::release::release;
use super::restart::{ChildExited, Engine, Handled, SupMsg, SupervisorError};
use super::signal::{is_signal, unmark};
use crate::catch::{catch, BoxFuture};
use crate::envelope::{Envelope, TraceId};
use crate::error::StopError;
use crate::exit::{ExitReason, StopReason};

/// What the run loop needs of a running incarnation's context.
pub(crate) trait Incarnation: Send {
    /// The process, and its restart engine if it is a supervisor.
    fn core(&mut self) -> (&Arc<Shared>, &mut Option<Box<Engine>>);
    /// Records the trace of the envelope about to be handled.
    fn set_trace(&mut self, trace_id: TraceId);
    /// Aborts the incarnation's timers and streams.
    fn end_attached(&mut self);
}

/// The hooks a front-end plugs into the run loop; every one has a default.
pub(crate) trait Frontend<C>: Send {
    /// A graceful stop was requested: `false` vetoes it.
    fn pre_stop(&mut self, ctx: &mut C, reason: StopReason) -> impl Future<Output = bool> + Send {
        let _ = (ctx, reason);
        async { true }
    }

    /// The run ended (not by a kill): runs before the children stop.
    fn on_stopped(&mut self, ctx: &mut C, reason: &ExitReason) -> impl Future<Output = ()> + Send {
        let _ = (ctx, reason);
        async {}
    }

    /// A child of this supervisor exited by itself and the restart engine
    /// has acted on it (restarted it, or not): runs in the supervisor's
    /// loop, after the engine, so that the context shows the engine's
    /// decision. A panic here is logged and the supervisor goes on.
    fn on_child_stopped(
        &mut self,
        ctx: &mut C,
        child: ChildExited,
    ) -> impl Future<Output = ()> + Send {
        let _ = (ctx, child);
        async {}
    }

    /// The loop is about to wait for mail.
    fn on_idle(&mut self) {}

    /// Whether an injected panic (`probe.rs`) strikes in [`next`]: yes
    /// where the front-end's whole run is caught (a functional actor's
    /// `exec`); a struct actor takes it itself, as its handler's panic.
    #[cfg(feature = "testkit")]
    const PANICS_IN_NEXT: bool = true;
}

/// A front-end without hooks.
pub(crate) struct NoHooks;

impl<C> Frontend<C> for NoHooks {}

/// What comes next for a front-end.
pub(crate) enum Next {
    /// An envelope to handle.
    Envelope(Envelope),
    /// A signal for the front-end: the envelope of a [`Down`] or of a
    /// trapped [`Exit`] (a struct actor runs its hook; a functional actor
    /// receives it as any envelope).
    Signal(Envelope),
    /// A stop was requested and accepted (a graceful one was not vetoed).
    Stop(StopReason),
    /// The process must exit (a supervisor's restart budget is exceeded).
    Exit(ExitReason),
    /// The mailbox is closed and drained.
    Closed,
}

impl StopReason {
    /// The exit reason of a run ended by this stop.
    pub(crate) fn exit_reason(self) -> ExitReason {
        match self {
            StopReason::Graceful => ExitReason::Normal,
            StopReason::Shutdown => ExitReason::Shutdown,
            StopReason::Kill => ExitReason::Killed,
            StopReason::Drain => ExitReason::Normal,
        }
    }
}

/// Waits for what comes next: system messages first, then envelopes.
///
/// For the metrics, the handling of the envelope handed out last ends when
/// the next one is taken, or before anything else: waiting for mail, a
/// signal, a system message, the end (one test per envelope with metrics
/// off).
///
/// An `async move` block rather than an `async fn`, which would keep its
/// arguments twice: this future is in every process's task while it waits.
#[allow(clippy::manual_async_fn)]
pub(crate) fn next<'a, C: Incarnation, F: Frontend<C>>(
    ctx: &'a mut C,
    fe: &'a mut F,
) -> impl Future<Output = Next> + Send + 'a {
    async move {
        loop {
            // The item is taken apart in a block of its own, so that its
            // storage is not kept beside the (rare) system message's future:
            // this future lives in every process's task.
            let msg = {
                let item = {
                    let shared = ctx.core().0;
                    // Waiting ends the handling too (see `Mailbox::recv_or_idle`).
                    shared.mailbox.recv_or_idle(|| fe.on_idle()).await
                };
                match item {
                    Some(Item::Msg(env)) if is_signal(&env) => {
                        handled(ctx.core().0);
                        match signal(ctx, env) {
                            Some(next) => return next,
                            None => continue,
                        }
                    }
                    Some(Item::Msg(env)) => {
                        #[cfg(feature = "testkit")]
                        let Some(env) = super::probe::strike(ctx.core().0, env, F::PANICS_IN_NEXT) else {
                            continue; // stalled: the mailbox gives it back later
                        };
                        return envelope(ctx, env);
                    }
                    Some(Item::Sys(msg)) => msg,
                    None => {
                        handled(ctx.core().0);
                        return Next::Closed;
                    }
                }
            };
            handled(ctx.core().0);
            let msg = match system_at_once(ctx, msg) {
                Ok(Some(next)) => return next,
                Ok(None) => continue,
                Err(msg) => msg,
            };
            if let Some(next) = system(ctx, fe, msg).await {
                return next;
            }
        }
    }
}

/// Handles a system message that needs no hook and no wait without the
/// boxed future of [`system`] (a 1.2 KB allocation for a struct actor):
/// a stop other than a graceful one (a supervisor stops each child this
/// way), a drain (the mailbox closes and the loop goes on; `next` says
/// `Closed` once what was queued is handled), an exit signal. `Err` gives
/// the message back for [`system`].
fn system_at_once<C: Incarnation>(ctx: &mut C, msg: SysMsg) -> Result<Option<Next>, SysMsg> {
    match msg {
        SysMsg::Stop {
            reason: StopReason::Drain,
            ..
        } => {
            drain(ctx.core().0);
            Ok(None)
        }
        SysMsg::Stop { reason, .. } if reason != StopReason::Graceful => {
            Ok(Some(stop(ctx, reason)))
        }
        SysMsg::Exit(exit) => Ok(exit_signal(ctx, *exit)),
        msg => Err(msg),
    }
}

/// An accepted stop: the process is told to end, and the front-end too.
fn stop<C: Incarnation>(ctx: &mut C, reason: StopReason) -> Next {
    ctx.core().0.request_stop(reason);
    Next::Stop(reason)
}

/// Handles a system message that needs a hook or a wait (a graceful stop,
/// supervision traffic); `Some` is what the front-end must act on. The
/// others go through [`system_at_once`] first. Boxed: these are rare, and
/// their hooks' futures would otherwise grow (and slow down) every
/// message's trip through [`next`].
fn system<'a, C: Incarnation, F: Frontend<C>>(
    ctx: &'a mut C,
    fe: &'a mut F,
    msg: SysMsg,
) -> BoxFuture<'a, Option<Next>> {
    Box::pin(async move {
        match msg {
            SysMsg::Stop {
                reason: StopReason::Graceful,
                veto,
            } => {
                match catch(fe.pre_stop(ctx, StopReason::Graceful)).await {
                    Ok(true) => {}
                    Ok(false) => {
                        if let Some(v) = veto {
                            let _ = v.send(StopError::Vetoed);
                        }
                        return None;
                    }
                    Err(panic) => {
                        return Some(Next::Exit(ExitReason::Failed(format!(
                            "pre_stop panicked: {panic}"
                        ))))
                    }
                }
                Some(stop(ctx, StopReason::Graceful))
            }
            SysMsg::Supervision(msg) => supervise(ctx, fe, msg).await.map(Next::Exit),
            // Handled at once (never given back by `system_at_once`).
            other => system_at_once(ctx, other).unwrap_or(None),
        }
    })
}

/// [`next`] without waiting, for front-ends without veto: `None` when
/// nothing is queued. Supervision traffic needs the engine's futures and
/// is left to [`next`]: a front-end polling this way is not a supervisor.
pub(crate) fn try_next<C: Incarnation>(ctx: &mut C) -> Option<Next> {
    handled(ctx.core().0);
    loop {
        let item = ctx.core().0.mailbox.try_recv();
        let Some(item) = item else {
            return (!ctx.core().0.mailbox.is_open()).then_some(Next::Closed);
        };
        let next = match item {
            Item::Msg(env) if is_signal(&env) => signal(ctx, env),
            Item::Msg(env) => {
                #[cfg(feature = "testkit")]
                let Some(env) = super::probe::strike(ctx.core().0, env, true) else {
                    return None; // stalled
                };
                Some(envelope(ctx, env))
            }
            Item::Sys(SysMsg::Supervision(msg)) => {
                msg.reject(SupervisorError::NotASupervisor);
                None
            }
            Item::Sys(msg) => match system_at_once(ctx, msg) {
                Ok(next) => next,
                // A graceful stop, which nothing vetoes here.
                Err(_) => Some(stop(ctx, StopReason::Graceful)),
            },
        };
        if next.is_some() {
            return next;
        }
    }
}

/// Starts a drain: the mailbox takes nothing more, and the loop goes on
/// with what is queued (see [`StopReason::Drain`]).
fn drain(shared: &Shared) {
    shared.request_stop(StopReason::Drain);
    shared.set_stopping();
    shared.mailbox.close();
}

fn envelope<C: Incarnation>(ctx: &mut C, env: Envelope) -> Next {
    if let Some(m) = ctx.core().0.instruments() {
        m.taken(&env);
    }
    trace(ctx, &env);
    Next::Envelope(env)
}

/// The front-end asks for what comes next, or ends: the handling of the
/// envelope it was given last, if any, is over (for the metrics: see
/// [`crate::metrics`]).
fn handled(shared: &Shared) {
    if let Some(m) = shared.instruments() {
        m.handled();
    }
}

/// Records the trace of the envelope about to be handled.
fn trace<C: Incarnation>(ctx: &mut C, env: &Envelope) {
    ctx.set_trace(env.0.trace_id);
    super::current::set_current_trace(env.0.trace_id);
}

/// A signal taken from the mailbox, checked against the process's own
/// monitors and links: `None` when it is dropped (its monitor or link was
/// cancelled, or a normal exit of a partner it does not trap).
fn signal<C: Incarnation>(ctx: &mut C, mut env: Envelope) -> Option<Next> {
    unmark(&mut env);
    // A test's sync marker: everything queued before it is handled.
    #[cfg(feature = "testkit")]
    let env = match env.downcast::<super::probe::SyncMarker>() {
        Ok(marker) => {
            let _ = marker.0.send(());
            return None;
        }
        Err(env) => env,
    };
    let shared = ctx.core().0;
    if let Some(m) = shared.instruments() {
        m.unqueued(1);
    }
    let action = if let Some(down) = env.message::<Down>() {
        match shared.accept_down(down.monitor) {
            true => ExitAction::Deliver,
            false => ExitAction::Ignore,
        }
    } else if let Some(exit) = env.message::<Exit>() {
        shared.accept_exit(exit.from, &exit.reason)
    } else {
        ExitAction::Ignore
    };
    act(ctx, action, env)
}

/// An exit signal from the system channel (its receiver did not trap exits
/// when it was sent; it may since).
fn exit_signal<C: Incarnation>(ctx: &mut C, exit: Exit) -> Option<Next> {
    let action = ctx.core().0.accept_exit(exit.from, &exit.reason);
    let (from, trace) = (exit.from, super::current::current().1);
    act(ctx, action, Envelope::new(exit, from, trace))
}

fn act<C: Incarnation>(ctx: &mut C, action: ExitAction, env: Envelope) -> Option<Next> {
    match action {
        ExitAction::Deliver => {
            trace(ctx, &env);
            Some(Next::Signal(env))
        }
        ExitAction::Exit(reason) => Some(Next::Exit(reason)),
        ExitAction::Ignore => None,
    }
}

/// Feeds a supervision message to the process's engine, then, when a child
/// exited by itself, tells the front-end (`on_child_stopped`, after the
/// engine acted on the exit; a panic there is logged and the process goes
/// on). `Some` is the exit reason when the supervisor must exit: its
/// restart budget is exceeded, and it exits with reason `shutdown`, as an
/// OTP supervisor does, so that a transient parent does not restart it and
/// a permanent one does.
async fn supervise<C: Incarnation, F: Frontend<C>>(
    ctx: &mut C,
    fe: &mut F,
    msg: Box<SupMsg>,
) -> Option<ExitReason> {
    // Runs inside `system`'s boxed future, off the envelope path.
    {
        let Some(engine) = ctx.core().1 else {
            msg.reject(SupervisorError::NotASupervisor);
            return None;
        };
        let Handled { result, exited } = engine.handle(*msg).await;
        if let Some(child) = exited {
            let (id, name) = (child.id, child.name.clone());
            if let Err(panic) = catch(fe.on_child_stopped(ctx, child)).await {
                tracing::error!(%panic, child = %id, %name, "on_child_stopped panicked");
            }
        }
        result.err().map(|_| ExitReason::Shutdown)
    }
}

/// Ends an incarnation, the same way for every kind of process: its timers
/// and streams stop; the front-end's `on_stopped` runs (not after a kill;
/// a panic there makes the exit a failure, `on_stopped panicked: ..`);
/// its children stop in reverse start order (Tokio Actors' latest order:
/// the parent's `on_stopped` before its children stop). Returns the exit
/// reason, for [`end`] to publish once the state is released.
///
/// Boxed: it runs once per incarnation, and its future would otherwise be
/// kept in every process's task for its whole life.
pub(crate) fn teardown<'a, C: Incarnation, F: Frontend<C>>(
    ctx: &'a mut C,
    fe: &'a mut F,
    reason: ExitReason,
) -> BoxFuture<'a, ExitReason> {
    Box::pin(async move {
        let shared = ctx.core().0.clone();
        handled(&shared);
        shared.set_stopping();
        ctx.end_attached();
        let mut reason = reason;
        if reason != ExitReason::Killed {
            if let Err(panic) = catch(fe.on_stopped(ctx, &reason)).await {
                // As a crash in OTP's `terminate`: the exit reason becomes the
                // failure, for the supervisor, monitors and links to see.
                tracing::error!(%panic, "on_stopped panicked");
                reason = ExitReason::Failed(format!("on_stopped panicked: {panic}"));
            }
            if ctx.core().1.is_some() {
                stop_children(ctx).await;
            }
        }
        if let ExitReason::Failed(e) = &reason {
            tracing::error!(error = %e, "actor failed");
        }
        reason
    })
}

/// Ends an incarnation after its [`teardown`]: its state (the front-end
/// and the context) is released, and only then is the exit recorded,
/// which unregisters the process, tells its supervisor and wakes whoever
/// waits for it (see `release.rs`: a panic while dropping the state is
/// logged and changes nothing, a drop that blocks is bounded). Not async:
/// what it takes is not kept beside the run's own state in the task.
pub(crate) fn end<C: Incarnation, F>(ctx: C, fe: F, reason: ExitReason, guard: ExitGuard) {
    let mut ctx = ctx;
    let shared = ctx.core().0.clone();
    guard.disarm();
    release(&shared, shared.incarnation(), reason, move || {
        drop((fe, ctx))
    });
}

/// Stops a supervisor's children in reverse start order (nothing for a
/// process that supervises none).
pub(crate) fn stop_children<C: Incarnation>(ctx: &mut C) -> BoxFuture<'_, ()> {
    Box::pin(async move {
        if let Some(engine) = ctx.core().1 {
            engine.shutdown().await;
        }
    })
}
