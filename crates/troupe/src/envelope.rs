//! Envelopes: a message with its sender, send time and trace id.

use std::any::Any;
use std::cell::Cell;
use std::fmt;
use std::num::NonZeroU64;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use crate::stamp::Stamp;

mod letters;

use crate::addr::Addr;
use crate::message::{Message, Requested};
use crate::payload::{Erasable, Payload};
use crate::request::{RequestError, ResponseToken};

/// Identifies a chain of messages caused by one another, for tracing.
///
/// A message sent while an actor handles an envelope inherits that
/// envelope's trace id; a message sent from outside any actor starts a new
/// trace.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TraceId(NonZeroU64);

impl TraceId {
    /// A fresh trace id, unique within this process.
    pub fn generate() -> Self {
        // One global counter hands out blocks of ids; each thread then counts
        // within its block, so the hot path never touches a shared cache line.
        const BLOCK: u64 = 1 << 20;
        static NEXT_BLOCK: AtomicU64 = AtomicU64::new(1);
        thread_local! {
            static LOCAL: Cell<(u64, u64)> = const { Cell::new((0, 0)) };
        }
        LOCAL.with(|local| {
            let (mut next, mut end) = local.get();
            if next == end {
                next = NEXT_BLOCK.fetch_add(1, Ordering::Relaxed) * BLOCK;
                end = next + BLOCK;
            }
            local.set((next + 1, end));
            TraceId(NonZeroU64::new(next).unwrap_or(NonZeroU64::MIN))
        })
    }

    /// The raw value.
    pub fn get(self) -> u64 {
        self.0.get()
    }

    /// A trace id from its raw value ([`TraceId::get`]), as carried by a
    /// wire format; a fresh one for 0, which no trace id has.
    pub fn from_raw(raw: u64) -> Self {
        NonZeroU64::new(raw).map_or_else(Self::generate, TraceId)
    }
}

impl fmt::Debug for TraceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TraceId({})", self.0)
    }
}

impl fmt::Display for TraceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// Whether an envelope is a plain message or a request waiting for an answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EnvelopeKind {
    /// Fire-and-forget.
    Regular,
    /// A request: exactly one response (or error) goes back to the sender.
    Request,
}

/// The function a struct actor runs for one message type, erased so that
/// envelopes stay untyped (see `actor::dispatcher`). A thin pointer to a
/// `'static` trait object keeps envelopes small.
pub(crate) type Dispatcher = &'static &'static (dyn Any + Send + Sync);

/// A message with its metadata, as it travels through mailboxes.
///
/// Envelopes are type-erased so that topologies can route any message to
/// any actor; the receiver matches them by type (the `msg!` macro for
/// functional actors, `Handler<M>` impls for struct actors).
///
/// An envelope is one pointer: what it holds sits in a box of its own,
/// which goes back to be reused once the receiver has taken the message
/// out, so that a message moves through mailboxes and run loops as one
/// word, without an allocation per message.
pub struct Envelope(pub(crate) Box<Letter>);

/// What an [`Envelope`] holds, behind one pointer (why: `letters.rs`).
pub(crate) struct Letter {
    pub(crate) sender: Addr,
    pub(crate) sent_at: Stamp,
    pub(crate) trace_id: TraceId,
    pub(crate) payload: Payload,
    pub(crate) dispatcher: Option<Dispatcher>,
}

impl Envelope {
    /// The message inside, without the rest.
    #[inline]
    pub(crate) fn into_payload(self) -> Payload {
        // SAFETY: `payload` points to the live payload, read out once.
        self.unbox(|payload| unsafe { std::ptr::read(payload) })
    }

    /// The `T` inside (a message, or a `Requested`), read straight out of
    /// the box, which goes back to be reused; or the envelope back.
    #[inline(always)]
    pub(crate) fn take<T: Erasable>(self) -> Result<T, Self> {
        if !self.0.payload.is::<T>() {
            return Err(self);
        }
        // SAFETY: `payload` points to the live payload, which holds a `T`
        // (checked), moved out of once.
        Ok(self.unbox(|payload| unsafe { Payload::read_as::<T>(payload) }))
    }

