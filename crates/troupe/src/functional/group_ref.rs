//! Addressing a group from anywhere (struct actors, plain code).

use std::sync::Arc;
use std::time::Duration;

use super::mounted::GroupRuntime;
use crate::addr::{Addr, NodeNo};
use crate::catch::BoxFuture;
use crate::core::current::current;
use crate::core::dead_letter::DeadLetterReason;
use crate::core::delivery::{self, Deliver};
use crate::core::instruments::Series;
use crate::core::recipient::{Recipient, Target};
use crate::core::system::ActorSystem;
use crate::defaults::REQUEST_TIMEOUT;
use crate::envelope::Envelope;
use crate::error::SendError;
use crate::message::Message;
use crate::request::RequestError;

/// A handle to a mounted group: messages go through the group's router.
///
/// Obtained with [`ActorSystem::group`] for a group of this node, and with
/// [`ActorSystem::remote_group`] for a group of another node (once a
/// distribution layer is installed); this is how struct actors and outside
/// code talk to functional actors.
#[derive(Clone)]
pub struct GroupRef {
    via: Via,
}

#[derive(Clone)]
enum Via {
    Local(Arc<GroupRuntime>),
    /// A group of another node, through the transport.
    Remote(Arc<RemoteGroup>),
}

impl ActorSystem {
    /// A handle to the mounted group `name`, to message functional actors.
    pub fn group(&self, name: &str) -> Option<GroupRef> {
        self.mounted::<GroupRuntime>(name).map(|runtime| GroupRef {
            via: Via::Local(runtime),
        })
    }

    /// A handle to the group `name` mounted on node `node`, through the
    /// installed transport (see [`Transport`](crate::Transport)); `None`
    /// without one, or for this node (use [`ActorSystem::group`]).
    /// Whether such a group exists is known when a message arrives there:
    /// a tell to a group that is not mounted becomes a dead letter there,
    /// a request fails with `Gone`.
    pub fn remote_group(&self, node: NodeNo, name: &str) -> Option<GroupRef> {
        if node == self.node() || self.transport().is_none() {
            return None;
        }
        Some(GroupRef {
            via: Via::Remote(Arc::new(RemoteGroup {
                system: self.clone(),
                node,
                name: Arc::from(name),
            })),
        })
    }
}

impl GroupRef {
    /// The group's name.
    pub fn name(&self) -> &str {
        match &self.via {
            Via::Local(runtime) => &runtime.name,
            Via::Remote(group) => &group.name,
        }
    }

    /// The group's runtime, if it is a group of this node.
    pub(super) fn local(&self) -> Option<&Arc<GroupRuntime>> {
        match &self.via {
            Via::Local(runtime) => Some(runtime),
            Via::Remote(_) => None,
        }
    }

    /// The node the group is mounted on, if it is another node's.
    pub fn node(&self) -> Option<NodeNo> {
        match &self.via {
            Via::Local(_) => None,
            Via::Remote(group) => Some(group.node),
        }
    }

    /// A handle to this group typed by the message `M` alone (see
    /// [`Recipient`]): what takes it is the group's router.
    pub fn recipient<M: Message>(&self) -> Recipient<M> {
        let target: Arc<dyn Target> = match &self.via {
            Via::Local(runtime) => Arc::new(GroupTarget(runtime.clone())),
            Via::Remote(group) => group.clone(),
        };
        Recipient::new(target, None)
    }

    /// Sends a fire-and-forget message, waiting for mailbox space.
    pub async fn notify<M: Message>(&self, msg: M) -> Result<(), SendError<M>> {
        let (sender, trace) = current();
        self.deliver(Envelope::new(msg, sender, trace))
            .await
            .map_err(|e| e.map(Envelope::into_sent))
    }

    /// Sends without waiting: `Full` if the target's mailbox is full. (To
    /// a group of another node, the envelope leaves at once, without
    /// waiting for the network.)
    pub fn try_notify<M: Message>(&self, msg: M) -> Result<(), SendError<M>> {
        let (sender, trace) = current();
        self.try_deliver_envelope(Envelope::new(msg, sender, trace))
            .map_err(|e| e.map(Envelope::into_sent))
    }

    /// Sends a request and waits for the response, within the default
    /// request timeout (5 s, as `gen_server:call`; it covers the wait for
    /// mailbox space).
    pub async fn send<M: Message>(&self, msg: M) -> Result<M::Response, RequestError> {
        self.send_timeout(msg, Some(REQUEST_TIMEOUT)).await
    }

