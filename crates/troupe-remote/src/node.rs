//! A node: one actor system joined to a cluster over Zenoh (peer mode).
//!
//! Key expressions, under the cluster's name `c`:
//! - `troupe/c/in/<to>/<from>`: frames from node `from` to node `to` (each
//!   node subscribes to `troupe/c/in/<me>/*`, so the key says who sent a
//!   frame, and one publisher per peer keeps frames in order);
//! - `troupe/c/alive/<node>`: a liveliness token per node; its appearance
//!   and disappearance are the node up and down events.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use tokio::sync::{broadcast, oneshot};
use tokio::task::JoinHandle;
use troupe::{ActorSystem, Addr, NodeNo, StopError, TraceId};
use zenoh::sample::SampleKind;

use crate::config::NodeConfig;
use crate::frame::Frame;
use crate::inlet::Inlets;
use crate::registry::{Answer, Messages};
use crate::{auth, RemoteError};

/// A peer node came up (authenticated) or went down; each exactly once per
/// session of that peer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeEvent {
    /// The node joined and proved it knows the cluster secret.
    Up(NodeNo),
    /// The node left, crashed, or stopped answering within its lease.
    Down(NodeNo),
    /// A frame (or name query) from this node was refused: malformed, or
    /// from a node that has not proved it knows the cluster secret. One
    /// event per refused frame (a lagging subscriber misses some; the count
    /// is [`Node::refused_frames`]).
    Refused {
        /// The sending node.
        node: NodeNo,
        /// The frame's kind ([`Frame::kind`](crate::frame::Frame::kind)),
        /// `"malformed"` if it did not decode, `"names"` for a name query.
        kind: &'static str,
    },
}

#[derive(Default)]
pub(crate) struct Peer {
    pub(crate) alive: bool,
    pub(crate) authenticated: bool,
    pub(crate) hello_sent: bool,
}

/// Answers a stop sent to another node.
type StopReply = oneshot::Sender<Result<(), StopError>>;

/// The publisher to one peer, declared on first use, behind the lock that
/// orders the sends to that peer.
pub(crate) type Outlet = Arc<tokio::sync::Mutex<Option<zenoh::pubsub::Publisher<'static>>>>;

/// Answers a lookup sent to another node.
type LookupReply = oneshot::Sender<Option<Addr>>;

pub(crate) struct Inner {
    pub(crate) system: ActorSystem,
    pub(crate) session: zenoh::Session,
    pub(crate) cluster: String,
    pub(crate) me: u16,
    pub(crate) secret: Vec<u8>,
    pub(crate) max_frame: usize,
    pub(crate) messages: Messages,
    pub(crate) next_id: AtomicU64,
    /// Requests sent, by id: the node they went to and how to answer them.
    pub(crate) pending: Mutex<HashMap<u64, (u16, Answer)>>,
    /// Stops sent, by id.
    pub(crate) stops: Mutex<HashMap<u64, (u16, StopReply)>>,
    /// Lookups sent, by id.
    pub(crate) lookups: Mutex<HashMap<u64, (u16, LookupReply)>>,
    /// Remote processes whose `Monitor` frame is still to go, by node.
    pub(crate) unsent_monitors: Mutex<HashMap<u16, Vec<Addr>>>,
    /// Remote processes watched (their proxies), by node.
    pub(crate) watched: Mutex<HashMap<u16, HashSet<Addr>>>,
    /// Local monitors on behalf of other nodes, by (watcher node, target).
    pub(crate) monitors: Mutex<HashMap<(u16, Addr), JoinHandle<()>>>,
    pub(crate) peers: Mutex<HashMap<u16, Peer>>,
    /// One outlet per peer: sends to a peer go one at a time (their order
    /// is the wire's), sends to different peers do not wait for each other.
    pub(crate) outlets: Mutex<HashMap<u16, Outlet>>,
    pub(crate) refused: AtomicU64,
    /// Messages from other nodes waiting for full local mailboxes.
    pub(crate) inlets: Inlets,
    pub(crate) events: broadcast::Sender<NodeEvent>,
}

