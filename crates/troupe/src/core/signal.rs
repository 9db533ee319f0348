//! Signals: how what monitors and links tell a process reaches it.
//!
//! A [`Down`](super::monitor::Down) (a watched process exited) and a
//! trapped [`Exit`](super::link::Exit) (a link partner exited) travel in the
//! receiver's mailbox, as envelopes marked as signals and pushed past its
//! capacity whatever its overflow policy: a full mailbox never loses one,
//! and one comes after every message its sender queued before it exited
//! (Erlang keeps the order of the signals between two processes the same
//! way). A lossy policy never evicts one either. An exit signal for a
//! partner that does not trap exits travels on the system channel instead
//! (`SysMsg::Exit`), so that it takes the partner down before what is
//! queued, as a stop does.
//!
//! The receiving run loop (`run_loop::next`) checks each signal against the
//! receiver's own state before its front-end sees it: a `Down` whose
//! monitor was cancelled, or an `Exit` whose link was removed, is dropped
//! there. That check runs in the receiver's task, where `demonitor` and
//! `unlink` run too, so once they return nothing of the monitor or the link
//! reaches the front-end (OTP's `demonitor(Ref, [flush])`, and `unlink`'s
//! guarantee).

use std::any::Any;

use super::current::current;
use super::dead_letter::DeadLetterReason;
use super::process::Shared;
use crate::addr::Addr;
use crate::envelope::{Dispatcher, Envelope};
use crate::message::Message;

/// What marks an envelope as a signal: its dispatcher points here (no
/// front-end's dispatcher does), which costs a pointer comparison per
/// envelope and no field.
static MARK: &(dyn Any + Send + Sync) = &();

fn mark() -> Dispatcher {
    &MARK
}

/// Whether the envelope is a signal (see the module docs).
pub(crate) fn is_signal(env: &Envelope) -> bool {
    env.0.dispatcher.is_some_and(|d| std::ptr::eq(d, mark()))
}

/// Clears the mark, once the signal is handed to the front-end: the
/// envelope is then a message like any other (forwarded, it is not taken
/// for a signal).
pub(crate) fn unmark(env: &mut Envelope) {
    env.0.dispatcher = None;
}

/// Queues a signal to `to` past the capacity of its mailbox, with no dead
/// letter if `to` is gone (the message itself tells its sender: a sync
/// marker of the test kit, see `probe.rs`).
#[cfg(feature = "testkit")]
pub(crate) fn send_quiet<M: Message>(to: &Shared, msg: M) {
    let mut env = Envelope::new(msg, Addr::NULL, current().1);
    env.0.dispatcher = Some(mark());
    let _ = to.mailbox.push_signal(env);
}

/// Queues a signal from `from` to `to`, past the capacity of its mailbox.
/// A receiver that is gone gets a dead letter instead.
pub(crate) fn send<M: Message>(to: &Shared, from: Addr, msg: M) {
    let (_, trace) = current();
    let mut env = Envelope::new(msg, from, trace);
    env.0.dispatcher = Some(mark());
    if let Err(env) = to.mailbox.push_signal(env) {
        to.system
            .dead_letter_at(to, &env, DeadLetterReason::ActorStopped);
    }
}
