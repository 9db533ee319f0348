//! Low-latency pipelines for troupe, after acto-rs: typed stages connected by
//! lossy single-producer/single-consumer queues, run by a scheduler with a
//! fixed number of threads and a fixed rule per stage.
//!
//! * **Stages** are classified by the shape of their connections: [`Source`],
//!   [`Sink`], [`Filter`], [`Scatter`], [`Gather`], [`Split`], [`Merge`].
//!   Each has one non-blocking `process` method; closures of the right shape
//!   are stages too.
//! * **Channels** ([`Channel`]) are typed lossy queues ([`queue`]): the
//!   [`Writer`] never blocks; when the [`Reader`] lags, the oldest unread items
//!   are overwritten and the reader is told how many it lost.
//! * **Rules** ([`Rule`]) say when a stage runs: `Loop`, `OnMessage`,
//!   `Periodic(period)` or `OnExternalEvent` (woken by a [`Notifier`]).
//! * **Wiring** is checked by [`PipelineBuilder::build`]: a channel must have
//!   exactly one writer and one reader, or building fails with
//!   [`BuildError::Wiring`] instead of a pipeline that hangs.
//! * **Stopping** ([`Pipeline::stop`]) joins the threads with a bounded wait
//!   and returns a [`StopReport`]; a panicking stage is caught, dropped and
//!   reported there (and by [`Pipeline::panics`]) while the other stages of
//!   its thread go on.
//! * **Bridges** ([`DeliverSink`], [`SourceFeeder`]) connect a pipeline to
//!   actors or any other code without blocking a scheduler thread; with the
//!   feature `actors`, `actors::actor_sink` plugs in a troupe `ActorRef`.
//! * **Supervision** (feature `supervision`): a stage declared with
//!   `StageSpec::restartable` is re-initialised from its factory on its own
//!   thread when it fails, by troupe's restart types, budgets and backoff
//!   (the pipeline gives up and stops when a budget is exhausted); a
//!   `PipelineChild` makes a whole pipeline a child of a troupe supervisor.
//!
//! # Example
//! ```
//! use std::time::Duration;
//! use troupe_pipeline::{Flow, PipelineBuilder, Reader, Rule, Writer};
//!
//! let mut builder = PipelineBuilder::new("squares").threads(2);
//! let numbers = builder.channel::<u64>("numbers", 64);
//! let squares = builder.channel::<u64>("squares", 64);
//! let mut n = 0;
//! builder.add("numbers", Rule::Loop).source(numbers, move |out: &mut Writer<u64>| {
//!     if out.is_full() {
//!         return Flow::Continue;
//!     }
//!     n += 1;
//!     out.push(n);
//!     if n == 100 { Flow::Done } else { Flow::Continue }
//! });
//! builder.add("square", Rule::OnMessage).filter(
//!     numbers,
//!     squares,
//!     |input: &mut Reader<u64>, out: &mut Writer<u64>| {
//!         while !out.is_full() {
//!             let Some(n) = input.pop() else { break };
//!             out.push(n * n);
//!         }
//!         if input.is_closed() { Flow::Done } else { Flow::Continue }
//!     },
//! );
//! let (tx, rx) = std::sync::mpsc::channel();
//! let mut total = 0;
//! builder.add("total", Rule::OnMessage).sink(squares, move |input: &mut Reader<u64>| {
//!     total += input.drain().sum::<u64>();
//!     if input.is_closed() {
//!         let _ = tx.send(total);
//!         return Flow::Done;
//!     }
//!     Flow::Continue
//! });
//! let pipeline = builder.build()?;
//! assert_eq!(rx.recv_timeout(Duration::from_secs(5)).ok(), Some(338_350));
//! let report = pipeline.stop(Duration::from_secs(5));
//! assert!(report.is_clean());
//! assert_eq!(report.channel("numbers").map(|c| c.lost), Some(0));
//! # Ok::<(), troupe_pipeline::BuildError>(())
//! ```
#![deny(missing_docs)]
#![warn(unreachable_pub)]

#[cfg(feature = "actors")]
pub mod actors;
mod bridge;
mod builder;
#[cfg(feature = "supervision")]
mod child;
mod control;
mod error;
mod pipeline;
pub mod queue;
#[cfg(feature = "supervision")]
mod restart;
mod scheduler;
mod signal;
mod spec;
mod stage;
mod sync;

pub use bridge::{Deliver, DeliverSink, DeliveryStats, SourceFeeder, DEFAULT_BATCH};
pub use builder::{Channel, PipelineBuilder, StageId};
#[cfg(feature = "supervision")]
pub use child::PipelineChild;
pub use error::{
    BuildError, FeedError, QueueError, RestartsExhausted, StagePanic, StopError, WiringError,
};
pub use pipeline::{ChannelReport, Pipeline, StageOutcome, StageReport, StopReport};
pub use queue::{ReadStats, Reader, Writer};
#[cfg(feature = "supervision")]
pub use restart::{RestartableSpec, StageRestart};
pub use signal::Notifier;
pub use spec::StageSpec;
pub use stage::{Filter, Flow, Gather, Merge, Rule, Scatter, Sink, Source, Split};
