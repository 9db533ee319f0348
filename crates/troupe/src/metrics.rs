//! The metrics troupe records, through the [`metrics`](https://docs.rs/metrics)
//! facade: every one of them, its labels and its meaning, in one place.
//!
//! # Turning them on
//!
//! Metrics are **off by default**: a system records them only when its
//! config says so ([`SystemConfig::metrics`](crate::SystemConfig::metrics)).
//! Off, no process registers a handle, builds a key or reads the clock for
//! them: a send, a request and a handling cost what they cost without this
//! module (one test of a null pointer each). On, each process registers its
//! handles once, when it is created, with the recorder in place then (the
//! global one, or a local one around the spawning code), and keeps them:
//! the hot paths then update handles, without building keys or labels.
//!
//! Install a recorder (an exporter such as `metrics-exporter-prometheus`)
//! before creating the system, then turn metrics on:
//!
//! ```
//! use metrics_util::debugging::DebuggingRecorder;
//! use troupe::prelude::*;
//! use troupe::{metrics as names, SystemConfig};
//!
//! #[message]
//! struct Ping;
//!
//! struct Worker;
//! impl Actor for Worker {}
//! impl Handler<Ping> for Worker {
//!     async fn handle(&mut self, _: Ping, _: &mut ActorContext<Self>) -> HandlerResult {
//!         Ok(())
//!     }
//! }
//!
//! let recorder = DebuggingRecorder::new();
//! let snapshotter = recorder.snapshotter();
//! let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
//! metrics::with_local_recorder(&recorder, || {
//!     rt.block_on(async {
//!         let config = SystemConfig { metrics: true, ..SystemConfig::default() };
//!         let system = ActorSystem::create_with("doc-metrics", config).unwrap();
//!         let worker = Worker.spawn().on_system(&system).await.unwrap();
//!         worker.notify(Ping).await.unwrap();
//!         system.shutdown().await;
//!     })
//! });
//! let sent = snapshotter
//!     .snapshot()
//!     .into_vec()
//!     .into_iter()
//!     .any(|(key, ..)| key.key().name() == names::MESSAGES_SENT);
//! assert!(sent);
//! ```
//!
//! # Labels
//!
//! Series are kept bounded: by default a process's metrics carry one label,
//! [`group`](GROUP), shared by every process of its group, so that their
//! number follows the number of groups, not of processes:
//!
//! - a functional actor (and a struct actor run by a group,
//!   [`ActorGroup::actor`](crate::ActorGroup::actor)): the group's name;
//! - a struct actor spawned on its own: its type's short name (`Counter`
//!   for `my_app::Counter<T>`), not its registered name, which a program
//!   may make up at run time (`worker-{n}`); the supervisor of a group is
//!   a struct actor of type `GroupSupervisor`;
//! - a plain supervised process
//!   ([`supervision`](crate::supervision)): its child name, which its spec
//!   fixes;
//! - the stand-in of a process of another node: `remote`.
//!
//! Per-actor series are an opt-in of the group (or of the struct actor):
//! [`ActorConfig::with_actor_metrics`](crate::ActorConfig::with_actor_metrics)
//! adds the label [`actor`](ACTOR) to its processes' series: its registered
//! name, else its key in its group, else (a struct actor with neither) its
//! address. Such a group's series grow with its actors: opt in for groups
//! of a few long-lived actors.
//!
//! Event metrics add one label saying what happened: [`reason`](REASON)
//! (exits, restarts, dead letters) or [`outcome`](OUTCOME) (requests).
//!
//! # The metrics
//!
//! | name | kind | labels | meaning |
//! | --- | --- | --- | --- |
//! | `troupe_messages_sent_total` | counter | group, actor | messages a mailbox of the group accepted (sent to it by anyone; a message a lossy policy drops on arrival counts here and as a dead letter) |
//! | `troupe_messages_handled_total` | counter | group, actor | messages the group's processes took from their mailboxes and handled (counted when the handling ends: see the next line) |
//! | `troupe_message_handling_seconds` | histogram | group, actor | how long each handling took: from taking the message until the process takes the next one, waits for one, gets a signal or a system message, or ends (a struct actor: its handler and, on failure, `handle_failure`; a functional actor: its code between two `recv`s) |
//! | `troupe_message_waiting_seconds` | histogram | group, actor | how long each message waited between its send and its handling's start |
//! | `troupe_mailbox_depth` | gauge | group, actor | envelopes queued in the group's mailboxes now, signals of monitors and links included (their sum over the group's processes) |
//! | `troupe_live_processes` | gauge | group, actor | processes of the group registered (running) now |
//! | `troupe_exits_total` | counter | group, actor, reason | ends of incarnations, by exit reason |
//! | `troupe_restarts_total` | counter | group, actor, reason | restarts by a supervisor, by the exit reason of the incarnation restarted (`shutdown` for a sibling restarted with it) |
//! | `troupe_dead_letters_total` | counter | group, actor, reason | dead letters, by reason; `group` is the recipient's (`none` when no recipient was found) |
//! | `troupe_requests_total` | counter | group, actor, outcome | requests, by how they resolved; `group` is the target's (the group itself for a request to a group, without `actor`) |
//! | `troupe_timer_ticks_dropped_total` | counter | group, actor | ticks of periodic timers that did not fit in the mailbox |
//!
//! Exit and restart reasons ([`REASON`]): `normal`, `shutdown`, `killed`,
//! `failed`, `start_failed`, `noproc`, `node_down`, `custom` (the kinds of
//! [`ExitReason`](crate::ExitReason), without their texts). Dead-letter
//! reasons: `actor_stopped`, `overflow`, `unhandled`, `no_recipient`
//! ([`DeadLetterReason`](crate::DeadLetterReason)). Request outcomes
//! ([`OUTCOME`]): `ok`, `gone`, `full`, `dropped`, `timeout`, `failed`,
//! `unhandled`, `calling_self`, `node_down` (the kinds of
//! [`RequestError`](crate::RequestError)). Requests to a group of another
//! node are not counted.

