//! The unbounded escape hatch: a send that passes a mailbox's capacity.
//!
//! An unbounded send is a `try_send` made inside [`scope`]: while the
//! scope runs (synchronously, on the sender's thread), a mailbox that is
//! full queues the envelope anyway, behind what it holds, whatever its
//! overflow policy. So it never waits, never fails with `Full` and is
//! never dropped by a lossy policy; a closed mailbox still refuses it.
//! Routing (a group's router, the topology's routes) runs unchanged
//! inside the scope, so a routed send and a send by address share it (a
//! router or route filter that sent messages itself, which they are not
//! meant to, would send them unbounded too). A delivery that leaves the
//! thread (to another node) is outside the scope: bounded there.
//!
//! The mark is ambient rather than a field of the envelope: the usual
//! path pays nothing for it (a push reads it only when the mailbox is
//! full), and envelopes keep their size.

use std::cell::Cell;

thread_local! {
    static ACTIVE: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` (a synchronous delivery) with every push it makes passing
/// the capacity of a full mailbox. Nested scopes and panics restore the
/// state before it.
pub(crate) fn scope<R>(f: impl FnOnce() -> R) -> R {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            ACTIVE.with(|a| a.set(self.0));
        }
    }
    let _restore = Restore(ACTIVE.with(|a| a.replace(true)));
    f()
}

/// Whether the running delivery is an unbounded one.
pub(crate) fn active() -> bool {
    ACTIVE.with(Cell::get)
}
