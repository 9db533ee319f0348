//! Functional actors: a function over a [`Context`] that receives
//! envelopes and matches them with `msg!`, grouped into actor groups
//! ([`ActorGroup`]) whose routers pick the keyed actor of each envelope.

mod context;
mod group;
mod group_ref;
pub(crate) mod matching;
pub(crate) mod mounted;
mod request_all;
mod responder;
mod route;
#[cfg(feature = "config")]
pub(crate) mod settings;
mod termination;

pub use context::{Context, RequestBuilder, TryRecvError};
pub use group::{ActorGroup, ExecResult, Key, Outcome, RestartPolicy, Schema};
pub use group_ref::GroupRef;
pub(crate) use mounted::{GroupRuntime, GroupSupervisor};
pub use request_all::RequestAll;
pub(crate) use route::{Route, RouteTo};
pub use termination::{StopActorError, Terminate, TerminationPolicy};
