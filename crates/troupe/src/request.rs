//! Requests: response tokens, request errors and the awaitable request.

use std::cell::Cell;
use std::fmt;
use std::time::Duration;

use tokio::sync::oneshot;

use crate::exit::ExitReason;
use crate::moment::Moment;

/// Why a request did not get a response.
///
/// Every request resolves: with the response, or with exactly one of these.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// The actor is not running (it stopped before or while the request
    /// waited in its mailbox, or it was killed while handling it).
    ///
    /// `reason` is how it ended, when that is known: the exit reason of the
    /// process that refused or dropped the request (`killed` for a request
    /// whose handler was killed). It is `None` when nobody could tell: no
    /// process had the address, the envelope was lost without the
    /// framework seeing it, or the answer came from another node. Match it
    /// with `RequestError::Gone { .. }`; build one with
    /// [`RequestError::gone`] or [`RequestError::gone_with`].
    #[error("the actor is gone{}", gone_suffix(reason))]
    Gone {
        /// How the process ended, if known.
        reason: Option<ExitReason>,
    },
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

fn gone_suffix(reason: &Option<ExitReason>) -> String {
    reason
        .as_ref()
        .map(|r| format!(" (it exited: {r})"))
        .unwrap_or_default()
}

impl RequestError {
    /// [`RequestError::Gone`] for a process whose exit reason is unknown.
    pub const fn gone() -> Self {
        RequestError::Gone { reason: None }
    }

    /// [`RequestError::Gone`] for a process that exited with `reason`.
    ///
    /// ```
    /// use troupe::{ExitReason, RequestError};
    /// let e = RequestError::gone_with(ExitReason::Killed);
    /// assert_eq!(e.exit_reason(), Some(&ExitReason::Killed));
    /// assert_eq!(e.to_string(), "the actor is gone (it exited: killed)");
    /// assert!(matches!(e, RequestError::Gone { .. }));
    /// assert_eq!(RequestError::gone().to_string(), "the actor is gone");
    /// ```
    pub fn gone_with(reason: ExitReason) -> Self {
        RequestError::Gone {
            reason: Some(reason),
        }
    }

    /// Whether this is [`RequestError::Gone`], whatever its reason.
    pub fn is_gone(&self) -> bool {
        matches!(self, RequestError::Gone { .. })
    }

    /// The exit reason a [`RequestError::Gone`] carries, if known.
    pub fn exit_reason(&self) -> Option<&ExitReason> {
        match self {
            RequestError::Gone { reason } => reason.as_ref(),
            _ => None,
        }
    }
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
    /// The panic of the handler whose state is being dropped, for the
    /// requesters it leaves unanswered.
    static PANIC: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
    /// How many [`answering_panics`] scopes run on this thread.
    static CATCHING: Cell<u32> = const { Cell::new(0) };
    /// Tokens dropped by a panic unwinding inside such a scope: they answer
    /// once the scope knows the panic's message.
    static UNANSWERED: std::cell::RefCell<Vec<Unanswered>> = const { std::cell::RefCell::new(Vec::new()) };
    /// Whether `UNANSWERED` has any (a plain flag: cheaper to read).
    static ANY_UNANSWERED: Cell<bool> = const { Cell::new(false) };
}

/// A token dropped by an unwinding panic, waiting for its message.
type Unanswered = Box<dyn FnOnce(RequestError)>;

/// A scope (one poll of a future under `catch_unwind`) in which response
/// tokens dropped while a panic unwinds (tokens held in the handler's
/// locals) wait for the scope to learn the panic's message, then answer
/// `Failed("the handler panicked: <message>")`.
///
/// Every handled message goes through one: the path without a panic costs
/// two thread-local counter updates and one flag read.
pub(crate) struct AnsweringPanics(());

impl AnsweringPanics {
    #[inline]
    pub(crate) fn enter() -> Self {
        CATCHING.with(|c| c.set(c.get().wrapping_add(1)));
        AnsweringPanics(())
    }

    /// Leaves the scope; `panic` is the message of the panic it caught.
    #[inline]
    pub(crate) fn leave(self, panic: Option<&str>) {
        CATCHING.with(|c| c.set(c.get().wrapping_sub(1)));
        if ANY_UNANSWERED.with(Cell::get) {
            answer_unanswered(panic);
        }
    }
}

/// Answers the tokens a panic dropped (with its message; a panic the
/// handler caught itself leaves none).
#[cold]
fn answer_unanswered(panic: Option<&str>) {
    ANY_UNANSWERED.with(|a| a.set(false));
    let unanswered = UNANSWERED.with(|u| std::mem::take(&mut *u.borrow_mut()));
    for answer in unanswered {
        answer(panicked(panic));
    }
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
/// report that the handler panicked, with the panic's message, which is
/// given back.
pub(crate) fn drop_failed<T>(value: T, panic: String) -> String {
    dropping_failed(panic, || drop(value)).1
}

/// Runs `f`, which drops the state of a handler that panicked with
/// `panic`: response tokens dropped inside answer
/// `Failed("the handler panicked: <panic>")`. The message is lent to them
/// (moved, not copied: a restart after a panic went through here) and
/// given back with `f`'s result.
pub(crate) fn dropping_failed<R>(panic: String, f: impl FnOnce() -> R) -> (R, String) {
    /// Puts the message that was there before back, even if `f` panics.
    struct Restore(Option<Option<String>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            if let Some(previous) = self.0.take() {
                PANIC.with(|p| *p.borrow_mut() = previous);
            }
        }
    }
    let mut restore = Restore(Some(PANIC.with(|p| p.replace(Some(panic)))));
    let result = dropping(Dropping::FailedHandler, f);
    let previous = restore.0.take().flatten();
    // A nested lending gave this one back before it returned.
    let panic = PANIC.with(|p| p.replace(previous)).unwrap_or_default();
    (result, panic)
}

