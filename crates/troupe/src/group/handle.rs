//! Addressing a group from anywhere (struct actors, plain code).

use std::sync::Arc;

use super::runtime::GroupRuntime;
use crate::context::current;
use crate::envelope::Envelope;
use crate::error::SendError;
use crate::message::Message;
use crate::request::{await_response, RequestError, ResponseToken};

/// A handle to a mounted group: messages go through the group's router.
///
/// Obtained with [`ActorSystem::group`](crate::ActorSystem::group); this is
/// how struct actors and outside code talk to functional actors.
#[derive(Clone)]
pub struct GroupRef {
    pub(crate) runtime: Arc<GroupRuntime>,
}

impl GroupRef {
    /// The group's name.
    pub fn name(&self) -> &str {
        &self.runtime.name
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

    /// Sends a request and waits for the response, within 5 s (as
    /// `gen_server:call`).
    pub async fn send<M: Message>(&self, msg: M) -> Result<M::Response, RequestError> {
        self.send_timeout(msg, Some(std::time::Duration::from_secs(5)))
            .await
    }

    /// Sends a request with an explicit deadline (`None`: wait forever).
    pub async fn send_timeout<M: Message>(
        &self,
        msg: M,
        timeout: Option<std::time::Duration>,
    ) -> Result<M::Response, RequestError> {
        let (sender, trace) = current();
        let (token, rx) = ResponseToken::new();
        match self
            .runtime
            .deliver(Envelope::request(msg, token, sender, trace))
            .await
        {
            Ok(()) => await_response(rx, timeout).await,
            Err(SendError::Full(_)) => Err(RequestError::Full),
            Err(_) => Err(RequestError::Gone),
        }
    }
}

impl std::fmt::Debug for GroupRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupRef")
            .field("name", &self.runtime.name)
            .finish()
    }
}
