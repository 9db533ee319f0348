//! Supervision: one Erlang/OTP supervision engine for every kind of child.
//!
//! A supervisor is a process that starts children, learns when one exits,
//! and restarts it (and maybe its siblings) by a [`RestartStrategy`],
//! within a restart budget. Its children can be:
//!
//! - **struct actors**, spawned from a factory (a closure producing a fresh
//!   actor value) with [`ActorContext::spawn_child`](crate::ActorContext::spawn_child)
//!   or [`ChildSpec::actor`];
//! - **plain processes** without a mailbox: a [`Supervisable`] is a named
//!   factory of futures; each run is a new troupe process (registered in
//!   the system, with a unique [`Addr`](crate::Addr), a semi-unique name and a
//!   [`ProcessShutdown`] signal);
//! - **nested supervisors**, struct actors spawned with
//!   `.with_supervision(config)` or plain [`Supervisor`]s, so that trees of
//!   any depth can be built.
//!
//! The same engine runs behind both front-ends: a struct actor that is a
//! supervisor (`actor.spawn().with_supervision(config)`, then
//! `ctx.spawn_child(factory)` in its hooks and handlers), and the plain
//! [`Supervisor`] (children declared up front, as in Saluki).
//!
//! # Semantics (Erlang/OTP `supervisor` unless said otherwise)
//!
//! - Children start one at a time, in order; a supervisor's start succeeds
//!   once all its children run. They stop in reverse start order.
//! - A child's exit reaches its supervisor through the supervisor's system
//!   channel (never the bounded mailbox, so a full mailbox cannot lose it).
//! - Strategies: [`RestartStrategy`]; restart types: [`RestartType`];
//!   shutdown: [`ShutdownStrategy`]; budget: [`SupervisorConfig`].
//! - A restarted struct actor (and a group's keyed actor) keeps its
//!   address, name and mailbox, so every [`ActorRef`](crate::ActorRef)
//!   taken before the restart reaches the new incarnation. A restarted
//!   plain process is a new process with a new id.
//! - Between an incarnation's exit and its restart (a moment, or the
//!   backoff delay) the mailbox stays open, in
//!   [`Lifecycle::Restarting`](crate::Lifecycle::Restarting): what was
//!   queued when it exited, and what is sent meanwhile, is handled by the
//!   next incarnation (requests wait, bounded by their deadline). This is
//!   what Erlang users get from a registered name plus a supervisor,
//!   without the `noproc` window. Only when no restart follows (restart
//!   type, budget exceeded, shutdown) does the mailbox close: what waits in
//!   it becomes dead letters (requests resolve with `Gone`).
//! - While the system shuts down, nothing is restarted;
//!   [`ActorSystem::shutdown`](crate::ActorSystem::shutdown) asks only root
//!   processes to stop, and each supervisor stops its children in reverse
//!   order.
//! - A supervisor that is killed ends as in OTP, where its children get
//!   its exit signal (reason `killed`): its worker children are killed
//!   with it, before anyone learns that it ended (no hook runs in them);
//!   a child that is itself a supervisor traps that signal, as every OTP
//!   supervisor does, and shuts its own children down in reverse start
//!   order, each by its shutdown strategy and with its stop hooks, then
//!   exits with reason `shutdown`. It does so on its own time: the killed
//!   supervisor's exit is published at once, so that, as in OTP, a
//!   restart of the killed supervisor may find a name its old child
//!   supervisor's children still hold (that start then fails, and counts
//!   against the budget).
//! - A supervisor whose restart budget is exceeded stops its children and
//!   exits with reason `shutdown`, as in OTP.
//! - Every kind of process is supervised by the same engine: struct
//!   actors, plain processes, supervisors, and actor groups
//!   ([`ChildSpec::group`]).
//!
//! ```
//! use std::time::Duration;
//! use troupe::prelude::*;
//! use troupe::supervision::{process_fn, Supervisor, SupervisorConfig};
//!
//! # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let system = ActorSystem::create("doc-supervision")?;
//! let worker = process_fn("ticker", |mut shutdown| async move {
//!     shutdown.wait_for_shutdown().await;
//!     Ok(())
//! });
//! let root = Supervisor::new("root")
//!     .with_config(SupervisorConfig::one_for_one().max_restarts(3, Duration::from_secs(5)))
//!     .with_worker(worker)
//!     .spawn(&system)
//!     .await?;
//! assert_eq!(root.children().await?.len(), 1);
//! root.shutdown().await?;
//! # Ok(()) }
//! ```

mod supervisor;
mod worker;

pub use crate::actor::ChildSpawnBuilder;
pub use crate::core::restart::{
    Backoff, ChildCounts, ChildExited, ChildId, ChildInfo, ChildKey, ChildSpec, ChildState,
    RestartBudget, RestartDecision, RestartStrategy, RestartType, ShutdownStrategy,
    SupervisionEvent, SupervisorConfig, SupervisorError,
};
pub use supervisor::{Supervisor, SupervisorRef};
pub use worker::{process_fn, ProcessFn, ProcessShutdown, Supervisable, SupervisorFuture};
