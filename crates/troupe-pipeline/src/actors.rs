//! A thin bridge to troupe's actors (feature `actors`).
//!
//! * Out of a pipeline: [`actor_sink`] makes a [`DeliverSink`] that hands each
//!   item to an actor with [`ActorRef::try_notify`]. A full mailbox (or a gone
//!   actor) counts as a drop in [`DeliveryStats::dropped`](crate::DeliveryStats);
//!   the scheduler thread never waits for the actor.
//! * Into a pipeline: give the actor a [`SourceFeeder`](crate::SourceFeeder)
//!   (made by [`StageSpec::feeder_source`](crate::StageSpec::feeder_source));
//!   it is cloneable and its `try_push` never blocks, so a handler can call it.

use std::fmt;
use std::marker::PhantomData;

use troupe::{Actor, ActorRef, Handler, Message, SendError};

use crate::bridge::{Deliver, DeliverSink};

/// A [`Deliver`] target that `try_notify`s an actor.
pub struct ToActor<A, M> {
    actor: ActorRef<A>,
    _message: PhantomData<fn(M)>,
}

impl<A, M> Deliver<M> for ToActor<A, M>
where
    A: Actor + Handler<M>,
    M: Message,
{
    type Error = SendError<M>;

    fn deliver(&mut self, item: M) -> Result<(), SendError<M>> {
        self.actor.try_notify(item)
    }
}

impl<A, M> fmt::Debug for ToActor<A, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ToActor").finish_non_exhaustive()
    }
}

/// A sink stage that sends every item to `actor` as a message, without
/// waiting: see the [module docs](self).
pub fn actor_sink<A, M>(actor: ActorRef<A>) -> DeliverSink<M, ToActor<A, M>>
where
    A: Actor + Handler<M>,
    M: Message,
{
    DeliverSink::new(ToActor {
        actor,
        _message: PhantomData,
    })
}
