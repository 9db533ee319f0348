//! Running a struct actor's `Handler<M>` on a type-erased envelope.

use std::any::Any;
use std::marker::PhantomData;

use super::{ActorContext, Handler};
use crate::envelope::Dispatcher;
use crate::error::BoxError;
use crate::future_slot::{FutureSlot, Placed};
use crate::message::{Message, Requested};
use crate::payload::Payload;
use crate::request::RequestError;

/// The result of dispatching one message.
pub(crate) enum Handled {
    Done,
    NotifyFailed(BoxError),
    RequestFailed(String),
}

/// Runs the `Handler<M>` of `A` on an erased message.
pub(crate) type HandlerFn<A> = for<'a> fn(
    &'a mut A,
    &'a mut ActorContext<A>,
    Payload,
    &'a mut FutureSlot,
) -> Placed<'a, Handled>;

struct Dispatch<A, M>(PhantomData<(A, M)>);

impl<A: Handler<M>, M: Message> Dispatch<A, M> {
    const FN: HandlerFn<A> = dispatch::<A, M>;
    const REF: &'static HandlerFn<A> = &Self::FN;
    const DYN: &'static (dyn Any + Send + Sync) = Self::REF;
    const THIN: Dispatcher = &Self::DYN;
}

/// The dispatcher an envelope for `A`'s `Handler<M>` carries: a `'static`
/// reference to a function pointer, checked by type when the actor runs it.
pub(crate) fn dispatcher<A: Handler<M>, M: Message>() -> Dispatcher {
    Dispatch::<A, M>::THIN
}

fn dispatch<'a, A: Handler<M>, M: Message>(
    actor: &'a mut A,
    ctx: &'a mut ActorContext<A>,
    payload: Payload,
    slot: &'a mut FutureSlot,
) -> Placed<'a, Handled> {
    match payload.downcast::<M>() {
        Ok(msg) => slot.place(async move {
            match actor.handle(msg, ctx).await {
                Ok(_) => Handled::Done,
                Err(e) => Handled::NotifyFailed(e),
            }
        }),
        Err(payload) => match payload.downcast::<Requested<M>>() {
            Ok(Requested { msg, token }) => slot.place(async move {
                match actor.handle(msg, ctx).await {
                    Ok(response) => {
                        token.respond(response);
                        Handled::Done
                    }
                    Err(e) => {
                        let e = e.to_string();
                        token.fail(RequestError::Failed(e.clone()));
                        Handled::RequestFailed(e)
                    }
                }
            }),
            // Only envelopes built for `Handler<M>` carry this dispatcher.
            Err(_) => slot.place(async { Handled::RequestFailed("mismatched dispatcher".into()) }),
        },
    }
}
