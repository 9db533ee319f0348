//! What a functional actor sees: [`Context`].

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;
use std::time::Duration;

use super::mounted::{GroupRuntime, Routes};
use super::{Terminate, TerminationPolicy};
use crate::addr::Addr;
use crate::attached::{Accepts, ContextCore};
use crate::core::current::current;
use crate::core::delivery::{self, Deliver};
use crate::core::process::Shared;
use crate::core::run_loop::{next, try_next, Next, NoHooks};
use crate::core::unbounded;
use crate::envelope::{Dispatcher, Envelope, TraceId};
use crate::error::SendError;
use crate::exit::{ExitReason, StopReason};
use crate::message::Message;
use crate::request::{RequestError, ResponseToken};

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

/// What a functional actor sees: its mailbox (`recv`), its identity, and
/// the means to send, request and respond; its timers and streams through
/// [`ContextCore`], which it dereferences to.
///
/// `ctx.send` and `ctx.request` route through the topology: the message
/// goes to the groups this actor's group is connected to (`route_to`).
/// `send_to` and `request_to` address one process directly.
pub struct Context {
    pub(crate) core: ContextCore,
    pub(crate) group: Arc<GroupRuntime>,
    /// What a `Terminate` does to this incarnation.
    termination: TerminationPolicy,
}

/// What `recv` makes of one step of the run loop.
enum Step {
    /// Hand this envelope to the actor.
    Give(Envelope),
    /// Nothing for the actor: ask again.
    Again,
    /// The mailbox is closed and drained.
    Closed,
}

impl Context {
    pub(crate) fn new(shared: Arc<Shared>, group: Arc<GroupRuntime>) -> Self {
        let termination = group.schema().termination;
        Self {
            core: ContextCore::new(shared, TraceId::generate()),
            group,
            termination,
        }
    }

    /// Waits for the next envelope. Returns `None` once the mailbox is
    /// closed and drained, e.g. when the actor is stopped or the system
    /// shuts down: the actor should then return from its `exec`.
    ///
    /// A stop (of any tier but a kill, which ends the task at once) closes
    /// the mailbox: what is queued is still received, then `None` (a
    /// functional actor has no veto). So does
    /// [`stop_with`](ContextCore::stop_with), and the exit signal of a link
    /// partner when this actor does not trap exits (it then exits with the
    /// partner's reason once its `exec` returns).
    ///
    /// Monitors and links arrive here too: a [`Down`](crate::Down), or an
    /// [`Exit`](crate::Exit) when trapping exits, is an envelope like any
    /// other, matched with `msg!`.
    ///
    /// ```
    /// use troupe::prelude::*;
    ///
    /// fn watcher() -> Schema {
    ///     ActorGroup::new().exec(|mut ctx| async move {
    ///         while let Some(envelope) = ctx.recv().await {
    ///             msg!(match envelope {
    ///                 Down { addr, reason, .. } => println!("{addr} exited: {reason}"),
    ///                 Exit { from, reason, .. } => println!("partner {from} exited: {reason}"),
    ///                 _ => {}
    ///             })
    ///         }
    ///     })
    /// }
    /// # let _ = watcher;
    /// ```
    pub async fn recv(&mut self) -> Option<Envelope> {
        loop {
            self.close_if_stopping();
            let next = next(&mut self.core, &mut NoHooks).await;
            match self.step(next) {
                Step::Give(env) => return Some(env),
                Step::Again => {}
                Step::Closed => return None,
            }
        }
    }

    /// Takes the next envelope without waiting.
    pub fn try_recv(&mut self) -> Result<Envelope, TryRecvError> {
        loop {
            self.close_if_stopping();
            let Some(next) = try_next(&mut self.core) else {
                return Err(TryRecvError::Empty);
            };
            match self.step(next) {
                Step::Give(env) => return Ok(env),
                Step::Again => {}
                Step::Closed => return Err(TryRecvError::Closed),
            }
        }
    }

