//! Waiting for a process's exit: the waiters are kept under the exit's own
//! lock, beside the reason they wait for.
//!
//! A waiter checks the exit and takes its place in the list in one critical
//! section, and the exit, once recorded, takes the list in another: no
//! second lock, no wake-up lost. This replaced a `tokio::sync::Notify`
//! allocated on the first wait: stopping a supervisor's child (which waits
//! for each exit) took about 700 instructions fewer per child in callgrind
//! (`troupe-bench --child tree troupe-1t`), from the allocation and the
//! `Notify`'s own waiter list and lock.
//!
//! Each waiting future holds a ticket and leaves the list when dropped, so
//! that waits given up on (a stop that timed out, say) do not pile up in a
//! process that lives on.
//!
//! It is not the mailbox's line of waiting senders (`mailbox/waiters.rs`),
//! which keeps an order (first come, first woken, a woken sender that
//! found no space back at the head) in a `VecDeque` beside a counter:
//! exit waiters are all woken at once, in no order, and the usual one (a
//! supervisor stopping its child) fits in a single allocation behind a
//! pointer, where the line would take a box and a buffer.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, Waker};

use super::{ExitState, Shared};
use crate::exit::ExitReason;
use crate::status::Lifecycle;

/// The tickets of waiting futures, unique in the whole program (0: none).
static NEXT_TICKET: AtomicU64 = AtomicU64::new(1);

/// The futures waiting for an exit, with their tickets: a null pointer
/// until the first wait (8 bytes in every process), then one allocation
/// that holds the first waiter in place and any others in a list.
#[derive(Default)]
pub(super) struct ExitWaiters(Option<Box<Waiting>>);

/// The waiters of one process, once there are some.
struct Waiting {
    /// The first waiter, the only one in most cases (a supervisor
    /// stopping its child).
    first: Option<(u64, Waker)>,
    more: Vec<(u64, Waker)>,
}

impl Waiting {
    fn slots(&mut self) -> impl Iterator<Item = &mut (u64, Waker)> {
        self.first.iter_mut().chain(self.more.iter_mut())
    }
}

impl ExitWaiters {
    /// Puts the waiter holding `ticket` in the list (giving it a ticket if
    /// it has none), or refreshes its waker.
    fn wait(&mut self, ticket: &mut u64, waker: &Waker) {
        let waiting = self.0.get_or_insert_with(|| {
            Box::new(Waiting {
                first: None,
                more: Vec::new(),
            })
        });
        if *ticket != 0 {
            if let Some((_, w)) = waiting.slots().find(|(t, _)| *t == *ticket) {
                w.clone_from(waker);
                return;
            }
        } else {
            *ticket = NEXT_TICKET.fetch_add(1, Ordering::Relaxed);
        }
        let entry = (*ticket, waker.clone());
        if waiting.first.is_none() {
            waiting.first = Some(entry);
        } else {
            waiting.more.push(entry);
        }
    }

    /// Takes the waiter holding `ticket` out of the list, if it is there.
    fn leave(&mut self, ticket: u64) {
        let Some(waiting) = self.0.as_mut() else {
            return;
        };
        if waiting.first.as_ref().is_some_and(|(t, _)| *t == ticket) {
            waiting.first = waiting.more.pop();
        } else if let Some(at) = waiting.more.iter().position(|(t, _)| *t == ticket) {
            waiting.more.swap_remove(at);
        }
    }

    /// How many wait.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.0
            .as_ref()
            .map_or(0, |w| usize::from(w.first.is_some()) + w.more.len())
    }

    /// Every waiter, to wake (with [`ExitWaiters::wake`]) once the lock is
    /// released.
    pub(super) fn take(&mut self) -> ExitWaiters {
        ExitWaiters(self.0.take())
    }

    /// Wakes every waiter.
    pub(super) fn wake(self) {
        let Some(waiting) = self.0 else {
            return;
        };
        let Waiting { first, more } = *waiting;
        for (_, waker) in first.into_iter().chain(more) {
            waker.wake();
        }
    }
}

/// The future of [`Shared::wait_exit_of`].
#[must_use = "futures do nothing unless polled"]
pub(crate) struct ExitWait<'a> {
    shared: &'a Shared,
    incarnation: u64,
    /// Its ticket in the list of waiters (0: not in it).
    ticket: u64,
}

impl<'a> ExitWait<'a> {
    pub(super) fn new(shared: &'a Shared, incarnation: u64) -> Self {
        Self {
            shared,
            incarnation,
            ticket: 0,
        }
    }
}

