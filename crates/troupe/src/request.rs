//! Requests: response tokens, request errors and the awaitable request.

use std::cell::Cell;
use std::fmt;
use std::time::Duration;

use tokio::sync::oneshot;

/// Why a request did not get a response.
///
/// Every request resolves: with the response, or with exactly one of these.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// The actor is not running (it stopped before or while the request
    /// waited in its mailbox, or it was killed while handling it).
    #[error("the actor is gone")]
    Gone,
    /// The actor's mailbox was full and its overflow policy refused or dropped
    /// the request.
    #[error("the actor's mailbox is full")]
    Full,
    /// The handler dropped the response token without answering.
    #[error("the response token was dropped without an answer")]
    Dropped,
    /// No response came before the deadline. The request may still be
    /// handled later; its response is then discarded.
    #[error("no response within {0:?}")]
    Timeout(Duration),
    /// The handler returned an error or panicked; the actor stops (its
    /// supervisor, if any, decides what happens next).
    #[error("the handler failed: {0}")]
    Failed(String),
    /// The actor does not handle this message type.
    #[error("the actor does not handle {0}")]
    Unhandled(&'static str),
    /// A process sent a request to itself, which would wait for its own
    /// answer (OTP's `calling_self`).
    #[error("a process cannot request itself")]
    CallingSelf,
    /// The actor's node went down (or could not be reached) before it
    /// answered.
    #[error("the actor's node is down")]
    NodeDown,
}

/// Why the framework is dropping state that may hold response tokens.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Dropping {
    /// Not the framework: a token dropped now was dropped by its holder.
    ByHolder,
    /// The state of a handler that panicked.
    FailedHandler,
    /// The task of a process that is being killed.
    AbortedTask,
}

thread_local! {
    /// Set while the framework drops state that may hold response tokens,
    /// so that tokens dropped then answer what happened (`Failed`, `Gone`)
    /// instead of `Dropped`.
    static DROPPING: Cell<Dropping> = const { Cell::new(Dropping::ByHolder) };
}

/// Runs `f` with the reason tokens dropped inside it report, restoring
/// the previous one afterwards, even if `f` panics.
fn dropping<R>(why: Dropping, f: impl FnOnce() -> R) -> R {
    struct Restore(Dropping);
    impl Drop for Restore {
        fn drop(&mut self) {
            DROPPING.with(|d| d.set(self.0));
        }
    }
    let _restore = Restore(DROPPING.with(|d| d.replace(why)));
    f()
}

/// Drops a failed handler's state so that response tokens dropped inside
/// report that the handler panicked.
pub(crate) fn drop_failed<T>(value: T) {
    dropping(Dropping::FailedHandler, || drop(value));
}

/// Runs `f`, which drops the state of a process's task that did not run
/// to its end (it was killed), so that response tokens dropped inside
/// report that the actor is gone: the requester learns what a request
/// queued behind it learns.
pub(crate) fn dropping_aborted<R>(f: impl FnOnce() -> R) -> R {
    dropping(Dropping::AbortedTask, f)
}

/// The right to answer one request, exactly once.
///
/// Answer with [`ResponseToken::respond`] (or `Context::respond`). The token
/// cannot be used twice: `respond` consumes it. Dropping it unanswered
/// resolves the requester with [`RequestError::Dropped`] (or
/// [`RequestError::Failed`] if the handler holding it panicked, or
/// [`RequestError::Gone`] if its actor was killed while holding it).
#[must_use = "dropping a token answers the requester with RequestError::Dropped"]
pub struct ResponseToken<R> {
    tx: Option<oneshot::Sender<Result<R, RequestError>>>,
    /// When the requester stops waiting (`None`: never).
    deadline: Option<tokio::time::Instant>,
}

impl<R> ResponseToken<R> {
    pub(crate) fn new(
        deadline: Option<tokio::time::Instant>,
    ) -> (Self, oneshot::Receiver<Result<R, RequestError>>) {
        let (tx, rx) = oneshot::channel();
        (
            Self {
                tx: Some(tx),
                deadline,
            },
            rx,
        )
    }

    /// The instant after which the requester no longer waits for the
    /// answer (`None`: it waits as long as it takes, as OTP's `infinity`).
    ///
    /// A handler may use it to skip work nobody will see; a layer that
    /// carries the request elsewhere (a transport to another node) passes
    /// it on, so the remote side gives up at the same time.
    ///
    /// ```
    /// use troupe::prelude::*;
    /// use troupe::{ActorGroup, Schema};
    ///
    /// #[message(ret = u64)]
    /// struct Estimate;
    ///
    /// // Answers 0 at once when less than a millisecond is left.
    /// pub fn estimator() -> Schema {
    ///     ActorGroup::new().exec(|mut ctx| async move {
    ///         while let Some(envelope) = ctx.recv().await {
    ///             msg!(match envelope {
    ///                 (Estimate, token) => {
    ///                     let left = token.deadline().map(|d| {
    ///                         d.saturating_duration_since(tokio::time::Instant::now())
    ///                     });
    ///                     let hurry = left.is_some_and(|l| l.as_millis() < 1);
    ///                     ctx.respond(token, if hurry { 0 } else { 42 });
    ///                 }
    ///             })
    ///         }
    ///     })
    /// }
    /// ```
    pub fn deadline(&self) -> Option<tokio::time::Instant> {
        self.deadline
    }

    /// Sends the response. Returns `false` if the requester no longer waits
    /// (it timed out or was cancelled); the response is then discarded.
    pub fn respond(mut self, response: R) -> bool {
        match self.tx.take() {
            Some(tx) => tx.send(Ok(response)).is_ok(),
            None => false,
        }
    }

    /// Whether the requester still waits for the answer.
    pub fn is_waiting(&self) -> bool {
        self.tx.as_ref().is_some_and(|tx| !tx.is_closed())
    }

    /// Answers the requester with `err` instead of a response: for a layer
    /// that carries requests elsewhere (a transport to another node) and
    /// learns that they failed there.
    pub fn fail(mut self, err: RequestError) {
        if let Some(tx) = self.tx.take() {
            let _ = tx.send(Err(err));
        }
    }
}

impl<R> Drop for ResponseToken<R> {
    fn drop(&mut self) {
        if let Some(tx) = self.tx.take() {
            let err = match DROPPING.with(Cell::get) {
                Dropping::AbortedTask => RequestError::Gone,
                Dropping::FailedHandler => RequestError::Failed("the handler panicked".into()),
                Dropping::ByHolder if std::thread::panicking() => {
                    RequestError::Failed("the handler panicked".into())
                }
                Dropping::ByHolder => RequestError::Dropped,
            };
            let _ = tx.send(Err(err));
        }
    }
}

impl<R> fmt::Debug for ResponseToken<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseToken")
            .field("waiting", &self.is_waiting())
            .finish()
    }
}

/// Awaits a response until an instant; `timeout` is what the error reports.
pub(crate) async fn await_response_until<R>(
    rx: oneshot::Receiver<Result<R, RequestError>>,
    at: Option<tokio::time::Instant>,
    timeout: Duration,
) -> Result<R, RequestError> {
    match crate::deadline::WithDeadline::new(rx, at, timeout).await {
        Ok(Ok(r)) => r,
        // The token is answered in its `Drop`, so a closed channel means the
        // whole envelope was dropped without the framework seeing it.
        Ok(Err(_)) => Err(RequestError::Gone),
        Err(crate::deadline::Elapsed(t)) => Err(RequestError::Timeout(t)),
    }
}
