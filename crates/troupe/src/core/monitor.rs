//! Monitors, as in Erlang: a watcher gets one [`Down`] when the process it
//! watches exits.
//!
//! A monitor is kept by address in the process core, whatever the kinds of
//! the two processes: the watched process's `Shared` lists who watches it
//! (a process, or a [`Monitor`] future), and the watcher's lists what it
//! watches. `Shared::finish` takes the first list under the watched
//! process's lock, in the same step that makes a new monitor see the
//! process gone, and sends each watcher its `Down` (see `signal.rs` for
//! how it travels). `demonitor` removes the monitor from both lists; a
//! `Down` already on its way is dropped by the watcher's run loop, which
//! only hands over a `Down` whose monitor its own list still holds. So a
//! `Down` comes exactly once, and never after `demonitor` returned.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::task::{Context, Poll};

use tokio::sync::oneshot;

use super::process::Shared;
use super::signal;
use super::system::ActorSystem;
use crate::addr::Addr;
use crate::exit::ExitReason;
use crate::message::Message;

/// Identifies one monitor: what [`ContextCore::monitor`] returns and
/// [`ContextCore::demonitor`] takes, and what the [`Down`] of that monitor
/// carries (Erlang's monitor reference).
///
/// [`ContextCore::monitor`]: crate::ContextCore::monitor
/// [`ContextCore::demonitor`]: crate::ContextCore::demonitor
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MonitorRef(u64);

impl MonitorRef {
    fn next() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        MonitorRef(NEXT.fetch_add(1, Ordering::Relaxed))
    }

    /// The raw number (unique within this operating-system process).
    pub fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for MonitorRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "monitor-{}", self.0)
    }
}

/// A watched process exited: what a monitor delivers, exactly once
/// (Erlang's `{'DOWN', Ref, process, Pid, Reason}`).
///
/// A struct actor gets it in [`Actor::on_down`](crate::Actor::on_down); a
/// functional actor receives it from `recv` as an envelope, matched with
/// `msg!` like any message (`Down { addr, reason, .. } => ..`); outside
/// code and plain processes await it from [`ActorSystem::monitor`].
///
/// A process restarted in place by its supervisor keeps its address, but
/// each incarnation is a process of its own, as a restarted Erlang process
/// is: its monitors get their `Down` when the incarnation they watch exits,
/// and a monitor set while it waits for its restart gets one at once with
/// [`ExitReason::NoProc`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Down {
    /// The monitor this `Down` ends.
    pub monitor: MonitorRef,
    /// The process that exited.
    pub addr: Addr,
    /// How it exited; [`ExitReason::NoProc`] if it was already gone when
    /// the monitor was set.
    pub reason: ExitReason,
}

impl Message for Down {
    const NAME: &'static str = "troupe::Down";
    type Response = ();
}

/// Who watches a process.
pub(crate) enum Watcher {
    /// A process: the `Down` is a signal in its mailbox.
    Process(Weak<Shared>),
    /// A [`Monitor`] future.
    Future(oneshot::Sender<Down>),
}

/// The monitors of one process, both ways.
#[derive(Default)]
pub(crate) struct Monitors {
    /// Who watches this process.
    watchers: Vec<(MonitorRef, Watcher)>,
    /// What this process watches: a `Down` it receives counts only while
    /// its monitor is here.
    watching: Vec<(MonitorRef, Weak<Shared>)>,
}

impl Shared {
    /// Makes this process watch the process at `target`: a `Down` follows
    /// when it exits, or at once (with [`ExitReason::NoProc`]) if it is
    /// gone.
    pub(crate) fn monitor(self: &Arc<Self>, target: Addr) -> MonitorRef {
        let monitor = MonitorRef::next();
        let found = self.system.lookup(target);
        // Recorded first: the `Down` is accepted however soon it comes.
        let weak = found.as_ref().map_or_else(Weak::new, Arc::downgrade);
        self.with_links(|l| l.monitors.watching.push((monitor, weak)));
        let watched = found.is_some_and(|target| {
            let watcher = Watcher::Process(Arc::downgrade(self));
            target.watch(monitor, watcher).is_ok()
        });
        if !watched {
            let down = Down {
                monitor,
                addr: target,
                reason: ExitReason::NoProc,
            };
            signal::send(self, target, down);
        }
        monitor
    }

    /// Records a watcher, unless this incarnation has exited (the watcher
    /// is handed back).
    fn watch(&self, monitor: MonitorRef, watcher: Watcher) -> Result<(), Watcher> {
        let mut links = self.links.lock();
        // Under the lock `finish` takes the watchers with: a watcher
        // recorded here is told.
        if self.exit_reason().is_some() {
            return Err(watcher);
        }
        let links = links.get_or_insert_with(Box::default);
        links.monitors.watchers.push((monitor, watcher));
        Ok(())
    }

    fn unwatch(&self, monitor: MonitorRef) {
        if let Some(links) = self.links.lock().as_mut() {
            links.monitors.watchers.retain(|(m, _)| *m != monitor);
        }
    }

