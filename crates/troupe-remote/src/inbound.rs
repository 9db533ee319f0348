//! What a node does with the frames it receives: authentication first,
//! then delivery to local processes and groups, answers, stops, monitors.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;
use troupe::{Addr, DeadLetter, DeadLetterReason, NodeNo, TraceId};

use crate::convert::{exit_from_wire, failure_from_wire};
use crate::frame::{Frame, WireFailure};
use crate::inlet::{Local, Then};
use crate::node::{Inner, NodeEvent};
use crate::{auth, CodecError};

/// The name a dead letter gives a message type this node does not know.
const UNKNOWN_TYPE: &str = "<unknown type>";

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
                from: sender,
                to,
                trace,
                name,
                failure,
            } => self.refused_there(sender, to, trace, &name, failure),
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
        let from = Addr::from_bits(sender);
        match self
            .messages
            .decode_tell(&name, &payload, from, TraceId::from_raw(trace))
        {
            Ok(env) => {
                let then = Then::Tell {
                    sender,
                    trace,
                    name,
                };
                self.arrive(node, to, env, then).await;
            }
            Err(e) => {
                self.undecodable(&to, from, trace, &name);
                let refused = Frame::Refused {
                    from: sender,
                    to: to.bits(),
                    trace,
                    name,
                    failure: codec_failure(e),
                };
                let _ = self.send(node, refused).await;
            }
        }
    }

    /// A request from node `node` to a local process or group: delivered,
    /// then answered from a task of its own, by its deadline.
    async fn request(self: &Arc<Self>, node: u16, to: Local, request: Incoming) {
        let Incoming {
            sender,
            trace,
            id,
            timeout_ms,
            name,
            payload,
        } = request;
        let from = Addr::from_bits(sender);
        // The deadline travels as the time left; 0 is none.
        let deadline = (timeout_ms > 0)
            .then(|| Instant::now().checked_add(Duration::from_millis(timeout_ms)))
            .flatten();
        let decoded =
            self.messages
                .decode_request(&name, &payload, from, TraceId::from_raw(trace), deadline);
        match decoded {
            Ok((env, answering)) => {
                let then = Then::Request {
                    id,
                    answering,
                    deadline,
                };
                self.arrive(node, to, env, then).await;
            }
            Err(e) => {
                self.undecodable(&to, from, trace, &name);
                let failure = codec_failure(e);
                let _ = self.send(node, Frame::Failure { id, failure }).await;
            }
        }
    }

    /// A message that came in but did not decode: a dead letter here.
    fn undecodable(&self, to: &Local, sender: Addr, trace: u64, name: &str) {
        tracing::debug!(%sender, message = name, "undecodable message from another node");
        let recipient = Addr::from_bits(to.bits());
        self.dead_letter(
            recipient,
            sender,
            trace,
            name,
            DeadLetterReason::Undecodable,
        );
    }

    /// Reports a dead letter of a message known here only by its wire
    /// name (its type's own name if this node registers it).
    fn dead_letter(
        &self,
        recipient: Addr,
        sender: Addr,
        trace: u64,
        name: &str,
        reason: DeadLetterReason,
    ) {
        self.system.report_dead_letter_of(DeadLetter {
            recipient,
            sender,
            message: self.messages.static_name(name).unwrap_or(UNKNOWN_TYPE),
            reason,
            trace_id: TraceId::from_raw(trace),
            sent_at: std::time::Instant::now(),
        });
    }

    /// A tell sent from here that the other node refused: a dead letter
    /// here, where its sender is (a tell has no answer to carry the error).
    fn refused_there(&self, from: u64, to: u64, trace: u64, name: &str, failure: WireFailure) {
        let reason = match failure {
            WireFailure::Full => DeadLetterReason::Overflow,
            WireFailure::Unhandled => DeadLetterReason::Unhandled,
            WireFailure::UnknownMessage(_)
            | WireFailure::Undecodable(_)
            | WireFailure::TooLarge => DeadLetterReason::Undecodable,
            _ => DeadLetterReason::ActorStopped,
        };
        tracing::debug!(to = %Addr::from_bits(to), message = name, ?reason, "a tell was refused by another node");
        self.dead_letter(
            Addr::from_bits(to),
            Addr::from_bits(from),
            trace,
            name,
            reason,
        );
    }
}
