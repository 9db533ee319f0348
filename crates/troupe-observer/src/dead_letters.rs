//! The dead-letter feed: the most recent dead letters of the system, kept
//! by one task subscribed to [`ActorSystem::dead_letters`].
//!
//! What is kept of each is what troupe reports: recipient, sender, the
//! message's type name, the reason and the trace, never the message
//! itself. The collector wakes only when a dead letter is reported (an
//! exceptional path already) and takes every one queued at each wake.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use tokio::sync::broadcast::Receiver;
use troupe::{ActorSystem, DeadLetter};

/// One dead letter, as the API shows it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DeadLetterView {
    /// Its number in the feed (1 for the first seen), to tell new ones.
    pub seq: u64,
    /// When the observer saw it: milliseconds since the Unix epoch.
    pub at_ms: u64,
    /// The address it was for, `node/id` (`null` for no process).
    pub recipient: String,
    /// Who sent it, `node/id`.
    pub sender: String,
    /// The message's stable type name (never its contents).
    pub message: String,
    /// `actor_stopped`, `overflow`, `unhandled`, `no_recipient` or
    /// `undecodable` (the `reason` label of `troupe_dead_letters_total`;
    /// more may come).
    pub reason: String,
    /// The trace it belongs to.
    pub trace_id: String,
    /// Dead letters missed just before this one (the collector lagged
    /// behind the system's dead-letter buffer).
    pub missed_before: u64,
}

/// The last dead letters, oldest first, bounded.
pub(crate) struct DeadLetterLog {
    keep: usize,
    inner: Mutex<Log>,
}

#[derive(Default)]
struct Log {
    letters: VecDeque<DeadLetterView>,
    seq: u64,
    missed: u64,
}

impl DeadLetterLog {
    pub(crate) fn new(keep: usize) -> Arc<Self> {
        Arc::new(Self {
            keep,
            inner: Mutex::new(Log::default()),
        })
    }

    fn push(&self, letter: &DeadLetter) {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        let mut log = self.inner.lock();
        log.seq += 1;
        let view = DeadLetterView {
            seq: log.seq,
            at_ms: now,
            recipient: letter.recipient.to_string(),
            sender: letter.sender.to_string(),
            message: letter.message.to_owned(),
            reason: letter.reason.as_str().to_owned(),
            trace_id: letter.trace_id.to_string(),
            missed_before: std::mem::take(&mut log.missed),
        };
        if log.letters.len() >= self.keep {
            log.letters.pop_front();
        }
        log.letters.push_back(view);
    }

    fn missed(&self, n: u64) {
        let mut log = self.inner.lock();
        log.missed += n;
        log.seq += n;
    }

    /// The letters kept, oldest first.
    pub(crate) fn recent(&self) -> Vec<DeadLetterView> {
        self.inner.lock().letters.iter().cloned().collect()
    }

    /// Subscribes now (so that nothing reported after this call is
    /// missed) and returns the collector to spawn: it runs until the
    /// system is gone or `stop` resolves.
    pub(crate) fn collector(
        self: &Arc<Self>,
        system: &ActorSystem,
        stop: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> impl std::future::Future<Output = ()> + Send + 'static {
        let rx = system.dead_letters();
        let log = self.clone();
        async move {
            tokio::select! {
                () = collect(log, rx) => {}
                () = stop => {}
            }
        }
    }
}

async fn collect(log: Arc<DeadLetterLog>, mut rx: Receiver<DeadLetter>) {
    loop {
        match rx.recv().await {
            Ok(letter) => log.push(&letter),
            Err(RecvError::Lagged(n)) => log.missed(n),
            Err(RecvError::Closed) => return,
        }
        // Take what else is queued without waiting again.
        loop {
            match rx.try_recv() {
                Ok(letter) => log.push(&letter),
                Err(TryRecvError::Lagged(n)) => log.missed(n),
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Closed) => return,
            }
        }
    }
}
