//! # troupe-observer
//!
//! A live view of a running [`troupe`] system, in the tradition of
//! Erlang's observer: the supervision tree, every process with its mailbox
//! depth, message rate, restarts and last exit, the runtimes and their
//! threads, and the dead letters; plus a Prometheus endpoint for the
//! `troupe_*` metrics. The core crate keeps no web dependency: it offers
//! introspection ([`ActorSystem::snapshot`], [`ActorSystem::processes`],
//! stop and kill by address), and this crate serves it over HTTP with
//! `axum`.
//!
//! ```no_run
//! use troupe::prelude::*;
//! use troupe_observer::{install_prometheus, Observer};
//!
//! # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let metrics = install_prometheus()?; // the process's global recorder
//! let system = ActorSystem::create("app")?;
//! // ... spawn the application ...
//! let observer = Observer::new(&system)
//!     .bind(([127, 0, 0, 1], 9898))
//!     .with_prometheus(metrics)
//!     .enable_actions(std::env::var("OBSERVER_TOKEN")?)
//!     .serve()
//!     .await?;
//! println!("observer listening on {}", observer.url());
//! # Ok(()) }
//! ```
//!
//! # What it serves
//!
//! - `/`: the observer page, one static HTML file embedded in the binary
//!   (no build step, nothing fetched from elsewhere): the live supervision
//!   tree, a process table that sorts by mailbox depth or rate ("who is
//!   stuck?"), a process detail view, the dead-letter feed and a system
//!   overview. It refreshes from server-sent events, once a second.
//! - `/api/v1/...`: the versioned JSON snapshot API (see [`api`]).
//! - `/metrics`: the Prometheus text format, when a recorder is attached
//!   ([`Observer::with_prometheus`]).
//!
//! # Cost
//!
//! Nothing is sampled in the background. A snapshot is read when a request
//! (or a connected page's refresh) asks for one; message rates are the
//! difference of the processed counters troupe keeps anyway. With no page
//! open and no API request, the observer's only work is the Prometheus
//! upkeep (every 5 s by default) and collecting dead letters as they are
//! reported (turn that off with [`Observer::keep_dead_letters`]`(0)`).
//!
//! # Actions
//!
//! Stop and kill (from the page's detail view, or
//! `POST /api/v1/processes/{node}/{id}/stop|kill`) are off unless enabled
//! with [`Observer::enable_actions`], and then need the bearer token:
//! without it they are refused (401) and touch nothing. They act as
//! [`ActorSystem::stop_process`] and [`ActorSystem::kill_process`] do: a
//! supervised process is restarted after it if its restart type says so,
//! as after `exit(Pid, kill)` in Erlang.
//!
//! # Exposure
//!
//! The server binds `127.0.0.1` unless told otherwise, and on a loopback
//! address it answers only requests addressed to a loopback host (so that
//! a web page of another site, whose name was made to resolve to
//! 127.0.0.1, reads nothing from it). Message contents are
//! never shown: the API and the page show message type names only (troupe
//! keeps no copy of a message it could not deliver).
//!
//! [`ActorSystem::snapshot`]: troupe::ActorSystem::snapshot
//! [`ActorSystem::processes`]: troupe::ActorSystem::processes
//! [`ActorSystem::stop_process`]: troupe::ActorSystem::stop_process
//! [`ActorSystem::kill_process`]: troupe::ActorSystem::kill_process
#![deny(missing_docs)]
#![warn(unreachable_pub)]
#![warn(missing_debug_implementations)]
#![forbid(unsafe_code)]

mod actions;
pub mod api;
mod dead_letters;
mod error;
mod live;
mod observer;
mod prometheus;
mod rates;
mod server;
mod state;
mod token;

pub use actions::MIN_TOKEN_LEN;
pub use dead_letters::DeadLetterView;
pub use error::ObserverError;
pub use metrics_exporter_prometheus::PrometheusHandle;
pub use observer::{Observer, ObserverHandle, DEFAULT_BIND, DEFAULT_DEAD_LETTERS, DEFAULT_REFRESH};
pub use prometheus::{install_prometheus, DEFAULT_UPKEEP};
