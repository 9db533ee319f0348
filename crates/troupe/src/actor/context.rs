//! What a running struct actor sees: [`ActorContext`].

use std::fmt;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use super::actor_ref::ActorRef;
use super::{dispatcher, Actor, Handler};
use crate::addr::Addr;
use crate::attached::{Accepts, ContextCore};
use crate::core::process::Shared;
use crate::core::restart::Engine;
use crate::envelope::{Dispatcher, TraceId};
use crate::message::Message;

/// What a struct actor sees while it runs: its identity, the envelope being
/// handled, its system, its timers, streams and children (through
/// [`ContextCore`], which it dereferences to), and the means to stop
/// itself.
pub struct ActorContext<A: Actor> {
    pub(crate) core: ContextCore,
    pub(crate) sender: Addr,
    _actor: PhantomData<fn() -> A>,
}

impl<A: Actor> ActorContext<A> {
    pub(crate) fn new(
        shared: Arc<Shared>,
        trace_id: TraceId,
        supervisor: Option<Box<Engine>>,
    ) -> Self {
        let mut core = ContextCore::new(shared, trace_id);
        core.supervisor = supervisor;
        Self {
            core,
            sender: Addr::NULL,
            _actor: PhantomData,
        }
    }

    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.core.shared
    }

    /// A typed handle to this actor.
    pub fn self_handle(&self) -> ActorRef<A> {
        ActorRef::from_shared(self.core.shared.clone())
    }

    /// This actor's id; the same as [`ContextCore::addr`].
    pub fn actor_id(&self) -> Addr {
        self.core.shared.addr
    }

    /// The sender of the message being handled ([`Addr::NULL`] if it came
    /// from outside any actor).
    pub fn sender(&self) -> Addr {
        self.sender
    }

    /// Stops this actor once the current handler returns, with
    /// [`ExitReason::Normal`](crate::ExitReason::Normal); `on_stopped`
    /// runs, `pre_stop` does not (an actor does not veto itself). See
    /// [`ContextCore::stop_with`] to stop with another reason.
    pub fn stop(&mut self) {
        self.core.stop_requested = true;
    }
}

impl<A: Actor> Deref for ActorContext<A> {
    type Target = ContextCore;

    fn deref(&self) -> &ContextCore {
        &self.core
    }
}

impl<A: Actor> DerefMut for ActorContext<A> {
    fn deref_mut(&mut self) -> &mut ContextCore {
        &mut self.core
    }
}

impl<A: Handler<M>, M: Message> Accepts<M> for ActorContext<A> {
    fn dispatcher() -> Option<Dispatcher> {
        Some(dispatcher::<A, M>())
    }
}

impl<A: Actor> fmt::Debug for ActorContext<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ActorContext")
            .field("addr", &self.core.shared.addr)
            .field("sender", &self.sender)
            .finish()
    }
}
