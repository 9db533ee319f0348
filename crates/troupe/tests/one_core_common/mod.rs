//! Helpers shared by the one-process-core tests (`one_core_restarts`,
//! `one_core_requests`): a fresh system per test, bounded waits on
//! channels, and a compact view of supervision events.
#![allow(dead_code)]

use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::timeout;
use troupe::supervision::SupervisionEvent;

#[path = "../bounded_common/mod.rs"]
mod bounded_common;

pub use bounded_common::{next, system, BOUND};

/// Asserts that nothing more comes (virtual time: only once every task is
/// idle).
pub async fn quiet<T: std::fmt::Debug>(rx: &mut mpsc::UnboundedReceiver<T>) {
    if let Ok(Some(item)) = timeout(Duration::from_secs(1), rx.recv()).await {
        panic!("unexpected: {item:?}");
    }
}

/// One line per supervision event.
pub fn brief(ev: &SupervisionEvent) -> String {
    match ev {
        SupervisionEvent::Started { name, restart, .. } => {
            format!("{} {name}", if *restart { "restart" } else { "start" })
        }
        SupervisionEvent::StartFailed { name, .. } => format!("start-failed {name}"),
        SupervisionEvent::Exited { name, reason, .. } => format!("exit {name} {reason}"),
        SupervisionEvent::Stopped { name, reason, .. } => match reason {
            Some(r) => format!("stop {name} {r}"),
            None => format!("stop {name} stuck"),
        },
        SupervisionEvent::BudgetExceeded { .. } => "gave up".to_string(),
    }
}

/// The next `n` supervision events, in brief.
pub async fn events(rx: &mut mpsc::UnboundedReceiver<SupervisionEvent>, n: usize) -> Vec<String> {
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(brief(&next(rx).await));
    }
    out
}
