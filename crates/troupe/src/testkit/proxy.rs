//! [`Proxy`]: a test's stand-in for the peers of one group.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use tokio::sync::oneshot;

use super::wall::within;
use super::{Subscription, DEFAULT_TIMEOUT};
use crate::actor::Actor;
use crate::addr::Addr;
use crate::core::dead_letter::DeadLetter;
use crate::core::launch::in_process;
use crate::core::probe::{self, Fault};
use crate::core::restart::SupervisionEvent;
use crate::core::system::{ActorSystem, ShutdownReport};
use crate::envelope::{Envelope, TraceId};
use crate::error::SendError;
use crate::functional::{ActorGroup, Context, GroupRuntime, Key, RestartPolicy, Schema};
use crate::init::InitError;
use crate::message::Message;
use crate::request::RequestError;
use crate::topology::Topology;

/// The name of the proxy's own group in the system [`Proxy::start_named`]
/// starts. A test that gives the proxy more routes declares them on
/// `topology.local(PROXY_GROUP)` before the start: they come before the
/// proxy's route to the group under test, which is added last.
pub const PROXY_GROUP: &str = "troupe.testkit.proxy";

/// What [`Proxy::recv_within`] and [`Proxy::sync`] could not do.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProxyError {
    /// Nothing came (or the group did not catch up) within the bound,
    /// counted in real time.
    #[error(transparent)]
    TimedOut(#[from] super::TimedOut),
    /// The proxy's mailbox is closed: the system shuts down.
    #[error("the proxy's mailbox is closed")]
    Closed,
}

/// A test's stand-in for the peers of one group (or one struct actor): it
/// sends and requests as they would, receives what the group sends out,
/// and waits until the group has handled everything sent so far.
///
/// The proxy starts a system of two groups: the group under test, and the
/// proxy's own, routed to each other (everything the proxy sends goes to
/// the group; everything the group's actors `send` through the topology
/// comes to the proxy). Messages a group's actor sends by address to the
/// sender of what it handles come to the proxy too: it is that sender.
///
/// Waits are bounded in real time ([`within`](super::within)), so a test
/// can pause Tokio's clock (`#[tokio::test(start_paused = true)]`): timers
/// of the group then fire as soon as nothing else can run, and a test
/// that waits for a message that never comes fails after 5 s of real time
/// instead of hanging.
///
/// A whole test of a group, with a paused clock:
///
/// ```
/// use std::time::Duration;
/// use troupe::prelude::*;
/// use troupe::testkit::Proxy;
///
/// #[message]
/// struct Increment { delta: u32 }
/// #[message(ret = u32)]
/// struct GetValue;
/// #[message]
/// #[derive(Debug, PartialEq)]
/// struct Report { value: u32 }
/// #[message]
/// #[derive(Clone)]
/// struct Tick;
///
/// fn counter() -> Schema {
///     ActorGroup::new().exec(|mut ctx| async move {
///         let mut value = 0;
///         let _ = ctx.schedule(Tick).every(Duration::from_secs(60)).start();
///         while let Some(envelope) = ctx.recv().await {
///             msg!(match envelope {
///                 Increment { delta } => value += delta,
///                 (GetValue, token) => { ctx.respond(token, value); }
///                 Tick => { let _ = ctx.send(Report { value }).await; }
///             })
///         }
///     })
/// }
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
/// let mut proxy = Proxy::start(counter()).await.unwrap();
/// proxy.send(Increment { delta: 2 }).await.unwrap();
/// assert_eq!(proxy.request(GetValue).await, Ok(2));
/// // Nothing comes out until the timer fires...
/// proxy.sync().await.unwrap();
/// assert!(proxy.try_recv().is_none());
/// // ...which the paused clock reaches as soon as nothing else runs.
/// troupe::assert_msg!(proxy.recv().await, Report { value: 2 });
/// proxy.finish().await;
/// # }
/// ```
pub struct Proxy {
    ctx: Context,
    group: Arc<GroupRuntime>,
    system: ActorSystem,
    /// Keeps the proxy's process running while the test holds its context.
    hold: Option<oneshot::Sender<()>>,
    timeout: Duration,
}

