//! The mailbox's queue, its watermark and its line of waiting senders.

use std::future::Future;
use std::pin::{pin, Pin};
use std::task::{Context, Poll, Waker};

use super::*;
use crate::addr::Addr;
use crate::envelope::TraceId;
use crate::message::Message;

struct N;
impl Message for N {
    const NAME: &'static str = "test::N";
    type Response = ();
    fn __try_clone(&self) -> Option<Self> {
        None
    }
}

/// A push that waits for space, as a delivery does (`Delivering`).
#[must_use = "futures do nothing unless polled"]
struct Push<'a> {
    mailbox: &'a Mailbox,
    /// `None` once resolved.
    env: Option<Envelope>,
    /// Its ticket in the line of waiting senders (0: never waited).
    ticket: u64,
}

impl<'a> Push<'a> {
    fn new(mailbox: &'a Mailbox, env: Envelope) -> Self {
        Self {
            mailbox,
            env: Some(env),
            ticket: 0,
        }
    }
}

impl Future for Push<'_> {
    type Output = Result<Option<Envelope>, Refused>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // `Push` is `Unpin`: nothing in it points into itself.
        let this = self.get_mut();
        this.mailbox
            .poll_push(&mut this.env, &mut this.ticket, cx.waker())
    }
}

impl Drop for Push<'_> {
    fn drop(&mut self) {
        self.mailbox.leave_line(self.ticket);
    }
}

impl Mailbox {
    fn push(&self, env: Envelope) -> Push<'_> {
        Push::new(self, env)
    }
}

fn env() -> Envelope {
    Envelope::new(N, Addr::NULL, TraceId::generate())
}

fn take(mailbox: &Mailbox) {
    assert!(matches!(mailbox.try_recv(), Some(Item::Msg(_))));
}

/// A sender waiting on a full mailbox is woken once the queue is down
/// to half its capacity, not at the first slot freed.
#[test]
fn a_waiting_sender_wakes_at_the_low_watermark() {
    let mailbox = full(4);
    let (woken, waker) = Count::new();
    let mut cx = Context::from_waker(&waker);
    let mut push = pin!(mailbox.push(env()));
    assert!(push.as_mut().poll(&mut cx).is_pending(), "full: it waits");
    take(&mailbox); // 3 left: above the watermark
    assert_eq!(woken.get(), 0, "not woken yet");
    take(&mailbox); // 2 left: at the watermark
    assert_eq!(woken.get(), 1, "woken");
    assert!(matches!(push.as_mut().poll(&mut cx), Poll::Ready(Ok(None))));
    assert_eq!(mailbox.len(), 3);
}

/// A live mailbox made larger lets a waiting sender in at once; made
/// smaller, it keeps what it holds and refuses more until drained.
#[test]
fn a_live_mailbox_can_be_resized() {
    let mailbox = Mailbox::new(2, OverflowPolicy::Wait);
    for _ in 0..2 {
        assert!(matches!(mailbox.try_push(env()), Ok(None)));
    }
    let mut cx = Context::from_waker(Waker::noop());
    let mut push = pin!(mailbox.push(env()));
    assert!(push.as_mut().poll(&mut cx).is_pending(), "full: it waits");
    mailbox.resize(4, OverflowPolicy::Wait);
    assert_eq!(mailbox.capacity(), 4);
    assert!(matches!(push.as_mut().poll(&mut cx), Poll::Ready(Ok(None))));
    assert_eq!(mailbox.len(), 3);

    mailbox.resize(1, OverflowPolicy::FailFast);
    assert_eq!(mailbox.len(), 3, "nothing queued is dropped");
    assert!(matches!(mailbox.try_push(env()), Err(Refused::Full(_))));
    for _ in 0..3 {
        take(&mailbox);
    }
    assert!(matches!(mailbox.try_push(env()), Ok(None)));
    assert!(matches!(mailbox.try_push(env()), Err(Refused::Full(_))));

    mailbox.resize(1, OverflowPolicy::DropNewest);
    assert!(matches!(mailbox.try_push(env()), Ok(Some(_))), "dropped");
    assert_eq!(mailbox.dropped(), 1);
}

/// A waker that counts its wakes.
#[derive(Default)]
struct Count(std::sync::atomic::AtomicUsize);

