//! The metric handles of a process (see [`crate::metrics`] for what is
//! recorded): registered once, when the process is created in a system
//! with metrics on, and kept, so that the hot paths update handles without
//! building keys. A process of a system with metrics off has none, and
//! pays one test of a null pointer where a metric would be recorded.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use ::metrics::{Counter, Gauge, Histogram, Label, Unit};

use super::dead_letter::DeadLetterReason;
use crate::addr::{ActorMeta, Addr};
use crate::envelope::Envelope;
use crate::exit::ExitReason;
use crate::metrics as names;
use crate::request::RequestError;

/// The labels of a group's (or an actor's) series and what is counted
/// under them without a process: requests, and the rare events whose
/// extra label is built when they happen.
#[derive(Clone)]
pub(crate) struct Series {
    labels: Arc<[Label]>,
    requests_ok: Counter,
}

impl Series {
    /// The series of a group (`actor: None`) or of one actor.
    pub(crate) fn new(group: &str, actor: Option<String>) -> Self {
        let mut labels = vec![Label::new(names::GROUP, group.to_owned())];
        if let Some(actor) = actor {
            labels.push(Label::new(names::ACTOR, actor));
        }
        let ok = with(&labels, names::OUTCOME, "ok");
        Self {
            requests_ok: ::metrics::counter!(names::REQUESTS, ok),
            labels: labels.into(),
        }
    }

    fn counter(&self, name: &'static str) -> Counter {
        ::metrics::counter!(name, self.labels.to_vec())
    }

    /// Counts how a request resolved.
    pub(crate) fn request<T>(&self, result: &Result<T, RequestError>) {
        match result {
            Ok(_) => self.requests_ok.increment(1),
            Err(e) => {
                let labels = with(&self.labels, names::OUTCOME, outcome(e));
                ::metrics::counter!(names::REQUESTS, labels).increment(1);
            }
        }
    }

    /// Counts a dead letter for this group.
    pub(crate) fn dead_letter(&self, reason: DeadLetterReason) {
        dead_letter(&self.labels, reason);
    }
}

/// Counts a dead letter that found no recipient (group `none`).
pub(crate) fn dead_letter_nowhere(reason: DeadLetterReason) {
    dead_letter(&[Label::new(names::GROUP, names::NO_GROUP)], reason);
}

fn dead_letter(labels: &[Label], reason: DeadLetterReason) {
    let labels = with(labels, names::REASON, reason.as_str());
    ::metrics::counter!(names::DEAD_LETTERS, labels).increment(1);
}

/// The labels plus one more.
fn with(labels: &[Label], key: &'static str, value: &'static str) -> Vec<Label> {
    let mut all = Vec::with_capacity(labels.len() + 1);
    all.extend_from_slice(labels);
    all.push(Label::new(key, value));
    all
}

/// The handles of one process.
pub(crate) struct Instruments {
    pub(crate) series: Series,
    sent: Counter,
    handled: Counter,
    handling: Histogram,
    waiting: Histogram,
    live: Gauge,
    depth: Gauge,
    /// Where handling times are counted from.
    epoch: Instant,
    /// When the handling running now started, in nanoseconds since
    /// `epoch` plus one; 0 when none runs. Written by the process alone.
    handling_since: AtomicU64,
}

impl Instruments {
    /// The handles of a process with this identity; `per_actor` adds the
    /// `actor` label (see [`crate::metrics`]).
    pub(crate) fn new(meta: &ActorMeta, name: Option<&str>, addr: Addr, per_actor: bool) -> Self {
        let actor = per_actor.then(|| match name {
            Some(name) => name.to_owned(),
            None if meta.key != "_" => meta.key.to_string(),
            None => addr.to_string(),
        });
        let series = Series::new(&meta.group, actor);
        let labels = &*series.labels;
        Self {
            sent: ::metrics::counter!(names::MESSAGES_SENT, labels.to_vec()),
            handled: ::metrics::counter!(names::MESSAGES_HANDLED, labels.to_vec()),
            handling: ::metrics::histogram!(names::HANDLING_TIME, labels.to_vec()),
            waiting: ::metrics::histogram!(names::WAITING_TIME, labels.to_vec()),
            live: ::metrics::gauge!(names::LIVE_PROCESSES, labels.to_vec()),
            depth: ::metrics::gauge!(names::MAILBOX_DEPTH, labels.to_vec()),
            series,
            epoch: Instant::now(),
            handling_since: AtomicU64::new(0),
        }
    }

    // The mailbox depth goes up in the mailbox, under its lock, as an
    // envelope is queued, and down where the run loop takes it (or the
    // queue is dropped): no cost on the mailbox's taking side.

    /// A message was accepted by the mailbox; `queued`: it is in the queue
    /// (a lossy policy dropped none, or dropped the oldest to make room).
    #[cold]
    #[inline(never)]
    pub(crate) fn accepted(&self, queued: bool) {
        self.sent.increment(1);
        if queued {
            self.depth.increment(1.0);
        }
    }

    /// A signal was queued (past the capacity).
    #[cold]
    pub(crate) fn signal(&self) {
        self.depth.increment(1.0);
    }

    /// `n` envelopes left the queue without being handed to the
    /// front-end as messages (signals, and what was queued at the end).
    pub(crate) fn unqueued(&self, n: usize) {
        if n > 0 {
            self.depth.decrement(n as f64);
        }
    }

