//! The type-erased message inside an envelope, stored inline when small.
//!
//! A `Box<dyn Any>` per message costs an allocation and a free on the hot
//! path (about 150 instructions of the 1070 a tell cost, measured with
//! callgrind). Like elfo, troupe stores messages of up to three words inline
//! in the envelope and boxes only larger ones. The erased operations (drop,
//! clone, fail a request) go through a per-type table of functions, built
//! at compile time; a receiver that knows the type (it checked the type id)
//! reads the value out directly, with no call through the table.
//!
//! Unsafe code (as are `future_slot.rs` and the opening of a letter in
//! `envelope.rs`): its tests run under Miri (`scripts/check-unsafe.sh`).

use std::any::TypeId;
use std::marker::PhantomData;
use std::mem::{self, MaybeUninit};
use std::ptr;

use crate::message::{Message, Requested};
use crate::request::RequestError;

/// What a payload can hold: a message, or a request with its token.
pub(crate) trait Erasable: Send + 'static {
    /// The message's stable name.
    const NAME: &'static str;
    /// Whether it carries a response token.
    const IS_REQUEST: bool;
    /// Resolves the request inside (if it is one) with `err`.
    fn fail(self, err: RequestError);
    /// A copy, when the type can be cloned (never a request).
    fn try_clone(&self) -> Option<Self>
    where
        Self: Sized;
}

impl<M: Message> Erasable for M {
    const NAME: &'static str = M::NAME;
    const IS_REQUEST: bool = false;
    fn fail(self, _err: RequestError) {}
    fn try_clone(&self) -> Option<Self> {
        self.__try_clone()
    }
}

impl<M: Message> Erasable for Requested<M> {
    const NAME: &'static str = M::NAME;
    const IS_REQUEST: bool = true;
    fn fail(self, err: RequestError) {
        self.token.fail(err);
    }
    fn try_clone(&self) -> Option<Self> {
        None
    }
}

const WORDS: usize = 3;
type Storage = MaybeUninit<[usize; WORDS]>;

/// The erased operations of one stored type (inline or boxed).
struct VTable {
    type_id: fn() -> TypeId,
    name: &'static str,
    is_request: bool,
    /// A pointer to the value.
    value: unsafe fn(&Storage) -> *const (),
    /// Drops the value in place.
    drop: unsafe fn(&mut Storage),
    /// Fails the request inside; the storage is then dead.
    fail: unsafe fn(&mut Storage, RequestError),
    /// A copy, when the type can be cloned.
    try_clone: unsafe fn(&Storage) -> Option<Payload>,
}

fn fits_inline<T>() -> bool {
    mem::size_of::<T>() <= mem::size_of::<Storage>()
        && mem::align_of::<T>() <= mem::align_of::<Storage>()
}

struct Inline<T>(PhantomData<T>);

impl<T: Erasable> Inline<T> {
    const VTABLE: VTable = VTable {
        type_id: TypeId::of::<T>,
        name: T::NAME,
        is_request: T::IS_REQUEST,
        value: Self::value,
        drop: Self::drop,
        fail: Self::fail,
        try_clone: Self::try_clone,
    };

    // SAFETY (all below): the storage holds an initialised `T` (written by
    // `Payload::write`, which picked this table because `T` fits inline),
    // and `Payload` calls `drop` or `fail`, or reads the value out with
    // `read_as`, at most once, then never touches the storage again.
    unsafe fn value(s: &Storage) -> *const () {
        s.as_ptr().cast()
    }
    unsafe fn drop(s: &mut Storage) {
        // SAFETY: see above; the value is dropped once.
        unsafe { ptr::drop_in_place(s.as_mut_ptr().cast::<T>()) }
    }
    unsafe fn fail(s: &mut Storage, err: RequestError) {
        // SAFETY: see above; the value is moved out once.
        let value = unsafe { ptr::read(s.as_ptr().cast::<T>()) };
        value.fail(err);
    }
    unsafe fn try_clone(s: &Storage) -> Option<Payload> {
        // SAFETY: see above; a shared reference to the live value.
        let value = unsafe { &*s.as_ptr().cast::<T>() };
        value.try_clone().map(Payload::new)
    }
}

struct Boxed<T>(PhantomData<T>);

impl<T: Erasable> Boxed<T> {
    const VTABLE: VTable = VTable {
        type_id: TypeId::of::<T>,
        name: T::NAME,
        is_request: T::IS_REQUEST,
        value: Self::value,
        drop: Self::drop,
        fail: Self::fail,
        try_clone: Self::try_clone,
    };

    // SAFETY (all below): the first word of the storage holds a pointer
    // from `Box::<T>::into_raw` (written by `Payload::write`), owned by the
    // payload and released at most once by `drop`, `fail` or `read_as`.
    unsafe fn ptr(s: &Storage) -> *mut T {
        // SAFETY: the first word was initialised with the pointer.
        unsafe { s.as_ptr().cast::<*mut T>().read() }
    }
    unsafe fn value(s: &Storage) -> *const () {
        // SAFETY: see above.
        unsafe { Self::ptr(s) as *const () }
    }
    unsafe fn drop(s: &mut Storage) {
        // SAFETY: see above; the box is released once.
        drop(unsafe { Box::from_raw(Self::ptr(s)) })
    }
    unsafe fn fail(s: &mut Storage, err: RequestError) {
        // SAFETY: see above; the box is released once.
        let boxed = unsafe { Box::from_raw(Self::ptr(s)) };
        (*boxed).fail(err);
    }
    unsafe fn try_clone(s: &Storage) -> Option<Payload> {
        // SAFETY: see above; a shared reference to the live value.
        let value = unsafe { &*Self::ptr(s) };
        value.try_clone().map(Payload::new)
    }
}

