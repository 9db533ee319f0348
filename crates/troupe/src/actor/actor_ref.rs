//! Typed handles of struct actors.

use std::any::TypeId;
use std::fmt;
use std::future::Future;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use super::{dispatcher, Actor, Handler};
use crate::addr::{ActorMeta, Addr};
use crate::core::current::current;
use crate::core::delivery;
use crate::core::process::Shared;
use crate::core::recipient::Recipient;
use crate::core::system::ActorSystem;
use crate::envelope::Envelope;
use crate::error::{SendError, StopError};
use crate::exit::{ExitReason, StopReason};
use crate::message::Message;
use crate::request::RequestError;
use crate::status::{ActorStatus, Lifecycle};

impl ActorSystem {
    /// Typed lookup by name (OTP `whereis/1`): `None` if no live actor of
    /// type `A` is registered under `name`.
    pub fn get<A: Actor>(&self, name: &str) -> Option<ActorRef<A>> {
        self.lookup_name(name, TypeId::of::<A>())
            .map(ActorRef::from_shared)
    }
}

/// The typed handle of a struct actor.
///
/// It only accepts messages the actor has a [`Handler`] for, and a request
/// returns that message's response type. Handles are cheap to clone; two
/// handles are equal (and hash alike) when they address the same actor.
pub struct ActorRef<A> {
    shared: Arc<Shared>,
    _actor: PhantomData<fn() -> A>,
}

impl<A: Actor> ActorRef<A> {
    pub(crate) fn from_shared(shared: Arc<Shared>) -> Self {
        Self {
            shared,
            _actor: PhantomData,
        }
    }

    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    fn envelope<M: Message>(msg: M) -> Envelope
    where
        A: Handler<M>,
    {
        let (sender, trace) = current();
        let mut env = Envelope::new(msg, sender, trace);
        env.0.dispatcher = Some(dispatcher::<A, M>());
        env
    }

    /// A handle to this actor typed by the message `M` alone (see
    /// [`Recipient`]): it forgets the actor's type.
    pub fn recipient<M: Message>(&self) -> Recipient<M>
    where
        A: Handler<M>,
    {
        Recipient::new(self.shared.clone(), Some(dispatcher::<A, M>()))
    }

    /// Sends a fire-and-forget message, waiting for mailbox space if the
    /// mailbox is full (with the default [`OverflowPolicy::Wait`](crate::OverflowPolicy)).
    ///
    /// Fails with [`SendError::Closed`] if the actor is gone, or
    /// [`SendError::Full`] under the fail-fast policy; the message is handed
    /// back. Under a lossy policy a dropped message is reported as a dead
    /// letter and `Ok` is returned.
    ///
    /// The envelope is made (its sender, trace and send time taken) when
    /// `notify` is called, and delivered when the future is first polled.
    /// The future is small (80 bytes whatever the message: a large message
    /// is boxed in the envelope), as it lives in the future of every
    /// handler that sends.
    pub fn notify<M: Message>(
        &self,
        msg: M,
    ) -> impl Future<Output = Result<(), SendError<M>>> + Send + '_
    where
        A: Handler<M>,
    {
        delivery::SendBack::new(self.shared.deliver(Self::envelope(msg)))
    }

    /// Sends a fire-and-forget message without waiting: fails with
    /// [`SendError::Full`] if the mailbox is full (under the `Wait` and
    /// `FailFast` policies) or [`SendError::Closed`] if the actor is gone.
    pub fn try_notify<M: Message>(&self, msg: M) -> Result<(), SendError<M>>
    where
        A: Handler<M>,
    {
        self.shared
            .try_deliver(Self::envelope(msg))
            .map_err(|e| e.map(Envelope::into_sent))
    }

    /// Sends a fire-and-forget message past the mailbox's capacity (as
    /// [`Context::unbounded_send`](crate::Context::unbounded_send) does):
    /// it never waits, never fails with `Full`, no overflow policy drops
    /// it, and it is queued behind what the mailbox holds. Fails only with
    /// [`SendError::Closed`]. An escape hatch for the rare message that
    /// must neither wait nor be lost: each one makes the mailbox hold more
    /// than its capacity; prefer [`notify`](Self::notify).
    pub fn notify_unbounded<M: Message>(&self, msg: M) -> Result<(), SendError<M>>
    where
        A: Handler<M>,
    {
        crate::core::unbounded::scope(|| self.shared.try_deliver(Self::envelope(msg)))
            .map_err(|e| e.map(Envelope::into_sent))
    }

