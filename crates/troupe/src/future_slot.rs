//! A reusable home for the future of the handler that runs now.
//!
//! A struct actor's handlers are `async fn`s of different types, run one at
//! a time; boxing each message's handler future cost an allocation and a
//! free per message (about 125 of the ~900 instructions of a tell, measured
//! with callgrind). The run loop instead keeps one buffer, grown to the
//! largest handler future seen, builds each future in it, and frees the
//! buffer when the actor goes idle if it is larger than 128 bytes (so an
//! idle actor holds at most that).
//!
//! Unsafe code: its tests run under Miri (`scripts/check-unsafe.sh`).

use std::alloc::{self, Layout};
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::ptr::{self, NonNull};
use std::task::{Context, Poll};

/// The largest buffer an idle actor keeps (bytes).
const KEEP_IDLE: usize = 128;

/// Memory for one future at a time.
pub(crate) struct FutureSlot {
    /// The buffer and its layout; `None` when released.
    buf: Option<(NonNull<u8>, Layout)>,
}

// SAFETY: the slot is plain memory; the futures placed in it are `Send`
// (required by `place`) and are dropped before the memory is reused.
unsafe impl Send for FutureSlot {}

impl FutureSlot {
    pub(crate) const fn new() -> Self {
        Self { buf: None }
    }

    /// Called when the actor goes idle: keeps a small buffer (most handler
    /// futures fit in it, and freeing it cost a free and a malloc per
    /// message to an actor that keeps up with its senders: 12% of a tell),
    /// frees a large one.
    pub(crate) fn idle(&mut self) {
        if self.buf.is_some_and(|(_, l)| l.size() > KEEP_IDLE) {
            self.release();
        }
    }

    /// Frees the buffer.
    pub(crate) fn release(&mut self) {
        if let Some((ptr, layout)) = self.buf.take() {
            // SAFETY: allocated with this layout by `place`; no future lives
            // in it (a `Placed` borrows the slot mutably while it lives).
            unsafe { alloc::dealloc(ptr.as_ptr(), layout) }
        }
    }

    /// Moves `fut` into the slot (growing it if needed). The returned
    /// handle runs it, and drops it when dropped.
    #[inline]
    pub(crate) fn place<'a, F>(&'a mut self, fut: F) -> Placed<'a, F::Output>
    where
        F: Future + Send + 'a,
    {
        self.place_with(|| fut)
    }

    /// [`FutureSlot::place`] with the future that `make` builds, once the
    /// slot is ready for it: built straight into the slot, rather than on
    /// the stack and copied in (a handler's future is read back just after
    /// it was written, and the processor waits for those writes; see
    /// `envelope/letters.rs`).
    #[inline(always)]
    pub(crate) fn place_with<'a, F>(&'a mut self, make: impl FnOnce() -> F) -> Placed<'a, F::Output>
    where
        F: Future + Send + 'a,
    {
        let needed = Layout::new::<F>();
        if needed.size() == 0 {
            // A zero-sized future needs no memory: box it (no allocation).
            let boxed: Box<dyn Future<Output = F::Output> + Send + 'a> = Box::new(make());
            return Placed {
                fut: Box::into_raw(boxed),
                boxed: true,
                _slot: PhantomData,
            };
        }
        let fits = self
            .buf
            .is_some_and(|(_, l)| l.size() >= needed.size() && l.align() >= needed.align());
        if !fits {
            let size = needed.size().max(self.buf.map_or(0, |(_, l)| l.size()));
            let align = needed.align().max(self.buf.map_or(1, |(_, l)| l.align()));
            self.release();
            let layout = match Layout::from_size_align(size, align) {
                Ok(l) => l,
                Err(_) => alloc::handle_alloc_error(needed),
            };
            // SAFETY: `layout` has a non-zero size (`needed` is not empty).
            let ptr = unsafe { alloc::alloc(layout) };
            let Some(ptr) = NonNull::new(ptr) else {
                alloc::handle_alloc_error(layout)
            };
            self.buf = Some((ptr, layout));
        }
        let Some((ptr, _)) = self.buf else {
            unreachable!("allocated above")
        };
        let typed = ptr.as_ptr().cast::<F>();
        // SAFETY: the buffer is at least as large and aligned as `F`
        // (checked or allocated above), and holds no live value.
        unsafe { typed.write(make()) };
        let fut: *mut (dyn Future<Output = F::Output> + Send + 'a) = typed;
        Placed {
            fut,
            boxed: false,
            _slot: PhantomData,
        }
    }
}

impl Drop for FutureSlot {
    fn drop(&mut self) {
        self.release();
    }
}

/// A future living in a [`FutureSlot`]: pinned there until dropped.
pub(crate) struct Placed<'a, T> {
    fut: *mut (dyn Future<Output = T> + Send + 'a),
    /// Whether `fut` came from `Box::into_raw` (zero-sized futures).
    boxed: bool,
    _slot: PhantomData<&'a mut FutureSlot>,
}

// SAFETY: the future inside is `Send` (required by `place`), and `Placed`
// owns it exclusively.
unsafe impl<T> Send for Placed<'_, T> {}

impl<T> Future for Placed<'_, T> {
    type Output = T;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        // SAFETY: `fut` points to a live future that never moves: the slot
        // is mutably borrowed for as long as this handle lives, and the
        // handle drops the future in place.
        let fut = self.fut;
        // SAFETY: as above.
        unsafe { Pin::new_unchecked(&mut *fut).poll(cx) }
    }
}

impl<T> Drop for Placed<'_, T> {
    fn drop(&mut self) {
        if self.boxed {
            // SAFETY: from `Box::into_raw` in `place`, released once.
            drop(unsafe { Box::from_raw(self.fut) });
        } else {
            // SAFETY: a live future in the slot, dropped once, in place.
            unsafe { ptr::drop_in_place(self.fut) }
        }
    }
}

#[cfg(test)]
mod tests;