impl std::task::Wake for Count {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

impl Count {
    fn new() -> (Arc<Self>, Waker) {
        let count = Arc::new(Self::default());
        let waker = Waker::from(count.clone());
        (count, waker)
    }
    fn get(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

fn full(capacity: usize) -> Mailbox {
    let mailbox = Mailbox::new(capacity, OverflowPolicy::Wait);
    for _ in 0..capacity {
        assert!(matches!(mailbox.try_push(env()), Ok(None)));
    }
    mailbox
}

/// Waiting senders are woken one per envelope taken below the watermark,
/// in the order they came.
#[test]
fn waiting_senders_are_woken_first_come_first_served() {
    let mailbox = full(2);
    let (first, first_waker) = Count::new();
    let (second, second_waker) = Count::new();
    let mut push1 = pin!(mailbox.push(env()));
    let mut push2 = pin!(mailbox.push(env()));
    assert!(push1
        .as_mut()
        .poll(&mut Context::from_waker(&first_waker))
        .is_pending());
    assert!(push2
        .as_mut()
        .poll(&mut Context::from_waker(&second_waker))
        .is_pending());
    take(&mailbox); // 1 left: at the watermark
    assert_eq!((first.get(), second.get()), (1, 0), "the first in line");
    take(&mailbox);
    assert_eq!((first.get(), second.get()), (1, 1), "then the second");
    let mut cx = Context::from_waker(Waker::noop());
    assert!(matches!(
        push1.as_mut().poll(&mut cx),
        Poll::Ready(Ok(None))
    ));
    assert!(matches!(
        push2.as_mut().poll(&mut cx),
        Poll::Ready(Ok(None))
    ));
    assert_eq!(mailbox.len(), 2);
}

/// A sender that was woken but is dropped before it pushes passes its wake
/// to the next sender in line: the space it was woken for is not lost. One
/// dropped while still in line only leaves it.
#[test]
fn a_dropped_woken_sender_passes_its_wake_on() {
    let mailbox = full(2);
    let (first, first_waker) = Count::new();
    let (second, second_waker) = Count::new();
    let (third, third_waker) = Count::new();
    let mut push1 = Box::pin(mailbox.push(env()));
    let mut push2 = Box::pin(mailbox.push(env()));
    let mut push3 = Box::pin(mailbox.push(env()));
    for (push, waker) in [
        (&mut push1, &first_waker),
        (&mut push2, &second_waker),
        (&mut push3, &third_waker),
    ] {
        assert!(push
            .as_mut()
            .poll(&mut Context::from_waker(waker))
            .is_pending());
    }
    drop(push2); // in line, not woken: it leaves, nobody is woken
    assert_eq!((first.get(), second.get(), third.get()), (0, 0, 0));
    take(&mailbox); // 1 left: wakes push1, the first in line
    assert_eq!((first.get(), second.get(), third.get()), (1, 0, 0));
    drop(push1); // woken, never pushed: its wake goes to push3
    assert_eq!((first.get(), second.get(), third.get()), (1, 0, 1));
    let mut cx = Context::from_waker(Waker::noop());
    assert!(matches!(
        push3.as_mut().poll(&mut cx),
        Poll::Ready(Ok(None))
    ));
    assert_eq!(mailbox.len(), 2);
}

/// A woken sender that finds the mailbox full again (another sender took
/// the space first) waits again at the head of the line, not the tail.
#[test]
fn a_woken_sender_that_finds_no_space_keeps_its_place() {
    let mailbox = full(2);
    let (first, first_waker) = Count::new();
    let (second, second_waker) = Count::new();
    let mut push1 = pin!(mailbox.push(env()));
    let mut push2 = pin!(mailbox.push(env()));
    let mut cx1 = Context::from_waker(&first_waker);
    let mut cx2 = Context::from_waker(&second_waker);
    assert!(push1.as_mut().poll(&mut cx1).is_pending());
    assert!(push2.as_mut().poll(&mut cx2).is_pending());
    take(&mailbox); // wakes push1
    assert_eq!(first.get(), 1);
    assert!(
        matches!(mailbox.try_push(env()), Ok(None)),
        "a sender barges in"
    );
    assert!(push1.as_mut().poll(&mut cx1).is_pending(), "full again");
    take(&mailbox); // wakes the head of the line: push1 again
    assert_eq!((first.get(), second.get()), (2, 0));
}

/// Closing the mailbox wakes every waiting sender, and each learns that
/// the mailbox is closed.
#[test]
fn closing_wakes_every_waiting_sender() {
    let mailbox = full(1);
    let (first, first_waker) = Count::new();
    let (second, second_waker) = Count::new();
    let mut push1 = pin!(mailbox.push(env()));
    let mut push2 = pin!(mailbox.push(env()));
    let mut cx1 = Context::from_waker(&first_waker);
    let mut cx2 = Context::from_waker(&second_waker);
    assert!(push1.as_mut().poll(&mut cx1).is_pending());
    assert!(push2.as_mut().poll(&mut cx2).is_pending());
    mailbox.close();
    assert_eq!((first.get(), second.get()), (1, 1));
    assert!(matches!(
        push1.as_mut().poll(&mut cx1),
        Poll::Ready(Err(Refused::Closed(_)))
    ));
    assert!(matches!(
        push2.as_mut().poll(&mut cx2),
        Poll::Ready(Err(Refused::Closed(_)))
    ));
}

/// A policy that no longer waits, set while senders wait, wakes them and
/// they fail with `Full` instead of waiting on.
#[test]
fn a_policy_change_releases_waiting_senders() {
    let mailbox = full(1);
    let (first, first_waker) = Count::new();
    let mut push = pin!(mailbox.push(env()));
    let mut cx = Context::from_waker(&first_waker);
    assert!(push.as_mut().poll(&mut cx).is_pending());
    mailbox.resize(1, OverflowPolicy::FailFast);
    assert_eq!(first.get(), 1);
    assert!(matches!(
        push.as_mut().poll(&mut cx),
        Poll::Ready(Err(Refused::Full(_)))
    ));
}
