//! The transport a node installs in its actor system: envelopes out to
//! other nodes' processes and groups, stops, watches.

use std::sync::Arc;

use tokio::sync::oneshot;
use troupe::{
    Addr, DeadLetterReason, Envelope, NodeNo, RemoteLink, SendError, StopError, StopReason,
    Transport, TransportFuture,
};

use crate::frame::Frame;
use crate::node::Inner;
use crate::registry::Encoded;
use crate::RemoteError;

/// Where an envelope goes on the other node.
enum Dest {
    Process(Addr),
    Group(String),
}

/// Encodes `env` for `dest` on node `node` and sends it; a request's answer
/// is awaited in the pending table.
async fn forward(
    inner: Arc<Inner>,
    node: u16,
    dest: Dest,
    env: Envelope,
) -> Result<(), SendError<Envelope>> {
    if !inner.peer_is_up(node) {
        return Err(SendError::Closed(env));
    }
    if let (Dest::Process(to), Some(link)) = (&dest, env.message::<RemoteLink>()) {
        // A link made or removed here: the other node links its process
        // to its proxy of ours (or unlinks).
        let (from, to) = (link.local.into_bits(), to.into_bits());
        let frame = if link.linked {
            Frame::Link { from, to }
        } else {
            Frame::Unlink { from, to }
        };
        let _ = inner.send(node, frame).await;
        return Ok(());
    }
    let (from, trace) = (env.sender().into_bits(), env.trace_id().get());
    let name = env.message_name().to_string();
    let recipient = match &dest {
        Dest::Process(to) => *to,
        Dest::Group(_) => Addr::NULL,
    };
    let (payload, id, timeout_ms) = match inner.messages.encode(env) {
        Ok(Encoded::Tell(payload)) => (payload, None, 0),
        Ok(Encoded::Request(payload, answer, deadline)) => {
            let id = inner.next_id();
            inner.pending.lock().insert(id, (node, answer));
            (payload, Some(id), wire_timeout(deadline))
        }
        Err(refused) => {
            // Not a type both nodes carry: a dead letter here, and a
            // request fails with a typed error.
            let (env, e) = *refused;
            tracing::warn!(node, error = %e, "message not sent to another node");
            inner
                .system
                .report_dead_letter(recipient, &env, DeadLetterReason::Unhandled);
            env.fail(troupe::RequestError::Failed(e.to_string()));
            return Ok(());
        }
    };
    let frame = match (dest, id) {
        (Dest::Process(to), None) => Frame::Tell {
            from,
            to: to.into_bits(),
            trace,
            name,
            payload,
        },
        (Dest::Process(to), Some(id)) => Frame::Request {
            from,
            to: to.into_bits(),
            trace,
            id,
            timeout_ms,
            name,
            payload,
        },
        (Dest::Group(group), None) => Frame::GroupTell {
            from,
            group,
            trace,
            name,
            payload,
        },
        (Dest::Group(group), Some(id)) => Frame::GroupRequest {
            from,
            group,
            trace,
            id,
            timeout_ms,
            name,
            payload,
        },
    };
    if let Err(e) = inner.send(node, frame).await {
        tracing::warn!(node, error = %e, "frame not sent");
        if let Some((_, answer)) = id.and_then(|id| inner.pending.lock().remove(&id)) {
            answer.answer(Err(match e {
                RemoteError::Frame(_) => troupe::RequestError::Failed(e.to_string()),
                _ => troupe::RequestError::NodeDown,
            }));
        }
    }
    Ok(())
}

/// A request's deadline as it travels: the milliseconds left, rounded up
/// and at least 1 (0 means no deadline). Relative, since the two nodes'
/// clocks do not agree; the time on the wire is the part it cannot cover.
fn wire_timeout(deadline: Option<tokio::time::Instant>) -> u64 {
    match deadline {
        None => 0,
        Some(at) => {
            let left = at.saturating_duration_since(tokio::time::Instant::now());
            let ms = left.as_micros().div_ceil(1000);
            u64::try_from(ms).unwrap_or(u64::MAX).max(1)
        }
    }
}

/// The transport installed in the actor system.
pub(crate) struct Link(pub(crate) Arc<Inner>);

impl Transport for Link {
    fn forward(&self, to: Addr, env: Envelope) -> TransportFuture<Result<(), SendError<Envelope>>> {
        Box::pin(forward(self.0.clone(), to.node().0, Dest::Process(to), env))
    }

    fn forward_group(
        &self,
        node: NodeNo,
        group: &str,
        env: Envelope,
    ) -> TransportFuture<Result<(), SendError<Envelope>>> {
        let dest = Dest::Group(group.to_string());
        Box::pin(forward(self.0.clone(), node.0, dest, env))
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
        // The monitor goes out before any later frame to that node (the
        // next send flushes it: see `Inner::send`), so a stop sent right
        // after cannot overtake it; this send makes sure it goes now.
        inner
            .unsent_monitors
            .lock()
            .entry(node)
            .or_default()
            .push(target);
        tokio::spawn(async move {
            if inner.send(node, Frame::Ping { seq: 0 }).await.is_err() {
                inner
                    .system
                    .remote_exited(target, troupe::ExitReason::NodeDown);
            }
        });
    }
}
