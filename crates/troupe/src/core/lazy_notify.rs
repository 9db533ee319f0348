//! A `Notify` allocated on first wait: most processes are never waited for
//! (their exit), and a `tokio::sync::Notify` takes 32 bytes; this takes 16
//! (a pointer and its once-flag) until someone waits.
//!
//! Waking is for waiters only: with nobody having waited yet there is no
//! `Notify` to wake. A waiter must therefore
//! get its `Notify` ([`LazyNotify::get`]) and enable its `Notified` before
//! it checks the condition it waits for, and a notifier must change that
//! condition before it notifies. `get` and the notifications each issue a
//! sequentially consistent fence between the two steps (the waiter's
//! creation and its check; the notifier's change and its look for a
//! `Notify`), so that, even when the condition is an atomic outside any
//! lock, either the notifier finds the `Notify` the waiter created, or the
//! waiter sees the changed condition.

use std::sync::atomic::{fence, Ordering};
use std::sync::OnceLock;

use tokio::sync::Notify;

/// A [`Notify`] that exists once somebody waits on it.
#[derive(Default)]
pub(crate) struct LazyNotify(OnceLock<Box<Notify>>);

impl LazyNotify {
    /// The `Notify` to wait on, created now if needed.
    pub(crate) fn get(&self) -> &Notify {
        let notify = self.0.get_or_init(|| Box::new(Notify::new()));
        fence(Ordering::SeqCst); // see the module's rule
        notify
    }

    /// Wakes every waiter (none if nobody ever waited).
    pub(crate) fn notify_waiters(&self) {
        fence(Ordering::SeqCst); // see the module's rule
        if let Some(n) = self.0.get() {
            n.notify_waiters();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_is_allocated_before_a_wait() {
        let lazy = LazyNotify::default();
        lazy.notify_waiters();
        assert!(lazy.0.get().is_none());
        assert_eq!(std::mem::size_of::<LazyNotify>(), 16);
    }

    #[tokio::test]
    async fn a_waiter_that_enabled_first_is_woken() {
        let lazy = LazyNotify::default();
        let notified = lazy.get().notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        lazy.notify_waiters();
        tokio::time::timeout(std::time::Duration::from_secs(5), notified)
            .await
            .expect("woken");
    }
}