/// A type-erased message or request, inline when it fits in three words.
pub(crate) struct Payload {
    vtable: &'static VTable,
    storage: Storage,
}

// SAFETY: every stored type is `Send` (`Erasable: Send`), and the vtable is
// immutable static data.
unsafe impl Send for Payload {}

impl Payload {
    pub(crate) fn new<T: Erasable>(value: T) -> Self {
        let mut payload = MaybeUninit::<Self>::uninit();
        // SAFETY: `payload` is valid for a write of a payload, and is
        // initialised by it.
        unsafe {
            Self::write(payload.as_mut_ptr(), value);
            payload.assume_init()
        }
    }

    /// Writes a payload holding `value` at `dst`, in place: an envelope's
    /// constructor writes its message straight into the envelope's box
    /// (see `envelope.rs`), where a payload built on the stack would be
    /// copied again.
    ///
    /// # Safety
    ///
    /// `dst` must be valid for writes and aligned for a `Payload`; what it
    /// held is overwritten without being dropped.
    #[inline(always)]
    pub(crate) unsafe fn write<T: Erasable>(dst: *mut Self, value: T) {
        // SAFETY: the caller gives a `dst` valid and aligned for a payload,
        // so for its fields.
        let storage = unsafe { &raw mut (*dst).storage };
        let vtable: &'static VTable = if fits_inline::<T>() {
            // SAFETY: `T` fits the storage in size and alignment (checked).
            unsafe { storage.cast::<T>().write(value) };
            &Inline::<T>::VTABLE
        } else {
            let raw = Box::into_raw(Box::new(value));
            // SAFETY: a pointer fits in the first word.
            unsafe { storage.cast::<*mut T>().write(raw) };
            &Boxed::<T>::VTABLE
        };
        // SAFETY: `dst` is valid and aligned for a payload (the caller's).
        unsafe { (&raw mut (*dst).vtable).write(vtable) };
    }

    pub(crate) fn name(&self) -> &'static str {
        self.vtable.name
    }

    pub(crate) fn is_request(&self) -> bool {
        self.vtable.is_request
    }

    /// The type of the value inside (`Requested<M>` for a request).
    pub(crate) fn type_id(&self) -> TypeId {
        (self.vtable.type_id)()
    }

    pub(crate) fn is<T: 'static>(&self) -> bool {
        (self.vtable.type_id)() == TypeId::of::<T>()
    }

    pub(crate) fn downcast_ref<T: 'static>(&self) -> Option<&T> {
        if !self.is::<T>() {
            return None;
        }
        // SAFETY: the stored type is `T` (checked), alive while `self` is.
        Some(unsafe { &*(self.vtable.value)(&self.storage).cast::<T>() })
    }

    /// The `T` inside, or the payload back (the unit tests'; envelopes
    /// read their message in place with [`Payload::read_as`]).
    #[cfg(test)]
    pub(crate) fn downcast<T: 'static>(self) -> Result<T, Self> {
        if !self.is::<T>() {
            return Err(self);
        }
        let this = mem::ManuallyDrop::new(self);
        // SAFETY: the payload holds a `T` (checked); `ManuallyDrop` keeps it
        // from being dropped after the value is read out.
        Ok(unsafe { Self::read_as::<T>(&*this) })
    }

    /// Takes the `T` out of the payload at `src`, in place: known to be a
    /// `T`, it is read with no call through the table (an envelope's
    /// receiver reads its message straight out of the envelope's box).
    ///
    /// # Safety
    ///
    /// `src` must point to a live payload that holds a `T` (`is::<T>()`);
    /// the payload is moved out of, and must not be used or dropped after.
    #[inline(always)]
    pub(crate) unsafe fn read_as<T: 'static>(src: *const Self) -> T {
        // SAFETY: the caller gives a live payload (so a valid pointer to
        // its storage).
        let storage = unsafe { &raw const (*src).storage };
        // The payload holds a `T` (the caller's word), which
        // `Payload::write` stored inline if it fits and boxed otherwise:
        // the same test, on the same type.
        if fits_inline::<T>() {
            // SAFETY: an initialised `T` inline, read out once.
            unsafe { storage.cast::<T>().read() }
        } else {
            // SAFETY: the first word holds the pointer of the `T`'s box.
            let raw = unsafe { storage.cast::<*mut T>().read() };
            // SAFETY: that box, released once.
            *unsafe { Box::from_raw(raw) }
        }
    }

    pub(crate) fn fail(self, err: RequestError) {
        let mut this = mem::ManuallyDrop::new(self);
        // SAFETY: the value is consumed once; `ManuallyDrop` prevents a
        // second release.
        unsafe { (this.vtable.fail)(&mut this.storage, err) }
    }

    pub(crate) fn try_clone(&self) -> Option<Payload> {
        // SAFETY: the storage holds a live value of the table's type.
        unsafe { (self.vtable.try_clone)(&self.storage) }
    }
}

impl Drop for Payload {
    fn drop(&mut self) {
        // SAFETY: the storage holds a live value (moving out goes through
        // `ManuallyDrop`, which skips this), dropped once here.
        unsafe { (self.vtable.drop)(&mut self.storage) }
    }
}

#[cfg(test)]
mod tests;
