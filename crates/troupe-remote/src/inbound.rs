//! What a node does with the frames it receives: authentication first,
//! then delivery to local processes and groups, answers, stops, monitors.

use std::sync::Arc;
use std::time::Duration;

use troupe::{Addr, Envelope, NodeNo, SendError, TraceId};

use crate::convert::{exit_from_wire, failure_from_wire, failure_to_wire};
use crate::frame::{Frame, WireFailure};
use crate::node::{Inner, NodeEvent};
use crate::{auth, CodecError};

/// Where an incoming message goes on this node.
enum Local {
    Process(Addr),
    Group(String),
}

/// A request as it came off the wire.
struct Incoming {
    sender: u64,
    trace: u64,
    id: u64,
    timeout_ms: u64,
    name: String,
    payload: Vec<u8>,
}

/// The wire failure for a message that did not decode.
fn codec_failure(e: CodecError) -> WireFailure {
    match e {
        CodecError::Unknown(name) => WireFailure::UnknownMessage(name),
        e => WireFailure::Undecodable(e.to_string()),
    }
}

impl Inner {
    /// One frame from node `from`.
    pub(crate) async fn receive(self: Arc<Self>, from: u16, bytes: &[u8]) {
        let frame = match Frame::decode(bytes, self.max_frame) {
            Ok(frame) => frame,
            Err(e) => {
                self.refuse(from, "malformed", "malformed");
                tracing::warn!(from, error = %e, "malformed frame refused");
                return;
            }
        };
        if let Frame::Hello { node, .. } = &frame {
            let valid = *node == from && auth::verify(&self.secret, &frame);
            if !valid {
                self.refuse(from, "hello", "bad_proof");
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
            self.refuse(from, frame.kind(), "unauthenticated");
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
            Frame::Link { from: remote, to } => {
                let (remote, to) = (Addr::from_bits(remote), Addr::from_bits(to));
                if self.system.link_remote(to, remote).is_err() {
                    // `to` is gone: its exit (noproc) reaches `remote`'s
                    // node as the Down of its proxy there.
                    tracing::debug!(%to, %remote, "link to a process that is gone");
                }
            }
            Frame::Unlink { from: remote, to } => {
                self.system
                    .unlink_remote(Addr::from_bits(to), Addr::from_bits(remote));
            }
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
                let to = Addr::from_bits(to);
                self.tell(from, sender, Local::Process(to), trace, name, payload)
                    .await;
            }
            Frame::GroupTell {
                from: sender,
                group,
                trace,
                name,
                payload,
            } => {
                self.tell(from, sender, Local::Group(group), trace, name, payload)
                    .await;
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
                let to = Local::Process(Addr::from_bits(to));
                let request = Incoming {
                    sender,
                    trace,
                    id,
                    timeout_ms,
                    name,
                    payload,
                };
                self.request(from, to, request).await;
            }
            Frame::GroupRequest {
                from: sender,
                group,
                trace,
                id,
                timeout_ms,
                name,
                payload,
            } => {
                let request = Incoming {
                    sender,
                    trace,
                    id,
                    timeout_ms,
                    name,
                    payload,
                };
                self.request(from, Local::Group(group), request).await;
            }
            Frame::Response { id, payload } => {
                if let Some((_, answer)) = self.pending.lock().remove(&id) {
                    answer.answer(Ok(&payload));
                }
            }
            Frame::Failure { id, failure } => {
                if let Some((_, answer)) = self.pending.lock().remove(&id) {
                    answer.answer(Err(failure_from_wire(failure)));
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

    /// A tell from node `node` to a local process or group.
    async fn tell(
        self: &Arc<Self>,
        node: u16,
        sender: u64,
        to: Local,
        trace: u64,
        name: String,
        payload: Vec<u8>,
    ) {
        let sender = Addr::from_bits(sender);
        let decoded = self
            .messages
            .decode_tell(&name, &payload, sender, TraceId::from_raw(trace));
        let refusal = match decoded {
            Ok(env) => match self.deliver(&to, env).await {
                Ok(()) => None,
                Err(e) if e.is_full() => Some(WireFailure::Full),
                Err(_) => Some(WireFailure::Gone),
            },
            Err(e) => Some(codec_failure(e)),
        };
        if let Some(failure) = refusal {
            let to = match to {
                Local::Process(addr) => addr.into_bits(),
                Local::Group(_) => 0,
            };
            let refused = Frame::Refused {
                from: sender.into_bits(),
                to,
                name,
                failure,
            };
            let _ = self.send(node, refused).await;
        }
    }

    /// A request from node `node` to a local process or group: delivered,
    /// then answered from a task of its own.
    async fn request(self: &Arc<Self>, node: u16, to: Local, request: Incoming) {
        let Incoming {
            sender,
            trace,
            id,
            timeout_ms,
            name,
            payload,
        } = request;
        let sender = Addr::from_bits(sender);
        let decoded =
            self.messages
                .decode_request(&name, &payload, sender, TraceId::from_raw(trace));
        let (env, answering) = match decoded {
            Ok(pair) => pair,
            Err(e) => {
                let failure = codec_failure(e);
                let _ = self.send(node, Frame::Failure { id, failure }).await;
                return;
            }
        };
        if let Err(e) = self.deliver(&to, env).await {
            let failure = if e.is_full() {
                WireFailure::Full
            } else {
                WireFailure::Gone
            };
            drop(e);
            let _ = self.send(node, Frame::Failure { id, failure }).await;
            return;
        }
        let inner = self.clone();
        tokio::spawn(async move {
            let answered = if timeout_ms == 0 {
                answering.await
            } else {
                let limit = Duration::from_millis(timeout_ms);
                match tokio::time::timeout(limit, answering).await {
                    Ok(res) => res,
                    Err(_) => Err(troupe::RequestError::Timeout(limit)),
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
            let _ = inner.send(node, frame).await;
        });
    }

    /// Delivers to a local process or group: at once if the mailbox has
    /// room, else waiting for it (the network then pushes back on the
    /// sender).
    async fn deliver(&self, to: &Local, env: Envelope) -> Result<(), SendError<Envelope>> {
        match to {
            Local::Process(addr) => match self.system.try_deliver_local(*addr, env) {
                Err(SendError::Full(env)) => self.system.deliver_local(*addr, env).await,
                other => other,
            },
            Local::Group(name) => match self.system.group(name) {
                Some(group) => group.deliver(env).await,
                None => Err(SendError::Closed(env)),
            },
        }
    }
}