impl Future for ExitWait<'_> {
    type Output = ExitReason;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<ExitReason> {
        // `ExitWait` is `Unpin`: nothing in it points into itself.
        let this = self.get_mut();
        let mut exit = this.shared.exit.lock();
        if let Some(reason) = ended(this.shared, &exit, this.incarnation) {
            if this.ticket != 0 {
                exit.waiters.leave(this.ticket);
                this.ticket = 0;
            }
            return Poll::Ready(reason);
        }
        exit.waiters.wait(&mut this.ticket, cx.waker());
        Poll::Pending
    }
}

impl Drop for ExitWait<'_> {
    fn drop(&mut self) {
        if self.ticket != 0 {
            self.shared.exit.lock().waiters.leave(self.ticket);
        }
    }
}

/// How incarnation `incarnation` ended, once it has: it ended and the
/// process is stopped or awaits its supervisor's decision, or it was
/// restarted in place since (a killed incarnation leaves no reason).
///
/// The lifecycle is stored outside the exit's lock, but before the
/// waiters are taken under it: a waiter that saw the old lifecycle is in
/// the list by the time they are taken.
fn ended(shared: &Shared, exit: &ExitState, incarnation: u64) -> Option<ExitReason> {
    let reason = exit.reason_of(incarnation);
    if exit.incarnation != incarnation {
        return Some(reason.cloned().unwrap_or(ExitReason::Killed));
    }
    let settled = matches!(
        shared.lifecycle(),
        Lifecycle::Stopped | Lifecycle::Restarting
    );
    reason.filter(|_| settled).cloned()
}

#[cfg(test)]
mod tests {
    use std::future::Future;
    use std::pin::pin;
    use std::task::{Context, Waker};
    use std::time::Duration;

    use crate::exit::{ExitReason, StopReason};
    use crate::prelude::*;

    struct Idle;

    impl Actor for Idle {}

    fn waiting(shared: &super::Shared) -> usize {
        shared.exit.lock().waiters.len()
    }

    /// Waits given up on leave the list: a process that lives on does not
    /// collect the wakers of every stop that timed out on it.
    #[tokio::test]
    async fn a_wait_given_up_leaves_the_list() {
        let system = ActorSystem::create("exit-wait-dropped").expect("a system");
        let actor = Idle.spawn().on_system(&system).await.expect("spawned");
        let shared = actor.shared().clone();
        let mut cx = Context::from_waker(Waker::noop());
        {
            let mut waits: Vec<_> = (0..10).map(|_| Box::pin(shared.wait_exit())).collect();
            for w in &mut waits {
                assert!(w.as_mut().poll(&mut cx).is_pending());
            }
            // Polled again, a wait keeps its one place.
            assert!(waits[0].as_mut().poll(&mut cx).is_pending());
            assert_eq!(waiting(&shared), 10);
        }
        assert_eq!(waiting(&shared), 0, "dropped waits left the list");
        system.shutdown().await;
    }

    /// Every waiter, in whatever task, learns the exit and its reason.
    #[tokio::test]
    async fn every_waiter_wakes_at_the_exit() {
        let system = ActorSystem::create("exit-wait-woken").expect("a system");
        let actor = Idle.spawn().on_system(&system).await.expect("spawned");
        let (first, second) = (actor.clone(), actor.clone());
        let waiters = [
            tokio::spawn(async move { first.wait_for_exit().await }),
            tokio::spawn(async move { second.wait_for_exit().await }),
        ];
        // Both wait before the stop: the list holds them.
        let shared = actor.shared().clone();
        tokio::time::timeout(Duration::from_secs(10), async {
            while waiting(&shared) < 2 {
                tokio::task::yield_now().await;
            }
        })
        .await
        .expect("both waiters in the list");
        actor.stop(StopReason::Graceful).await.expect("stopped");
        for waiter in waiters {
            let reason = tokio::time::timeout(Duration::from_secs(10), waiter)
                .await
                .expect("woken")
                .expect("no panic");
            assert!(matches!(reason, ExitReason::Normal), "{reason:?}");
        }
        assert_eq!(waiting(&shared), 0);
        // Once ended, a new wait resolves at its first poll.
        let mut cx = Context::from_waker(Waker::noop());
        let wait = pin!(shared.wait_exit());
        assert!(wait.poll(&mut cx).is_ready());
        system.shutdown().await;
    }
}
