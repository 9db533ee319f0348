//! The one way a process's task starts, whatever its kind.

use std::any::TypeId;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::runtime::Handle;
use tracing::Instrument;

use super::current::{Current, CURRENT};
use super::process::Shared;
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
        .runtime_for(&shared.meta)
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
    spawn_task(ExitGuard(shared.clone()), &runtime, trace_id, body);
    Ok(())
}

/// Spawns a registered process's task on `runtime`: inside a root `actor`
/// span that carries its group, key and address, with the task-local
/// current process set (sender address and trace of what it sends), and
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
    let shared = guard.0.clone();
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
    CURRENT
        .scope(Current::new(shared, trace_id), fut)
        .instrument(span(shared))
}

/// Finishes the process when its task ends in any way, including abort:
/// created before the task is spawned and moved into it, so it runs even if
/// the task is killed before its first poll.
///
/// Ending normally, the run loop finishes the process with its reason
/// first; the guard's own `finish(Killed)` is then a no-op.
pub(crate) struct ExitGuard(pub(crate) Arc<Shared>);

impl Drop for ExitGuard {
    fn drop(&mut self) {
        self.0.finish(ExitReason::Killed);
    }
}

pin_project_lite::pin_project! {
    /// A process's task body: dropped before its end (the task was
    /// aborted), it drops its state so that response tokens in it answer
    /// `Gone`.
    struct GoneOnDrop<F> {
        #[pin]
        inner: Option<F>,
    }

    impl<F> PinnedDrop for GoneOnDrop<F> {
        fn drop(this: Pin<&mut Self>) {
            // A body that ran to its end holds nothing any more; one that
            // did not was killed.
            let mut inner = this.project().inner;
            dropping_aborted(|| inner.set(None));
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
        match self.project().inner.as_pin_mut() {
            Some(inner) => inner.poll(cx),
            // Only dropping empties it.
            None => Poll::Pending,
        }
    }
}