/// This actor system's membership of a cluster: started with
/// [`Node::start`], it installs the transport that makes addresses of other
/// nodes reachable (see the crate docs), and runs until [`Node::close`].
pub struct Node {
    inner: Arc<Inner>,
    tasks: Vec<JoinHandle<()>>,
    _token: zenoh::liveliness::LivelinessToken,
}

impl Node {
    /// Joins `system` to the cluster of `config`, carrying the message
    /// types of `messages`. The node's number is the system's
    /// ([`ActorSystem::node`]), unique in the cluster.
    pub async fn start(
        system: &ActorSystem,
        config: NodeConfig,
        messages: Messages,
    ) -> Result<Node, RemoteError> {
        let me = system.node().0;
        let session = zenoh::open(config.zenoh()?)
            .await
            .map_err(|e| RemoteError::Zenoh(e.to_string()))?;
        let (events, _) = broadcast::channel(256);
        let inner = Arc::new(Inner {
            system: system.clone(),
            session,
            cluster: config.cluster.clone(),
            me,
            secret: config.secret.clone(),
            max_frame: config.max_frame,
            messages,
            next_id: AtomicU64::new(1),
            pending: Mutex::default(),
            stops: Mutex::default(),
            lookups: Mutex::default(),
            watched: Mutex::default(),
            unsent_monitors: Mutex::default(),
            monitors: Mutex::default(),
            peers: Mutex::default(),
            outlets: Mutex::default(),
            refused: AtomicU64::new(0),
            inlets: Inlets::new(config.inlet),
            events,
        });
        let inbox = inner
            .session
            .declare_subscriber(format!("troupe/{}/in/{me}/*", inner.cluster))
            .await
            .map_err(|e| RemoteError::Zenoh(e.to_string()))?;
        let alive = inner
            .session
            .liveliness()
            .declare_subscriber(format!("troupe/{}/alive/*", inner.cluster))
            .history(true)
            .await
            .map_err(|e| RemoteError::Zenoh(e.to_string()))?;
        let token = inner
            .session
            .liveliness()
            .declare_token(format!("troupe/{}/alive/{me}", inner.cluster))
            .await
            .map_err(|e| RemoteError::Zenoh(e.to_string()))?;
        let names = inner
            .session
            .declare_queryable(format!("troupe/{}/names/*", inner.cluster))
            .await
            .map_err(|e| RemoteError::Zenoh(e.to_string()))?;
        if !system.set_transport(Arc::new(crate::link::Link(inner.clone()))) {
            return Err(RemoteError::AlreadyJoined);
        }
        // Cluster-wide names: each node answers for the names registered
        // in its own system, to authenticated nodes only.
        let naming = {
            let inner = inner.clone();
            tokio::spawn(async move {
                while let Ok(query) = names.recv_async().await {
                    inner.answer_name(query).await;
                }
            })
        };
        let receiving = {
            let inner = inner.clone();
            tokio::spawn(async move {
                while let Ok(sample) = inbox.recv_async().await {
                    let Some(from) = last_segment(sample.key_expr().as_str()) else {
                        continue;
                    };
                    let bytes = sample.payload().to_bytes();
                    inner.clone().receive(from, &bytes).await;
                }
            })
        };
        let watching = {
            let inner = inner.clone();
            tokio::spawn(async move {
                while let Ok(sample) = alive.recv_async().await {
                    let Some(node) = last_segment(sample.key_expr().as_str()) else {
                        continue;
                    };
                    if node == inner.me {
                        continue;
                    }
                    match sample.kind() {
                        SampleKind::Put => inner.peer_up(node).await,
                        SampleKind::Delete => inner.peer_down(node),
                    }
                }
            })
        };
        // Requests whose requester gave up (its deadline passed) leave the
        // pending table once a lease: their answers would find no one.
        let sweeping = {
            let inner = inner.clone();
            let every = config.lease;
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(every);
                loop {
                    tick.tick().await;
                    inner.sweep();
                }
            })
        };
        Ok(Node {
            inner,
            tasks: vec![receiving, watching, sweeping, naming],
            _token: token,
        })
    }

    /// The address of the process registered as `name` on node `node`
    /// (Erlang's `whereis` there), `None` if no process has that name.
    /// Then `system.remote_ref::<A>(addr)` gives a typed handle to it.
    ///
    /// Errors: [`RemoteError::NodeDown`] if the node is not up (or goes down
    /// before it answers), [`RemoteError::Timeout`] past `timeout`.
    pub async fn whereis(
        &self,
        node: NodeNo,
        name: &str,
        timeout: Duration,
    ) -> Result<Option<Addr>, RemoteError> {
        let inner = &self.inner;
        if node.0 == inner.me {
            return Ok(inner.system.whereis(name));
        }
        if !inner.peer_is_up(node.0) {
            return Err(RemoteError::NodeDown(node));
        }
        let id = inner.next_id();
        let (tx, rx) = oneshot::channel();
        inner.lookups.lock().insert(id, (node.0, tx));
        let frame = Frame::Lookup {
            id,
            name: name.to_string(),
        };
        if let Err(e) = inner.send(node.0, frame).await {
            inner.lookups.lock().remove(&id);
            return Err(e);
        }
        match tokio::time::timeout(timeout, rx).await {
            Ok(Ok(found)) => Ok(found),
            Ok(Err(_)) => Err(RemoteError::NodeDown(node)),
            Err(_) => {
                inner.lookups.lock().remove(&id);
                Err(RemoteError::Timeout(timeout))
            }
        }
    }

    /// The process registered as `name` on any node of the cluster (this
    /// one included): a cluster-wide `whereis`, asked of every node at once.
    /// Each node answers for its own registry; if several nodes have a
    /// process under that name, the lowest node number wins (names are
    /// unique per node, as in Erlang's `register`, not across the cluster
    /// as with `global`: register a cluster-wide name on one node only).
    ///
    /// Errors: [`RemoteError::Config`] for a name that cannot be part of a
    /// key expression (`/`, `*`, `$`, `?`, `#`), [`RemoteError::Zenoh`] if
    /// the query fails.
    pub async fn whereis_global(
        &self,
        name: &str,
        timeout: Duration,
    ) -> Result<Option<Addr>, RemoteError> {
        let inner = &self.inner;
        if name.is_empty() || name.contains(['/', '*', '$', '?', '#']) {
            return Err(RemoteError::Config(format!(
                "not a cluster-wide name: {name:?}"
            )));
        }
        let mut found: Vec<Addr> = inner.system.whereis(name).into_iter().collect();
        let selector = format!("troupe/{}/names/{name}?from={}", inner.cluster, inner.me);
        let replies = inner
            .session
            .get(selector)
            .timeout(timeout)
            .await
            .map_err(|e| RemoteError::Zenoh(e.to_string()))?;
        while let Ok(reply) = replies.recv_async().await {
            let Ok(sample) = reply.result() else { continue };
            let bytes = sample.payload().to_bytes();
            if let Ok(raw) = <[u8; 8]>::try_from(&bytes[..]) {
                found.push(Addr::from_bits(u64::from_le_bytes(raw)));
            }
        }
        Ok(found.into_iter().min_by_key(|a| a.node()))
    }

    /// Node up and down events from now on.
    pub fn events(&self) -> broadcast::Receiver<NodeEvent> {
        self.inner.events.subscribe()
    }

    /// The peers that are up and authenticated.
    pub fn peers(&self) -> Vec<NodeNo> {
        let mut up: Vec<NodeNo> = self
            .inner
            .peers
            .lock()
            .iter()
            .filter(|(_, p)| p.alive && p.authenticated)
            .map(|(n, _)| NodeNo(*n))
            .collect();
        up.sort();
        up
    }

    /// Requests sent to other nodes whose answer is still awaited (their
    /// requesters still wait).
    pub fn pending_requests(&self) -> usize {
        self.inner.sweep()
    }

    /// Frames refused so far because their sender had not authenticated
    /// (or sent a wrong proof).
    pub fn refused_frames(&self) -> u64 {
        self.inner.refused.load(Ordering::Relaxed)
    }

    /// How many local targets have messages from other nodes waiting for
    /// room in their mailboxes (one inlet per sending node and target; see
    /// [`NodeConfig::inlet`]).
    pub fn waiting_targets(&self) -> usize {
        self.inner.inlets.len()
    }

    /// Leaves the cluster: peers see this node go down. Messages still
    /// waiting for full local mailboxes are dropped (requests among them
    /// are answered with an error).
    pub async fn close(self) {
        for task in &self.tasks {
            task.abort();
        }
        self.inner.inlets.close();
        let _ = self.inner.session.close().await;
    }
}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Node")
            .field("cluster", &self.inner.cluster)
            .field("node", &self.inner.me)
            .finish_non_exhaustive()
    }
}

