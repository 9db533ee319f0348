//! Catching panics of handlers and hooks, so that a panic becomes a failure
//! the actor (and its supervisor) can see instead of a lost task.

use std::any::Any;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll};

/// Polls a future, turning a panic into `Err(message)`.
pub(crate) struct CatchUnwind<F>(pub(crate) F);

impl<F: Future + Unpin> Future for CatchUnwind<F> {
    type Output = Result<F::Output, String>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = &mut self.0;
        match catch_unwind(AssertUnwindSafe(|| Pin::new(&mut *inner).poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(v)) => Poll::Ready(Ok(v)),
            Err(payload) => Poll::Ready(Err(panic_message(payload.as_ref()))),
        }
    }
}

/// Like [`CatchUnwind`], for futures that hold response tokens in their
/// locals (a functional actor's `exec`): a token the panic drops while
/// unwinding answers with the panic's message (see
/// `request::AnsweringPanics`).
struct CatchAnswering<F>(F);

impl<F: Future + Unpin> Future for CatchAnswering<F> {
    type Output = Result<F::Output, String>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = &mut self.0;
        let scope = crate::request::AnsweringPanics::enter();
        match catch_unwind(AssertUnwindSafe(|| Pin::new(&mut *inner).poll(cx))) {
            Ok(Poll::Pending) => {
                scope.leave(None);
                Poll::Pending
            }
            Ok(Poll::Ready(v)) => {
                scope.leave(None);
                Poll::Ready(Ok(v))
            }
            Err(payload) => {
                let panic = panic_message(payload.as_ref());
                scope.leave(Some(&panic));
                Poll::Ready(Err(panic))
            }
        }
    }
}

/// Runs a hook future to completion, catching a panic. The state of a
/// future that panicked is dropped at once, so that the requesters whose
/// tokens it held learn the panic's message.
pub(crate) async fn catch<F: Future>(fut: F) -> Result<F::Output, String> {
    let mut slot = std::pin::pin!(Some(fut));
    let Some(fut) = slot.as_mut().as_pin_mut() else {
        return Err("the future was gone before it ran".into());
    };
    match CatchAnswering(fut).await {
        Err(panic) => Err(crate::request::dropping_failed(panic, || slot.set(None)).1),
        done => done,
    }
}

/// The text of a panic payload.
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic with a non-string payload".to_owned()
    }
}

/// A boxed, sendable future.
pub(crate) type BoxFuture<'a, T> =
    std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;