    /// Moves what `read` makes of the payload out of the box (`read` must
    /// move the payload out, or nothing is dropped), and sends the empty
    /// box back to be reused. Only the payload is read: the letter's other
    /// words are not copied to be thrown away.
    #[inline(always)]
    fn unbox<R>(self, read: impl FnOnce(*const Payload) -> R) -> R {
        let raw = Box::into_raw(self.0);
        // SAFETY: `raw` comes from a live `Box<Letter>` and is used for this
        // one read; the other fields own nothing (asserted below), so
        // leaving them unread drops nothing that needed it.
        let value = read(unsafe { &raw const (*raw).payload });
        // SAFETY: the allocation is owned again as a box of uninitialised
        // memory of the same layout (`MaybeUninit<Letter>` has `Letter`'s),
        // which drops nothing when freed.
        let blank = unsafe { Box::from_raw(raw.cast::<std::mem::MaybeUninit<Letter>>()) };
        letters::recycle(blank);
        value
    }
}

// A letter's fields but its payload own nothing: reading the payload
// alone out of a letter leaks nothing (`Envelope::unbox`).
const _: () = assert!(
    !std::mem::needs_drop::<Addr>()
        && !std::mem::needs_drop::<Stamp>()
        && !std::mem::needs_drop::<TraceId>()
        && !std::mem::needs_drop::<Option<Dispatcher>>()
);

impl Letter {
    /// The envelope of this letter, in a recycled box if there is one.
    #[inline]
    pub(crate) fn seal(self) -> Envelope {
        let mut blank = letters::blank();
        blank.write(self);
        // SAFETY: the box was filled just above. (`Box::write` would say
        // it without `unsafe`, from Rust 1.87 on; the crate builds on
        // 1.85.)
        Envelope(unsafe { blank.assume_init() })
    }
}

impl Envelope {
    /// Wraps a fire-and-forget message.
    #[inline]
    pub fn new<M: Message>(msg: M, sender: Addr, trace_id: TraceId) -> Self {
        Self::write(msg, sender, trace_id, Stamp::now())
    }

    /// Wraps a request sent at `sent`.
    pub(crate) fn request<M: Message>(
        msg: M,
        token: ResponseToken<M::Response>,
        sender: Addr,
        trace_id: TraceId,
        sent: Stamp,
    ) -> Self {
        Self::write(Requested { msg, token }, sender, trace_id, sent)
    }

    /// An envelope holding `value`, written field by field into its box:
    /// a letter built on the stack and then moved into the box is read
    /// back just after it was written, in pieces of another width, and the
    /// processor waits for those writes (see `letters.rs`).
    #[inline(always)]
    fn write<T: Erasable>(value: T, sender: Addr, trace_id: TraceId, sent_at: Stamp) -> Self {
        let mut blank = letters::blank();
        let letter = blank.as_mut_ptr();
        // SAFETY: `letter` points to the box's memory, valid and aligned
        // for a letter; each of its five fields is written once, in place,
        // so that the letter is whole when the box is taken as initialised.
        unsafe {
            (&raw mut (*letter).sender).write(sender);
            (&raw mut (*letter).sent_at).write(sent_at);
            (&raw mut (*letter).trace_id).write(trace_id);
            (&raw mut (*letter).dispatcher).write(None);
            Payload::write(&raw mut (*letter).payload, value);
            Envelope(blank.assume_init())
        }
    }

    /// The address of the sender ([`Addr::NULL`] if sent from outside actors).
    pub fn sender(&self) -> Addr {
        self.0.sender
    }

    /// When the message was sent.
    pub fn sent_at(&self) -> Instant {
        self.0.sent_at.instant()
    }

    /// How long ago the message was sent, on the clock of its stamp.
    pub(crate) fn age(&self) -> std::time::Duration {
        self.0.sent_at.elapsed()
    }

    /// The trace this message belongs to.
    pub fn trace_id(&self) -> TraceId {
        self.0.trace_id
    }

