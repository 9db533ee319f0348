//! Status subscriptions: who listens to the statuses of which group, and
//! how each report reaches them.
//!
//! A process publishes its [`Status`] when it changes: when its life moves
//! on (starting, running, stopping, ended and waiting for its supervisor,
//! terminated or failed) and when it sets one itself. With nobody
//! subscribed, publishing is one atomic load: no report is built, nothing
//! is kept. Each subscription has a bounded queue of its own: a subscriber
//! that falls behind loses its oldest reports (counted, see
//! [`StatusSubscription::lost`]); a process never waits for a subscriber.

use std::collections::VecDeque;
use std::future::poll_fn;
use std::num::NonZeroUsize;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::task::{Context, Poll, Waker};
use std::time::SystemTime;

use futures_core::Stream;
use parking_lot::Mutex;

use super::process::Shared;
use super::system::ActorSystem;
use crate::defaults;
use crate::exit::ExitReason;
use crate::status::{Lifecycle, Status, StatusKind, StatusReport};

/// The subscriptions of a system.
#[derive(Default)]
pub(crate) struct StatusHub {
    /// Whether anyone may be subscribed: read by every publication, the
    /// only cost when nobody is.
    watched: AtomicBool,
    subscribers: Mutex<Vec<Subscriber>>,
}

struct Subscriber {
    /// The group it listens to (`None`: every group).
    group: Option<Arc<str>>,
    queue: Weak<Queue>,
}

#[derive(Default)]
struct Queue {
    state: Mutex<QueueState>,
}

#[derive(Default)]
struct QueueState {
    reports: VecDeque<StatusReport>,
    capacity: usize,
    lost: u64,
    waker: Option<Waker>,
    /// The system is gone: no report will come.
    closed: bool,
}

impl StatusHub {
    fn subscribe(&self, group: Option<Arc<str>>) -> StatusSubscription {
        let queue = Arc::new(Queue {
            state: Mutex::new(QueueState {
                capacity: defaults::STATUS_BUFFER,
                ..QueueState::default()
            }),
        });
        let mut subscribers = self.subscribers.lock();
        subscribers.push(Subscriber {
            group,
            queue: Arc::downgrade(&queue),
        });
        self.watched.store(true, Ordering::Release);
        StatusSubscription { queue }
    }

    /// Whether a report may have a reader.
    fn watched(&self) -> bool {
        self.watched.load(Ordering::Acquire)
    }

    /// Hands `report` to every live subscriber of its group, forgetting the
    /// subscriptions that were dropped.
    fn publish(&self, report: StatusReport) {
        let mut wake = Vec::new();
        {
            let mut subscribers = self.subscribers.lock();
            subscribers.retain(|s| s.queue.strong_count() > 0);
            if subscribers.is_empty() {
                self.watched.store(false, Ordering::Release);
                return;
            }
            for s in subscribers.iter() {
                if s.group.as_deref().is_some_and(|g| g != report.meta.group) {
                    continue;
                }
                let Some(queue) = s.queue.upgrade() else {
                    continue;
                };
                let mut state = queue.state.lock();
                if state.reports.len() >= state.capacity {
                    state.reports.pop_front();
                    state.lost += 1;
                }
                state.reports.push_back(report.clone());
                wake.extend(state.waker.take());
            }
        }
        for w in wake {
            w.wake();
        }
    }

    /// How many subscriptions are alive.
    fn count(&self) -> usize {
        let mut subscribers = self.subscribers.lock();
        subscribers.retain(|s| s.queue.strong_count() > 0);
        subscribers.len()
    }
}

impl Drop for StatusHub {
    /// The system is gone: its subscriptions end once read to the end.
    fn drop(&mut self) {
        for s in self.subscribers.get_mut().drain(..) {
            if let Some(queue) = s.queue.upgrade() {
                let waker = {
                    let mut state = queue.state.lock();
                    state.closed = true;
                    state.waker.take()
                };
                if let Some(w) = waker {
                    w.wake();
                }
            }
        }
    }
}

