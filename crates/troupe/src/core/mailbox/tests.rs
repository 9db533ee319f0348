//! The mailbox's queue, its watermark and its line of waiting senders.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering;
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
    let mut waiting = Waiting::new(&mailbox);
    take(&mailbox); // 3 left: above the watermark
    assert_eq!(waiting.wakes(), 0, "not woken yet");
    take(&mailbox); // 2 left: at the watermark
    assert_eq!(waiting.wakes(), 1, "woken");
    assert!(matches!(waiting.poll(), Poll::Ready(Ok(None))));
    assert_eq!(mailbox.len(), 3);
}

/// A live mailbox made larger lets a waiting sender in at once; made
/// smaller, it keeps what it holds and refuses more until drained.
#[test]
fn a_live_mailbox_can_be_resized() {
    let mailbox = full(2);
    let mut waiting = Waiting::new(&mailbox);
    mailbox.resize(4, OverflowPolicy::Wait);
    assert_eq!(mailbox.capacity(), 4);
    assert!(matches!(waiting.poll(), Poll::Ready(Ok(None))));
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

/// A sender waiting in line, with a waker that counts its wakes.
struct Waiting<'a> {
    push: Pin<Box<Push<'a>>>,
    wakes: Arc<Count>,
    waker: Waker,
}

impl<'a> Waiting<'a> {
    /// A push into `mailbox`, which is full: it waits.
    fn new(mailbox: &'a Mailbox) -> Self {
        let wakes = Arc::new(Count::default());
        let mut waiting = Self {
            push: Box::pin(mailbox.push(env())),
            waker: Waker::from(wakes.clone()),
            wakes,
        };
        assert!(waiting.poll().is_pending(), "the mailbox is full: it waits");
        waiting
    }

    fn poll(&mut self) -> Poll<Result<Option<Envelope>, Refused>> {
        self.push
            .as_mut()
            .poll(&mut Context::from_waker(&self.waker))
    }

    fn wakes(&self) -> usize {
        self.wakes.0.load(Ordering::SeqCst)
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
    let (mut first, mut second) = (Waiting::new(&mailbox), Waiting::new(&mailbox));
    take(&mailbox); // 1 left: at the watermark
    assert_eq!((first.wakes(), second.wakes()), (1, 0), "the first in line");
    take(&mailbox);
    assert_eq!((first.wakes(), second.wakes()), (1, 1), "then the second");
    assert!(matches!(first.poll(), Poll::Ready(Ok(None))));
    assert!(matches!(second.poll(), Poll::Ready(Ok(None))));
    assert_eq!(mailbox.len(), 2);
}

/// A sender that was woken but is dropped before it pushes passes its wake
/// to the next sender in line: the space it was woken for is not lost. One
/// dropped while still in line only leaves it.
#[test]
fn a_dropped_woken_sender_passes_its_wake_on() {
    let mailbox = full(2);
    let first = Waiting::new(&mailbox);
    let second = Waiting::new(&mailbox);
    let mut third = Waiting::new(&mailbox);
    let (first_wakes, second_wakes) = (first.wakes.clone(), second.wakes.clone());
    drop(second); // in line, not woken: it leaves, nobody is woken
    assert_eq!(third.wakes(), 0);
    take(&mailbox); // 1 left: wakes the first in line
    assert_eq!(first.wakes(), 1);
    drop(first); // woken, never pushed: its wake goes to the third
    assert_eq!(third.wakes(), 1, "the wake was passed on");
    assert_eq!(first_wakes.0.load(Ordering::SeqCst), 1);
    assert_eq!(second_wakes.0.load(Ordering::SeqCst), 0);
    assert!(matches!(third.poll(), Poll::Ready(Ok(None))));
    assert_eq!(mailbox.len(), 2);
}

/// A woken sender that finds the mailbox full again (another sender took
/// the space first) waits again at the head of the line, not the tail.
#[test]
fn a_woken_sender_that_finds_no_space_keeps_its_place() {
    let mailbox = full(2);
    let (mut first, second) = (Waiting::new(&mailbox), Waiting::new(&mailbox));
    take(&mailbox); // wakes the first
    assert_eq!(first.wakes(), 1);
    assert!(
        matches!(mailbox.try_push(env()), Ok(None)),
        "a sender barges in"
    );
    assert!(first.poll().is_pending(), "full again");
    take(&mailbox); // wakes the head of the line: the first again
    assert_eq!((first.wakes(), second.wakes()), (2, 0));
}

/// Closing the mailbox wakes every waiting sender, and each learns that
/// the mailbox is closed.
#[test]
fn closing_wakes_every_waiting_sender() {
    let mailbox = full(1);
    let (mut first, mut second) = (Waiting::new(&mailbox), Waiting::new(&mailbox));
    mailbox.close();
    assert_eq!((first.wakes(), second.wakes()), (1, 1));
    assert!(matches!(first.poll(), Poll::Ready(Err(Refused::Closed(_)))));
    assert!(matches!(
        second.poll(),
        Poll::Ready(Err(Refused::Closed(_)))
    ));
}

/// A policy that no longer waits, set while senders wait, wakes them and
/// they fail with `Full` instead of waiting on.
#[test]
fn a_policy_change_releases_waiting_senders() {
    let mailbox = full(1);
    let mut waiting = Waiting::new(&mailbox);
    mailbox.resize(1, OverflowPolicy::FailFast);
    assert_eq!(waiting.wakes(), 1);
    assert!(matches!(waiting.poll(), Poll::Ready(Err(Refused::Full(_)))));
}

/// A receiver's end of the mailbox, polled with a waker of its own that
/// counts its wakes.
struct Receiver<'a> {
    mailbox: &'a Mailbox,
    wakes: Arc<Count>,
    waker: Waker,
}