    /// Sends a request with an explicit deadline (`None`: wait forever).
    pub async fn send_timeout<M: Message>(
        &self,
        msg: M,
        timeout: Option<Duration>,
    ) -> Result<M::Response, RequestError> {
        match &self.via {
            Via::Local(runtime) => delivery::request(runtime, msg, None, timeout).await,
            Via::Remote(group) => delivery::request(&**group, msg, None, timeout).await,
        }
    }

    /// Delivers an envelope without waiting (see [`GroupRef::try_notify`]).
    pub(crate) fn try_deliver_envelope(&self, env: Envelope) -> Result<(), SendError<Envelope>> {
        match &self.via {
            Via::Local(runtime) => runtime.try_deliver(env),
            Via::Remote(group) => Target::try_deliver(&**group, env),
        }
    }

    /// Delivers an envelope through the group's router, waiting for
    /// mailbox space: for a transport that received it from another node.
    pub async fn deliver(&self, env: Envelope) -> Result<(), SendError<Envelope>> {
        match &self.via {
            Via::Local(runtime) => runtime.deliver(env).await,
            Via::Remote(group) => group.deliver_boxed(env).await,
        }
    }
}

impl Deliver for RemoteGroup {
    fn deliver(
        &self,
        env: Envelope,
    ) -> impl std::future::Future<Output = Result<(), SendError<Envelope>>> + Send {
        self.deliver_boxed(env)
    }

    fn try_deliver(&self, env: Envelope) -> Result<(), SendError<Envelope>> {
        Target::try_deliver(self, env)
    }
}

/// A group of another node.
struct RemoteGroup {
    system: ActorSystem,
    node: NodeNo,
    name: Arc<str>,
}

impl Target for RemoteGroup {
    fn deliver_boxed(&self, env: Envelope) -> BoxFuture<'_, Result<(), SendError<Envelope>>> {
        match self.system.transport() {
            Some(transport) => transport.forward_group(self.node, &self.name, env),
            None => Box::pin(async move { Err(SendError::Closed(env)) }),
        }
    }

    fn try_deliver(&self, env: Envelope) -> Result<(), SendError<Envelope>> {
        let Some(transport) = self.system.transport() else {
            return Err(SendError::Closed(env));
        };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return Err(SendError::Closed(env));
        };
        let sending = transport.forward_group(self.node, &self.name, env);
        let system = self.system.clone();
        runtime.spawn(async move {
            if let Err(refused) = sending.await {
                let env = refused.into_inner();
                system.report_dead_letter(Addr::NULL, &env, DeadLetterReason::ActorStopped);
                env.fail(RequestError::NodeDown);
            }
        });
        Ok(())
    }

    fn process(&self) -> Option<Addr> {
        None
    }

    fn request_timeout(&self) -> Option<Duration> {
        Some(REQUEST_TIMEOUT)
    }

    fn is_alive(&self) -> bool {
        self.system.transport().is_some()
    }

    fn describe(&self) -> String {
        format!("group {} on node {}", self.name, self.node.0)
    }
}

impl<M: Message> From<GroupRef> for Recipient<M> {
    fn from(group: GroupRef) -> Self {
        group.recipient()
    }
}

/// A group behind a [`Recipient`].
struct GroupTarget(Arc<GroupRuntime>);

impl Target for GroupTarget {
    fn deliver_boxed(&self, env: Envelope) -> BoxFuture<'_, Result<(), SendError<Envelope>>> {
        Box::pin(self.0.deliver(env))
    }

    fn try_deliver(&self, env: Envelope) -> Result<(), SendError<Envelope>> {
        Deliver::try_deliver(&self.0, env)
    }

    fn process(&self) -> Option<Addr> {
        None
    }

    fn request_timeout(&self) -> Option<Duration> {
        Some(REQUEST_TIMEOUT)
    }

    fn is_alive(&self) -> bool {
        self.0.is_mounted()
    }

    fn describe(&self) -> String {
        format!("group {}", self.0.name)
    }

    fn request_series(&self, env: &Envelope) -> Option<std::borrow::Cow<'_, Series>> {
        Deliver::request_series(&self.0, env)
    }
}

impl std::fmt::Debug for GroupRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupRef")
            .field("name", &self.name())
            .field("node", &self.node())
            .finish()
    }
}
