//! The extension point for distribution: how an actor system reaches the
//! processes of other nodes.
//!
//! A distribution layer (the `troupe-remote` crate) implements
//! [`Transport`] and installs it with `ActorSystem::set_transport`. From
//! then on, an address of another node resolves to a local *proxy*: a
//! process with a mailbox of its own, registered under the remote address,
//! whose run loop forwards each envelope to the transport. Everything that
//! works on a local process works on it through the one core: typed and
//! untyped sends with backpressure, requests with deadlines, monitors and
//! links (the proxy exits with the remote process's exit reason, or
//! `NodeDown`), stops (forwarded to the remote process).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use super::process::Shared;
use super::system::ActorSystem;
use crate::addr::Addr;
use crate::envelope::Envelope;
use crate::error::{SendError, StopError};
use crate::exit::{ExitReason, StopReason};

/// A boxed future, as the transport's methods return.
pub type TransportFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// How an actor system reaches the processes of other nodes.
///
/// Implemented by a distribution layer; see the module docs of
/// `troupe-remote`. Addresses carry their node ([`Addr::node`]), so the
/// transport knows where each envelope goes.
pub trait Transport: Send + Sync + 'static {
    /// Sends `env` to the process `to` of another node, waiting while the
    /// network pushes back. A request's [`ResponseToken`](crate::ResponseToken)
    /// travels with the envelope: the transport answers it with the
    /// response, or fails it ([`RequestError::NodeDown`](crate::RequestError::NodeDown),
    /// `Gone`, `Full`, ...). An error hands the envelope back.
    fn forward(&self, to: Addr, env: Envelope) -> TransportFuture<Result<(), SendError<Envelope>>>;

    /// Stops the process `to` of another node with the tier `how`, and
    /// resolves once it has exited (or is gone).
    fn stop(&self, to: Addr, how: StopReason) -> TransportFuture<Result<(), StopError>>;

    /// Starts watching the process `target` of another node: once it exits
    /// (or its node goes down), the transport calls
    /// [`ActorSystem::remote_exited`] with its exit reason, once.
    fn watch(&self, target: Addr);

    /// Sends `env` to the group `group` mounted on node `node`, through its
    /// router there. Without support for groups, the envelope comes back
    /// ([`SendError::Closed`]).
    fn forward_group(
        &self,
        node: crate::addr::NodeNo,
        group: &str,
        env: Envelope,
    ) -> TransportFuture<Result<(), SendError<Envelope>>> {
        let _ = (node, group);
        Box::pin(async move { Err(SendError::Closed(env)) })
    }
}

/// Starts the proxy of a remote process (or finds the one running).
pub(crate) type SpawnProxy = fn(&ActorSystem, Addr, &Arc<dyn Transport>) -> Option<Arc<Shared>>;

/// A link between the local process `local` and a process of another node
/// made (`linked`) or removed: the proxy of that process forwards it in
/// order with what `local` sends there, and the transport asks the other
/// node to link its process to its proxy of `local`
/// ([`ActorSystem::link_remote`]), so that `local`'s exit reaches it.
/// Without support for links, a transport drops it: only the remote
/// process's exit reaches `local` then (through its proxy here).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RemoteLink {
    /// The local process.
    pub local: Addr,
    /// Made (`true`) or removed.
    pub linked: bool,
}

impl crate::message::Message for RemoteLink {
    const NAME: &'static str = "troupe::RemoteLink";
    type Response = ();
}

/// What the system keeps of an installed transport.
pub(crate) struct Installed {
    pub(crate) transport: Arc<dyn Transport>,
    /// Starts the proxy of a remote process (the proxy front-end's, handed
    /// in by `ActorSystem::set_transport`).
    pub(crate) spawn_proxy: SpawnProxy,
}

impl ActorSystem {
    /// Whether `addr` is a process of another node.
    pub(crate) fn is_remote(&self, addr: Addr) -> bool {
        !addr.is_null() && addr.node() != self.node()
    }

    /// Stops a remote process through the transport, within `wait`.
    pub(crate) async fn stop_remote(
        &self,
        to: Addr,
        how: StopReason,
        wait: Duration,
    ) -> Result<(), StopError> {
        let Some(transport) = self.transport() else {
            return Ok(()); // no route to it: as for a process already gone
        };
        match tokio::time::timeout(wait, transport.stop(to, how)).await {
            Ok(res) => res,
            Err(_) => Err(StopError::Timeout(wait)),
        }
    }

    /// Ends the local proxy of the remote process `addr` with `reason`:
    /// called by the transport once that process exited or its node went
    /// down. Its local monitors get a `Down` with `reason`, its local link
    /// partners the exit signal; what was queued for it becomes dead
    /// letters. A no-op if there is no proxy.
    pub fn remote_exited(&self, addr: Addr, reason: ExitReason) {
        if !self.is_remote(addr) {
            return;
        }
        if let Some(proxy) = self.lookup_registered(addr) {
            proxy.finish(reason);
            proxy.abort();
        }
    }

    /// Links the local process `local` to the process `remote` of another
    /// node, here only (the other node asked for it: see [`RemoteLink`]).
    /// Fails if `local` is gone.
    pub fn link_remote(&self, local: Addr, remote: Addr) -> Result<(), crate::LinkError> {
        match self.lookup_registered(local) {
            Some(shared) if !self.is_remote(local) => shared.link_here(remote).map(drop),
            _ => Err(crate::LinkError::NoProc(local)),
        }
    }

    /// Removes a link made by [`ActorSystem::link_remote`].
    pub fn unlink_remote(&self, local: Addr, remote: Addr) -> bool {
        self.lookup_registered(local)
            .is_some_and(|shared| shared.unlink_here(remote))
    }

    /// Delivers an envelope that came from another node to the local
    /// process `to`, waiting for mailbox space per its overflow policy.
    /// Fails with [`SendError::Closed`] if there is no such process.
    pub async fn deliver_local(&self, to: Addr, env: Envelope) -> Result<(), SendError<Envelope>> {
        if self.is_remote(to) {
            return Err(SendError::Closed(env));
        }
        match self.lookup_registered(to) {
            Some(target) => target.deliver(env).await,
            None => Err(SendError::Closed(env)),
        }
    }

    /// Stops the local process `to` with the tier `how` (a stop that came
    /// from another node), within its control wait. Succeeds if there is no
    /// such process (stopping is idempotent).
    pub async fn stop_local(&self, to: Addr, how: StopReason) -> Result<(), StopError> {
        if self.is_remote(to) {
            return Ok(());
        }
        match self.lookup_registered(to) {
            Some(target) => target.stop(how, target.control_wait()).await,
            None => Ok(()),
        }
    }

    /// Like [`ActorSystem::deliver_local`] without waiting: a full mailbox
    /// is [`SendError::Full`].
    pub fn try_deliver_local(&self, to: Addr, env: Envelope) -> Result<(), SendError<Envelope>> {
        if self.is_remote(to) {
            return Err(SendError::Closed(env));
        }
        match self.lookup_registered(to) {
            Some(target) => target.try_deliver(env),
            None => Err(SendError::Closed(env)),
        }
    }
}