impl<'a> Receiver<'a> {
    fn new(mailbox: &'a Mailbox) -> Self {
        let wakes = Arc::new(Count::default());
        Self {
            mailbox,
            waker: Waker::from(wakes.clone()),
            wakes,
        }
    }

    fn poll(&self) -> Poll<Option<Item>> {
        self.mailbox
            .poll_recv(&mut Context::from_waker(&self.waker))
    }

    fn wakes(&self) -> usize {
        self.wakes.0.load(Ordering::SeqCst)
    }
}

/// Taking the last queued envelope leaves the receiver's waker in the
/// mailbox: the next push wakes it, though it never polled to find
/// nothing.
#[test]
fn taking_the_last_envelope_arms_the_receiver() {
    let mailbox = Mailbox::new(4, OverflowPolicy::Wait);
    let rx = Receiver::new(&mailbox);
    assert!(mailbox.try_push(env()).is_ok());
    assert!(matches!(rx.poll(), Poll::Ready(Some(Item::Msg(_)))));
    assert!(mailbox.try_push(env()).is_ok());
    assert_eq!(rx.wakes(), 1, "the push woke the armed receiver");
    assert!(matches!(rx.poll(), Poll::Ready(Some(Item::Msg(_)))));
    assert!(rx.poll().is_pending());
    assert!(rx.poll().is_pending(), "nothing came: still nothing");
}

/// An armed receiver polled with another waker (its future moved to
/// another task, or into a combinator) leaves that waker instead: the next
/// push wakes the new one.
#[test]
fn a_receiver_polled_with_another_waker_is_woken_through_it() {
    let mailbox = Mailbox::new(4, OverflowPolicy::Wait);
    let (first, second) = (Receiver::new(&mailbox), Receiver::new(&mailbox));
    assert!(first.poll().is_pending());
    assert!(second.poll().is_pending());
    assert!(mailbox.try_push(env()).is_ok());
    assert_eq!((first.wakes(), second.wakes()), (0, 1));
    assert!(matches!(second.poll(), Poll::Ready(Some(Item::Msg(_)))));
}

/// What a mailbox takes between two incarnations reaches the next one,
/// though the receiver had armed its waker before the first one ended.
#[test]
fn an_armed_receiver_finds_what_came_while_suspended() {
    let mailbox = Mailbox::new(4, OverflowPolicy::Wait);
    let rx = Receiver::new(&mailbox);
    assert!(rx.poll().is_pending());
    assert!(mailbox.suspend().is_empty());
    assert!(mailbox.try_push(env()).is_ok());
    assert_eq!(rx.wakes(), 0, "no receiver while suspended");
    mailbox.reopen();
    assert!(matches!(rx.poll(), Poll::Ready(Some(Item::Msg(_)))));
}