impl Proxy {
    /// Starts the group `schema` (named `subject`) in a system of its own,
    /// with the proxy as its peer.
    pub async fn start(schema: Schema) -> Result<Self, InitError> {
        Self::start_named("subject", schema, Topology::empty()).await
    }

    /// Starts one struct actor, made by `factory`, as a group of one: the
    /// proxy reaches its `Handler<M>` for each `M` it declares with
    /// [`handles!`](crate::handles).
    pub async fn actor<A: Actor>(
        factory: impl Fn() -> A + Send + Sync + 'static,
    ) -> Result<Self, InitError> {
        Self::start(ActorGroup::new().actor(move |_| factory())).await
    }

    /// Starts the group `schema` under `name` in `topology` (which may set
    /// the system's config, or a configuration file with the `config`
    /// feature, or declare more groups and routes, see [`PROXY_GROUP`]),
    /// with the proxy as its peer.
    pub async fn start_named(
        name: &str,
        schema: Schema,
        topology: Topology,
    ) -> Result<Self, InitError> {
        let (ctx_tx, ctx_rx) = oneshot::channel::<Context>();
        let (hold_tx, hold_rx) = oneshot::channel::<()>();
        let handover = Arc::new(Mutex::new(Some((ctx_tx, hold_rx))));
        let proxy = ActorGroup::new()
            .restart_policy(RestartPolicy::never())
            .exec(move |ctx| {
                let handover = handover.lock().take();
                async move {
                    if let Some((ctx_tx, hold_rx)) = handover {
                        if ctx_tx.send(ctx).is_ok() {
                            let _ = hold_rx.await;
                        }
                    }
                }
            });
        let subject = topology.local(name.to_owned());
        let peer = topology.local(PROXY_GROUP);
        subject.mount(schema);
        peer.mount(proxy);
        peer.route_to(&subject, |_| true);
        subject.route_to(&peer, |_| true);
        let system = crate::init::try_start(topology)?;
        let group = system
            .mounted::<GroupRuntime>(name)
            .ok_or_else(|| InitError::NotMounted(name.to_owned()))?;
        let ctx = ctx_rx
            .await
            .map_err(|_| InitError::NotMounted(PROXY_GROUP.to_owned()))?;
        Ok(Self {
            ctx,
            group,
            system,
            hold: Some(hold_tx),
            timeout: DEFAULT_TIMEOUT,
        })
    }

    /// Sets the real-time bound of `recv` and `sync` (default 5 s).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The system the group runs in.
    pub fn system(&self) -> &ActorSystem {
        &self.system
    }

    /// The proxy's own address: the sender of what it sends.
    pub fn addr(&self) -> Addr {
        self.ctx.addr()
    }

    /// The address of the group's actor with this key, started if needed
    /// (a group without a router has one actor, key `_`).
    pub fn actor_addr(&self, key: impl Into<Key>) -> Option<Addr> {
        self.group.actor(key.into()).map(|a| a.addr)
    }

    /// Runs `fut` as code of the proxy's process (its address is the
    /// sender of what it sends).
    async fn as_proxy<F: std::future::Future>(&self, fut: F) -> F::Output {
        in_process(&self.ctx.core.shared, TraceId::generate(), fut).await
    }

    /// Sends a message to the group as its peers would (through the
    /// topology, so its router picks the actor), waiting for mailbox space.
    pub async fn send<M: Message>(&self, msg: M) -> Result<(), SendError<M>> {
        self.as_proxy(self.ctx.send(msg)).await
    }

    /// Sends a message to one process by address.
    pub async fn send_to<M: Message>(&self, to: Addr, msg: M) -> Result<(), SendError<M>> {
        self.as_proxy(self.ctx.send_to(to, msg)).await
    }

