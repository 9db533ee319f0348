//! Probes a test places in a running process (feature `testkit`): faults
//! that strike the next envelope it takes, and sync markers that answer
//! once it has handled everything queued before them.
//!
//! Both work through THE run loop (`run_loop::next`), so that they reach
//! every kind of process the same way. Nothing here runs unless the
//! feature is on; with it on, a process pays one relaxed atomic load per
//! envelope while no fault is armed anywhere.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

use parking_lot::Mutex;
use tokio::sync::oneshot;

use super::process::Shared;
use crate::addr::Addr;
use crate::message::Message;

/// A fault to inject in the next handling of a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// The handling panics with this text: the process fails as if its
    /// handler had panicked (a functional actor's `exec` fails with
    /// `panic: <text>`; a struct actor exits with that failure).
    Panic(String),
    /// The handling stalls for this long (Tokio time, so a paused clock
    /// advances through it) before the message is handled; `None` stalls
    /// until the process is killed. A stalled process does not poll its
    /// system channel either: a graceful stop waits, as for a handler
    /// stuck in a long computation.
    Stall(Option<Duration>),
}

/// Armed faults, by process address.
fn armed() -> &'static Mutex<HashMap<Addr, Fault>> {
    static ARMED: OnceLock<Mutex<HashMap<Addr, Fault>>> = OnceLock::new();
    ARMED.get_or_init(Default::default)
}

/// How many faults are armed: the run loop looks no further while it is 0.
static ARMED_COUNT: AtomicUsize = AtomicUsize::new(0);

/// Arms `fault` for the next envelope the process at `addr` takes
/// (replacing a fault armed before and not struck yet).
pub(crate) fn arm(addr: Addr, fault: Fault) {
    if armed().lock().insert(addr, fault).is_none() {
        ARMED_COUNT.fetch_add(1, Ordering::AcqRel);
    }
}

/// Takes the fault armed for `addr`, if any.
pub(crate) fn take(addr: Addr) -> Option<Fault> {
    if ARMED_COUNT.load(Ordering::Acquire) == 0 {
        return None;
    }
    let fault = armed().lock().remove(&addr)?;
    ARMED_COUNT.fetch_sub(1, Ordering::AcqRel);
    Some(fault)
}

/// Strikes the fault armed for `addr` (in the process's own task, as it
/// takes an envelope): panics, or waits.
pub(crate) async fn strike(addr: Addr) {
    match take(addr) {
        None => {}
        Some(Fault::Panic(text)) => panic!("{text}"),
        Some(Fault::Stall(Some(d))) => tokio::time::sleep(d).await,
        Some(Fault::Stall(None)) => std::future::pending::<()>().await,
    }
}

/// [`strike`] for a take that cannot wait (`try_recv`): a panic strikes,
/// a stall stays armed for the next waiting take.
pub(crate) fn strike_now(addr: Addr) {
    if let Some(fault) = take(addr) {
        match fault {
            Fault::Panic(text) => panic!("{text}"),
            stall => arm(addr, stall),
        }
    }
}

/// A sync marker: answered by the run loop of the process that takes it,
/// which has then handled every envelope queued before it.
pub(crate) struct SyncMarker(pub(crate) oneshot::Sender<()>);

impl Message for SyncMarker {
    const NAME: &'static str = "troupe::SyncMarker";
    type Response = ();
}

/// Queues a sync marker behind what `to` holds (past its capacity, as a
/// signal); the receiver resolves once `to` takes it, or with an error if
/// `to` is gone first.
pub(crate) fn sync(to: &Shared) -> oneshot::Receiver<()> {
    let (tx, rx) = oneshot::channel();
    super::signal::send_quiet(to, SyncMarker(tx));
    rx
}
