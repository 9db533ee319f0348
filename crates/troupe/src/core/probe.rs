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
use crate::envelope::Envelope;
use crate::message::Message;

/// A fault to inject in the next handling of a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// The handling panics with this text, as if the handler had: a
    /// functional actor's `exec` fails with `panic: <text>`; a struct
    /// actor's handling fails as its handler's panic would (a request's
    /// failure ends the actor, a message's goes to `handle_failure`). The
    /// envelope dies with the handling (a request resolves with an error).
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

/// Whether a fault is armed for `addr` and not struck yet.
pub(crate) fn is_armed(addr: Addr) -> bool {
    ARMED_COUNT.load(Ordering::Acquire) > 0 && armed().lock().contains_key(&addr)
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

/// Strikes the fault armed for the process as it (in its own task) takes
/// `env`: a panic here if the front-end's run is caught (`panic_here`;
/// else it stays armed for [`take_panic`]); a stall puts `env` back at
/// the head of the mailbox, which then gives nothing until the stall is
/// over (see `Mailbox::stall`). `None`: the envelope went back.
pub(crate) fn strike(shared: &Shared, env: Envelope, panic_here: bool) -> Option<Envelope> {
    match take(shared.addr) {
        None => Some(env),
        Some(Fault::Panic(text)) if panic_here => panic!("{text}"),
        Some(Fault::Panic(text)) => {
            arm(shared.addr, Fault::Panic(text));
            Some(env)
        }
        Some(Fault::Stall(Some(d))) => {
            shared.mailbox.stall(env, Box::pin(tokio::time::sleep(d)));
            None
        }
        Some(Fault::Stall(None)) => {
            shared
                .mailbox
                .stall(env, Box::pin(std::future::pending::<()>()));
            None
        }
    }
}

/// Takes an injected panic armed for `addr`, for a front-end that fails
/// its handling of the envelope it just took (a stall stays armed).
pub(crate) fn take_panic(addr: Addr) -> Option<String> {
    match take(addr)? {
        Fault::Panic(text) => Some(text),
        stall => {
            arm(addr, stall);
            None
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