    /// Acts on what the run loop says comes next. A stop request (its
    /// system channel) and a `Terminate` message are the same
    /// [`Terminate`], which the termination policy handles.
    fn step(&mut self, next: Next) -> Step {
        match next {
            Next::Envelope(env) if env.message::<Terminate>().is_some() => {
                if self.termination.closes_mailbox() {
                    self.core.shared.request_stop(StopReason::Graceful);
                    self.close_mailbox();
                    return Step::Again;
                }
                Step::Give(env)
            }
            Next::Envelope(env) | Next::Signal(env) => Step::Give(env),
            Next::Stop(_) if self.termination.closes_mailbox() => {
                self.close_mailbox();
                Step::Again
            }
            Next::Stop(_) => {
                self.core.shared.set_stopping();
                let trace = self.core.trace_id;
                Step::Give(Envelope::new(Terminate, Addr::NULL, trace))
            }
            Next::Exit(reason) => {
                self.exit(reason);
                Step::Again
            }
            Next::Closed => Step::Closed,
        }
    }

    /// Closes the mailbox once the actor asked to stop (`stop_with`).
    fn close_if_stopping(&mut self) {
        if std::mem::take(&mut self.core.stop_requested) {
            self.close_mailbox();
        }
    }

    fn close_mailbox(&self) {
        self.core.shared.set_stopping();
        self.core.shared.mailbox.close();
    }

    /// Closes this actor's mailbox (elfo's `ctx.close()`): it takes no new
    /// message, `recv` hands out what is queued and then `None`, and the
    /// actor exits normally when its `exec` returns. Returns whether the
    /// mailbox was open until now. This is how an actor that terminates
    /// [`manually`](TerminationPolicy::manually) drains before it stops.
    pub fn close(&self) -> bool {
        let was_open = self.core.shared.mailbox.is_open();
        self.core.shared.request_stop(StopReason::Graceful);
        self.close_mailbox();
        was_open
    }

    /// Sets what a [`Terminate`] does to this actor, from now on and for
    /// this incarnation (a restarted actor starts with its group's policy,
    /// [`ActorGroup::termination_policy`](crate::ActorGroup::termination_policy)).
    ///
    /// ```
    /// use troupe::prelude::*;
    ///
    /// fn stubborn() -> Schema {
    ///     ActorGroup::new().exec(|mut ctx| async move {
    ///         ctx.set_termination_policy(TerminationPolicy::manually());
    ///         while let Some(envelope) = ctx.recv().await {
    ///             msg!(match envelope {
    ///                 // Finish what is queued, then stop.
    ///                 Terminate => { ctx.close(); }
    ///                 _ => {}
    ///             })
    ///         }
    ///     })
    /// }
    /// # let _ = stubborn;
    /// ```
    pub fn set_termination_policy(&mut self, policy: TerminationPolicy) {
        self.termination = policy;
    }

    /// What a [`Terminate`] does to this actor now.
    pub fn termination_policy(&self) -> TerminationPolicy {
        self.termination
    }

    /// The actor must exit with `reason` (recorded for when `exec` returns).
    fn exit(&self, reason: ExitReason) {
        self.core.shared.request_exit(reason);
        self.close_mailbox();
    }

    /// Sends a message through the topology to the groups this actor's
    /// group routes to, waiting for mailbox space. Fails with
    /// [`SendError::NoRecipient`] if no route accepts it.
    pub async fn send<M: Message>(&self, msg: M) -> Result<(), SendError<M>> {
        let (sender, trace) = current();
        Routes(&self.group)
            .deliver(Envelope::new(msg, sender, trace))
            .await
            .map_err(|e| e.map(Envelope::into_sent))
    }

    /// Like [`Context::send`] without waiting: fails with `Full` if a
    /// recipient's mailbox is full.
    pub fn try_send<M: Message>(&self, msg: M) -> Result<(), SendError<M>> {
        let (sender, trace) = current();
        Routes(&self.group)
            .try_deliver(Envelope::new(msg, sender, trace))
            .map_err(|e| e.map(Envelope::into_sent))
    }