    /// Cancels a monitor this process holds; `false` if it had none by
    /// that reference (already down, cancelled, or another's).
    pub(crate) fn demonitor(&self, monitor: MonitorRef) -> bool {
        let target = self.links.lock().as_mut().and_then(|l| {
            let watching = &mut l.monitors.watching;
            let at = watching.iter().position(|(m, _)| *m == monitor)?;
            Some(watching.swap_remove(at).1)
        });
        match target {
            Some(target) => {
                if let Some(target) = target.upgrade() {
                    target.unwatch(monitor);
                }
                true
            }
            None => false,
        }
    }

    /// Whether a `Down` of `monitor` is still awaited (it is then no longer:
    /// a monitor delivers once).
    pub(crate) fn accept_down(&self, monitor: MonitorRef) -> bool {
        self.links.lock().as_mut().is_some_and(|l| {
            let watching = &mut l.monitors.watching;
            let at = watching.iter().position(|(m, _)| *m == monitor);
            at.map(|at| watching.swap_remove(at)).is_some()
        })
    }

    /// The exit of an incarnation, for its monitors (taken from it by
    /// `finish`): every watcher gets its `Down`, and what it watched no
    /// longer lists it.
    pub(crate) fn end_monitors(&self, monitors: Monitors, reason: &ExitReason) {
        for (monitor, watcher) in monitors.watchers {
            let down = Down {
                monitor,
                addr: self.addr,
                reason: reason.clone(),
            };
            match watcher {
                Watcher::Process(w) => {
                    if let Some(w) = w.upgrade() {
                        signal::send(&w, self.addr, down);
                    }
                }
                Watcher::Future(tx) => {
                    let _ = tx.send(down);
                }
            }
        }
        for (monitor, target) in monitors.watching {
            if let Some(target) = target.upgrade() {
                target.unwatch(monitor);
            }
        }
    }
}

impl ActorSystem {
    /// Watches the process at `addr` from outside any actor (or from a
    /// plain supervised process): the returned [`Monitor`] resolves to its
    /// [`Down`] once it exits, at once (with [`ExitReason::NoProc`]) if it
    /// is already gone. Dropping the `Monitor` cancels the monitor.
    ///
    /// ```
    /// use troupe::prelude::*;
    ///
    /// struct Worker;
    /// impl Actor for Worker {}
    ///
    /// # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let system = ActorSystem::create("monitor-doc")?;
    /// let worker = Worker.spawn().on_system(&system).await?;
    /// let down = system.monitor(worker.addr());
    /// worker.stop(StopReason::Shutdown).await?;
    /// let down = down.await;
    /// assert_eq!((down.addr, down.reason), (worker.addr(), ExitReason::Shutdown));
    /// # Ok(()) }
    /// ```
    pub fn monitor(&self, addr: Addr) -> Monitor {
        let monitor = MonitorRef::next();
        let (tx, rx) = oneshot::channel();
        let state = match self.lookup(addr) {
            Some(target) => match target.watch(monitor, Watcher::Future(tx)) {
                Ok(()) => State::Waiting(rx, Arc::downgrade(&target)),
                Err(_) => State::Gone,
            },
            None => State::Gone,
        };
        Monitor {
            monitor,
            addr,
            state,
        }
    }
}

/// A monitor held outside any actor: a future of the watched process's
/// [`Down`]. Dropped before it resolves, it cancels the monitor (the
/// watched process no longer lists it). See [`ActorSystem::monitor`].
#[must_use = "a monitor is cancelled when dropped"]
pub struct Monitor {
    monitor: MonitorRef,
    addr: Addr,
    state: State,
}

enum State {
    /// The watched process lists this monitor.
    Waiting(oneshot::Receiver<Down>, Weak<Shared>),
    /// It was gone when the monitor was set.
    Gone,
    /// The `Down` was delivered.
    Done,
}

impl Monitor {
    /// This monitor's reference (the one its `Down` carries).
    pub fn monitor_ref(&self) -> MonitorRef {
        self.monitor
    }

    /// The watched process.
    pub fn addr(&self) -> Addr {
        self.addr
    }

    fn down(&self, reason: ExitReason) -> Down {
        Down {
            monitor: self.monitor,
            addr: self.addr,
            reason,
        }
    }
}

impl Future for Monitor {
    type Output = Down;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Down> {
        let down = match &mut self.state {
            State::Waiting(rx, _) => match Pin::new(rx).poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Ok(down)) => down,
                // Dropped unsent: the process state itself is gone.
                Poll::Ready(Err(_)) => self.down(ExitReason::NoProc),
            },
            State::Gone => self.down(ExitReason::NoProc),
            State::Done => panic!("a Monitor polled after it resolved"),
        };
        self.state = State::Done;
        Poll::Ready(down)
    }
}

impl Drop for Monitor {
    fn drop(&mut self) {
        if let State::Waiting(_, target) = &self.state {
            if let Some(target) = target.upgrade() {
                target.unwatch(self.monitor);
            }
        }
    }
}

impl fmt::Debug for Monitor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Monitor")
            .field("monitor", &self.monitor)
            .field("addr", &self.addr)
            .finish()
    }
}
