//! Addressing a group from anywhere (struct actors, plain code).

use std::sync::Arc;
use std::time::Duration;

use super::mounted::GroupRuntime;
use crate::addr::Addr;
use crate::catch::BoxFuture;
use crate::core::current::current;
use crate::core::delivery::{self, Deliver};
use crate::core::recipient::{Recipient, Target};
use crate::core::system::ActorSystem;
use crate::defaults::REQUEST_TIMEOUT;
use crate::envelope::Envelope;
use crate::error::SendError;
use crate::message::Message;
use crate::request::RequestError;

/// A handle to a mounted group: messages go through the group's router.
///
/// Obtained with [`ActorSystem::group`]; this is how struct actors and
/// outside code talk to functional actors.
#[derive(Clone)]
pub struct GroupRef {
    pub(crate) runtime: Arc<GroupRuntime>,
}

impl ActorSystem {
    /// A handle to the mounted group `name`, to message functional actors.
    pub fn group(&self, name: &str) -> Option<GroupRef> {
        self.mounted::<GroupRuntime>(name)
            .map(|runtime| GroupRef { runtime })
    }
}

impl GroupRef {
    /// The group's name.
    pub fn name(&self) -> &str {
        &self.runtime.name
    }

    /// A handle to this group typed by the message `M` alone (see
    /// [`Recipient`]): what takes it is the group's router.
    pub fn recipient<M: Message>(&self) -> Recipient<M> {
        Recipient::new(Arc::new(GroupTarget(self.runtime.clone())), None)
    }

    /// Sends a fire-and-forget message, waiting for mailbox space.
    pub async fn notify<M: Message>(&self, msg: M) -> Result<(), SendError<M>> {
        let (sender, trace) = current();
        self.runtime
            .deliver(Envelope::new(msg, sender, trace))
            .await
            .map_err(|e| e.map(Envelope::into_sent))
    }

    /// Sends without waiting: `Full` if the target's mailbox is full.
    pub fn try_notify<M: Message>(&self, msg: M) -> Result<(), SendError<M>> {
        let (sender, trace) = current();
        self.runtime
            .try_deliver(Envelope::new(msg, sender, trace))
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
        delivery::request(&self.runtime, msg, None, timeout).await
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
}

impl std::fmt::Debug for GroupRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupRef")
            .field("name", &self.runtime.name)
            .finish()
    }
}
