//! Running a struct actor's `Handler<M>` on a type-erased envelope.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::fmt;
use std::marker::PhantomData;
use std::sync::OnceLock;

use parking_lot::RwLock;

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll};

use super::{Actor, ActorContext, Handler};
use crate::catch::panic_message;
use crate::envelope::{Dispatcher, Envelope};
use crate::error::{BoxError, HandlerResult};
use crate::future_slot::{FutureSlot, Placed};
use crate::message::{Message, Requested};
use crate::request::{RequestError, ResponseToken};

/// The result of dispatching one message.
pub(crate) enum Handled {
    Done,
    NotifyFailed(BoxError),
    RequestFailed(String),
    /// A request's handler panicked (with this message); its requester
    /// was answered with the message already.
    RequestPanicked(String),
}

/// Runs the `Handler<M>` of `A` on an erased message.
pub(crate) type HandlerFn<A> = for<'a> fn(
    &'a mut A,
    &'a mut ActorContext<A>,
    Envelope,
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
    env: Envelope,
    slot: &'a mut FutureSlot,
) -> Placed<'a, Handled> {
    // The message is read straight out of the envelope's box (one word
    // passed here), not copied out with the rest of the envelope first.
    match env.take::<M>() {
        Ok(msg) => slot.place_with(|| Told {
            handler: actor.handle(msg, ctx),
        }),
        Err(env) => match env.take::<Requested<M>>() {
            Ok(Requested { msg, token }) => slot.place_with(|| Asked::<_, M> {
                handler: actor.handle(msg, ctx),
                token: Some(token),
            }),
            // Only envelopes built for `Handler<M>` carry this dispatcher.
            Err(_) => slot.place(async { Handled::RequestFailed("mismatched dispatcher".into()) }),
        },
    }
}

// The two wrappers below are written by hand rather than as `async`
// blocks: an `async` block would keep the actor, context and message
// pointers beside the handler's future (24 bytes), and the handler's
// future is copied into the run loop's slot at each message. For a handler
// that sends (`notify(..).await`), that was 144 bytes instead of 112: past
// what an idle actor's slot keeps (128), so the slot was freed and
// allocated again at every message.
pin_project_lite::pin_project! {
    /// A fire-and-forget message's handler, its result made a [`Handled`].
    struct Told<F> {
        #[pin]
        handler: F,
    }
}

impl<F: Future<Output = HandlerResult<R>>, R> Future for Told<F> {
    type Output = Handled;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Handled> {
        self.project().handler.poll(cx).map(|res| match res {
            Ok(_) => Handled::Done,
            Err(e) => Handled::NotifyFailed(e),
        })
    }
}

pin_project_lite::pin_project! {
    /// A request's handler, answered through its token. The panic is
    /// caught here, beside the token, so that the requester learns its
    /// message (catching costs nothing until something panics).
    struct Asked<F, M: Message> {
        #[pin]
        handler: F,
        // `None` once answered.
        token: Option<ResponseToken<M::Response>>,
    }
}

impl<F: Future<Output = HandlerResult<M::Response>>, M: Message> Future for Asked<F, M> {
    type Output = Handled;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Handled> {
        let this = self.project();
        let handler = this.handler;
        let polled = catch_unwind(AssertUnwindSafe(|| handler.poll(cx)));
        let result = match polled {
            Ok(Poll::Pending) => return Poll::Pending,
            Ok(Poll::Ready(result)) => Ok(result),
            Err(payload) => Err(panic_message(payload.as_ref())),
        };
        let Some(token) = this.token.take() else {
            panic!("a request's handler polled after it was answered");
        };
        Poll::Ready(match result {
            Ok(Ok(response)) => {
                token.respond(response);
                Handled::Done
            }
            Ok(Err(e)) => {
                let e = e.to_string();
                token.fail(RequestError::Failed(e.clone()));
                Handled::RequestFailed(e)
            }
            Err(panic) => {
                token.fail(RequestError::Failed(format!(
                    "the handler panicked: {panic}"
                )));
                Handled::RequestPanicked(panic)
            }
        })
    }
}

/// The handlers of a struct actor that envelopes reach by address alone
/// (`Context::send_to`, `request_to`, a remote sender): the receiver, not
/// the sender, picks the `Handler<M>` that runs. Declared once per actor
/// type with [`handles!`](crate::handles) in its `Actor` impl; a typed
/// handle ([`ActorRef`](crate::ActorRef)) needs no declaration.
pub struct Handlers<A> {
    table: HashMap<TypeId, Dispatcher>,
    _actor: PhantomData<fn() -> A>,
}

impl<A: Actor> Handlers<A> {
    /// Makes messages of type `M` (plain ones and requests) reach
    /// `A`'s `Handler<M>` when they arrive by address.
    pub fn add<M: Message>(&mut self) -> &mut Self
    where
        A: Handler<M>,
    {
        let d = dispatcher::<A, M>();
        self.table.insert(TypeId::of::<M>(), d);
        self.table.insert(TypeId::of::<Requested<M>>(), d);
        self
    }
}

impl<A> fmt::Debug for Handlers<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handlers")
            .field("messages", &(self.table.len() / 2))
            .finish()
    }
}

type Tables = RwLock<HashMap<TypeId, &'static (dyn Any + Send + Sync)>>;

/// The handler of `A` for a payload of type `payload` that arrived without
/// one (by address). Each actor type's table is built once, on the first
/// such envelope, and kept for the life of the program.
pub(crate) fn lookup<A: Actor>(payload: TypeId) -> Option<Dispatcher> {
    static TABLES: OnceLock<Tables> = OnceLock::new();
    let tables = TABLES.get_or_init(Tables::default);
    let found = tables.read().get(&TypeId::of::<A>()).copied();
    let table = match found {
        Some(t) => t,
        None => {
            let mut handlers = Handlers::<A> {
                table: HashMap::new(),
                _actor: PhantomData,
            };
            A::handlers(&mut handlers);
            let leaked: &'static Handlers<A> = Box::leak(Box::new(handlers));
            *tables.write().entry(TypeId::of::<A>()).or_insert(leaked)
        }
    };
    let handlers = table.downcast_ref::<Handlers<A>>()?;
    handlers.table.get(&payload).copied()
}
