//! Subscriptions a test asserts on: the system's dead letters and what its
//! supervisors do.

use std::fmt;
use std::time::Duration;

use tokio::sync::broadcast::{self, error::RecvError, error::TryRecvError};

use super::wall::{within, TimedOut};
use crate::core::dead_letter::DeadLetter;
use crate::core::restart::SupervisionEvent;
use crate::core::system::ActorSystem;

/// What a [`Subscription`] could not give.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SubscriptionError {
    /// Nothing came within the bound (real time).
    #[error(transparent)]
    TimedOut(#[from] TimedOut),
    /// The subscriber fell behind and lost this many of the oldest items.
    #[error("the subscription lagged and lost {0} items")]
    Lagged(u64),
    /// The system is gone: nothing more will come.
    #[error("the system is gone")]
    Closed,
}

/// A subscription to what a system reports (dead letters, supervision
/// events), from the moment it was made, with waits bounded in real time
/// so that they work under a paused Tokio clock.
///
/// ```
/// use troupe::prelude::*;
/// use troupe::testkit::Subscription;
/// use troupe::DeadLetterReason;
///
/// #[message]
/// struct Lost;
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
/// let system = ActorSystem::create("doc-dead-letters").unwrap();
/// let mut dead = Subscription::dead_letters(&system);
/// // What a transport reports when it cannot deliver an envelope.
/// let envelope = Envelope::new(Lost, Addr::NULL, troupe::TraceId::generate());
/// system.report_dead_letter(Addr::NULL, &envelope, DeadLetterReason::NoRecipient);
/// let letter = dead.recv().await;
/// assert_eq!(letter.message, Lost::NAME);
/// assert!(dead.try_recv().is_none(), "nothing else was lost");
/// system.shutdown().await;
/// # }
/// ```
pub struct Subscription<T> {
    rx: broadcast::Receiver<T>,
    timeout: Duration,
}

impl Subscription<DeadLetter> {
    /// The system's dead letters from now on.
    pub fn dead_letters(system: &ActorSystem) -> Self {
        Self::new(system.dead_letters())
    }
}

impl Subscription<SupervisionEvent> {
    /// What every supervisor of the system (the groups' included) does
    /// from now on.
    pub fn supervision(system: &ActorSystem) -> Self {
        Self::new(system.supervision_events())
    }
}

impl<T: Clone> Subscription<T> {
    /// Wraps a broadcast receiver; waits are bounded by 5 s of real time.
    pub fn new(rx: broadcast::Receiver<T>) -> Self {
        Self {
            rx,
            timeout: super::DEFAULT_TIMEOUT,
        }
    }

    /// Sets the real-time bound of [`Subscription::recv`].
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The next item, waiting at most the subscription's bound of real
    /// time.
    pub async fn next(&mut self) -> Result<T, SubscriptionError> {
        match within(self.timeout, self.rx.recv()).await? {
            Ok(item) => Ok(item),
            Err(RecvError::Lagged(n)) => Err(SubscriptionError::Lagged(n)),
            Err(RecvError::Closed) => Err(SubscriptionError::Closed),
        }
    }

    /// The next item; panics (failing the test) with what went wrong if
    /// none comes within the bound.
    pub async fn recv(&mut self) -> T {
        match self.next().await {
            Ok(item) => item,
            Err(e) => panic!("expected an item: {e}"),
        }
    }

    /// The next item if one is there now.
    pub fn try_recv(&mut self) -> Option<T> {
        loop {
            match self.rx.try_recv() {
                Ok(item) => return Some(item),
                Err(TryRecvError::Lagged(_)) => continue,
                Err(TryRecvError::Empty | TryRecvError::Closed) => return None,
            }
        }
    }

    /// Waits (within the bound) for the first item `pred` accepts, skipping
    /// the others.
    pub async fn find(&mut self, mut pred: impl FnMut(&T) -> bool) -> Result<T, SubscriptionError> {
        let rx = &mut self.rx;
        let search = async move {
            loop {
                match rx.recv().await {
                    Ok(item) if pred(&item) => return Ok(item),
                    Ok(_) | Err(RecvError::Lagged(_)) => {}
                    Err(RecvError::Closed) => return Err(SubscriptionError::Closed),
                }
            }
        };
        within(self.timeout, search).await?
    }
}

impl<T> fmt::Debug for Subscription<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscription")
            .field("queued", &self.rx.len())
            .field("timeout", &self.timeout)
            .finish()
    }
}
