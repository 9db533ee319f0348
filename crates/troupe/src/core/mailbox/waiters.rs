//! Senders waiting for space in a full mailbox, and the future of a push
//! that may wait.
//!
//! The waiting senders are queued under the mailbox's own lock, beside the
//! queue whose space they wait for: a sender checks for space and takes its
//! place in line in one critical section, and the receiver that frees space
//! picks the sender to wake in the same one. No second lock (a
//! `tokio::sync::Notify` has its own) and no lost wake-up.
//!
//! A push that may wait ([`Mailbox::poll_push`]) keeps only its envelope
//! and its ticket in line, so that the future of a handler that sends
//! (`notify(..).await`) stays small: it lives in every such handler's
//! future, which the run loop copies into its handler slot at each
//! message.

use std::collections::VecDeque;
use std::task::{Poll, Waker};

use super::{Mailbox, Refused};
use crate::envelope::Envelope;

/// The senders waiting for space, first come first woken.
#[derive(Default)]
pub(super) struct Waiters {
    line: VecDeque<(u64, Waker)>,
    /// The next ticket (0 means "not in line").
    next: u64,
}

impl Waiters {
    pub(super) fn is_empty(&self) -> bool {
        self.line.is_empty()
    }

    /// Puts the sender holding `ticket` in line, or refreshes its waker.
    /// A sender that was woken (and so left the line) but found no space
    /// goes back to the head of the line, where it was.
    pub(super) fn wait(&mut self, ticket: &mut u64, waker: &Waker) {
        if *ticket == 0 {
            self.next += 1;
            *ticket = self.next;
            self.line.push_back((*ticket, waker.clone()));
            return;
        }
        match self.line.iter_mut().find(|(t, _)| *t == *ticket) {
            Some((_, w)) => w.clone_from(waker),
            None => self.line.push_front((*ticket, waker.clone())),
        }
    }

    /// Takes the sender holding `ticket` out of line; `false` if it was no
    /// longer there (it was woken).
    pub(super) fn leave(&mut self, ticket: u64) -> bool {
        match self.line.iter().position(|(t, _)| *t == ticket) {
            Some(at) => {
                self.line.remove(at);
                true
            }
            None => false,
        }
    }

    /// The first sender in line, to wake.
    pub(super) fn pop(&mut self) -> Option<Waker> {
        self.line.pop_front().map(|(_, w)| w)
    }

    /// Every sender in line, to wake.
    pub(super) fn take_all(&mut self) -> Vec<Waker> {
        self.line.drain(..).map(|(_, w)| w).collect()
    }
}

impl Mailbox {
    /// One step of a push that may wait, for a future that keeps `env`
    /// (`None` once resolved) and `ticket` (0 until it waits) and calls
    /// [`Mailbox::leave_line`] with its ticket when dropped: a full mailbox
    /// under the `Wait` policy puts it in line and keeps the envelope.
    ///
    /// A push that has to wait hands its worker over (see
    /// `core/handover.rs`): the receiver, woken by the pushes before,
    /// then runs next on this worker. A sender and its receiver that
    /// trade places this way (fill the mailbox, drain it) never wake an
    /// idle worker to take the other. Pushes that do not wait spend
    /// nothing: a producer feeding many actors keeps the worker until a
    /// mailbox is full, so that each actor then takes a batch.
    pub(crate) fn poll_push(
        &self,
        env: &mut Option<Envelope>,
        ticket: &mut u64,
        waker: &Waker,
    ) -> Poll<Result<Option<Envelope>, Refused>> {
        let Some(taken) = env.take() else {
            panic!("a mailbox push polled after it resolved");
        };
        match self.push_inner(taken, Some((ticket, waker))) {
            Err(Refused::Full(back)) if *ticket != 0 => {
                // In line: woken when space frees up (or the mailbox
                // closes, changes its capacity or its policy).
                *env = Some(back);
                crate::core::handover::hand_over();
                Poll::Pending
            }
            // `push_inner` took it out of line (its ticket is 0).
            done => Poll::Ready(done),
        }
    }

    /// A push that waited with `ticket` (0: it never did; nothing to do)
    /// is dropped: it leaves the line, and if it had been woken already,
    /// the next sender in line is woken in its place (there may be space
    /// that nobody else looks at).
    #[inline]
    pub(crate) fn leave_line(&self, ticket: u64) {
        if ticket != 0 {
            self.leave_line_slow(ticket);
        }
    }

    /// [`Mailbox::leave_line`] for a sender that did wait.
    #[cold]
    fn leave_line_slow(&self, ticket: u64) {
        let mut st = self.state.lock();
        let Some(lanes) = st.lanes.as_mut() else {
            return;
        };
        if lanes.waiters.leave(ticket) {
            return;
        }
        let next = lanes.waiters.pop();
        drop(st);
        if let Some(w) = next {
            w.wake();
        }
    }
}
