//! Inlets: how a message from another node reaches a local process or
//! group, and where it waits when the mailbox is full.
//!
//! A message is delivered at once when the target's mailbox has room (the
//! usual case). When the mailbox is full and its overflow policy is to
//! wait, the message waits in an *inlet*: a bounded queue per sending node
//! and target, drained by a task of its own, so that the node's messages to
//! other targets go on (no head-of-line blocking). Later messages from the
//! same node to the same target queue behind it: the order per sender and
//! receiver holds. When an inlet is full too, the node stops reading frames
//! until it has room, which pushes back on the senders through the network
//! (see [`NodeConfig::inlet`](crate::NodeConfig::inlet)).

use std::collections::HashMap;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;

use parking_lot::Mutex;
use tokio::sync::mpsc;
use tokio::task::AbortHandle;
use tokio::time::Instant;
use troupe::{Addr, Envelope, SendError};

use crate::convert::failure_to_wire;
use crate::frame::{Frame, WireFailure};
use crate::node::Inner;
use crate::registry::Answering;

/// Where an incoming message goes on this node.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Local {
    Process(Addr),
    Group(String),
}

impl Local {
    /// The target as a refusal names it (0 for a group).
    pub(crate) fn bits(&self) -> u64 {
        match self {
            Local::Process(addr) => addr.into_bits(),
            Local::Group(_) => 0,
        }
    }
}

/// What follows a delivery, or its failure.
pub(crate) enum Then {
    /// A tell: nothing once delivered; a refusal to its sender if not.
    Tell {
        sender: u64,
        trace: u64,
        name: String,
    },
    /// A request: its answer once delivered, a failure if not; it waits
    /// for room no longer than its deadline.
    Request {
        id: u64,
        answering: Answering,
        deadline: Option<Instant>,
    },
}

impl Then {
    fn deadline(&self) -> Option<Instant> {
        match self {
            Then::Tell { .. } => None,
            Then::Request { deadline, .. } => *deadline,
        }
    }
}

/// A message waiting in an inlet.
struct Waiting {
    env: Envelope,
    then: Then,
}

/// A delivery that may wait for room.
type Delivery = Pin<Box<dyn Future<Output = Result<(), SendError<Envelope>>> + Send>>;

/// An open inlet: where later messages to its target queue.
struct Inlet {
    queue: mpsc::Sender<Waiting>,
    task: AbortHandle,
}

/// The open inlets of a node, by (sending node, target).
pub(crate) struct Inlets {
    open: Mutex<HashMap<(u16, Local), Inlet>>,
    capacity: usize,
}

impl Inlets {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            open: Mutex::default(),
            capacity: capacity.max(1),
        }
    }

    /// How many inlets hold messages waiting for a full mailbox.
    pub(crate) fn len(&self) -> usize {
        self.open.lock().len()
    }

    /// Stops every inlet (the node is closing); what waits in them is
    /// dropped, which answers waiting requests with an error.
    pub(crate) fn close(&self) {
        for (_, inlet) in self.open.lock().drain() {
            inlet.task.abort();
        }
    }
}

/// How a failed delivery is told on the wire.
fn wire_failure(e: &SendError<Envelope>) -> WireFailure {
    if e.is_full() {
        WireFailure::Full
    } else {
        WireFailure::Gone
    }
}

impl Inner {
    /// Delivers `env`, come from node `node`, to `to`, then does `then`.
    pub(crate) async fn arrive(self: &Arc<Self>, node: u16, to: Local, env: Envelope, then: Then) {
        let Some(Waiting { env, then }) = self.queue_behind(node, &to, Waiting { env, then }).await
        else {
            return;
        };
        let mut delivery = match self.start_delivery(&to, env) {
            Ok(delivery) => delivery,
            Err(res) => return self.settle(node, &to, res, then).await,
        };
        // Delivered at once unless the mailbox is full and its policy waits.
        match poll_fn(|cx| Poll::Ready(delivery.as_mut().poll(cx))).await {
            Poll::Ready(res) => {
                let res = res.map_err(|e| wire_failure(&e));
                self.settle(node, &to, res, then).await;
            }
            Poll::Pending => {
                let (tx, rx) = mpsc::channel(self.inlets.capacity);
                let mut open = self.inlets.open.lock();
                let inner = self.clone();
                let key = (node, to.clone());
                let task = tokio::spawn(inner.drain(node, to, delivery, then, rx));
                open.insert(
                    key,
                    Inlet {
                        queue: tx,
                        task: task.abort_handle(),
                    },
                );
            }
        }
    }

