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
//!
//! # Where to read next
//!
//! The [`guide`] teaches the whole framework, one concept per chapter, each
//! with a complete example: struct actors, messages and requests,
//! functional actors, topologies and runtimes, supervision, timers and
//! streams, pipelines, testing, observability, distribution, and a page for
//! those coming from actix, ractor, kameo or elfo.
//!
//! Where Erlang/OTP semantics decide a choice, the item's documentation
//! says so; where troupe differs from them (restarted actors keep their
//! address; a failed fire-and-forget message lets a struct actor go on,
//! the rule of Tokio Actors), it says that too.
//!
//! # How the crate is built
//!
//! One core, five layers; a layer imports only the layers below it.
//!
//! 1. **Basics**: `addr.rs`, `message.rs`, `payload.rs` (messages stored
//!    inline), `envelope.rs` (and `envelope/letters.rs`, the recycled
//!    boxes envelopes travel in), `request.rs` (tokens and request errors),
//!    `deadline.rs`, `exit.rs`, `status.rs`, `error.rs`, [`defaults`],
//!    [`metrics`] (the names and labels of what troupe records).
//! 2. **The process core**, `core/`, which imports no front-end:
//!    `process.rs` (the state a process shares with its handles),
//!    `mailbox.rs`, `run_loop.rs` (THE run loop of every kind of process),
//!    `launch.rs`, `delivery.rs` (the one delivery and request path),
//!    `monitor.rs` and `link.rs` (Erlang's monitors and links, by
//!    address), `signal.rs` (how their `Down` and `Exit` reach a process),
//!    `restart/` (the one restart engine), `system.rs`, `dead_letter.rs`,
//!    `instruments.rs` (a process's metric handles), `runtime.rs`,
//!    `config.rs`, `current.rs`, `introspect.rs` (processes by address,
//!    what each is and how it is doing, stop and kill by address).
//! 3. **Attached sources**, `attached/`: timers, streams and
//!    [`ContextCore`], which both contexts dereference to.
//! 4. **Front-ends**: `actor/` (struct actors), `functional/` (functional
//!    actors, groups, `msg!` matching), [`supervision`] (plain
//!    supervisors and processes).
//! 5. **Assembly**: `topology.rs`, [`init`]; `config/`, configuration
//!    per group from a TOML file (feature `config`); `testkit/`, the test
//!    kit (feature `testkit`).
//!
//! # Features
//!
//! - `testkit`: `troupe::testkit`, to test groups, struct actors and
//!   supervisor trees under a paused clock (a proxy that sends, requests,
//!   receives and syncs; `assert_msg!`; dead letters and supervision
//!   events; injected faults). Meant for `[dev-dependencies]`.
//! - `config`: `troupe::config`, a TOML section per group, validated at
//!   start and reloaded in two phases (by a call or SIGHUP). Optional
//!   because it brings `toml`, `serde` and two small serde helpers that a
//!   program configured in code does not need.
//! - `serde`: `Serialize`/`Deserialize` for addresses.
//!
//! One message, from send to handler: `ActorRef::notify`
//! (`actor/actor_ref.rs`) builds an [`Envelope`] (`envelope.rs`) and hands
//! it to the process (`core/process.rs`, `Shared::deliver`), whose
//! mailbox (`core/mailbox.rs`) applies its overflow policy and wakes the
//! process's task. The task's run loop (`core/run_loop.rs`, `next`) takes
//! the system channel first, then the envelope, and gives it to the
//! front-end: a struct actor (`actor/run.rs`) runs its `Handler<M>`,
//! carried by a typed send or looked up by the receiver
//! (`actor/dispatch.rs`); a functional actor gets it from `recv`
//! (`functional/context.rs`) and matches it with [`msg!`]. A request's
//! token answers the requester, waiting in `core/delivery.rs`.
#![deny(missing_docs)]
#![warn(unreachable_pub)]
#![warn(missing_debug_implementations)]
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks)]

// Layer 1, basics: addresses, messages, envelopes, requests, errors.
mod addr;
mod catch;
mod deadline;
pub mod defaults;
mod envelope;
mod error;
mod exit;
mod future_slot;
mod message;
pub mod metrics;
mod moment;
mod payload;
mod request;
mod stamp;
mod status;

// Layer 2, the process core: process state, mailbox, the run loop, launch,
// delivery, the restart engine, the system. It imports no front-end.
mod core;

// Layer 3, attached sources: timers, streams and the context core.
mod attached;

// Layer 4, front-ends: struct actors, functional actors, supervision.
mod actor;
mod functional;
pub mod supervision;

// Layer 5, assembly: topologies and their start.
pub mod init;
mod topology;

// Distribution's extension point: proxies of remote processes.
mod proxy;

// Configuration per group from a file (feature `config`).
#[cfg(feature = "config")]
pub mod config;

// Tests of actors: a proxy, subscriptions, faults (feature `testkit`).
#[cfg(feature = "testkit")]
pub mod testkit;

// Documentation only: the guide's chapters, each a tested example.
pub mod guide;

