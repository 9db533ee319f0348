//! Multi-responses: one request to every actor the topology's routes
//! select, resolved to each one's answer ([`RequestAll`], elfo's
//! `ctx.request(..).all()`).

use std::fmt;
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::time::Instant;

use super::context::RequestBuilder;
use super::route::Responder;
use crate::addr::Addr;
use crate::core::current::current;
use crate::core::dead_letter::DeadLetterReason;
use crate::core::instruments::Series;
use crate::envelope::Envelope;
use crate::error::SendError;
use crate::message::Message;
use crate::moment::Moment;
use crate::request::{await_response_until, RequestError, ResponseToken};
use crate::stamp::Stamp;

impl<'a, M: Message> RequestBuilder<'a, M> {
    /// Sends the request to every actor the routes select instead of one,
    /// and resolves to each one's answer: see [`RequestAll`].
    pub fn all(self) -> RequestAll<'a, M> {
        RequestAll { one: self }
    }
}

/// A request to every actor the routes select (elfo's
/// `ctx.request(..).all()`): `.resolve().await` gives one entry per
/// responder, its answer or why there is none.
///
/// - **Who**: every route whose filter accepts the request, in the order
///   the routes were declared, and within each group every actor its
///   router selects, in the router's order: each key of a multicast
///   (started on demand), the existing ones of a gentle outcome, every
///   actor of a broadcast. A group of another node is one responder (its
///   router there picks). With [`Context::request_to`](super::Context::request_to),
///   the one process addressed. An actor waiting for a restart is a
///   responder too: its next incarnation answers if it starts in time.
/// - **Copies**: each responder gets its own copy of the message, so it
///   must be `Clone` for more than one; a message that is not `Clone`
///   reaches the first responder only (the Vec has one entry), and each
///   of the others is reported as a dead letter.
/// - **Deadline**: the builder's timeout is one deadline for all, as OTP's
///   `multi_call` and elfo: each responder that has not answered by then
///   gives a [`RequestError::Timeout`] entry, the others their answers.
/// - **Errors per responder**: a responder that drops its token gives
///   [`RequestError::Dropped`], one that is gone [`RequestError::Gone`],
///   one whose mailbox refuses it [`RequestError::Full`]; the requester
///   itself, if selected, [`RequestError::CallingSelf`].
/// - **Nobody**: when no route selects anybody, the result is an empty
///   Vec (and the request is one dead letter, `NoRecipient`): there is
///   one entry per responder, and there are none. (elfo answers one
///   `Failed` entry instead.)
///
/// ```
/// use troupe::prelude::*;
/// use troupe::{Outcome, Topology};
///
/// #[message(ret = String)]
/// #[derive(Clone)]
/// struct Name;
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let topology = Topology::empty();
/// let (client, shards) = (topology.local("client"), topology.local("shards"));
/// shards.mount(
///     ActorGroup::new()
///         .router(|_| Outcome::multicast(["a", "b", "c"]))
///         .exec(|mut ctx| async move {
///             while let Some(envelope) = ctx.recv().await {
///                 msg!(match envelope {
///                     (Name, token) => {
///                         let key = ctx.key().to_owned();
///                         ctx.respond(token, key);
///                     }
///                 })
///             }
///         }),
/// );
/// client.route_to(&shards, |_| true);
/// let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
/// client.mount(ActorGroup::new().exec(move |ctx| {
///     let tx = tx.clone();
///     async move {
///         let names: Vec<Result<String, RequestError>> = ctx.request(Name).all().resolve().await;
///         let _ = tx.send(names);
///     }
/// }));
/// let system = troupe::init::try_start(topology).unwrap();
/// let names = rx.recv().await.unwrap();
/// assert_eq!(names, [Ok("a".to_string()), Ok("b".into()), Ok("c".into())]);
/// system.shutdown().await;
/// # }
/// ```
#[must_use = "a request does nothing until resolved"]
pub struct RequestAll<'a, M: Message> {
    one: RequestBuilder<'a, M>,
}

/// One responder's part: its answer to wait for, or already its error.
enum Pending<R> {
    Waiting(oneshot::Receiver<Result<R, RequestError>>, Option<Series>),
    Done(RequestError, Option<Series>),
}