    /// The stable name of the message inside.
    pub fn message_name(&self) -> &'static str {
        self.0.payload.name()
    }

    /// Whether this is a request or a regular message.
    pub fn kind(&self) -> EnvelopeKind {
        if self.0.payload.is_request() {
            EnvelopeKind::Request
        } else {
            EnvelopeKind::Regular
        }
    }

    /// Whether this is a request.
    pub(crate) fn is_request(&self) -> bool {
        self.0.payload.is_request()
    }

    /// Whether the message inside is of type `M` (request or not).
    pub fn is<M: Message>(&self) -> bool {
        self.0.payload.is::<M>() || self.0.payload.is::<Requested<M>>()
    }

    /// The regular (non-request) message inside, if it is an `M`.
    pub fn message<M: Message>(&self) -> Option<&M> {
        self.0.payload.downcast_ref::<M>()
    }

    /// The request inside and its token, if it is a request of type `M`.
    pub fn request_ref<M: Message>(&self) -> Option<(&M, &ResponseToken<M::Response>)> {
        self.0
            .payload
            .downcast_ref::<Requested<M>>()
            .map(|r| (&r.msg, &r.token))
    }

    /// Tries to duplicate the envelope (for multicast routing): possible for
    /// a regular message whose type implements `Clone`, never for a request.
    pub fn try_clone(&self) -> Option<Envelope> {
        let payload = self.0.payload.try_clone()?;
        Some(
            Letter {
                sender: self.0.sender,
                sent_at: self.0.sent_at,
                trace_id: self.0.trace_id,
                payload,
                dispatcher: self.0.dispatcher,
            }
            .seal(),
        )
    }

    /// Takes a regular message of type `M` out, or gives the envelope back.
    pub fn downcast<M: Message>(self) -> Result<M, Envelope> {
        self.take::<M>()
    }

    /// Takes a request of type `M` and its token out, or gives the envelope back.
    pub fn downcast_request<M: Message>(self) -> Result<(M, ResponseToken<M::Response>), Envelope> {
        self.take::<Requested<M>>()
            .map(|Requested { msg, token }| (msg, token))
    }

    /// Takes the `T` inside out (a message, or a `Requested`), keeping the
    /// rest of the envelope to put it back with [`Hollow::refill`]: `msg!`
    /// does so when an arm's pattern or guard turns the message down.
    pub(crate) fn hollow<T: Erasable>(self) -> Result<(T, Hollow), Envelope> {
        // An envelope whose message is not a `T` stays as it is, box and
        // all; a `T` is read straight out of the box.
        let letter = &*self.0;
        let hollow = Hollow {
            sender: letter.sender,
            sent_at: letter.sent_at,
            trace_id: letter.trace_id,
            dispatcher: letter.dispatcher,
        };
        self.take::<T>().map(|value| (value, hollow))
    }

    /// The message of an envelope built from an `M` by the caller (a failed
    /// send hands it back).
    pub(crate) fn into_sent<M: Message>(self) -> M {
        match self.downcast::<M>() {
            Ok(m) => m,
            Err(_) => unreachable!("the envelope was built from this message type"),
        }
    }

    /// Answers the request inside with `err` (a no-op for a fire-and-forget
    /// message): for a layer that carries envelopes elsewhere and cannot
    /// deliver this one.
    pub fn fail(self, err: RequestError) {
        self.into_payload().fail(err);
    }
}

/// An envelope whose message was taken out ([`Envelope::hollow`]): its
/// sender, send time, trace id and dispatcher, waiting for the message.
pub(crate) struct Hollow {
    sender: Addr,
    sent_at: Stamp,
    trace_id: TraceId,
    dispatcher: Option<Dispatcher>,
}

impl Hollow {
    /// The envelope again, with `value` inside.
    pub(crate) fn refill<T: Erasable>(self, value: T) -> Envelope {
        self.refill_payload(Payload::new(value))
    }

    fn refill_payload(self, payload: Payload) -> Envelope {
        Letter {
            sender: self.sender,
            sent_at: self.sent_at,
            trace_id: self.trace_id,
            payload,
            dispatcher: self.dispatcher,
        }
        .seal()
    }
}

impl fmt::Debug for Envelope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Envelope")
            .field("message", &self.message_name())
            .field("kind", &self.kind())
            .field("sender", &self.0.sender)
            .field("trace_id", &self.0.trace_id)
            .finish()
    }
}