/// The status changes of a group (or of every group) of a system, from
/// the moment of subscribing: [`ActorSystem::subscribe_statuses`].
///
/// Read it with [`recv`](Self::recv) or [`try_recv`](Self::try_recv), or
/// as a [`Stream`] (an actor can attach it with `ctx.add_stream(..)` and
/// get each [`StatusReport`] as a message). It keeps at most
/// [`defaults::STATUS_BUFFER`] reports unread (see
/// [`with_capacity`](Self::with_capacity)); past that, the oldest go, and
/// [`lost`](Self::lost) counts them. It ends when its system is dropped.
/// Dropping it unsubscribes.
pub struct StatusSubscription {
    queue: Arc<Queue>,
}

impl StatusSubscription {
    /// Keeps at most `capacity` unread reports from now on (the oldest
    /// beyond it are dropped at once, and counted as lost).
    pub fn with_capacity(self, capacity: NonZeroUsize) -> Self {
        {
            let mut state = self.queue.state.lock();
            state.capacity = capacity.get();
            while state.reports.len() > state.capacity {
                state.reports.pop_front();
                state.lost += 1;
            }
        }
        self
    }

    /// The next report, waiting for one; `None` once the system is gone
    /// and every report was read.
    pub async fn recv(&mut self) -> Option<StatusReport> {
        poll_fn(|cx| self.poll_report(cx)).await
    }

    /// The next report if one is waiting.
    pub fn try_recv(&mut self) -> Option<StatusReport> {
        self.queue.state.lock().reports.pop_front()
    }

    /// How many reports this subscriber lost because it fell behind by
    /// more than its capacity.
    pub fn lost(&self) -> u64 {
        self.queue.state.lock().lost
    }

    /// How many reports wait to be read.
    pub fn len(&self) -> usize {
        self.queue.state.lock().reports.len()
    }

    /// Whether no report waits to be read.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn poll_report(&self, cx: &mut Context<'_>) -> Poll<Option<StatusReport>> {
        let mut state = self.queue.state.lock();
        if let Some(report) = state.reports.pop_front() {
            return Poll::Ready(Some(report));
        }
        if state.closed {
            return Poll::Ready(None);
        }
        match &mut state.waker {
            Some(w) => w.clone_from(cx.waker()),
            None => state.waker = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}

impl Stream for StatusSubscription {
    type Item = StatusReport;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<StatusReport>> {
        self.poll_report(cx)
    }
}

impl std::fmt::Debug for StatusSubscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.queue.state.lock();
        f.debug_struct("StatusSubscription")
            .field("unread", &state.reports.len())
            .field("capacity", &state.capacity)
            .field("lost", &state.lost)
            .finish()
    }
}

/// The status a process shows and publishes, from its life and what it set.
fn effective(lifecycle: Lifecycle, set: Option<&Status>, exit: Option<ExitReason>) -> Status {
    let set_details = || set.and_then(|s| s.details_arc().cloned());
    let exit_details = || exit.as_ref().map(|r| Arc::from(r.to_string()));
    match lifecycle {
        Lifecycle::Starting => Status::of(StatusKind::Starting, set_details()),
        Lifecycle::Running => set.cloned().unwrap_or(Status::NORMAL),
        Lifecycle::Stopping => Status::of(StatusKind::Stopping, None),
        Lifecycle::Restarting => Status::of(StatusKind::Restarting, exit_details()),
        Lifecycle::Stopped => {
            let kind = if exit.as_ref().is_some_and(ExitReason::is_abnormal) {
                StatusKind::Failed
            } else {
                StatusKind::Terminated
            };
            Status::of(kind, exit_details())
        }
    }
}

/// Publishing: what the process state calls when its status may change.
impl Shared {
    /// The status this process shows now.
    pub(crate) fn reported_status(&self) -> Status {
        let set = self.links.lock().as_ref().and_then(|l| l.status.clone());
        let lifecycle = self.lifecycle();
        let exit = match lifecycle {
            Lifecycle::Restarting | Lifecycle::Stopped => self.ended_with(),
            _ => None,
        };
        effective(lifecycle, set.as_ref(), exit)
    }

