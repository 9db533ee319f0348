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
//!
//! # Example: two nodes
//!
//! Two systems in one process, each a node of the cluster `shop`, on
//! loopback: node 1 reaches a counter of node 2 by its address, tells and
//! asks it, and monitors it across the network. (The distribution chapter
//! of troupe's guide, `troupe::guide::distribution`, starts here.)
//!
//! ```
//! use std::time::Duration;
//! use serde::{Deserialize, Serialize};
//! use troupe::prelude::*;
//! use troupe::NodeNo;
//! use troupe_remote::{Messages, Node, NodeConfig};
//!
//! #[message]
//! #[derive(Serialize, Deserialize)]
//! struct Add(u64);
//!
//! #[message(ret = u64)]
//! #[derive(Serialize, Deserialize)]
//! struct Total;
//!
//! #[derive(Default)]
//! struct Counter(u64);
//!
//! impl Actor for Counter {
//!     troupe::handles!(Add, Total); // what may reach it by address, from the network
//! }
//!
//! impl Handler<Add> for Counter {
//!     async fn handle(&mut self, Add(n): Add, _: &mut ActorContext<Self>) -> HandlerResult {
//!         self.0 += n;
//!         Ok(())
//!     }
//! }
//!
//! impl Handler<Total> for Counter {
//!     async fn handle(&mut self, _: Total, _: &mut ActorContext<Self>) -> HandlerResult<u64> {
//!         Ok(self.0)
//!     }
//! }
//!
//! fn node_system(n: u16) -> ActorSystem {
//!     ActorSystem::isolated_with(SystemConfig { node: NodeNo(n), ..SystemConfig::default() })
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
//!     let endpoint = format!("tcp/127.0.0.1:{port}");
//!     let messages = Messages::new().with::<Add>().with::<Total>();
//!
//!     let (one, two) = (node_system(1), node_system(2));
//!     let node_one =
//!         Node::start(&one, NodeConfig::new("shop", b"cookie").listen(&endpoint), messages.clone())
//!             .await?;
//!     let mut events = node_one.events();
//!     let node_two =
//!         Node::start(&two, NodeConfig::new("shop", b"cookie").connect(&endpoint), messages)
//!             .await?;
//!     // Wait (bounded) until node 1 sees node 2.
//!     tokio::time::timeout(Duration::from_secs(10), async {
//!         while !node_one.peers().contains(&NodeNo(2)) {
//!             let _ = events.recv().await;
//!         }
//!     })
//!     .await?;
//!
//!     let counter = Counter::default().spawn().on_system(&two).await?;
//!     // On node 1, a handle to the counter of node 2, by its address.
//!     let remote = one.remote_ref::<Counter>(counter.addr()).ok_or("no transport")?;
//!     remote.notify(Add(2)).await?;
//!     remote.notify(Add(3)).await?;
//!     assert_eq!(remote.send(Total).await?, 5); // in order after the tells
//!
//!     let down = one.monitor(counter.addr());
//!     counter.stop(StopReason::Shutdown).await?;
//!     let down = tokio::time::timeout(Duration::from_secs(10), down).await?;
//!     assert_eq!(down.reason, ExitReason::Shutdown);
//!
//!     node_two.close().await;
//!     node_one.close().await;
//!     one.shutdown().await;
//!     two.shutdown().await;
//!     Ok(())
//! }
//! ```
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
