//! Dead letters: messages that could not be delivered or handled.
//!
//! Nothing is lost silently: every such message is reported as a
//! [`DeadLetter`] on the system's dead-letter stream
//! ([`ActorSystem::dead_letters`](crate::ActorSystem::dead_letters)), as a
//! `tracing` event at debug level, and, in a system with metrics on, as
//! the `troupe_dead_letters_total` counter (labels `group`, `reason`: see
//! [`crate::metrics`]). A request among them is resolved with an error at
//! the same time.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use tokio::sync::broadcast;

use crate::addr::Addr;
use crate::envelope::{Envelope, TraceId};

/// Why a message became a dead letter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DeadLetterReason {
    /// The recipient stopped with the message still in its mailbox, or was
    /// already gone.
    ActorStopped,
    /// A lossy overflow policy dropped it (newest or oldest).
    Overflow,
    /// The recipient does not handle messages of this type.
    Unhandled,
    /// A router found no recipient for it.
    NoRecipient,
    /// It crossed to another node, which could not decode it: no type of
    /// its name is registered there, its bytes do not decode as that type,
    /// or it is over the frame size limit.
    Undecodable,
}

impl DeadLetterReason {
    /// The reason's label, as in the `reason` label of
    /// `troupe_dead_letters_total`: `actor_stopped`, `overflow`,
    /// `unhandled`, `no_recipient`, `undecodable`.
    pub fn as_str(self) -> &'static str {
        match self {
            DeadLetterReason::ActorStopped => "actor_stopped",
            DeadLetterReason::Overflow => "overflow",
            DeadLetterReason::Unhandled => "unhandled",
            DeadLetterReason::NoRecipient => "no_recipient",
            DeadLetterReason::Undecodable => "undecodable",
        }
    }
}

/// A report of a message that was not handled.
#[derive(Clone, Debug)]
pub struct DeadLetter {
    /// Who the message was for.
    pub recipient: Addr,
    /// Who sent it.
    pub sender: Addr,
    /// The message's stable name.
    pub message: &'static str,
    /// Why it was not handled.
    pub reason: DeadLetterReason,
    /// The trace it belongs to.
    pub trace_id: TraceId,
    /// When it was sent.
    pub sent_at: Instant,
}

/// Where a system reports its dead letters.
pub(crate) struct DeadLetters {
    tx: broadcast::Sender<DeadLetter>,
    count: AtomicU64,
}

impl DeadLetters {
    pub(crate) fn new(buffer: usize) -> Self {
        let (tx, _) = broadcast::channel(buffer.max(1));
        Self {
            tx,
            count: AtomicU64::new(0),
        }
    }

    /// Reports a letter whose envelope is not at hand (it was taken apart
    /// for the wire, or never decoded).
    pub(crate) fn report_letter(&self, letter: DeadLetter) {
        self.count.fetch_add(1, Ordering::Relaxed);
        let reason = letter.reason.as_str();
        metrics::counter!("troupe_dead_letters_total", "reason" => reason).increment(1);
        tracing::debug!(
            recipient = %letter.recipient,
            sender = %letter.sender,
            message = letter.message,
            reason,
            trace_id = %letter.trace_id,
            "dead letter"
        );
        if self.tx.receiver_count() > 0 {
            let _ = self.tx.send(letter);
        }
    }

    pub(crate) fn report(&self, recipient: Addr, env: &Envelope, reason: DeadLetterReason) {
        self.count.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(
            %recipient,
            sender = %env.sender(),
            message = env.message_name(),
            reason = reason.as_str(),
            trace_id = %env.trace_id(),
            "dead letter"
        );
        if self.tx.receiver_count() > 0 {
            let _ = self.tx.send(DeadLetter {
                recipient,
                sender: env.sender(),
                message: env.message_name(),
                reason,
                trace_id: env.trace_id(),
                sent_at: env.sent_at(),
            });
        }
    }

    pub(crate) fn subscribe(&self) -> broadcast::Receiver<DeadLetter> {
        self.tx.subscribe()
    }

    pub(crate) fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }
}