    /// Sends a fire-and-forget message in the actor's priority lane: it
    /// overtakes every ordinary message already queued, but not a stop,
    /// kill or other system message. Among themselves priority messages
    /// keep their order (per sender, as ordinary ones do).
    ///
    /// The lane has its own small bound
    /// ([`PRIORITY_CAPACITY`](crate::defaults::PRIORITY_CAPACITY), 16),
    /// whatever the mailbox's overflow policy, and never waits: a full
    /// lane fails with [`SendError::Full`] (the message is handed back), a
    /// gone actor with [`SendError::Closed`]. A priority message still
    /// queued when the actor stops becomes a dead letter like any other.
    /// To an actor of another node it jumps the local proxy's queue only
    /// (the network keeps one order per pair of processes).
    ///
    /// ```
    /// use troupe::prelude::*;
    ///
    /// #[message]
    /// struct Work(u32);
    /// #[message]
    /// struct Urgent;
    /// #[message(ret = Vec<String>)]
    /// struct Log;
    ///
    /// #[derive(Default)]
    /// struct Worker(Vec<String>);
    /// impl Actor for Worker {}
    /// impl Handler<Work> for Worker {
    ///     async fn handle(&mut self, msg: Work, _: &mut ActorContext<Self>) -> HandlerResult {
    ///         self.0.push(format!("work {}", msg.0));
    ///         Ok(())
    ///     }
    /// }
    /// impl Handler<Urgent> for Worker {
    ///     async fn handle(&mut self, _: Urgent, _: &mut ActorContext<Self>) -> HandlerResult {
    ///         self.0.push("urgent".into());
    ///         Ok(())
    ///     }
    /// }
    /// impl Handler<Log> for Worker {
    ///     async fn handle(&mut self, _: Log, _: &mut ActorContext<Self>) -> HandlerResult<Vec<String>> {
    ///         Ok(self.0.clone())
    ///     }
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let worker = Worker::default().spawn().await?;
    /// // Queued before the actor runs (one thread: it has not run yet).
    /// worker.notify(Work(1)).await?;
    /// worker.notify(Work(2)).await?;
    /// worker.notify_priority(Urgent)?;
    /// assert_eq!(worker.send(Log).await?, ["urgent", "work 1", "work 2"]);
    /// # Ok(()) }
    /// ```
    pub fn notify_priority<M: Message>(&self, msg: M) -> Result<(), SendError<M>>
    where
        A: Handler<M>,
    {
        self.shared
            .try_deliver_priority(Self::envelope(msg))
            .map_err(|e| e.map(Envelope::into_sent))
    }

    /// A request in the priority lane (see [`notify_priority`](Self::notify_priority)),
    /// within the actor's default request timeout: it is answered before
    /// the ordinary messages queued ahead of it. A full lane fails at once
    /// with [`RequestError::Full`].
    pub async fn send_priority<M: Message>(&self, msg: M) -> Result<M::Response, RequestError>
    where
        A: Handler<M>,
    {
        let dispatcher = Some(dispatcher::<A, M>());
        let timeout = self.shared.request_timeout();
        delivery::request(&delivery::Priority(&self.shared), msg, dispatcher, timeout).await
    }

    /// Sends a request and waits for its response, within the actor's
    /// default request timeout (5 s unless configured, as `gen_server:call`).
    ///
    /// Errors: [`RequestError::Gone`] if the actor is not running or stops
    /// first, [`RequestError::Dropped`] if the handler drops the token,
    /// [`RequestError::Failed`] if the handler fails (the actor then stops),
    /// [`RequestError::Timeout`] past the deadline (the deadline covers the
    /// wait for mailbox space too), [`RequestError::Full`] if a lossy or
    /// fail-fast mailbox refused it.
    pub async fn send<M: Message>(&self, msg: M) -> Result<M::Response, RequestError>
    where
        A: Handler<M>,
    {
        self.request(msg, self.shared.request_timeout()).await
    }