/// Removes and returns the entries of `map` that belong to `node`.
fn take_node<T>(map: &mut HashMap<u64, (u16, T)>, node: u16) -> Vec<T> {
    let ids: Vec<u64> = map
        .iter()
        .filter(|(_, (n, _))| *n == node)
        .map(|(id, _)| *id)
        .collect();
    ids.into_iter()
        .filter_map(|id| map.remove(&id).map(|(_, t)| t))
        .collect()
}

fn last_segment(key: &str) -> Option<u16> {
    key.rsplit('/').next()?.parse().ok()
}

impl Inner {
    /// Sends `frame` to node `to` (after this node's hello, once).
    pub(crate) async fn send(self: &Arc<Self>, to: u16, frame: Frame) -> Result<(), RemoteError> {
        let kind = frame.kind();
        let bytes = frame.encode(self.max_frame).map_err(RemoteError::Frame)?;
        let outlet = self.outlets.lock().entry(to).or_default().clone();
        let mut outlet = outlet.lock().await;
        let publisher = match &mut *outlet {
            Some(publisher) => publisher,
            empty => {
                let publisher = self
                    .session
                    .declare_publisher(format!("troupe/{}/in/{to}/{}", self.cluster, self.me))
                    .congestion_control(zenoh::qos::CongestionControl::Block)
                    .await
                    .map_err(|e| RemoteError::Zenoh(e.to_string()))?;
                empty.insert(publisher)
            }
        };
        let hello = {
            let mut peers = self.peers.lock();
            let peer = peers.entry(to).or_default();
            !std::mem::replace(&mut peer.hello_sent, true)
        };
        if hello {
            let h = self
                .hello()
                .encode(self.max_frame)
                .map_err(RemoteError::Frame)?;
            publisher
                .put(h)
                .await
                .map_err(|e| RemoteError::Zenoh(e.to_string()))?;
        }
        let monitors = self.unsent_monitors.lock().remove(&to).unwrap_or_default();
        for target in monitors {
            let monitor = Frame::Monitor {
                watcher: target.into_bits(),
                target: target.into_bits(),
                reference: 0,
            };
            let m = monitor.encode(self.max_frame).map_err(RemoteError::Frame)?;
            publisher
                .put(m)
                .await
                .map_err(|e| RemoteError::Zenoh(e.to_string()))?;
        }
        let len = bytes.len() as u64;
        publisher
            .put(bytes)
            .await
            .map_err(|e| RemoteError::Zenoh(e.to_string()))?;
        let peer = to.to_string();
        metrics::counter!("troupe_remote_frames_sent_total", "peer" => peer.clone(), "kind" => kind)
            .increment(1);
        metrics::counter!("troupe_remote_bytes_sent_total", "peer" => peer).increment(len);
        Ok(())
    }