/// The error of a request whose handler panicked (with `panic`, if known).
fn panicked(panic: Option<&str>) -> RequestError {
    match panic {
        Some(panic) => RequestError::Failed(format!("the handler panicked: {panic}")),
        None => RequestError::Failed("the handler panicked".into()),
    }
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
pub struct ResponseToken<R: Send + 'static> {
    tx: Option<oneshot::Sender<Result<R, RequestError>>>,
    /// When the requester stops waiting (`None`: never), in 8 bytes instead
    /// of an `Option<Instant>`'s 16: the token is then 24 bytes, and a
    /// request whose message is a unit struct fits inline in its envelope
    /// (no allocation for its payload).
    deadline: CompactMoment,
}

impl<R: Send + 'static> ResponseToken<R> {
    pub(crate) fn new(
        deadline: Option<Moment>,
    ) -> (Self, oneshot::Receiver<Result<R, RequestError>>) {
        let (tx, rx) = oneshot::channel();
        (
            Self {
                tx: Some(tx),
                deadline: CompactMoment::new(deadline),
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
        self.deadline.get().map(Moment::instant)
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

impl<R: Send + 'static> Drop for ResponseToken<R> {
    fn drop(&mut self) {
        if let Some(tx) = self.tx.take() {
            let err = match DROPPING.with(Cell::get) {
                Dropping::AbortedTask => RequestError::gone_with(ExitReason::Killed),
                Dropping::FailedHandler => PANIC.with(|p| panicked(p.borrow().as_deref())),
                Dropping::ByHolder if std::thread::panicking() => {
                    if CATCHING.with(Cell::get) > 0 {
                        // The scope that catches this panic answers it
                        // with the panic's message.
                        UNANSWERED.with(|u| {
                            u.borrow_mut().push(Box::new(move |err: RequestError| {
                                let _ = tx.send(Err(err));
                            }));
                        });
                        ANY_UNANSWERED.with(|a| a.set(true));
                        return;
                    }
                    panicked(None)
                }
                Dropping::ByHolder => RequestError::Dropped,
            };
            let _ = tx.send(Err(err));
        }
    }
}

impl<R: Send + 'static> fmt::Debug for ResponseToken<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseToken")
            .field("waiting", &self.is_waiting())
            .finish()
    }
}

/// An optional [`Moment`] in one word: `i64::MIN` for none (a moment is
/// never below [`Moment::MIN`]).
#[derive(Clone, Copy, PartialEq, Eq)]
struct CompactMoment(i64);

impl CompactMoment {
    const NONE: i64 = i64::MIN;

    fn new(at: Option<Moment>) -> Self {
        Self(at.map_or(Self::NONE, Moment::nanos))
    }

    fn get(self) -> Option<Moment> {
        (self.0 != Self::NONE).then(|| Moment::from_nanos(self.0))
    }
}

/// Awaits a response until a moment; `timeout` is what the error reports.
pub(crate) async fn await_response_until<R>(
    rx: oneshot::Receiver<Result<R, RequestError>>,
    at: Option<Moment>,
    timeout: Duration,
) -> Result<R, RequestError> {
    match crate::deadline::WithDeadline::new(rx, at, timeout).await {
        Ok(Ok(r)) => r,
        // The token is answered in its `Drop`, so a closed channel means the
        // whole envelope was dropped without the framework seeing it.
        Ok(Err(_)) => Err(RequestError::gone()),
        Err(crate::deadline::Elapsed(t)) => Err(RequestError::Timeout(t)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lent() -> Option<String> {
        PANIC.with(|p| p.borrow().clone())
    }

    /// The message is there while the state drops, given back whole
    /// afterwards, and what was there before is put back, also around a
    /// nested lending and after a panic inside.
    #[test]
    fn a_panic_message_is_lent_for_the_drop_and_given_back() {
        assert_eq!(lent(), None);
        let (seen, back) = dropping_failed("outer".to_owned(), || {
            let (inner, back) = dropping_failed("inner".to_owned(), lent);
            assert_eq!((inner.as_deref(), back.as_str()), (Some("inner"), "inner"));
            lent()
        });
        assert_eq!((seen.as_deref(), back.as_str()), (Some("outer"), "outer"));
        assert_eq!(lent(), None);

        let panicked = std::panic::catch_unwind(|| {
            dropping_failed("lost".to_owned(), || panic!("while dropping"))
        });
        assert!(panicked.is_err());
        assert_eq!(lent(), None);
    }
}