impl<M: Message> RequestAll<'_, M> {
    /// Sets the deadline of every responder (`None`: wait forever). The
    /// default is the actor's request timeout (5 s unless configured). It
    /// covers the wait for mailbox space too.
    pub fn timeout(mut self, timeout: Option<Duration>) -> Self {
        self.one.timeout = timeout;
        self
    }

    /// Sends the request to every responder and waits for all answers (or
    /// the deadline): one entry per responder, in the order described on
    /// [`RequestAll`].
    pub async fn resolve(self) -> Vec<Result<M::Response, RequestError>> {
        let RequestBuilder {
            ctx,
            msg,
            to,
            timeout,
        } = self.one;
        if to.is_some() {
            let one = RequestBuilder {
                ctx,
                msg,
                to,
                timeout,
            };
            return vec![one.resolve().await];
        }
        let (sender, trace) = current();
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        let waited = timeout.unwrap_or_default();
        let at = deadline.map(Moment::from_instant);
        let (token, rx) = ResponseToken::new(at);
        let env = Envelope::request(msg, token, sender, trace, Stamp::now());
        let group = &ctx.group;
        let responders = group.responders(&env);
        if responders.is_empty() {
            group
                .system
                .dead_letter(Addr::NULL, &env, DeadLetterReason::NoRecipient);
            drop((rx, env));
            return Vec::new();
        }
        // A copy (with its own token) for each responder but the first,
        // made before the first's envelope leaves.
        let mut copies = Vec::with_capacity(responders.len() - 1);
        for responder in &responders[1..] {
            let copy = env
                .request_ref::<M>()
                .and_then(|(m, _)| m.__try_clone())
                .map(|m| {
                    let (token, rx) = ResponseToken::new(at);
                    (Envelope::request(m, token, sender, trace, Stamp::now()), rx)
                });
            if copy.is_none() {
                tracing::debug!(
                    message = M::NAME,
                    "a message that is not Clone reaches one responder only"
                );
                group.system.dead_letter(
                    responder.addr().unwrap_or(Addr::NULL),
                    &env,
                    DeadLetterReason::NoRecipient,
                );
            }
            copies.push(copy);
        }
        let envelopes = std::iter::once(Some((env, rx))).chain(copies);
        let mut pending = Vec::with_capacity(responders.len());
        for (responder, envelope) in responders.into_iter().zip(envelopes) {
            let Some((env, rx)) = envelope else { continue };
            let series = responder.series();
            pending.push(
                match deliver(&responder, env, sender, deadline, waited).await {
                    Ok(()) => Pending::Waiting(rx, series),
                    Err(e) => Pending::Done(e, series),
                },
            );
        }
        // One deadline for all: waiting for each in turn waits no longer
        // than for the slowest.
        let mut answers = Vec::with_capacity(pending.len());
        for part in pending {
            let (answer, series) = match part {
                Pending::Waiting(rx, series) => {
                    (await_response_until(rx, at, waited).await, series)
                }
                Pending::Done(e, series) => (Err(e), series),
            };
            if let Some(series) = &series {
                series.request(&answer);
            }
            answers.push(answer);
        }
        answers
    }
}

/// Delivers one responder's envelope within the deadline; the error its
/// entry gets if it cannot.
async fn deliver(
    responder: &Responder,
    env: Envelope,
    sender: Addr,
    deadline: Option<Instant>,
    waited: Duration,
) -> Result<(), RequestError> {
    let delivered = match responder {
        Responder::Actor(actor, _) if actor.addr == sender => {
            drop(env);
            return Err(RequestError::CallingSelf);
        }
        Responder::Actor(actor, _) => within(deadline, actor.deliver(env)).await,
        Responder::Remote(group) => within(deadline, group.deliver(env)).await,
    };
    match delivered {
        None => Err(RequestError::Timeout(waited)),
        Some(Ok(())) => Ok(()),
        Some(Err(e)) => {
            let err = match (&e, responder) {
                (SendError::Full(_), _) => RequestError::Full,
                (_, Responder::Actor(actor, _)) => RequestError::Gone {
                    reason: actor.exit_reason(),
                },
                (_, Responder::Remote(_)) => RequestError::gone(),
            };
            // Resolve its token quietly: the entry says what happened.
            drop(e.into_inner());
            Err(err)
        }
    }
}

/// Runs `fut` until the deadline: `None` if it passed first.
async fn within<T>(
    deadline: Option<Instant>,
    fut: impl std::future::Future<Output = T>,
) -> Option<T> {
    match deadline {
        Some(at) => tokio::time::timeout_at(at, fut).await.ok(),
        None => Some(fut.await),
    }
}

impl Responder {
    /// The responder's address, if it is one process.
    fn addr(&self) -> Option<Addr> {
        match self {
            Responder::Actor(actor, _) => Some(actor.addr),
            Responder::Remote(_) => None,
        }
    }

    /// Where its answer is counted (metrics on, a group of this node).
    fn series(&self) -> Option<Series> {
        match self {
            Responder::Actor(_, series) => series.clone(),
            Responder::Remote(_) => None,
        }
    }
}

impl<M: Message> fmt::Debug for RequestAll<'_, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestAll")
            .field("message", &M::NAME)
            .field("timeout", &self.one.timeout)
            .finish()
    }
}