    /// Counts a refused frame, in the node's counter and the metrics.
    pub(crate) fn refuse(&self, from: u16, kind: &'static str, reason: &'static str) {
        self.refused.fetch_add(1, Ordering::Relaxed);
        let _ = self.events.send(NodeEvent::Refused {
            node: NodeNo(from),
            kind,
        });
        metrics::counter!("troupe_remote_frames_refused_total", "peer" => from.to_string(), "reason" => reason)
            .increment(1);
    }

    fn hello(&self) -> Frame {
        let mut nonce = [0u8; 16];
        nonce[..8].copy_from_slice(&TraceId::generate().get().to_le_bytes());
        nonce[8..].copy_from_slice(&TraceId::generate().get().to_le_bytes());
        Frame::Hello {
            node: self.me,
            cluster: self.cluster.clone(),
            nonce,
            proof: auth::proof(&self.secret, self.me, &self.cluster, &nonce),
        }
    }

    pub(crate) fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    async fn peer_up(self: &Arc<Self>, node: u16) {
        {
            let mut peers = self.peers.lock();
            let peer = peers.entry(node).or_default();
            peer.alive = true;
        }
        // Our hello goes first; the peer counts as up once its own hello
        // proved it knows the secret.
        let _ = self.send(node, Frame::Ping { seq: 0 }).await;
    }