    /// Like [`ActorRef::send`] with an explicit deadline (`None` waits
    /// forever, as `infinity` in OTP).
    pub async fn send_timeout<M: Message>(
        &self,
        msg: M,
        timeout: Option<Duration>,
    ) -> Result<M::Response, RequestError>
    where
        A: Handler<M>,
    {
        self.request(msg, timeout).await
    }

    async fn request<M: Message>(
        &self,
        msg: M,
        timeout: Option<Duration>,
    ) -> Result<M::Response, RequestError>
    where
        A: Handler<M>,
    {
        let dispatcher = Some(dispatcher::<A, M>());
        delivery::request(&*self.shared, msg, dispatcher, timeout).await
    }

    /// Stops the actor (see [`StopReason`] for the three tiers) and waits
    /// until it has stopped, bounded by its request timeout (5 s by
    /// default). Stopping an actor that is already gone succeeds.
    ///
    /// The stop travels on the system channel, so it works on a full mailbox;
    /// it takes effect once the handler running now returns. Messages still
    /// queued become dead letters (requests among them fail with
    /// [`RequestError::Gone`]).
    pub async fn stop(&self, reason: StopReason) -> Result<(), StopError> {
        self.shared.stop(reason, self.shared.control_wait()).await
    }

    /// Drains the actor, then stops it (see [`StopReason::Drain`]): new
    /// messages are refused at once, the queued ones are handled, then it
    /// exits with [`ExitReason::Normal`]. Past `deadline` it escalates to
    /// a shutdown (exit reason `Shutdown`; what is still queued becomes
    /// dead letters), and past one more control wait to a kill. Returns
    /// once it has exited; `stop(StopReason::Drain)` is the same with the
    /// control wait (5 s by default) as the deadline.
    ///
    /// ```
    /// # use troupe::prelude::*;
    /// # use std::time::Duration;
    /// # #[message] struct Job;
    /// # #[derive(Default)] struct Worker(u32);
    /// # impl Actor for Worker {}
    /// # impl Handler<Job> for Worker {
    /// #     async fn handle(&mut self, _: Job, _: &mut ActorContext<Self>) -> HandlerResult {
    /// #         self.0 += 1;
    /// #         Ok(())
    /// #     }
    /// # }
    /// # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let worker = Worker::default().spawn().await?;
    /// for _ in 0..10 {
    ///     worker.notify(Job).await?;
    /// }
    /// worker.drain(Duration::from_secs(1)).await?;
    /// assert_eq!(worker.exit_reason(), Some(ExitReason::Normal));
    /// assert!(matches!(worker.notify(Job).await, Err(SendError::Closed(_))));
    /// # Ok(()) }
    /// ```
    pub async fn drain(&self, deadline: Duration) -> Result<(), StopError> {
        self.shared.drain(deadline).await
    }

    /// Stops the actor with `reason`, escalating to the next tier each time
    /// `each` passes without its exit: a drain or a graceful stop becomes a
    /// shutdown, a shutdown a kill (a veto of a graceful stop escalates at
    /// once). The escalation runs on a task of its own: it goes on to its
    /// end even if this future is dropped. Fails with
    /// [`StopError::Timeout`] only if even a kill did not end it in time.
    ///
    /// ```
    /// use std::time::Duration;
    /// use troupe::prelude::*;
    ///
    /// // Its `pre_stop` never finishes: only a kill ends it.
    /// struct Stubborn;
    /// impl Actor for Stubborn {
    ///     async fn pre_stop(&mut self, _: &mut ActorContext<Self>, _: StopReason) -> bool {
    ///         std::future::pending::<bool>().await
    ///     }
    /// }
    ///
    /// # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let actor = Stubborn.spawn().await?;
    /// // Graceful, then shutdown, then kill: 50 ms each.
    /// actor.stop_within(StopReason::Graceful, Duration::from_millis(50)).await?;
    /// assert_eq!(actor.exit_reason(), Some(ExitReason::Killed));
    /// # Ok(()) }
    /// ```
    pub async fn stop_within(&self, reason: StopReason, each: Duration) -> Result<(), StopError> {
        self.shared.stop_within(reason, each).await
    }

