//! The one delivery and request path, whatever addresses the target: a
//! typed handle, a group handle, a context sending by address or through
//! the topology.

use std::borrow::Cow;
use std::future::{poll_fn, Future};
use std::pin::pin;
use std::task::Poll;
use std::time::Duration;

use super::current::current;
use super::instruments::Series;
use super::process::Shared;
use crate::addr::Addr;
use crate::envelope::{Dispatcher, Envelope};
use crate::error::SendError;
use crate::exit::ExitReason;
use crate::message::Message;
use crate::moment::Moment;
use crate::request::{await_response_until, RequestError, ResponseToken};
use crate::stamp::Stamp;

/// The future of [`Shared::deliver`]: a mailbox push (see
/// [`Mailbox::poll_push`](super::mailbox::Mailbox::poll_push)), then what
/// its outcome means for the sender ([`Shared::settle`]). 80 bytes: it
/// lives in the future of every handler that sends.
#[must_use = "futures do nothing unless polled"]
pub(crate) struct Delivering<'a> {
    shared: &'a Shared,
    /// `None` once delivered.
    env: Option<Envelope>,
    /// Its ticket in the line of senders waiting for space (0: none).
    ticket: u64,
}

impl<'a> Delivering<'a> {
    pub(super) fn new(shared: &'a Shared, env: Envelope) -> Self {
        Self {
            shared,
            env: Some(env),
            ticket: 0,
        }
    }
}

impl Future for Delivering<'_> {
    type Output = Result<(), SendError<Envelope>>;

    fn poll(self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> Poll<Self::Output> {
        // `Delivering` is `Unpin`: nothing in it points into itself.
        let this = self.get_mut();
        let mailbox = &this.shared.mailbox;
        let res = std::task::ready!(mailbox.poll_push(&mut this.env, &mut this.ticket, cx.waker()));
        Poll::Ready(this.shared.settle(res))
    }
}

impl Drop for Delivering<'_> {
    fn drop(&mut self) {
        self.shared.mailbox.leave_line(self.ticket);
    }
}

/// A [`Delivering`] whose error hands the sender its message back, typed.
#[must_use = "futures do nothing unless polled"]
pub(crate) struct SendBack<'a, M> {
    delivering: Delivering<'a>,
    _message: std::marker::PhantomData<fn() -> M>,
}

impl<'a, M: Message> SendBack<'a, M> {
    pub(crate) fn new(delivering: Delivering<'a>) -> Self {
        Self {
            delivering,
            _message: std::marker::PhantomData,
        }
    }
}

impl<M: Message> Future for SendBack<'_, M> {
    type Output = Result<(), SendError<M>>;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> Poll<Self::Output> {
        std::pin::Pin::new(&mut self.delivering)
            .poll(cx)
            .map_err(|e| e.map(Envelope::into_sent))
    }
}

/// Something envelopes can be delivered to: one process, a group (through
/// its router), the outgoing routes of a group.
pub(crate) trait Deliver: Sync {
    /// Delivers, waiting for mailbox space where the target's policy says
    /// so.
    fn deliver(
        &self,
        env: Envelope,
    ) -> impl Future<Output = Result<(), SendError<Envelope>>> + Send;

    /// Delivers without waiting: a full mailbox is `SendError::Full`.
    fn try_deliver(&self, env: Envelope) -> Result<(), SendError<Envelope>>;

    /// The one process this target is, if it is one (to refuse requests a
    /// process makes to itself).
    fn process(&self) -> Option<Addr> {
        None
    }

    /// How the process this target is ended, if it is one and has.
    fn exit_reason(&self) -> Option<ExitReason> {
        None
    }

    /// Where a request to this target is counted, in a system with metrics
    /// on: the target's series (`env` is the request, for a target that
    /// routes).
    fn request_series(&self, env: &Envelope) -> Option<Cow<'_, Series>> {
        let _ = env;
        None
    }
}

impl Deliver for Shared {
    fn deliver(
        &self,
        env: Envelope,
    ) -> impl Future<Output = Result<(), SendError<Envelope>>> + Send {
        Shared::deliver(self, env)
    }

    fn try_deliver(&self, env: Envelope) -> Result<(), SendError<Envelope>> {
        Shared::try_deliver(self, env)
    }

    fn process(&self) -> Option<Addr> {
        Some(self.addr)
    }

    fn exit_reason(&self) -> Option<ExitReason> {
        Shared::exit_reason(self)
    }

    fn request_series(&self, _: &Envelope) -> Option<Cow<'_, Series>> {
        self.instruments().map(|m| Cow::Borrowed(&m.series))
    }
}

/// One process's priority lane as a delivery target: never waits (a full
/// lane is `SendError::Full`).
pub(crate) struct Priority<'a>(pub(crate) &'a Shared);

impl Deliver for Priority<'_> {
    fn deliver(
        &self,
        env: Envelope,
    ) -> impl Future<Output = Result<(), SendError<Envelope>>> + Send {
        std::future::ready(self.0.try_deliver_priority(env))
    }

    fn try_deliver(&self, env: Envelope) -> Result<(), SendError<Envelope>> {
        self.0.try_deliver_priority(env)
    }

    fn exit_reason(&self) -> Option<ExitReason> {
        Shared::exit_reason(self.0)
    }

    fn request_series(&self, env: &Envelope) -> Option<Cow<'_, Series>> {
        Deliver::request_series(self.0, env)
    }

    fn process(&self) -> Option<Addr> {
        Some(self.0.addr)
    }
}

