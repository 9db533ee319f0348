//! Handing over: the task that a process's exit, or a sender's wait for
//! space, has just woken (a supervisor, a monitor, a stopper, the
//! receiver) runs next on the same worker thread, instead of waking an
//! idle worker to take it.
//!
//! Two tasks that hand work to each other in turn form a chain: a child
//! exits and wakes its supervisor, which starts (or stops) the next child
//! and waits; a sender fills a mailbox and waits, its receiver drains it
//! and waits. On a multi-thread runtime Tokio runs a woken task from the
//! waker's LIFO slot, at most three times in a row; past that cap, the
//! next wake goes to the run queue and wakes an idle worker through the
//! kernel, which then steals the chain. Each restart, each child of a
//! tree being shut down and each turn of a full mailbox paid for that
//! wake-up and for the chain's move to another core (`perf`: 14 % of a
//! restart in `eventfd_write`, 26 % of a tell in the kernel).
//!
//! Tokio wakes nobody when the task in the LIFO slot cannot run because
//! the task budget (`tokio::task::coop`) is spent: it puts it at the back
//! of this worker's queue, and this worker runs it next with a fresh
//! budget. So a process that exits, and a sender about to wait for space,
//! spend what is left of their budget. Measured, medians of 5 to 7
//! alternated runs on two workers: `lifepath restart 100000` 552 → 338 ms,
//! `lifepath tree 100000` 1.39 → 1.18 s (`LIFEPATH_THREADS=2`),
//! `hotpath tell 1000000` 178 → 151 ms (`HOTPATH_THREADS=2`).
//!
//! Only on a multi-thread runtime: a current-thread runtime has no LIFO
//! slot and no other worker, and spending the budget there is pure cost
//! (about 1,800 instructions in callgrind).

use std::cell::Cell;
use std::task::{Context, Poll, Waker};

/// At most what Tokio gives a task per poll (128 units today): a task
/// left unconstrained (`tokio::task::coop::unconstrained`) never runs out,
/// and must not spin here.
const MAX_BUDGET: usize = 128;

thread_local! {
    /// Whether this thread is in a multi-thread Tokio runtime: `None`
    /// until first asked. A thread keeps its runtime for its life in
    /// practice; a wrong guess costs time, never correctness.
    static MULTI_THREAD: Cell<Option<bool>> = const { Cell::new(None) };
}

/// Spends what is left of the running task's Tokio budget, on a
/// multi-thread runtime (see the module docs); does nothing elsewhere.
pub(crate) fn hand_over() {
    if !on_multi_thread_runtime() {
        return;
    }
    let mut cx = Context::from_waker(Waker::noop());
    for _ in 0..MAX_BUDGET {
        match tokio::task::coop::poll_proceed(&mut cx) {
            Poll::Ready(spent) => spent.made_progress(),
            Poll::Pending => break,
        }
    }
}

fn on_multi_thread_runtime() -> bool {
    MULTI_THREAD
        .try_with(|known| match known.get() {
            Some(multi) => multi,
            None => {
                let multi = tokio::runtime::Handle::try_current().is_ok_and(|h| {
                    h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread
                });
                known.set(Some(multi));
                multi
            }
        })
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// On a multi-thread runtime the budget is spent: the next
    /// budget-aware poll yields.
    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn the_budget_is_spent_on_a_multi_thread_runtime() {
        tokio::spawn(async {
            assert!(tokio::task::coop::has_budget_remaining());
            hand_over();
            assert!(!tokio::task::coop::has_budget_remaining());
        })
        .await
        .expect("the task ran");
    }

    /// On a current-thread runtime nothing is spent.
    #[tokio::test(flavor = "current_thread")]
    async fn nothing_is_spent_on_a_current_thread_runtime() {
        tokio::spawn(async {
            hand_over();
            assert!(tokio::task::coop::has_budget_remaining());
        })
        .await
        .expect("the task ran");
    }
}