    fn peer_down(&self, node: u16) {
        let was_up = {
            let mut peers = self.peers.lock();
            let peer = peers.remove(&node).unwrap_or_default();
            peer.alive && peer.authenticated
        };
        self.outlets.lock().remove(&node);
        self.unsent_monitors.lock().remove(&node);
        let watched = self.watched.lock().remove(&node).unwrap_or_default();
        for target in watched {
            self.system
                .remote_exited(target, troupe::ExitReason::NodeDown);
        }
        let failed = take_node(&mut self.pending.lock(), node);
        for answer in failed {
            answer.answer(Err(troupe::RequestError::NodeDown));
        }
        // The process went with its node: a stop waiting for it is done.
        let stops = take_node(&mut self.stops.lock(), node);
        for tx in stops {
            let _ = tx.send(Ok(()));
        }
        // Dropped: the lookups resolve with `NodeDown`.
        drop(take_node(&mut self.lookups.lock(), node));
        self.monitors.lock().retain(|(n, _), task| {
            if *n == node {
                task.abort();
            }
            *n != node
        });
        if was_up {
            let _ = self.events.send(NodeEvent::Down(NodeNo(node)));
        }
    }

    /// Answers a cluster-wide name query from an authenticated node when the
    /// name is registered here.
    async fn answer_name(&self, query: zenoh::query::Query) {
        let asker = query
            .parameters()
            .get("from")
            .and_then(|n| n.parse::<u16>().ok());
        let trusted =
            asker.is_some_and(|n| self.peers.lock().get(&n).is_some_and(|p| p.authenticated));
        if !trusted {
            self.refuse(asker.unwrap_or(0), "names", "unauthenticated");
            return;
        }
        let key = query.key_expr().clone();
        let Some(name) = key.as_str().rsplit('/').next() else {
            return;
        };
        if let Some(addr) = self.system.whereis(name) {
            let _ = query
                .reply(key.clone(), addr.into_bits().to_le_bytes().to_vec())
                .await;
        }
    }

    /// Drops the pending requests nobody waits for any more; returns how
    /// many are left.
    pub(crate) fn sweep(&self) -> usize {
        let mut pending = self.pending.lock();
        pending.retain(|_, (_, answer)| answer.is_waiting());
        pending.len()
    }

    pub(crate) fn peer_is_up(&self, node: u16) -> bool {
        self.peers.lock().get(&node).is_some_and(|p| p.alive)
    }
}
