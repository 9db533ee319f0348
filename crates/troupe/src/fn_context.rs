//! What a functional actor sees: [`Context`].

use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use tokio::sync::oneshot;

use crate::addr::{ActorMeta, Addr};
use crate::context::{current, set_current_trace};
use crate::envelope::{Envelope, TraceId};
use crate::error::{SendError, StopError};
use crate::group::GroupRuntime;
use crate::mailbox::Item;
use crate::message::Message;
use crate::process::{Shared, StopReason, SysMsg};
use crate::request::{await_response, RequestError, ResponseToken};
use crate::status::ActorStatus;
use crate::system::ActorSystem;

/// Why `Context::try_recv` returned no envelope.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TryRecvError {
    /// Nothing is queued now.
    #[error("the mailbox is empty")]
    Empty,
    /// The mailbox is closed and drained: the actor should finish.
    #[error("the mailbox is closed")]
    Closed,
}

/// Stop requests a functional actor received, answered once it has exited.
#[derive(Default)]
pub(crate) struct StopState {
    pub(crate) reason: Option<StopReason>,
    pub(crate) replies: Vec<oneshot::Sender<Result<(), StopError>>>,
}

/// What a functional actor sees: its mailbox (`recv`), its identity, and
/// the means to send, request and respond.
///
/// `ctx.send` and `ctx.request` route through the topology: the message
/// goes to the groups this actor's group is connected to (`route_to`).
/// `send_to` and `request_to` address one process directly.
pub struct Context {
    pub(crate) shared: Arc<Shared>,
    pub(crate) group: Arc<GroupRuntime>,
    pub(crate) stop: Arc<Mutex<StopState>>,
    /// This run's timers and streams, aborted when the context is dropped
    /// (its `exec` ended).
    pub(crate) timers: crate::timer::Timers,
    pub(crate) streams: crate::stream::Streams,
    trace_id: TraceId,
    /// Envelopes received by this run of `exec`.
    processed: u64,
}

impl Context {
    pub(crate) fn new(
        shared: Arc<Shared>,
        group: Arc<GroupRuntime>,
        stop: Arc<Mutex<StopState>>,
    ) -> Self {
        Self {
            shared,
            group,
            stop,
            timers: Default::default(),
            streams: Default::default(),
            trace_id: TraceId::generate(),
            processed: 0,
        }
    }

    /// Waits for the next envelope. Returns `None` once the mailbox is
    /// closed and drained, e.g. when the actor is stopped or the system
    /// shuts down: the actor should then return from its `exec`.
    ///
    /// Stop and status requests are handled here, before any envelope.
    pub async fn recv(&mut self) -> Option<Envelope> {
        loop {
            let item = self.shared.mailbox.recv().await?;
            if let Some(env) = self.accept(item) {
                return Some(env);
            }
        }
    }

    /// Takes the next envelope without waiting.
    pub fn try_recv(&mut self) -> Result<Envelope, TryRecvError> {
        loop {
            match self.shared.mailbox.try_recv() {
                Some(item) => {
                    if let Some(env) = self.accept(item) {
                        return Ok(env);
                    }
                }
                None if self.shared.mailbox.is_open() => return Err(TryRecvError::Empty),
                None => return Err(TryRecvError::Closed),
            }
        }
    }

    fn accept(&mut self, item: Item) -> Option<Envelope> {
        match item {
            Item::Msg(env) => {
                self.trace_id = env.trace_id;
                set_current_trace(env.trace_id);
                self.processed += 1;
                Some(env)
            }
            Item::Sys(SysMsg::Status(tx)) => {
                let _ = tx.send(ActorStatus {
                    addr: self.shared.addr,
                    meta: self.shared.meta.clone(),
                    name: None,
                    lifecycle: self.shared.lifecycle(),
                    mailbox_len: self.shared.mailbox.len(),
                    mailbox_capacity: self.shared.mailbox.capacity(),
                    processed: self.processed,
                    failures: 0,
                    dropped: self.shared.mailbox.dropped(),
                    uptime: self.shared.started_at.elapsed(),
                });
                None
            }
            Item::Sys(SysMsg::Supervision(msg)) => {
                msg.reject(crate::supervision::SupervisorError::NotASupervisor);
                None
            }
            Item::Sys(SysMsg::Stop { reason, reply }) => {
                // A functional actor has no veto: any stop closes the
                // mailbox; `recv` drains what is queued, then says `None`.
                let mut stop = self.stop.lock();
                if stop.reason.is_none() || reason == StopReason::Shutdown {
                    stop.reason = Some(reason);
                }
                stop.replies.extend(reply);
                drop(stop);
                self.shared.set_stopping();
                self.shared.mailbox.close();
                None
            }
        }
    }