    /// Sends a message through the topology as [`Context::send`] does,
    /// past the capacity of full mailboxes (elfo's `unbounded_send`): it
    /// never waits, never fails with `Full`, and no overflow policy drops
    /// it; it is queued behind what each recipient holds, in order. It
    /// fails only when no route accepts it (`NoRecipient`) or a
    /// recipient's mailbox is closed (`Closed`).
    ///
    /// An escape hatch, for the rare message that must neither wait nor
    /// be lost, sent from where waiting is not possible (a `Drop`, a
    /// callback) or would deadlock (two actors that fill each other's
    /// mailboxes): every unbounded send makes a mailbox hold more than its
    /// capacity, which is the memory bound backpressure is there to keep.
    /// Prefer [`send`](Context::send). To a group of another node it
    /// leaves as [`try_send`](Context::try_send) does: the capacity there
    /// applies.
    ///
    /// ```
    /// use troupe::prelude::*;
    ///
    /// #[message]
    /// struct Evicted { key: String }
    ///
    /// fn cache() -> Schema {
    ///     ActorGroup::new().exec(|mut ctx| async move {
    ///         while let Some(envelope) = ctx.recv().await {
    ///             # let _ = envelope;
    ///             // Must reach the index even when it is busy.
    ///             let _ = ctx.unbounded_send(Evicted { key: "k".into() });
    ///         }
    ///     })
    /// }
    /// # let _ = cache;
    /// ```
    pub fn unbounded_send<M: Message>(&self, msg: M) -> Result<(), SendError<M>> {
        let (sender, trace) = current();
        let env = Envelope::new(msg, sender, trace);
        unbounded::scope(|| Routes(&self.group).try_deliver(env))
            .map_err(|e| e.map(Envelope::into_sent))
    }

    /// [`Context::unbounded_send`] to one process by address: fails only
    /// with `Closed` (the process is gone or its mailbox is closed).
    pub fn unbounded_send_to<M: Message>(&self, to: Addr, msg: M) -> Result<(), SendError<M>> {
        let (sender, trace) = current();
        let env = Envelope::new(msg, sender, trace);
        let Some(target) = self.core.shared.system.lookup(to) else {
            return Err(SendError::Closed(env.into_sent()));
        };
        unbounded::scope(|| target.try_deliver(env)).map_err(|e| e.map(Envelope::into_sent))
    }

    /// Sends a message to one process by address (a struct actor handles it
    /// with its `Handler<M>`).
    pub async fn send_to<M: Message>(&self, to: Addr, msg: M) -> Result<(), SendError<M>> {
        let (sender, trace) = current();
        let env = Envelope::new(msg, sender, trace);
        let Some(target) = self.core.shared.system.lookup(to) else {
            return Err(SendError::Closed(env.into_sent()));
        };
        target
            .deliver(env)
            .await
            .map_err(|e| e.map(Envelope::into_sent))
    }