/// Sends a request and waits for its answer or a typed error.
///
/// The deadline (`None`: none, as `infinity` in OTP) covers the wait for
/// mailbox space as well as the answer. No timer is armed while the
/// mailbox takes the request at once and the answer comes before the
/// deadline's sweep (see `deadline.rs`), which is the usual case.
///
/// A process that requests itself would wait for its own answer until the
/// deadline; as OTP's `gen_server:call` to self (`calling_self`), it gets
/// [`RequestError::CallingSelf`] at once instead.
///
/// In a system with metrics on, how it resolved is counted in the target's
/// series (`troupe_requests_total`, see [`crate::metrics`]).
pub(crate) async fn request<T: Deliver + ?Sized, M: Message>(
    target: &T,
    msg: M,
    dispatcher: Option<Dispatcher>,
    timeout: Option<Duration>,
) -> Result<M::Response, RequestError> {
    let (sender, trace) = current();
    let sent = Stamp::now();
    let deadline = timeout.and_then(|t| crate::deadline::after(sent, t));
    let (token, rx) = ResponseToken::new(deadline);
    // Only what the answer's wait needs is kept across it (the envelope
    // and the first attempt stay in this block): this future lives in the
    // future of every handler that makes a request, and the envelope, the
    // first attempt and the slow path made it 632 bytes.
    let (series, slow) = {
        let mut env = Envelope::request(msg, token, sender, trace, sent);
        env.0.dispatcher = dispatcher;
        let series = target.request_series(&env);
        match deliver_request(target, env, sender) {
            Ok(()) => (series, None),
            Err(Undelivered::Failed(e)) => return counted(series.as_deref(), Err(e)),
            Err(Undelivered::Wait(env)) => {
                let slow = deliver_waiting(target, env, deadline.map(Moment::instant), timeout);
                (series, Some(slow))
            }
        }
    };
    if let Some(slow) = slow {
        if let Err(e) = slow.await {
            return counted(series.as_deref(), Err(e));
        }
    }
    let result = await_response_until(rx, deadline, timeout.unwrap_or_default()).await;
    counted(series.as_deref(), result)
}

/// Counts how a request resolved in its target's series, if any.
fn counted<R>(series: Option<&Series>, result: Result<R, RequestError>) -> Result<R, RequestError> {
    if let Some(series) = series {
        series.request(&result);
    }
    result
}

/// Why [`deliver_request`] did not deliver.
enum Undelivered {
    /// The request failed (its token is resolved quietly: the caller gets
    /// the error directly).
    Failed(RequestError),
    /// It must wait for mailbox space, or go through a group's router.
    Wait(Envelope),
}

/// The target takes the request at once when the mailbox it goes to has
/// room (the usual case): no async delivery then. A request reaches one
/// process even through a group (its router picks one), so trying again
/// on the slow path delivers it once.
fn deliver_request<T: Deliver + ?Sized>(
    target: &T,
    env: Envelope,
    sender: Addr,
) -> Result<(), Undelivered> {
    // Outside processes the sender is the null address, which no process has.
    if target.process() == Some(sender) {
        drop(env);
        return Err(Undelivered::Failed(RequestError::CallingSelf));
    }
    match target.try_deliver(env) {
        Ok(()) => Ok(()),
        Err(SendError::Full(env)) => Err(Undelivered::Wait(env)),
        Err(e) => Err(Undelivered::Failed(undelivered(target, e))),
    }
}

/// The slow path of a request: the mailbox it goes to is full. Boxed, so
/// that its delivery and timer futures take no room in the requester's
/// future; the delivery is tried once without a timer.
fn deliver_waiting<'a, T: Deliver + ?Sized>(
    target: &'a T,
    env: Envelope,
    deadline: Option<tokio::time::Instant>,
    timeout: Option<Duration>,
) -> crate::catch::BoxFuture<'a, Result<(), RequestError>> {
    Box::pin(async move {
        let mut delivery = pin!(target.deliver(env));
        let delivered = match poll_fn(|cx| Poll::Ready(delivery.as_mut().poll(cx))).await {
            Poll::Ready(res) => res,
            Poll::Pending => match deadline {
                Some(d) => match tokio::time::timeout_at(d, delivery).await {
                    Ok(res) => res,
                    Err(_) => return Err(RequestError::Timeout(timeout.unwrap_or_default())),
                },
                None => delivery.await,
            },
        };
        delivered.map_err(|e| undelivered(target, e))
    })
}

/// The error of a request its target did not take.
fn undelivered<T: Deliver + ?Sized>(target: &T, e: SendError<Envelope>) -> RequestError {
    let err = if e.is_full() {
        RequestError::Full
    } else {
        RequestError::Gone {
            reason: target.exit_reason(),
        }
    };
    // Resolve the token quietly: the caller gets the error directly.
    drop(e.into_inner());
    err
}
