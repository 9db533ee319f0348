//! Streams built from a generator (elfo's `Stream::generate`): an async
//! block that emits messages with an [`Emitter`], forwarded as a stream is.

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Weak;
use std::task::{Context, Poll};

use futures_core::Stream;

use super::envelope;
use super::forward::deliver;
use crate::addr::Addr;
use crate::attached::Accepts;
use crate::core::process::Shared;
use crate::envelope::TraceId;
use crate::message::Message;

/// What a generator attached with
/// [`Attach::add_generator`](crate::Attach::add_generator) emits its
/// messages with: each [`emit`](Self::emit) sends one to the actor and
/// waits until it is in the mailbox.
///
/// `C` is the actor's context: a struct actor's emitter emits the messages
/// it has a `Handler` for (checked at compile time), a functional actor's
/// any message. A message the actor does not handle does not compile:
///
/// ```compile_fail
/// use troupe::prelude::*;
///
/// #[message]
/// struct Handled;
///
/// #[message]
/// struct NotHandled;
///
/// struct Worker;
///
/// impl Actor for Worker {
///     async fn pre_start(&mut self, ctx: &mut ActorContext<Self>) -> HandlerResult {
///         ctx.add_generator(|e| async move {
///             e.emit(Handled).await;
///             e.emit(NotHandled).await; // error: the actor needs a `Handler<NotHandled>`
///         });
///         Ok(())
///     }
/// }
///
/// impl Handler<Handled> for Worker {
///     async fn handle(&mut self, _: Handled, _: &mut ActorContext<Self>) -> HandlerResult { Ok(()) }
/// }
///
/// impl Handler<StreamEvent> for Worker {
///     async fn handle(&mut self, _: StreamEvent, _: &mut ActorContext<Self>) -> HandlerResult { Ok(()) }
/// }
/// ```
pub struct Emitter<C> {
    target: Weak<Shared>,
    addr: Addr,
    trace: TraceId,
    _context: PhantomData<fn() -> C>,
}

impl<C> Emitter<C> {
    pub(super) fn new(target: Weak<Shared>, addr: Addr, trace: TraceId) -> Self {
        Self {
            target,
            addr,
            trace,
            _context: PhantomData,
        }
    }

    /// Sends `msg` to the actor, in the trace of the scope that attached
    /// the generator, and returns once it is in the mailbox: under the
    /// default [`OverflowPolicy::Wait`](crate::OverflowPolicy) it waits for
    /// space, so a generator never runs ahead of its actor by more than one
    /// message. A fail-fast mailbox that is full reports the message as a
    /// dead letter, and `emit` returns.
    ///
    /// Once the actor's mailbox is closed, `emit` never returns: the
    /// generator is dropped when the incarnation ends, as every attached
    /// stream is.
    pub async fn emit<M: Message>(&self, msg: M)
    where
        C: Accepts<M>,
    {
        let env = envelope(msg, self.addr, self.trace, C::dispatcher());
        if !deliver(&self.target, env).await {
            std::future::pending::<()>().await;
        }
    }

    /// The trace the emitted messages carry: the trace of the scope that
    /// attached the generator.
    pub fn trace_id(&self) -> TraceId {
        self.trace
    }
}

impl<C> fmt::Debug for Emitter<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Emitter")
            .field("addr", &self.addr)
            .field("trace_id", &self.trace)
            .finish()
    }
}

pin_project_lite::pin_project! {
    /// A generator's future as a stream without items (its messages go
    /// out through its emitter), which ends when the future does.
    pub(super) struct Generated<F> {
        #[pin]
        future: Option<F>,
    }
}

impl<F> Generated<F> {
    pub(super) fn new(future: F) -> Self {
        Self {
            future: Some(future),
        }
    }
}

impl<F: Future<Output = ()>> Stream for Generated<F> {
    type Item = Infallible;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Infallible>> {
        let mut this = self.project();
        let Some(future) = this.future.as_mut().as_pin_mut() else {
            return Poll::Ready(None);
        };
        match future.poll(cx) {
            Poll::Ready(()) => {
                this.future.set(None);
                Poll::Ready(None)
            }
            Poll::Pending => Poll::Pending,
        }
    }
}
