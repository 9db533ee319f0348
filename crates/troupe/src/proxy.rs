//! Proxies: the local stand-in of a process of another node, a process
//! like any other whose run loop forwards each envelope to the installed
//! [`Transport`] (see `core/remote.rs`).

use std::future::Future;
use std::sync::Arc;

use crate::actor::{Actor, ActorRef};
use crate::addr::{ActorMeta, Addr};
use crate::attached::ContextCore;
use crate::core::config::ActorConfig;
use crate::core::dead_letter::DeadLetterReason;
use crate::core::introspect::ProcessKind;
use crate::core::launch::{self, ExitGuard};
use crate::core::process::Shared;
use crate::core::remote::{Installed, Transport};
use crate::core::run_loop::{end, next, teardown, Next, NoHooks};
use crate::core::system::ActorSystem;
use crate::envelope::{Envelope, TraceId};
use crate::error::SendError;
use crate::exit::ExitReason;
use crate::message::Message;
use crate::request::{RequestError, ResponseToken};
use crate::stamp::Stamp;

impl ActorSystem {
    /// Installs the transport that reaches the processes of other nodes
    /// (done by a distribution layer, once). From then on an address of
    /// another node resolves to a local proxy: sends, requests, stops,
    /// monitors and links work on it as on a local process. Returns
    /// `false` if a transport is installed already.
    pub fn set_transport(&self, transport: Arc<dyn Transport>) -> bool {
        self.install_transport(Installed {
            transport,
            spawn_proxy: spawn,
        })
    }

    /// A typed handle to the process `addr` of another node, through its
    /// proxy; `None` without a transport or for an address of this node.
    ///
    /// The type is the caller's word: the remote process decodes each
    /// message by its stable name and picks its handler itself (a struct
    /// actor declares what it takes by address with
    /// [`handles!`](crate::handles)); a message it does not handle becomes
    /// a dead letter there, and a request fails with `Unhandled`.
    pub fn remote_ref<A: Actor>(&self, addr: Addr) -> Option<ActorRef<A>> {
        if !self.is_remote(addr) {
            return None;
        }
        self.lookup(addr).map(ActorRef::from_shared)
    }
}

/// A request envelope built by a transport that received a request from
/// another node: delivered to the local target, its token answers the
/// future, which the transport awaits to send the response back.
///
/// `deadline` is the requester's (carried on the wire): the token reports
/// it ([`ResponseToken::deadline`]) and the future fails with
/// [`RequestError::Timeout`] once it passes, so the receiving side gives
/// up when the requester does.
pub fn request_envelope<M: Message>(
    msg: M,
    sender: Addr,
    trace: TraceId,
    deadline: Option<tokio::time::Instant>,
) -> (
    Envelope,
    impl Future<Output = Result<M::Response, RequestError>> + Send,
) {
    let at = deadline.map(crate::moment::Moment::from_instant);
    let (token, rx) = ResponseToken::new(at);
    let env = Envelope::request(msg, token, sender, trace, Stamp::now());
    let answer = async move {
        let limit = deadline
            .map(|d| d.saturating_duration_since(tokio::time::Instant::now()))
            .unwrap_or_default();
        crate::request::await_response_until(rx, at, limit).await
    };
    (env, answer)
}

/// Starts the proxy of `addr`, or finds the one another sender started.
fn spawn(system: &ActorSystem, addr: Addr, transport: &Arc<dyn Transport>) -> Option<Arc<Shared>> {
    let meta = ActorMeta::new("remote", addr.to_string());
    let config = ActorConfig::default();
    let shared = Shared::at(addr, system.clone(), Arc::new(meta), false, &config);
    let runtime = system.runtime_for(&shared)?;
    shared.set_kind(ProcessKind::PROXY);
    if let Err(existing) = system.register_once(&shared) {
        return Some(existing);
    }
    shared.set_running();
    // A local partner's exit signal is for the remote process, which its
    // node's own link carries (`Transport::link`): the proxy itself lives
    // on, and drops what it traps.
    shared.set_trap_exit(true);
    let transport = transport.clone();
    let trace = TraceId::generate();
    launch::spawn_task(ExitGuard::new(shared.clone()), &runtime, trace, |guard| {
        run(shared.clone(), transport.clone(), trace, guard)
    });
    // Told once the process exits: the proxy then exits with its reason.
    transport.watch(addr);
    Some(shared)
}

/// The proxy's loop: every envelope goes to the transport, in order.
async fn run(shared: Arc<Shared>, transport: Arc<dyn Transport>, trace: TraceId, guard: ExitGuard) {
    let to = shared.addr;
    let mut ctx = ContextCore::new(shared, trace);
    let reason = loop {
        match next(&mut ctx, &mut NoHooks).await {
            // Monitors and links of the proxy are kept by the other node.
            Next::Signal(_) => {}
            Next::Envelope(env) => {
                if let Err(refused) = transport.forward(to, env).await {
                    refuse(&ctx, refused);
                }
            }
            // Only a local shutdown stops a proxy by its system channel
            // (a stop for the remote process goes to the transport): the
            // remote process lives on.
            Next::Stop(_) | Next::Closed => break ExitReason::Shutdown,
            Next::Exit(reason) => break reason,
        }
    };
    let reason = teardown(&mut ctx, &mut NoHooks, reason).await;
    end(ctx, NoHooks, reason, guard);
}

/// An envelope the transport could not send: a dead letter, and a request
/// answered with the matching error.
fn refuse(ctx: &ContextCore, refused: SendError<Envelope>) {
    let (reason, err) = match &refused {
        SendError::Full(_) => (DeadLetterReason::Overflow, RequestError::Full),
        _ => (DeadLetterReason::ActorStopped, RequestError::NodeDown),
    };
    let env = refused.into_inner();
    ctx.shared.system.dead_letter_at(&ctx.shared, &env, reason);
    env.fail(err);
}