    /// Publishes the status this process shows now, if anyone listens.
    pub(crate) fn report_status(&self) {
        let hub = self.system.status_hub();
        if hub.watched() {
            self.publish_status(hub, self.reported_status());
        }
    }

    fn publish_status(&self, hub: &StatusHub, status: Status) {
        hub.publish(StatusReport {
            addr: self.addr,
            meta: crate::addr::ActorMeta::clone(&self.meta),
            status,
            at: SystemTime::now(),
        });
    }

    /// Sets the status the running incarnation publishes (until it ends)
    /// and publishes it if the shown status changed.
    pub(crate) fn set_status(&self, status: impl FnOnce(Option<&Status>) -> Status) {
        let shown = {
            let mut links = self.links.lock();
            let links = links.get_or_insert_with(Box::default);
            let new = status(links.status.as_ref());
            if links.status.as_ref() == Some(&new) {
                return;
            }
            links.status = Some(new);
            effective(self.lifecycle(), links.status.as_ref(), None)
        };
        let hub = self.system.status_hub();
        if hub.watched() && matches!(self.lifecycle(), Lifecycle::Starting | Lifecycle::Running) {
            self.publish_status(hub, shown);
        }
    }

    /// Forgets the status a past incarnation set.
    pub(crate) fn clear_status(&self) {
        if let Some(links) = self.links.lock().as_mut() {
            links.status = None;
        }
    }
}

/// Status subscriptions.
impl ActorSystem {
    /// Subscribes to the status changes of the processes of `group` (an
    /// [`ActorGroup`](crate::ActorGroup)'s name, or a struct actor's type
    /// name): each one's published [`Status`] when it sets one
    /// ([`ContextCore::set_status`](crate::ContextCore::set_status)) and
    /// when its life moves on (starting, normal once it runs, stopping,
    /// restarting with its exit reason, terminated or failed). Reports
    /// from the moment of subscribing only: nothing is kept for
    /// subscribers to come. A slow subscriber loses its oldest reports,
    /// counted ([`StatusSubscription::lost`]); publishers never wait.
    ///
    /// elfo's `SubscribeToActorStatuses`; Erlang has no equivalent (its
    /// observer polls `process_info`).
    ///
    /// ```
    /// use troupe::prelude::*;
    /// use troupe::{init, Status, StatusKind};
    ///
    /// #[message]
    /// struct Degrade;
    ///
    /// # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let topology = Topology::empty();
    /// topology.local("db").mount(ActorGroup::new().exec(|mut ctx| async move {
    ///     while let Some(envelope) = ctx.recv().await {
    ///         msg!(match envelope {
    ///             Degrade => ctx.set_status(Status::ALARMING.with_details("replica lost")),
    ///             _ => {}
    ///         })
    ///     }
    /// }));
    /// let system = init::try_start(topology)?;
    /// let mut statuses = system.subscribe_statuses("db");
    /// system.group("db").unwrap().notify(Degrade).await?;
    /// // From the moment of subscribing: `starting` and `normal` may have
    /// // come before. Then what it set.
    /// let report = loop {
    ///     let report = statuses.recv().await.expect("the system lives");
    ///     if report.kind() == StatusKind::Alarming {
    ///         break report;
    ///     }
    /// };
    /// assert_eq!(report.details(), Some("replica lost"));
    /// assert_eq!(report.meta.key, "_");
    /// system.shutdown().await;
    /// # Ok(()) }
    /// ```
    pub fn subscribe_statuses(&self, group: &str) -> StatusSubscription {
        self.status_hub().subscribe(Some(Arc::from(group)))
    }

    /// Subscribes to the status changes of every process of this system:
    /// see [`subscribe_statuses`](Self::subscribe_statuses).
    pub fn subscribe_all_statuses(&self) -> StatusSubscription {
        self.status_hub().subscribe(None)
    }

    /// How many status subscriptions are alive (0: publishing costs one
    /// atomic load, and no report is built or kept).
    pub fn status_subscribers(&self) -> usize {
        self.status_hub().count()
    }
}

// A subscription holds at least one report.
const _: () = assert!(defaults::STATUS_BUFFER > 0);
