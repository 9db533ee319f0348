//! The guide: one chapter per concept, in reading order, each with a
//! complete example that `cargo test` runs (the chapters are doc tests of
//! this crate). Start with [`struct_actors`] or [`functional_actors`],
//! whichever style you prefer; [`coming_from`] maps the terms of actix,
//! ractor, kameo and elfo onto troupe's.
//!
//! 1. [`struct_actors`]: actors that own their state, hooks, spawning,
//!    stopping.
//! 2. [`messages_and_requests`]: `#[message]`, notify and send, errors,
//!    mailboxes, failures, addresses and recipients.
//! 3. [`functional_actors`]: `ActorGroup`, `exec`, `msg!`, routers.
//! 4. [`topology_and_runtimes`]: wiring groups, dedicated runtimes,
//!    starting and terminating a system.
//! 5. [`supervision`]: OTP supervision, monitors and links.
//! 6. [`timers_and_streams`]: scheduled messages, miss policies, attached
//!    streams.
//! 7. [`pipelines`]: typed stages on fixed threads (`troupe-pipeline`).
//! 8. [`testing`]: a system per test, paused time, waiting for events.
//! 9. [`observability`]: tracing, metrics, dead letters, status.
//! 10. [`distribution`]: several nodes (`troupe-remote`).
//! 11. [`coming_from`]: from actix, ractor, kameo or elfo.
//!
//! This module holds documentation only.

// The chapters' short links (`[`Actor`]`) resolve here.
#[allow(unused_imports)]
use crate::{
    Actor, ActorConfig, Addr, ExitReason, OverflowPolicy, RequestError, SendError, StopReason,
};

#[doc = include_str!("../guide/01-struct-actors.md")]
pub mod struct_actors {}

#[doc = include_str!("../guide/02-messages-and-requests.md")]
pub mod messages_and_requests {}

#[doc = include_str!("../guide/03-functional-actors.md")]
pub mod functional_actors {}

#[doc = include_str!("../guide/04-topology-and-runtimes.md")]
pub mod topology_and_runtimes {}

#[doc = include_str!("../guide/05-supervision.md")]
pub mod supervision {}

#[doc = include_str!("../guide/06-timers-and-streams.md")]
pub mod timers_and_streams {}

#[doc = include_str!("../guide/07-pipelines.md")]
pub mod pipelines {}

#[doc = include_str!("../guide/08-testing.md")]
pub mod testing {}

#[doc = include_str!("../guide/09-observability.md")]
pub mod observability {}

#[doc = include_str!("../guide/10-distribution.md")]
pub mod distribution {}

#[doc = include_str!("../guide/11-coming-from.md")]
pub mod coming_from {}