    /// Sends a message through the topology to the groups this actor's
    /// group routes to, waiting for mailbox space. Fails with
    /// [`SendError::NoRecipient`] if no route accepts it.
    pub async fn send<M: Message>(&self, msg: M) -> Result<(), SendError<M>> {
        let (sender, trace) = current();
        self.group
            .send_routed(Envelope::new(msg, sender, trace))
            .await
            .map_err(|e| e.map(Envelope::into_sent))
    }

    /// Like [`Context::send`] without waiting: fails with `Full` if a
    /// recipient's mailbox is full.
    pub fn try_send<M: Message>(&self, msg: M) -> Result<(), SendError<M>> {
        let (sender, trace) = current();
        self.group
            .try_send_routed(Envelope::new(msg, sender, trace))
            .map_err(|e| e.map(Envelope::into_sent))
    }

    /// Sends a message to one process by address.
    pub async fn send_to<M: Message>(&self, to: Addr, msg: M) -> Result<(), SendError<M>> {
        let (sender, trace) = current();
        let env = Envelope::new(msg, sender, trace);
        let Some(target) = self.shared.system.lookup(to) else {
            return Err(SendError::Closed(env.into_sent()));
        };
        target
            .deliver(env)
            .await
            .map_err(|e| e.map(Envelope::into_sent))
    }

    /// A request through the topology; `.resolve().await` gives the response.
    /// With several recipients, the first one that accepts it gets it (any
    /// semantics).
    pub fn request<M: Message>(&self, msg: M) -> RequestBuilder<'_, M> {
        RequestBuilder {
            ctx: self,
            msg,
            to: None,
            timeout: self.shared.request_timeout(),
        }
    }

    /// A request to one process by address.
    pub fn request_to<M: Message>(&self, to: Addr, msg: M) -> RequestBuilder<'_, M> {
        RequestBuilder {
            ctx: self,
            msg,
            to: Some(to),
            timeout: self.shared.request_timeout(),
        }
    }

    /// Answers a request. The token is consumed: a request is answered at
    /// most once. Returns `false` if the requester no longer waits.
    pub fn respond<R>(&self, token: ResponseToken<R>, response: R) -> bool {
        token.respond(response)
    }

    /// This actor's address.
    pub fn addr(&self) -> Addr {
        self.shared.addr
    }

    /// This actor's group and key.
    pub fn meta(&self) -> &ActorMeta {
        &self.shared.meta
    }

    /// This actor's key within its group.
    pub fn key(&self) -> &str {
        &self.shared.meta.key
    }

    /// The trace id of the last received envelope.
    pub fn trace_id(&self) -> TraceId {
        self.trace_id
    }

    /// The system this actor runs in.
    pub fn system(&self) -> &ActorSystem {
        &self.shared.system
    }
}

/// A request being built: set a deadline, then `.resolve().await`.
#[must_use = "a request does nothing until resolved"]
pub struct RequestBuilder<'a, M: Message> {
    ctx: &'a Context,
    msg: M,
    to: Option<Addr>,
    timeout: Option<Duration>,
}

impl<M: Message> RequestBuilder<'_, M> {
    /// Sets the deadline (`None`: wait forever). The default is the actor's
    /// request timeout (5 s unless configured).
    pub fn timeout(mut self, timeout: Option<Duration>) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sends the request and waits for the response or a typed error.
    pub async fn resolve(self) -> Result<M::Response, RequestError> {
        let (sender, trace) = current();
        let (token, rx) = ResponseToken::new();
        let env = Envelope::request(self.msg, token, sender, trace);
        let delivered = match self.to {
            Some(addr) => match self.ctx.shared.system.lookup(addr) {
                Some(target) => target.deliver(env).await,
                None => Err(SendError::Closed(env)),
            },
            None => self.ctx.group.send_routed(env).await,
        };
        match delivered {
            Ok(()) => await_response(rx, self.timeout).await,
            Err(SendError::Full(_)) => Err(RequestError::Full),
            Err(_) => Err(RequestError::Gone),
        }
    }
}