    /// A request through the topology; `.resolve().await` gives the
    /// response, `.all().resolve().await` the responses of every actor the
    /// routes select ([`RequestBuilder::all`]).
    ///
    /// The request goes to the first route that *takes* it, in the order
    /// the routes were declared (`route_to`): the route's filter accepts
    /// it, the group's router gives it an actor (not
    /// [`Outcome::Discard`](super::Outcome::Discard), nor a gentle outcome
    /// without a living actor) that exists or can be started, and that
    /// actor is not waiting for a restart (in a restart backoff, where the
    /// request would only wait). A route that does not take it is skipped
    /// without a dead letter. When no route takes it, a request skipped
    /// only because its actor waits for a restart goes to the first such
    /// actor, whose next incarnation answers it (within the deadline);
    /// otherwise it becomes a dead letter (one,
    /// [`NoRecipient`](crate::DeadLetterReason)) and resolves with
    /// [`RequestError::Gone`]. A group of another node counts as taking
    /// it. This is elfo's rule that a request finds a responder, with one
    /// difference: elfo offers the request to every route and keeps the
    /// first answer, troupe hands it to one actor, so that one handler
    /// does the work.
    ///
    /// ```
    /// use troupe::prelude::*;
    /// use troupe::{Outcome, Topology};
    ///
    /// #[message(ret = &'static str)]
    /// struct Lookup { id: u32 }
    ///
    /// fn answers(group: ActorGroup, name: &'static str) -> Schema {
    ///     group.exec(move |mut ctx| async move {
    ///         while let Some(envelope) = ctx.recv().await {
    ///             msg!(match envelope {
    ///                 (Lookup { .. }, token) => { ctx.respond(token, name); }
    ///             })
    ///         }
    ///     })
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let topology = Topology::empty();
    /// let (client, cache, store) = (
    ///     topology.local("client"),
    ///     topology.local("cache"),
    ///     topology.local("store"),
    /// );
    /// // The cache holds even ids only: its router discards the others.
    /// let cache_router = ActorGroup::new().router(|envelope| {
    ///     msg!(match envelope {
    ///         (Lookup { id }, _token) => match id % 2 {
    ///             0 => Outcome::unicast("even"),
    ///             _ => Outcome::Discard,
    ///         },
    ///         _ => Outcome::Discard,
    ///     })
    /// });
    /// cache.mount(answers(cache_router, "cache"));
    /// store.mount(answers(ActorGroup::new(), "store"));
    /// client.route_to(&cache, |_| true);
    /// client.route_to(&store, |_| true);
    /// let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    /// client.mount(ActorGroup::new().exec(move |ctx| {
    ///     let tx = tx.clone();
    ///     async move {
    ///         let even = ctx.request(Lookup { id: 2 }).resolve().await;
    ///         // The cache's router discards it: the store takes it.
    ///         let odd = ctx.request(Lookup { id: 3 }).resolve().await;
    ///         let _ = tx.send((even, odd));
    ///     }
    /// }));
    /// let system = troupe::init::try_start(topology).unwrap();
    /// assert_eq!(rx.recv().await, Some((Ok("cache"), Ok("store"))));
    /// system.shutdown().await;
    /// # }
    /// ```
    pub fn request<M: Message>(&self, msg: M) -> RequestBuilder<'_, M> {
        RequestBuilder {
            ctx: self,
            msg,
            to: None,
            timeout: self.core.shared.request_timeout(),
        }
    }

    /// A request to one process by address.
    pub fn request_to<M: Message>(&self, to: Addr, msg: M) -> RequestBuilder<'_, M> {
        RequestBuilder {
            ctx: self,
            msg,
            to: Some(to),
            timeout: self.core.shared.request_timeout(),
        }
    }

    /// The configuration of this actor's group, as the last accepted
    /// configuration file set it (see `troupe::config`, feature `config`);
    /// `None` if the group has none, or `C` is not its config type. It is
    /// read anew at each call: after a reload the next call sees the new
    /// one (elfo's `ctx.config()`).
    pub fn config<C: Send + Sync + 'static>(&self) -> Option<Arc<C>> {
        self.group.config()?.downcast::<C>().ok()
    }

    /// The log level the configuration sets for this actor's group
    /// (`system.log_level`), if any: for the program's `tracing` filter,
    /// which troupe does not install.
    pub fn log_level(&self) -> Option<tracing::Level> {
        self.group.log_level()
    }

    /// Whether the configuration turns this group's metrics on or off
    /// (`system.metrics`), if it says.
    pub fn metrics_enabled(&self) -> Option<bool> {
        self.group.metrics()
    }

    /// Answers a request. The token is consumed: a request is answered at
    /// most once. Returns `false` if the requester no longer waits.
    pub fn respond<R: Send + 'static>(&self, token: ResponseToken<R>, response: R) -> bool {
        token.respond(response)
    }
}

impl Deref for Context {
    type Target = ContextCore;

    fn deref(&self) -> &ContextCore {
        &self.core
    }
}

impl DerefMut for Context {
    fn deref_mut(&mut self) -> &mut ContextCore {
        &mut self.core
    }
}

/// A functional actor receives every message type (it matches them).
impl<M: Message> Accepts<M> for Context {
    fn dispatcher() -> Option<Dispatcher> {
        None
    }
}

impl fmt::Debug for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context")
            .field("addr", &self.core.shared.addr)
            .field("meta", &self.core.shared.meta)
            .finish()
    }
}

/// A request being built: set a deadline, then `.resolve().await`.
#[must_use = "a request does nothing until resolved"]
pub struct RequestBuilder<'a, M: Message> {
    pub(super) ctx: &'a Context,
    pub(super) msg: M,
    pub(super) to: Option<Addr>,
    pub(super) timeout: Option<Duration>,
}

impl<M: Message> RequestBuilder<'_, M> {
    /// Sets the deadline (`None`: wait forever). The default is the actor's
    /// request timeout (5 s unless configured). It covers the wait for
    /// mailbox space too.
    pub fn timeout(mut self, timeout: Option<Duration>) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sends the request and waits for the response or a typed error.
    pub async fn resolve(self) -> Result<M::Response, RequestError> {
        match self.to {
            Some(addr) => match self.ctx.core.shared.system.lookup(addr) {
                Some(target) => delivery::request(&*target, self.msg, None, self.timeout).await,
                None => Err(RequestError::gone()),
            },
            None => {
                let routes = Routes(&self.ctx.group);
                delivery::request(&routes, self.msg, None, self.timeout).await
            }
        }
    }
}

impl<M: Message> fmt::Debug for RequestBuilder<'_, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestBuilder")
            .field("message", &M::NAME)
            .field("to", &self.to)
            .field("timeout", &self.timeout)
            .finish()
    }
}