    /// Sends a request to the group and waits for its response (bounded by
    /// the request timeout of the proxy's actor, 5 s of Tokio time by
    /// default: under a paused clock, a request nobody answers fails at
    /// once with `Timeout` rather than hanging).
    pub async fn request<M: Message>(&self, msg: M) -> Result<M::Response, RequestError> {
        self.as_proxy(self.ctx.request(msg).resolve()).await
    }

    /// Sends a request to every actor the group's router selects
    /// (`ctx.request(msg).all()`, see [`RequestAll`](crate::RequestAll))
    /// and waits for each one's answer or error, within the same bound as
    /// [`Proxy::request`].
    pub async fn request_all<M: Message>(&self, msg: M) -> Vec<Result<M::Response, RequestError>> {
        self.as_proxy(self.ctx.request(msg).all().resolve()).await
    }

    /// Sends a request to one process by address.
    pub async fn request_to<M: Message>(
        &self,
        to: Addr,
        msg: M,
    ) -> Result<M::Response, RequestError> {
        self.as_proxy(self.ctx.request_to(to, msg).resolve()).await
    }

    /// The next envelope the group sent out, waiting at most the proxy's
    /// bound of real time.
    pub async fn recv_within(&mut self, limit: Duration) -> Result<Envelope, ProxyError> {
        let ctx = &mut self.ctx;
        match within(limit, ctx.recv()).await? {
            Some(env) => Ok(env),
            None => Err(ProxyError::Closed),
        }
    }

    /// The next envelope the group sent out; panics (failing the test) if
    /// none comes within the proxy's bound of real time (5 s by default).
    pub async fn recv(&mut self) -> Envelope {
        match self.recv_within(self.timeout).await {
            Ok(env) => env,
            Err(e) => panic!("the proxy expected a message: {e}"),
        }
    }

    /// The next envelope the group sent out, if one is there now.
    pub fn try_recv(&mut self) -> Option<Envelope> {
        self.ctx.try_recv().ok()
    }

    /// Waits until every actor of the group has handled everything sent to
    /// it so far (and so has sent out what it would in answer): after it,
    /// `try_recv` returning `None` means that nothing came out.
    ///
    /// A marker is queued behind what each actor of the group holds (past
    /// its capacity, never dropped); each actor answers it as it takes it,
    /// having handled all that came before. An actor that is gone, or that
    /// exits before it takes the marker, has nothing more to handle.
    pub async fn sync(&self) -> Result<(), ProxyError> {
        let markers: Vec<_> = self
            .group
            .live_actors()
            .iter()
            .map(|a| probe::sync(a))
            .collect();
        within(self.timeout, async move {
            for marker in markers {
                let _ = marker.await;
            }
        })
        .await?;
        Ok(())
    }

    /// Makes the next handling of a message by the group's actor `key`
    /// fail as `fault` says (started if needed). Returns its address, or
    /// `None` if it cannot be started.
    pub fn inject(&self, key: impl Into<Key>, fault: Fault) -> Option<Addr> {
        let addr = self.actor_addr(key)?;
        super::inject(addr, fault);
        Some(addr)
    }

    /// The system's dead letters from now on.
    pub fn dead_letters(&self) -> Subscription<DeadLetter> {
        Subscription::dead_letters(&self.system)
    }

    /// What the system's supervisors (the group's included) do from now
    /// on.
    pub fn supervision_events(&self) -> Subscription<SupervisionEvent> {
        Subscription::supervision(&self.system)
    }

    /// Lets the proxy's process end and shuts the system down.
    pub async fn finish(mut self) -> ShutdownReport {
        self.hold.take();
        self.system.shutdown().await
    }
}

impl fmt::Debug for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Proxy")
            .field("addr", &self.ctx.addr())
            .field("group", &self.group.name)
            .finish()
    }
}
