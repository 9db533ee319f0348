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
use troupe::{
    ActorSystem, Addr, DeadLetterReason, Envelope, NodeNo, SendError, StopError, StopReason,
    TraceId, Transport, TransportFuture,
};
use zenoh::sample::SampleKind;

use crate::convert::{exit_from_wire, failure_from_wire, failure_to_wire};
use crate::frame::{Frame, WireFailure, DEFAULT_MAX_FRAME};
use crate::registry::{Answer, Encoded, Messages};
use crate::{auth, RemoteError};

/// How a node joins its cluster.
///
/// ```
/// use troupe_remote::NodeConfig;
/// let config = NodeConfig::new("shop", b"cookie")
///     .listen("tcp/127.0.0.1:0")
///     .connect("tcp/127.0.0.1:7447");
/// assert_eq!(config.cluster(), "shop");
/// ```
#[derive(Clone)]
pub struct NodeConfig {
    cluster: String,
    secret: Vec<u8>,
    listen: Vec<String>,
    connect: Vec<String>,
    multicast: bool,
    max_frame: usize,
    lease: Duration,
}

impl NodeConfig {
    /// A node of cluster `cluster`, whose nodes share `secret` (the cluster
    /// cookie: frames from a node that did not prove it knows the secret
    /// are refused). No endpoint, multicast scouting off.
    pub fn new(cluster: impl Into<String>, secret: impl AsRef<[u8]>) -> Self {
        Self {
            cluster: cluster.into(),
            secret: secret.as_ref().to_vec(),
            listen: Vec::new(),
            connect: Vec::new(),
            multicast: false,
            max_frame: DEFAULT_MAX_FRAME,
            lease: Duration::from_secs(2),
        }
    }

    /// Listens on a Zenoh endpoint (`tcp/127.0.0.1:7447`; port 0 picks one).
    pub fn listen(mut self, endpoint: impl Into<String>) -> Self {
        self.listen.push(endpoint.into());
        self
    }

    /// Connects to a peer's endpoint at start.
    pub fn connect(mut self, endpoint: impl Into<String>) -> Self {
        self.connect.push(endpoint.into());
        self
    }

    /// Turns multicast scouting on (off by default: explicit endpoints).
    pub fn multicast(mut self, on: bool) -> Self {
        self.multicast = on;
        self
    }

    /// The largest frame sent or accepted (1 MiB by default).
    pub fn max_frame(mut self, bytes: usize) -> Self {
        self.max_frame = bytes;
        self
    }

    /// How long a silent peer link lives before its node counts as down
    /// (2 s by default): what detects a hung node. A crashed one is seen at
    /// once, when its connections close.
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// The cluster's name.
    pub fn cluster(&self) -> &str {
        &self.cluster
    }

    fn zenoh(&self) -> Result<zenoh::Config, RemoteError> {
        let mut c = zenoh::Config::default();
        let json = |v: &[String]| serde_json_list(v);
        let set = |c: &mut zenoh::Config, key: &str, value: String| {
            c.insert_json5(key, &value)
                .map_err(|e| RemoteError::Config(format!("{key}: {e}")))
        };
        set(&mut c, "mode", "\"peer\"".into())?;
        set(&mut c, "listen/endpoints", json(&self.listen))?;
        set(&mut c, "connect/endpoints", json(&self.connect))?;
        set(
            &mut c,
            "scouting/multicast/enabled",
            self.multicast.to_string(),
        )?;
        set(
            &mut c,
            "transport/link/tx/lease",
            self.lease.as_millis().max(1).to_string(),
        )?;
        // Four keep-alives per lease: a hung peer is seen within one lease.
        set(&mut c, "transport/link/tx/keep_alive", "4".into())?;
        Ok(c)
    }
}

fn serde_json_list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| format!("{s:?}")).collect();
    format!("[{}]", quoted.join(","))
}

impl std::fmt::Debug for NodeConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeConfig")
            .field("cluster", &self.cluster)
            .field("listen", &self.listen)
            .field("connect", &self.connect)
            .field("multicast", &self.multicast)
            .field("max_frame", &self.max_frame)
            .field("lease", &self.lease)
            .finish_non_exhaustive()
    }
}

/// A peer node came up (authenticated) or went down; each exactly once per
/// session of that peer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeEvent {
    /// The node joined and proved it knows the cluster secret.
    Up(NodeNo),
    /// The node left, crashed, or stopped answering within its lease.
    Down(NodeNo),
}

#[derive(Default)]
struct Peer {
    alive: bool,
    authenticated: bool,
    hello_sent: bool,
}

/// Answers a stop sent to another node.
type StopReply = oneshot::Sender<Result<(), StopError>>;