/// Counter: messages a mailbox of the group accepted.
pub const MESSAGES_SENT: &str = "troupe_messages_sent_total";
/// Counter: messages the group's processes handled.
pub const MESSAGES_HANDLED: &str = "troupe_messages_handled_total";
/// Histogram, seconds: how long each handling took.
pub const HANDLING_TIME: &str = "troupe_message_handling_seconds";
/// Histogram, seconds: how long each message waited in its mailbox.
pub const WAITING_TIME: &str = "troupe_message_waiting_seconds";
/// Gauge: envelopes queued in the group's mailboxes.
pub const MAILBOX_DEPTH: &str = "troupe_mailbox_depth";
/// Gauge: processes of the group running now.
pub const LIVE_PROCESSES: &str = "troupe_live_processes";
/// Counter: ends of incarnations, by [`REASON`].
pub const EXITS: &str = "troupe_exits_total";
/// Counter: restarts by a supervisor, by [`REASON`].
pub const RESTARTS: &str = "troupe_restarts_total";
/// Counter: dead letters, by [`REASON`].
pub const DEAD_LETTERS: &str = "troupe_dead_letters_total";
/// Counter: requests, by [`OUTCOME`].
pub const REQUESTS: &str = "troupe_requests_total";
/// Counter: dropped ticks of periodic timers.
pub const TIMER_TICKS_DROPPED: &str = "troupe_timer_ticks_dropped_total";

/// Label: the group (see the module docs).
pub const GROUP: &str = "group";
/// Label: the actor, in groups that opt in.
pub const ACTOR: &str = "actor";
/// Label: an exit's or a dead letter's reason.
pub const REASON: &str = "reason";
/// Label: a request's outcome.
pub const OUTCOME: &str = "outcome";

/// The `group` of dead letters that found no recipient.
pub const NO_GROUP: &str = "none";