    /// Kills the actor: the same as `stop(StopReason::Kill)`. An actor
    /// still in its `pre_start` ends at once; its spawn fails with
    /// [`SpawnError::Killed`](crate::SpawnError::Killed). Requests its
    /// handler was answering resolve with [`RequestError::Gone`].
    pub async fn kill(&self) -> Result<(), StopError> {
        self.stop(StopReason::Kill).await
    }

    /// A status snapshot, read from the actor's shared state: answered at
    /// once even while a handler is stuck or the mailbox is full. Fails
    /// with [`RequestError::Gone`] if the actor is gone for good.
    pub async fn get_status(&self) -> Result<ActorStatus, RequestError> {
        let status = self.shared.status();
        if status.lifecycle == Lifecycle::Stopped {
            return Err(RequestError::Gone {
                reason: self.shared.exit_reason(),
            });
        }
        Ok(status)
    }

    /// Whether the actor has not stopped yet.
    ///
    /// "Not alive" means released: an actor's exit is published (it is
    /// not alive, [`wait_for_exit`](Self::wait_for_exit) returns, its name
    /// is free, its supervisor, monitors and links are told) only after
    /// its state (the actor value, its context, what its task held) has
    /// been dropped, so that what it held (sockets, files) is released by
    /// then. A `Drop` that blocks longer than
    /// [`RELEASE_WAIT`](crate::defaults::RELEASE_WAIT) has the exit
    /// published anyway, with a warning, while it goes on; a `Drop` that
    /// panics is logged and changes neither the exit nor its reason.
    pub fn is_alive(&self) -> bool {
        self.shared.is_alive()
    }

    /// Waits until the actor has stopped and returns how it ended (like an
    /// Erlang monitor's `DOWN` message).
    pub async fn wait_for_exit(&self) -> ExitReason {
        self.shared.wait_exit().await
    }

    /// How the actor ended, if it has.
    pub fn exit_reason(&self) -> Option<ExitReason> {
        self.shared.exit_reason()
    }

    /// Messages waiting in the mailbox.
    pub fn mailbox_len(&self) -> usize {
        self.shared.mailbox.len()
    }

    /// The mailbox capacity.
    pub fn mailbox_capacity(&self) -> usize {
        self.shared.mailbox.capacity()
    }

    /// Free slots in the mailbox.
    pub fn mailbox_available(&self) -> usize {
        self.mailbox_capacity().saturating_sub(self.mailbox_len())
    }

    /// Messages dropped so far by a lossy overflow policy.
    pub fn mailbox_dropped(&self) -> u64 {
        self.shared.mailbox.dropped()
    }

    /// The actor's id: its address.
    pub fn id(&self) -> Addr {
        self.shared.addr
    }

    /// The actor's untyped address.
    pub fn addr(&self) -> Addr {
        self.shared.addr
    }

    /// The actor's group and key.
    pub fn meta(&self) -> &ActorMeta {
        &self.shared.meta
    }

    /// The name the actor is registered under, if any.
    pub fn name(&self) -> Option<&str> {
        self.shared.name()
    }
}

impl<A> Clone for ActorRef<A> {
    fn clone(&self) -> Self {
        Self {
            shared: self.shared.clone(),
            _actor: PhantomData,
        }
    }
}

impl<A> PartialEq for ActorRef<A> {
    fn eq(&self, other: &Self) -> bool {
        self.shared.addr == other.shared.addr
    }
}

impl<A> Eq for ActorRef<A> {}

impl<A> Hash for ActorRef<A> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.shared.addr.hash(state);
    }
}

impl<A> fmt::Debug for ActorRef<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ActorRef")
            .field("addr", &self.shared.addr)
            .field("meta", &self.shared.meta)
            .finish()
    }
}

impl<A: Handler<M>, M: Message> From<ActorRef<A>> for Recipient<M> {
    fn from(actor: ActorRef<A>) -> Self {
        Recipient::new(actor.shared, Some(dispatcher::<A, M>()))
    }
}
