//! The one way a process's task starts, whatever its kind.

use std::any::TypeId;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::runtime::Handle;

use super::current::{Current, CURRENT};
use super::process::Shared;
use super::release::{is_releasing, release_killed};
use crate::envelope::TraceId;
use crate::error::SpawnError;
use crate::exit::ExitReason;
use crate::request::dropping_aborted;

/// The root span every piece of a process runs in: its group, key and
/// address.
pub(crate) fn span(shared: &Shared) -> tracing::Span {
    tracing::info_span!(
        parent: None,
        "actor",
        group = %shared.meta.group,
        key = %shared.meta.key,
        addr = %shared.addr
    )
}

/// Registers a prepared process (the registry's type tag is `kind`) and
/// returns the runtime it runs on. A process restarted in place is
/// registered again.
pub(crate) fn register(shared: &Arc<Shared>, kind: fn() -> TypeId) -> Result<Handle, SpawnError> {
    let runtime = shared
        .system
        .runtime_for(shared)
        .ok_or(SpawnError::NoRuntime)?;
    shared.system.register(shared, kind)?;
    Ok(runtime)
}

/// Registers a prepared process and starts its task: see [`spawn_task`].
pub(crate) fn start<F: Future<Output = ()> + Send + 'static>(
    shared: &Arc<Shared>,
    kind: fn() -> TypeId,
    trace_id: TraceId,
    body: impl FnOnce(ExitGuard) -> F,
) -> Result<(), SpawnError> {
    let runtime = register(shared, kind)?;
    spawn_task(ExitGuard::new(shared.clone()), &runtime, trace_id, body);
    Ok(())
}

/// Spawns a registered process's task on `runtime`: inside a root `actor`
/// span that carries its group, key and address, with the process
/// current while it runs (sender address and trace of what it sends), and
/// with its abort handle recorded for kills. `body` gets `guard`, which
/// finishes the process however its task ends.
///
/// A task that is dropped before its end (killed) drops its state so that
/// the response tokens in it answer [`RequestError::Gone`], as the
/// requests still queued do.
///
/// [`RequestError::Gone`]: crate::request::RequestError::Gone
pub(crate) fn spawn_task<F: Future<Output = ()> + Send + 'static>(
    guard: ExitGuard,
    runtime: &Handle,
    trace_id: TraceId,
    body: impl FnOnce(ExitGuard) -> F,
) {
    let shared = guard.shared().clone();
    let task = in_process(&shared, trace_id, GoneOnDrop::new(body(guard)));
    let join = runtime.spawn(task);
    shared.set_abort(join.abort_handle());
}

/// Runs `fut` as code of the process: in its span, with it as the sender
/// of what it sends.
pub(crate) fn in_process<F: Future>(
    shared: &Shared,
    trace_id: TraceId,
    fut: F,
) -> impl Future<Output = F::Output> {
    InProcess {
        span: Some(span(shared))
            .filter(|s| !s.is_disabled())
            .map(Box::new),
        current: Current::new(shared, trace_id),
        inner: Some(fut),
    }
}

pin_project_lite::pin_project! {
    /// Polls a process's future as code of the process: in its span, and
    /// with the process current (`current.rs`) while it is polled and while
    /// it is dropped (a killed task's state answers its requesters then,
    /// see `release_killed`).
    ///
    /// The span is kept as a pointer, and none at all when no subscriber
    /// wants it (the usual case): `tracing`'s `Instrumented` kept a 40-byte
    /// `Span` in every process's task, which then took 32 more bytes than
    /// it needs (`tests/memory.rs`).
    struct InProcess<F> {
        span: Option<Box<tracing::Span>>,
        current: Current,
        #[pin]
        inner: Option<F>,
    }

    impl<F> PinnedDrop for InProcess<F> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            let _entered = this.span.as_ref().map(|span| span.enter());
            let mut inner = this.inner;
            CURRENT.set(this.current, || inner.set(None));
        }
    }
}

impl<F: Future> Future for InProcess<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let _entered = this.span.as_ref().map(|span| span.enter());
        let inner = this.inner;
        CURRENT.set(this.current, || match inner.as_pin_mut() {
            Some(fut) => fut.poll(cx),
            // Never: the future is only taken as this is dropped.
            None => Poll::Pending,
        })
    }
}

/// Finishes the process when its task ends in any way, including abort:
/// created before the task is spawned and moved into it, so it runs even if
/// the task is killed before its first poll.
///
/// Ending normally, the run loop finishes the process with its reason
/// first; the guard's own `finish(Killed)` is then a no-op. A task that is
/// killed is released by [`GoneOnDrop`], which publishes the exit once
/// everything the task held is dropped: the guard leaves it that.
pub(crate) struct ExitGuard(Option<Arc<Shared>>);

impl ExitGuard {
    /// The guard of the incarnation of `shared` that starts now.
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        Self(Some(shared))
    }

    fn shared(&self) -> &Arc<Shared> {
        match &self.0 {
            Some(shared) => shared,
            None => unreachable!("an exit guard is disarmed only as it is consumed"),
        }
    }

    /// Leaves the exit to the caller, which publishes it (a guard dropped
    /// later could end a new incarnation started meanwhile).
    pub(crate) fn disarm(mut self) {
        self.0 = None;
    }
}

impl Drop for ExitGuard {
    fn drop(&mut self) {
        if let Some(shared) = self.0.take() {
            if !is_releasing(&shared) {
                shared.finish(ExitReason::Killed);
            }
        }
    }
}

pin_project_lite::pin_project! {
    /// A process's task body: dropped before its end (the task was
    /// aborted), it drops its state so that response tokens in it answer
    /// `Gone` (reason `killed`), then publishes the exit (see
    /// `release.rs`). It takes nothing more in the task than the body:
    /// the process is the one the task runs (the current
    /// process, whose task this is).
    struct GoneOnDrop<F> {
        #[pin]
        inner: Option<F>,
    }

    impl<F> PinnedDrop for GoneOnDrop<F> {
        fn drop(this: Pin<&mut Self>) {
            // A body that ran to its end holds nothing any more, and has
            // published its exit; one that did not was killed.
            let mut inner = this.project().inner;
            if inner.is_some() {
                release_killed(|| dropping_aborted(|| inner.set(None)));
            }
        }
    }
}

impl<F> GoneOnDrop<F> {
    fn new(fut: F) -> Self {
        Self { inner: Some(fut) }
    }
}

impl<F: Future> Future for GoneOnDrop<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let mut inner = self.project().inner;
        match inner.as_mut().as_pin_mut() {
            Some(body) => match body.poll(cx) {
                Poll::Ready(out) => {
                    // Ended: what it still holds goes now, not with the
                    // task (its exit is published).
                    inner.set(None);
                    Poll::Ready(out)
                }
                Poll::Pending => Poll::Pending,
            },
            None => Poll::Pending,
        }
    }
}