    /// Queues `waiting` in the open inlet of (`node`, `to`) if there is
    /// one; hands it back if there is none (deliver it directly).
    async fn queue_behind(&self, node: u16, to: &Local, waiting: Waiting) -> Option<Waiting> {
        let key = (node, to.clone());
        let queue = match self.inlets.open.lock().get(&key) {
            Some(inlet) => inlet.queue.clone(),
            None => return Some(waiting),
        };
        let Ok(permit) = queue.reserve().await else {
            return Some(waiting);
        };
        // Under the lock the inlet's task takes its last message under:
        // either it sees this one, or it has closed and this one goes
        // directly, after everything the inlet delivered.
        let _open = self.inlets.open.lock();
        if queue.is_closed() {
            return Some(waiting);
        }
        permit.send(waiting);
        None
    }

    /// A delivery of `env` to `to`: done already (`Err` with its outcome)
    /// when the mailbox took it or refused it at once.
    fn start_delivery(
        &self,
        to: &Local,
        env: Envelope,
    ) -> Result<Delivery, Result<(), WireFailure>> {
        match to {
            Local::Process(addr) => match self.system.try_deliver_local(*addr, env) {
                Ok(()) => Err(Ok(())),
                Err(SendError::Full(env)) => {
                    let (system, addr) = (self.system.clone(), *addr);
                    Ok(Box::pin(
                        async move { system.deliver_local(addr, env).await },
                    ))
                }
                Err(e) => Err(Err(wire_failure(&e))),
            },
            // A group's router is run once: it may start actors.
            Local::Group(name) => match self.system.group(name) {
                Some(group) => Ok(Box::pin(async move { group.deliver(env).await })),
                None => Err(Err(WireFailure::Gone)),
            },
        }
    }

    /// The inlet's task: finishes `delivery`, then delivers what queued
    /// behind it, in order, and closes when nothing is left.
    async fn drain(
        self: Arc<Self>,
        node: u16,
        to: Local,
        mut delivery: Delivery,
        mut then: Then,
        mut queue: mpsc::Receiver<Waiting>,
    ) {
        loop {
            let res = match then.deadline() {
                Some(at) => match tokio::time::timeout_at(at, &mut delivery).await {
                    Ok(res) => res.map_err(|e| wire_failure(&e)),
                    Err(_) => Err(WireFailure::Timeout),
                },
                None => delivery.await.map_err(|e| wire_failure(&e)),
            };
            self.settle(node, &to, res, then).await;
            loop {
                let next = {
                    let mut open = self.inlets.open.lock();
                    match queue.try_recv() {
                        Ok(next) => next,
                        Err(_) => {
                            queue.close();
                            open.remove(&(node, to.clone()));
                            return;
                        }
                    }
                };
                match self.start_delivery(&to, next.env) {
                    Ok(next_delivery) => {
                        (delivery, then) = (next_delivery, next.then);
                        break;
                    }
                    Err(res) => self.settle(node, &to, res, next.then).await,
                }
            }
        }
    }

    /// What follows a delivery: a request's answer, or the refusal of what
    /// could not be delivered.
    async fn settle(
        self: &Arc<Self>,
        node: u16,
        to: &Local,
        res: Result<(), WireFailure>,
        then: Then,
    ) {
        match (then, res) {
            (Then::Tell { .. }, Ok(())) => {}
            (
                Then::Tell {
                    sender,
                    trace,
                    name,
                },
                Err(failure),
            ) => {
                let refused = Frame::Refused {
                    from: sender,
                    to: to.bits(),
                    trace,
                    name,
                    failure,
                };
                let _ = self.send(node, refused).await;
            }
            (Then::Request { id, .. }, Err(failure)) => {
                let _ = self.send(node, Frame::Failure { id, failure }).await;
            }
            (Then::Request { id, answering, .. }, Ok(())) => {
                let inner = self.clone();
                tokio::spawn(async move {
                    let frame = match answering.await {
                        Ok(payload) if payload.len() + 64 > inner.max_frame => Frame::Failure {
                            id,
                            failure: WireFailure::TooLarge,
                        },
                        Ok(payload) => Frame::Response { id, payload },
                        Err(e) => Frame::Failure {
                            id,
                            failure: failure_to_wire(&e),
                        },
                    };
                    let _ = inner.send(node, frame).await;
                });
            }
        }
    }
}