pub use crate::core::config::ActorConfig;
pub use crate::core::core_set::CoreSet;
pub use crate::core::dead_letter::{DeadLetter, DeadLetterReason};
pub use crate::core::introspect::{
    ProcessInfo, ProcessKind, RuntimeInfo, SystemSnapshot, WorkerInfo,
};
pub use crate::core::link::{Exit, LinkError};
pub use crate::core::mailbox::{OverflowPolicy, DEFAULT_CAPACITY};
pub use crate::core::monitor::{Down, Monitor, MonitorRef};
pub use crate::core::recipient::Recipient;
pub use crate::core::remote::{RemoteLink, Transport, TransportFuture};
pub use crate::core::status_reports::StatusSubscription;
pub use crate::core::system::{ActorExit, ActorSystem, ShutdownReport, SystemConfig};
pub use actor::{
    Actor, ActorContext, ActorRef, ChildSpawnBuilder, Failure, FailureCause, Handler, Handlers,
    Spawn, SpawnBuilder,
};
pub use addr::{ActorMeta, Addr, NodeNo};
pub use attached::{stream, timer, Accepts, Attach, ContextCore};
pub use envelope::{Envelope, EnvelopeKind, TraceId};
pub use error::{BoxError, HandlerResult, SendError, SpawnError, StopError, SystemError};
pub use exit::{ExitReason, StopReason};
pub use functional::{
    ActorGroup, Context, ExecResult, GroupRef, Key, Outcome, RequestAll, RequestBuilder,
    RestartPolicy, Schema, TryRecvError,
};
pub use functional::{StopActorError, Terminate, TerminationPolicy};
pub use message::Message;
pub use proxy::request_envelope;
pub use request::{RequestError, ResponseToken};
pub use status::{ActorStatus, Lifecycle, Status, StatusKind, StatusReport};
pub use stream::{Emitter, StreamEvent, StreamId, StreamItem};
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
/// - `Pattern if guard => ..`: a guard, on any arm (requests and the
///   fallback too); it sees the bindings with their own types, as in
///   `match`. A guard that says no leaves the envelope whole (sender, trace
///   id, token) for the next arms;
/// - `m @ Increment { .. } => ..`: binds the whole message (`p @ Ping`
///   for a unit struct);
/// - `_ => ..` or `other => ..`: the fallback (binding the envelope).
///
/// A request type matched without its token (`GetValue => ..`) does not
/// compile: requests arrive with their token, so the arm could never
/// match.
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
///
/// /// What an actor does with each envelope.
/// fn handle(ctx: &Context, envelope: Envelope, value: &mut u32) {
///     msg!(match envelope {
///         Increment { delta } if delta > 100 => tracing::warn!(delta, "too large"),
///         m @ Increment { .. } => *value += m.delta,
///         (GetValue, token) => {
///             ctx.respond(token, *value);
///         }
///         _ => {}
///     })
/// }
/// # let _ = handle;
/// ```
pub use troupe_macros::msg;

/// Declares, in an `Actor` impl, the messages that reach the actor by
/// address alone (see [`Actor::handlers`]).
///
/// ```
/// use troupe::prelude::*;
///
/// #[message]
/// struct Ping;
///
/// struct Echo;
/// impl Actor for Echo {
///     troupe::handles!(Ping);
/// }
/// impl Handler<Ping> for Echo {
///     async fn handle(&mut self, _: Ping, _: &mut ActorContext<Self>) -> HandlerResult {
///         Ok(())
///     }
/// }
/// ```
#[macro_export]
macro_rules! handles {
    ($($message:ty),* $(,)?) => {
        fn handlers(handlers: &mut $crate::Handlers<Self>) {
            $(handlers.add::<$message>();)*
        }
    };
}

/// The items most programs need: `use troupe::prelude::*;` covers the
/// examples of the README and of the [`guide`], apart from what is
/// specific to one concept (the rest of [`supervision`], [`timer`],
/// [`stream`]).
pub mod prelude {
    pub use crate::supervision::{RestartType, SupervisorConfig};
    pub use crate::{
        message, msg, Actor, ActorConfig, ActorContext, ActorGroup, ActorRef, ActorStatus,
        ActorSystem, Addr, Attach, Context, Down, Envelope, Exit, ExitReason, Failure, GroupRef,
        Handler, HandlerResult, Lifecycle, Message, MissPolicy, MonitorRef, Outcome,
        OverflowPolicy, Recipient, RequestError, ResponseToken, RestartPolicy, Schema, SendError,
        Spawn, SpawnError, StopError, StopReason, StreamEvent, StreamId, StreamItem, SystemConfig,
        Topology,
    };
    pub use crate::{Terminate, TerminationPolicy};
}

#[doc(hidden)]
pub mod __private {
    //! What the macros expand to, and what troupe's own tests look at; not
    //! a public API.
    pub use crate::functional::matching::{
        Borrowed, MatchEnvelope, NoResponse, Owned, Slot, TakeRegular, TakeRequest,
    };
    pub use crate::message::{CloneProbe, ViaClone, ViaNothing};

    /// Whether the clock that stamps envelopes is calibrated (see
    /// `tests/clock_calibration.rs`).
    pub fn clock_calibrated() -> bool {
        crate::stamp::calibrated()
    }
}
