//! The bounded waits and fresh systems that several test helper modules
//! share (`one_core_common`, `signals_common`, `supervision_common`
//! re-export them).
#![allow(dead_code)]

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use tokio::sync::mpsc;
use troupe::ActorSystem;

/// The bound of every wait (virtual time where a test pauses the clock).
pub const BOUND: Duration = Duration::from_secs(30);

/// A fresh system with a unique name.
pub fn system(prefix: &str) -> ActorSystem {
    static N: AtomicU32 = AtomicU32::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    ActorSystem::create(format!("{prefix}-{n}")).expect("unique system name")
}

/// The next item of a channel, within [`BOUND`].
pub async fn next<T>(rx: &mut mpsc::UnboundedReceiver<T>) -> T {
    tokio::time::timeout(BOUND, rx.recv())
        .await
        .expect("nothing within the bound")
        .expect("channel closed")
}