    /// The process was registered (+1) or unregistered (-1).
    pub(crate) fn live(&self, up: bool) {
        match up {
            true => self.live.increment(1.0),
            false => self.live.decrement(1.0),
        }
    }

    /// The process takes `env` to handle it: the handling running until
    /// now, if any, is over; records how long `env` waited and starts
    /// timing its handling.
    #[cold]
    #[inline(never)]
    pub(crate) fn taken(&self, env: &Envelope) {
        self.handled();
        self.depth.decrement(1.0);
        self.waiting.record(env.age().as_secs_f64());
        let now = Instant::now();
        let since = now.saturating_duration_since(self.epoch).as_nanos();
        let since = u64::try_from(since).unwrap_or(u64::MAX - 1) + 1;
        self.handling_since.store(since, Ordering::Relaxed);
    }

    /// The process waits for its next message, gets something else, or
    /// ends: the handling running now, if any, is over.
    #[cold]
    #[inline(never)]
    pub(crate) fn handled(&self) {
        let since = self.handling_since.swap(0, Ordering::Relaxed);
        if since == 0 {
            return;
        }
        let elapsed = self.epoch.elapsed().as_nanos();
        let elapsed = u64::try_from(elapsed).unwrap_or(u64::MAX);
        let took = elapsed.saturating_sub(since - 1);
        self.handling
            .record(std::time::Duration::from_nanos(took).as_secs_f64());
        self.handled.increment(1);
    }

    /// An incarnation ended.
    pub(crate) fn exited(&self, reason: &ExitReason) {
        let labels = with(&self.series.labels, names::REASON, reason_label(reason));
        ::metrics::counter!(names::EXITS, labels).increment(1);
    }

    /// A supervisor restarted the process after an exit with `reason`.
    pub(crate) fn restarted(&self, reason: &'static str) {
        let labels = with(&self.series.labels, names::REASON, reason);
        ::metrics::counter!(names::RESTARTS, labels).increment(1);
    }

    /// A periodic timer of the process dropped `n` ticks.
    pub(crate) fn ticks_dropped(&self, n: u64) {
        self.series.counter(names::TIMER_TICKS_DROPPED).increment(n);
    }
}

/// The `reason` label of an exit reason: its kind, without its text.
pub(crate) fn reason_label(reason: &ExitReason) -> &'static str {
    match reason {
        ExitReason::Normal => "normal",
        ExitReason::Shutdown => "shutdown",
        ExitReason::Killed => "killed",
        ExitReason::Failed(_) => "failed",
        ExitReason::StartFailed(_) => "start_failed",
        ExitReason::NoProc => "noproc",
        ExitReason::Custom(_) => "custom",
        ExitReason::NodeDown => "node_down",
    }
}

/// The `outcome` label of a request error.
fn outcome(e: &RequestError) -> &'static str {
    match e {
        RequestError::Gone { .. } => "gone",
        RequestError::Full => "full",
        RequestError::Dropped => "dropped",
        RequestError::Timeout(_) => "timeout",
        RequestError::Failed(_) => "failed",
        RequestError::Unhandled(_) => "unhandled",
        RequestError::CallingSelf => "calling_self",
        RequestError::NodeDown => "node_down",
    }
}

/// Describes every metric to the recorder in place (for exporters that
/// print help texts and units): once per system with metrics on.
pub(crate) fn describe() {
    use ::metrics::{describe_counter, describe_gauge, describe_histogram};
    describe_counter!(
        names::MESSAGES_SENT,
        "Messages a mailbox of the group accepted"
    );
    describe_counter!(
        names::MESSAGES_HANDLED,
        "Messages the group's processes handled"
    );
    describe_histogram!(
        names::HANDLING_TIME,
        Unit::Seconds,
        "Time from taking a message to asking for the next one"
    );
    describe_histogram!(
        names::WAITING_TIME,
        Unit::Seconds,
        "Time a message waited between its send and its handling"
    );
    describe_gauge!(
        names::MAILBOX_DEPTH,
        "Envelopes queued in the group's mailboxes"
    );
    describe_gauge!(names::LIVE_PROCESSES, "Processes of the group running now");
    describe_counter!(names::EXITS, "Ends of incarnations, by exit reason");
    describe_counter!(names::RESTARTS, "Restarts by a supervisor, by exit reason");
    describe_counter!(names::DEAD_LETTERS, "Dead letters, by reason");
    describe_counter!(names::REQUESTS, "Requests, by outcome");
    describe_counter!(
        names::TIMER_TICKS_DROPPED,
        "Dropped ticks of periodic timers"
    );
}

/// What a process records, where it is at hand.
impl super::process::Shared {
    /// The process was registered (`up`) or unregistered.
    pub(crate) fn count_live(&self, up: bool) {
        if let Some(m) = self.instruments() {
            m.live(up);
        }
    }

    /// The `reason` label of how the incarnation a supervisor is about to
    /// restart ended (`None` with metrics off).
    pub(crate) fn restart_reason(&self) -> Option<&'static str> {
        self.instruments()?;
        self.exit_reason().map(|r| reason_label(&r))
    }

    /// A supervisor restarted this process after an exit with `reason`
    /// ([`Shared::restart_reason`] of the incarnation it replaces).
    pub(crate) fn count_restart(&self, reason: Option<&'static str>) {
        if let (Some(m), Some(reason)) = (self.instruments(), reason) {
            m.restarted(reason);
        }
    }
}
