//! Handing over at an exit: the tasks a process's exit wakes (its
//! supervisor, its monitors, whoever waits for its stop) run next on the
//! same worker thread, instead of waking an idle worker to take them.
//!
//! A supervisor and its child hand work to each other in turn: the child
//! exits and wakes the supervisor, which starts (or stops) the next child
//! and waits. On a multi-thread runtime, Tokio runs a woken task from the
//! waker's LIFO slot, at most three times in a row; past that cap, the
//! next wake goes to the run queue and wakes an idle worker through the
//! kernel, which then steals the chain. Each restart, and each child of a
//! tree being shut down, paid for that wake-up and for the chain's move
//! to another core (`perf`: 14 % of a restart in `eventfd_write`).
//!
//! Tokio does not wake anyone when the task in the LIFO slot cannot run
//! because the task budget (`tokio::task::coop`) is spent: it puts it at
//! the back of this worker's queue, and this worker runs it next with a
//! fresh budget. So a process that exits spends what is left of its
//! budget. Measured with `LIFEPATH_THREADS=2 lifepath restart 100000` and
//! `.. tree 100000`, medians of 5 alternated runs: restarts 552 → 338 ms,
//! tree 1.39 → 1.18 s.
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
pub(crate) fn at_exit() {
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
    async fn an_exit_spends_the_budget_on_a_multi_thread_runtime() {
        tokio::spawn(async {
            assert!(tokio::task::coop::has_budget_remaining());
            at_exit();
            assert!(!tokio::task::coop::has_budget_remaining());
        })
        .await
        .expect("the task ran");
    }

    /// On a current-thread runtime nothing is spent.
    #[tokio::test(flavor = "current_thread")]
    async fn an_exit_spends_nothing_on_a_current_thread_runtime() {
        tokio::spawn(async {
            at_exit();
            assert!(tokio::task::coop::has_budget_remaining());
        })
        .await
        .expect("the task ran");
    }
}