/// An armed receiver learns that its mailbox closed and that what it held
/// is drained; a system message reaches it too.
#[test]
fn an_armed_receiver_sees_system_messages_and_the_close() {
    let mailbox = Mailbox::new(4, OverflowPolicy::Wait);
    let rx = Receiver::new(&mailbox);
    assert!(rx.poll().is_pending());
    let stop = SysMsg::Stop {
        reason: crate::exit::StopReason::Graceful,
        veto: None,
    };
    assert!(mailbox.push_sys(stop).is_ok());
    assert!(matches!(rx.poll(), Poll::Ready(Some(Item::Sys(_)))));
    assert!(rx.poll().is_pending());
    mailbox.close();
    assert!(matches!(rx.poll(), Poll::Ready(None)));
}

/// In a Tokio task, receiving spends the task's budget: a receiver whose
/// mailbox never empties gets `Pending` once the budget is spent (and is
/// woken to go on), instead of holding its worker for as long as mail
/// keeps coming.
#[tokio::test(flavor = "current_thread")]
async fn receiving_spends_the_tasks_budget() {
    let mailbox = Mailbox::new(1000, OverflowPolicy::Wait);
    for _ in 0..1000 {
        assert!(matches!(mailbox.try_push(env()), Ok(None)));
    }
    // One poll of this task takes items until the budget says stop.
    let taken = std::future::poll_fn(|cx| {
        let mut taken = 0;
        while let Poll::Ready(item) = mailbox.poll_recv(cx) {
            assert!(matches!(item, Some(Item::Msg(_))));
            taken += 1;
        }
        Poll::Ready(taken)
    })
    .await;
    assert!(taken > 0, "took something");
    assert!(taken < 1000, "stopped while mail was left: took {taken}");
    assert_eq!(mailbox.len(), 1000 - taken);
    // After a yield, the budget is back and the rest comes.
    tokio::task::yield_now().await;
    let next = std::future::poll_fn(|cx| Poll::Ready(mailbox.poll_recv(cx).is_ready())).await;
    assert!(next, "a new poll takes again");
}

/// A push that does not wait spends no budget: a producer feeding many
/// actors keeps its worker until a mailbox is full.
#[tokio::test(flavor = "current_thread")]
async fn pushes_that_do_not_wait_spend_no_budget() {
    let mailbox = Mailbox::new(1000, OverflowPolicy::Wait);
    let pushed = std::future::poll_fn(|cx| {
        let mut pushed = 0;
        while pushed < 1000 {
            let mut push = Push::new(&mailbox, env());
            match Pin::new(&mut push).poll(cx) {
                Poll::Ready(res) => assert!(matches!(res, Ok(None))),
                Poll::Pending => break,
            }
            pushed += 1;
        }
        Poll::Ready(pushed)
    })
    .await;
    assert_eq!(pushed, 1000, "all in one poll");
    assert!(tokio::task::coop::has_budget_remaining());
}

/// A push that has to wait for space hands its worker over: on a
/// multi-thread runtime it spends what is left of the task's budget (so
/// that the receiver it woke runs next on this worker).
#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn a_push_that_waits_spends_the_rest_of_the_budget() {
    tokio::spawn(async {
        let mailbox = Mailbox::new(1, OverflowPolicy::Wait);
        assert!(matches!(mailbox.try_push(env()), Ok(None)));
        std::future::poll_fn(|cx| {
            assert!(tokio::task::coop::has_budget_remaining());
            let mut push = Push::new(&mailbox, env());
            assert!(Pin::new(&mut push).poll(cx).is_pending(), "full: it waits");
            assert!(push.ticket != 0, "in line");
            assert!(!tokio::task::coop::has_budget_remaining(), "spent");
            Poll::Ready(())
        })
        .await;
    })
    .await
    .expect("the task ran");
}
