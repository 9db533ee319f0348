//! # troupe
//!
//! An actor framework for Tokio, in the Erlang/OTP tradition: actors with
//! bounded mailboxes of envelopes, fire-and-forget and request/response
//! messaging with single-use reply tokens, typed struct actors with lifecycle
//! hooks, a system with a registry and coordinated shutdown.
//!
//! ```
//! use troupe::prelude::*;
//!
//! #[message]
//! struct Increment { delta: u32 }
//!
//! #[message(ret = u32)]
//! struct GetValue;
//!
//! #[derive(Default)]
//! struct Counter { value: u32 }
//!
//! impl Actor for Counter {}
//!
//! impl Handler<Increment> for Counter {
//!     async fn handle(&mut self, msg: Increment, _: &mut ActorContext<Self>) -> HandlerResult {
//!         self.value += msg.delta;
//!         Ok(())
//!     }
//! }
//!
//! impl Handler<GetValue> for Counter {
//!     async fn handle(&mut self, _: GetValue, _: &mut ActorContext<Self>) -> HandlerResult<u32> {
//!         Ok(self.value)
//!     }
//! }
//!
//! # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let counter = Counter::default().spawn().named("counter").await?;
//! counter.notify(Increment { delta: 3 }).await?;
//! assert_eq!(counter.send(GetValue).await?, 3);
//! counter.stop(StopReason::Graceful).await?;
//! # Ok(()) }
//! ```
#![deny(missing_docs)]
#![warn(unreachable_pub)]

mod actor;
mod actor_ref;
mod addr;
mod attached;
mod catch;
mod context;
mod dead_letter;
mod deadline;
mod envelope;
mod error;
mod fn_context;
mod future_slot;
mod group;
pub mod init;
mod mailbox;
mod matching;
mod message;
mod payload;
mod process;
mod request;
mod runner;
mod runtime;
mod spawn;
mod status;
pub mod stream;
pub mod supervision;
mod system;
pub mod timer;
mod topology;

pub use actor::{Actor, Failure, FailureCause, Handler};
pub use actor_ref::ActorRef;
pub use addr::{ActorMeta, Addr, NodeNo};
pub use context::ActorContext;
pub use dead_letter::{DeadLetter, DeadLetterReason};
pub use envelope::{Envelope, EnvelopeKind, TraceId};
pub use error::{BoxError, HandlerResult, SendError, SpawnError, StopError, SystemError};
pub use fn_context::{Context, RequestBuilder, TryRecvError};
pub use group::{ActorGroup, ExecResult, GroupRef, Key, Outcome, RestartPolicy, Schema};
pub use mailbox::{OverflowPolicy, DEFAULT_CAPACITY};
pub use message::Message;
pub use process::{ExitReason, StopReason};
pub use request::{RequestError, ResponseToken};
pub use spawn::{ActorConfig, Spawn, SpawnBuilder};
pub use status::{ActorStatus, Lifecycle};
pub use stream::{StreamEvent, StreamId};
pub use system::{ActorExit, ActorSystem, ShutdownReport, SystemConfig};
pub use timer::{MissPolicy, TimerError, TimerId};
pub use topology::{Local, Topology};

/// Marks a type as a [`Message`] with a stable name.
///
/// - `#[message]`: a fire-and-forget message (its response type is `()`).
/// - `#[message(ret = T)]`: a request answered with a `T`.
/// - `#[message(name = "proto::Name")]`: overrides the stable name
///   (default: `crate_name::TypeName`).
pub use troupe_macros::message;

/// Matches an [`Envelope`] against message types, like `match`.
///
/// - `Increment { delta } => ..`: a regular message of type `Increment`
///   (the type is inferred from the pattern: structs, tuple structs, unit
///   structs and enum variants work, with destructuring);
/// - `(GetValue, token) => ..`: a request and its [`ResponseToken`], which
///   can answer once (`ctx.respond(token, value)`); dropping it answers the
///   requester with [`RequestError::Dropped`];
/// - `A | B => ..`: alternatives, each of any message type;
/// - `_ => ..` or `other => ..`: the fallback (binding the envelope).
///
/// Without a fallback, an envelope no arm matches is reported as a dead
/// letter (and a request resolves with [`RequestError::Unhandled`]). It also
/// matches a borrowed `&Envelope` (in routers and route filters), binding
/// references; there a plain pattern matches requests of its type too.
///
/// ```
/// use troupe::prelude::*;
///
/// #[message]
/// struct Increment { delta: u32 }
/// #[message(ret = u32)]
/// struct GetValue;
///
/// fn route(envelope: &Envelope) -> bool {
///     msg!(match envelope {
///         Increment { delta } => *delta > 0,
///         (GetValue, _token) => true,
///         _ => false,
///     })
/// }
/// # let _ = route;
/// ```
pub use troupe_macros::msg;

/// The items most programs need.
pub mod prelude {
    pub use crate::{
        message, msg, Actor, ActorConfig, ActorContext, ActorGroup, ActorRef, ActorSystem, Addr,
        Context, Envelope, ExitReason, Handler, HandlerResult, Message, MissPolicy, Outcome,
        RequestError, ResponseToken, Schema, SendError, Spawn, StopReason, StreamEvent, Topology,
    };
}

#[doc(hidden)]
pub mod __private {
    //! What the macros expand to; not a public API.
    pub use crate::matching::MatchEnvelope;
    pub use crate::message::{CloneProbe, ViaClone, ViaNothing};
}