/// Answers a lookup sent to another node.
type LookupReply = oneshot::Sender<Option<Addr>>;

struct Inner {
    system: ActorSystem,
    session: zenoh::Session,
    cluster: String,
    me: u16,
    secret: Vec<u8>,
    max_frame: usize,
    messages: Messages,
    next_id: AtomicU64,
    /// Requests sent, by id: the node they went to and how to answer them.
    pending: Mutex<HashMap<u64, (u16, Answer)>>,
    /// Stops sent, by id.
    stops: Mutex<HashMap<u64, (u16, StopReply)>>,
    /// Lookups sent, by id.
    lookups: Mutex<HashMap<u64, (u16, LookupReply)>>,
    /// Remote processes watched (their proxies), by node.
    watched: Mutex<HashMap<u16, HashSet<Addr>>>,
    /// Local monitors on behalf of other nodes, by (watcher node, target).
    monitors: Mutex<HashMap<(u16, Addr), JoinHandle<()>>>,
    peers: Mutex<HashMap<u16, Peer>>,
    publishers: tokio::sync::Mutex<HashMap<u16, zenoh::pubsub::Publisher<'static>>>,
    refused: AtomicU64,
    events: broadcast::Sender<NodeEvent>,
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
            monitors: Mutex::default(),
            peers: Mutex::default(),
            publishers: tokio::sync::Mutex::default(),
            refused: AtomicU64::new(0),
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
        if !system.set_transport(Arc::new(Link(inner.clone()))) {
            return Err(RemoteError::AlreadyJoined);
        }
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
        Ok(Node {
            inner,
            tasks: vec![receiving, watching],
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

    /// Frames refused so far because their sender had not authenticated
    /// (or sent a wrong proof).
    pub fn refused_frames(&self) -> u64 {
        self.inner.refused.load(Ordering::Relaxed)
    }

    /// Leaves the cluster: peers see this node go down.
    pub async fn close(self) {
        for task in &self.tasks {
            task.abort();
        }
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
    async fn send(self: &Arc<Self>, to: u16, frame: Frame) -> Result<(), RemoteError> {
        let kind = frame.kind();
        let bytes = frame.encode(self.max_frame).map_err(RemoteError::Frame)?;
        let mut publishers = self.publishers.lock().await;
        let publisher = match publishers.entry(to) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                let publisher = self
                    .session
                    .declare_publisher(format!("troupe/{}/in/{to}/{}", self.cluster, self.me))
                    .congestion_control(zenoh::qos::CongestionControl::Block)
                    .await
                    .map_err(|e| RemoteError::Zenoh(e.to_string()))?;
                e.insert(publisher)
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
    fn refuse(&self, from: u16, reason: &'static str) {
        self.refused.fetch_add(1, Ordering::Relaxed);
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

    fn next_id(&self) -> u64 {
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
        self.publishers.try_lock().map(|mut p| p.remove(&node)).ok();
        let watched = self.watched.lock().remove(&node).unwrap_or_default();
        for target in watched {
            self.system
                .remote_exited(target, troupe::ExitReason::NodeDown);
        }
        let failed = take_node(&mut self.pending.lock(), node);
        for answer in failed {
            answer(Err(troupe::RequestError::NodeDown));
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

    /// One frame from node `from`.
    async fn receive(self: Arc<Self>, from: u16, bytes: &[u8]) {
        let frame = match Frame::decode(bytes, self.max_frame) {
            Ok(frame) => frame,
            Err(e) => {
                self.refuse(from, "malformed");
                tracing::warn!(from, error = %e, "malformed frame refused");
                return;
            }
        };
        if let Frame::Hello { node, .. } = &frame {
            let valid = *node == from && auth::verify(&self.secret, &frame);
            if !valid {
                self.refuse(from, "bad_proof");
                tracing::warn!(from, "hello with a wrong proof refused");
                return;
            }
            let newly = {
                let mut peers = self.peers.lock();
                let peer = peers.entry(from).or_default();
                peer.alive = true;
                !std::mem::replace(&mut peer.authenticated, true)
            };
            if newly {
                let _ = self.events.send(NodeEvent::Up(NodeNo(from)));
            }
            return;
        }
        let authenticated = self
            .peers
            .lock()
            .get(&from)
            .is_some_and(|p| p.authenticated);
        if !authenticated {
            self.refuse(from, "unauthenticated");
            tracing::warn!(
                from,
                kind = frame.kind(),
                "frame from an unauthenticated node refused"
            );
            return;
        }
        metrics::counter!("troupe_remote_frames_received_total", "peer" => from.to_string(), "kind" => frame.kind())
            .increment(1);
        self.handle(from, frame).await;
    }

    async fn handle(self: Arc<Self>, from: u16, frame: Frame) {
        match frame {
            Frame::Hello { .. } | Frame::Ping { .. } | Frame::Pong { .. } => {}
            Frame::Lookup { id, name } => {
                let addr = self.system.whereis(&name).map(Addr::into_bits);
                let _ = self.send(from, Frame::Found { id, addr }).await;
            }
            Frame::Found { id, addr } => {
                if let Some((_, tx)) = self.lookups.lock().remove(&id) {
                    let _ = tx.send(addr.map(Addr::from_bits));
                }
            }
            Frame::Tell {
                from: sender,
                to,
                trace,
                name,
                payload,
            } => {
                let (sender, to) = (Addr::from_bits(sender), Addr::from_bits(to));
                let refusal = match self.messages.decode_tell(
                    &name,
                    &payload,
                    sender,
                    TraceId::from_raw(trace),
                ) {
                    Ok(env) => match self.deliver(to, env).await {
                        Ok(()) => None,
                        Err(e) => Some(if e.is_full() {
                            WireFailure::Full
                        } else {
                            WireFailure::Gone
                        }),
                    },
                    Err(crate::CodecError::Unknown(n)) => Some(WireFailure::UnknownMessage(n)),
                    Err(e) => Some(WireFailure::Undecodable(e.to_string())),
                };
                if let Some(failure) = refusal {
                    let refused = Frame::Refused {
                        from: sender.into_bits(),
                        to: to.into_bits(),
                        name,
                        failure,
                    };
                    let _ = self.send(from, refused).await;
                }
            }
            Frame::Request {
                from: sender,
                to,
                trace,
                id,
                timeout_ms,
                name,
                payload,
            } => {
                let (sender, to) = (Addr::from_bits(sender), Addr::from_bits(to));
                let decoded =
                    self.messages
                        .decode_request(&name, &payload, sender, TraceId::from_raw(trace));
                let (env, answering) = match decoded {
                    Ok(pair) => pair,
                    Err(e) => {
                        let failure = match e {
                            crate::CodecError::Unknown(n) => WireFailure::UnknownMessage(n),
                            e => WireFailure::Undecodable(e.to_string()),
                        };
                        let _ = self.send(from, Frame::Failure { id, failure }).await;
                        return;
                    }
                };
                if let Err(e) = self.deliver(to, env).await {
                    let failure = if e.is_full() {
                        WireFailure::Full
                    } else {
                        WireFailure::Gone
                    };
                    drop(e);
                    let _ = self.send(from, Frame::Failure { id, failure }).await;
                    return;
                }
                let inner = self.clone();
                tokio::spawn(async move {
                    let answered = if timeout_ms == 0 {
                        answering.await
                    } else {
                        match tokio::time::timeout(Duration::from_millis(timeout_ms), answering)
                            .await
                        {
                            Ok(res) => res,
                            Err(_) => Err(troupe::RequestError::Timeout(Duration::from_millis(
                                timeout_ms,
                            ))),
                        }
                    };
                    let frame = match answered {
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
                    let _ = inner.send(from, frame).await;
                });
            }
            Frame::Response { id, payload } => {
                if let Some((_, answer)) = self.pending.lock().remove(&id) {
                    answer(Ok(&payload));
                }
            }
            Frame::Failure { id, failure } => {
                if let Some((_, answer)) = self.pending.lock().remove(&id) {
                    answer(Err(failure_from_wire(failure)));
                }
            }
            Frame::Refused {
                to, name, failure, ..
            } => {
                tracing::warn!(to = %Addr::from_bits(to), %name, ?failure, "a message to another node was refused there");
            }
            Frame::Stop { id, to, how } => {
                let inner = self.clone();
                tokio::spawn(async move {
                    let _ = inner
                        .system
                        .stop_local(Addr::from_bits(to), how.into())
                        .await;
                    let _ = inner.send(from, Frame::Stopped { id }).await;
                });
            }
            Frame::Stopped { id } => {
                if let Some((_, tx)) = self.stops.lock().remove(&id) {
                    let _ = tx.send(Ok(()));
                }
            }
            Frame::Monitor {
                watcher,
                target,
                reference,
            } => {
                let target = Addr::from_bits(target);
                let monitor = self.system.monitor(target);
                let inner = self.clone();
                let task = tokio::spawn(async move {
                    let down = monitor.await;
                    inner.monitors.lock().remove(&(from, target));
                    let frame = Frame::Down {
                        watcher,
                        target: target.into_bits(),
                        reference,
                        reason: (&down.reason).into(),
                    };
                    let _ = inner.send(from, frame).await;
                });
                if let Some(old) = self.monitors.lock().insert((from, target), task) {
                    old.abort();
                }
            }
            Frame::Demonitor { target, .. } => {
                if let Some(task) = self
                    .monitors
                    .lock()
                    .remove(&(from, Addr::from_bits(target)))
                {
                    task.abort();
                }
            }
            Frame::Down { target, reason, .. } => {
                let target = Addr::from_bits(target);
                if let Some(set) = self.watched.lock().get_mut(&from) {
                    set.remove(&target);
                }
                self.system.remote_exited(target, exit_from_wire(reason));
            }
        }
    }

    /// Delivers to a local process: at once if its mailbox has room, else
    /// waiting for it (the network then pushes back on the sender).
    async fn deliver(&self, to: Addr, env: Envelope) -> Result<(), SendError<Envelope>> {
        match self.system.try_deliver_local(to, env) {
            Err(SendError::Full(env)) => self.system.deliver_local(to, env).await,
            other => other,
        }
    }

    fn peer_is_up(&self, node: u16) -> bool {
        self.peers.lock().get(&node).is_some_and(|p| p.alive)
    }
}

/// The transport installed in the actor system.
struct Link(Arc<Inner>);

impl Transport for Link {
    fn forward(&self, to: Addr, env: Envelope) -> TransportFuture<Result<(), SendError<Envelope>>> {
        let inner = self.0.clone();
        Box::pin(async move {
            let node = to.node().0;
            if !inner.peer_is_up(node) {
                return Err(SendError::Closed(env));
            }
            let (sender, trace) = (env.sender().into_bits(), env.trace_id().get());
            let name = env.message_name().to_string();
            let frame = match inner.messages.encode(env) {
                Ok(Encoded::Tell(payload)) => Frame::Tell {
                    from: sender,
                    to: to.into_bits(),
                    trace,
                    name,
                    payload,
                },
                Ok(Encoded::Request(payload, answer)) => {
                    let id = inner.next_id();
                    inner.pending.lock().insert(id, (node, answer));
                    Frame::Request {
                        from: sender,
                        to: to.into_bits(),
                        trace,
                        id,
                        timeout_ms: 0,
                        name,
                        payload,
                    }
                }
                Err(refused) => {
                    let (env, e) = *refused;
                    // Not a type both nodes carry: a dead letter here, and
                    // a request fails with a typed error.
                    tracing::warn!(%to, error = %e, "message not sent to another node");
                    inner
                        .system
                        .report_dead_letter(to, &env, DeadLetterReason::Unhandled);
                    env.fail(troupe::RequestError::Failed(e.to_string()));
                    return Ok(());
                }
            };
            let id = match &frame {
                Frame::Request { id, .. } => Some(*id),
                _ => None,
            };
            if let Err(e) = inner.send(node, frame).await {
                tracing::warn!(%to, error = %e, "frame not sent");
                if let Some(answer) = id.and_then(|id| inner.pending.lock().remove(&id)) {
                    (answer.1)(Err(match e {
                        RemoteError::Frame(_) => troupe::RequestError::Failed(e.to_string()),
                        _ => troupe::RequestError::NodeDown,
                    }));
                }
            }
            Ok(())
        })
    }

    fn stop(&self, to: Addr, how: StopReason) -> TransportFuture<Result<(), StopError>> {
        let inner = self.0.clone();
        Box::pin(async move {
            let node = to.node().0;
            if !inner.peer_is_up(node) {
                return Ok(());
            }
            let id = inner.next_id();
            let (tx, rx) = oneshot::channel();
            inner.stops.lock().insert(id, (node, tx));
            let frame = Frame::Stop {
                id,
                to: to.into_bits(),
                how: how.into(),
            };
            if inner.send(node, frame).await.is_err() {
                inner.stops.lock().remove(&id);
                return Ok(());
            }
            rx.await.unwrap_or(Ok(()))
        })
    }

    fn watch(&self, target: Addr) {
        let inner = self.0.clone();
        let node = target.node().0;
        if !inner.peer_is_up(node) {
            inner
                .system
                .remote_exited(target, troupe::ExitReason::NodeDown);
            return;
        }
        inner.watched.lock().entry(node).or_default().insert(target);
        tokio::spawn(async move {
            let frame = Frame::Monitor {
                watcher: target.into_bits(),
                target: target.into_bits(),
                reference: 0,
            };
            if inner.send(node, frame).await.is_err() {
                inner
                    .system
                    .remote_exited(target, troupe::ExitReason::NodeDown);
            }
        });
    }
}
