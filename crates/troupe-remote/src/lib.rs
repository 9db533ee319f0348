//! Distribution for troupe: actors on several nodes, over Zenoh (peer
//! mode, explicit endpoints, no router to run).
//!
//! A [`Node`] joins an [`ActorSystem`](troupe::ActorSystem) to a cluster.
//! Its node number is the system's ([`SystemConfig::node`](troupe::SystemConfig)),
//! and every [`Addr`](troupe::Addr) carries its node, so an address of
//! another node works as a local one: `ctx.send_to`, `ctx.request_to`,
//! `system.monitor`, links, and `system.remote_ref::<A>(addr)` for a typed
//! handle (notify, send with a deadline, stop). Behind it, the core starts
//! a local proxy of the remote process, whose run loop forwards each
//! envelope here.
//!
//! - [`node`]: joining, the transport, node up/down events;
//! - [`registry`]: the message types that travel ([`Messages`]), by stable
//!   name, in postcard;
//! - [`frame`]: the wire format between two nodes, and its decoder (which
//!   never panics on bad input: every malformed frame is a typed error);
//! - [`auth`]: the cluster cookie, the shared secret a node proves it knows
//!   in its handshake. The cookie keeps out nodes that do not know it; it
//!   does not encrypt, and a proof seen on the wire could be replayed. On a
//!   network you do not trust, turn on mutual TLS as well (crate feature
//!   `tls`, [`NodeConfig::tls`](crate::NodeConfig), endpoints `tls/...`):
//!   then only nodes with a certificate of the cluster's authority connect.
//!
//! Semantics: frames between two nodes keep their order (one publisher
//! per peer, reliable, blocking congestion control); a message for a full
//! mailbox waits in a bounded inlet of its own, so other targets' messages
//! go on, and a full inlet pushes back on the network, and the network on
//! the sender ([`NodeConfig::inlet`](crate::NodeConfig::inlet)); a request
//! carries its deadline and resolves with its response or a typed error
//! (`NodeDown` when the node goes); a tell the other node refuses is a dead
//! letter on the sender's node; a monitor of a remote process gets `Down`
//! once, with `ExitReason::NodeDown` if its node goes.
#![warn(missing_docs, missing_debug_implementations)]

pub mod auth;
mod config;
mod convert;
pub mod frame;
mod inbound;
mod inlet;
mod link;
pub mod node;
pub mod registry;

#[cfg(feature = "tls")]
pub use config::Tls;
pub use config::{NodeConfig, DEFAULT_INLET};
pub use node::{Node, NodeEvent};
pub use registry::REMOTE_MESSAGES;
pub use registry::{CodecError, Messages};

/// Why a node could not start or send.
#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    /// The node's configuration was refused.
    #[error("bad node configuration: {0}")]
    Config(String),
    /// Zenoh failed.
    #[error("zenoh: {0}")]
    Zenoh(String),
    /// A frame could not be encoded (too large).
    #[error("frame: {0}")]
    Frame(frame::FrameError),
    /// The node is not up (or went down before it answered).
    #[error("node {} is down", .0 .0)]
    NodeDown(troupe::NodeNo),
    /// No answer within the deadline.
    #[error("no answer within {0:?}")]
    Timeout(std::time::Duration),
    /// The actor system is joined to a cluster already.
    #[error("the actor system has a transport already")]
    AlreadyJoined,
}

/// Adds message types to the link-time list that [`Messages::linked`]
/// collects (as elfo's message list): each module declares the types it
/// sends to other nodes, next to them, and a node carries them all.
///
/// ```
/// use serde::{Deserialize, Serialize};
/// use troupe::prelude::*;
/// use troupe_remote::{remote_messages, Messages};
///
/// #[message(ret = u64)]
/// #[derive(Serialize, Deserialize)]
/// struct Total;
///
/// remote_messages!(Total);
///
/// assert!(Messages::linked().knows(<Total as Message>::NAME));
/// ```
#[macro_export]
macro_rules! remote_messages {
    ($($ty:ty),+ $(,)?) => {
        $(
            const _: () = {
                #[$crate::__private::linkme::distributed_slice($crate::REMOTE_MESSAGES)]
                #[linkme(crate = $crate::__private::linkme)]
                static ADD: fn($crate::Messages) -> $crate::Messages = |m| m.with::<$ty>();
            };
        )+
    };
}

#[doc(hidden)]
pub mod __private {
    pub use linkme;
}
