//! Payload tests; they run under Miri (`scripts/check-unsafe.sh`) to check
//! the unsafe storage: no leak, no double drop, no misaligned access.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use super::Payload;
use crate::message::{Message, Requested};
use crate::request::{RequestError, ResponseToken};

#[derive(Clone, Debug, PartialEq)]
struct Small(u64);
impl Message for Small {
    const NAME: &'static str = "test::Small";
    type Response = u64;
    fn __try_clone(&self) -> Option<Self> {
        Some(self.clone())
    }
}

#[derive(Clone, Debug, PartialEq)]
struct Large([u64; 8]);
impl Message for Large {
    const NAME: &'static str = "test::Large";
    type Response = ();
    fn __try_clone(&self) -> Option<Self> {
        Some(self.clone())
    }
}

#[derive(Debug, PartialEq)]
struct Aligned(u128);
impl Message for Aligned {
    const NAME: &'static str = "test::Aligned";
    type Response = ();
}

/// Counts its drops.
struct Counted(Arc<AtomicUsize>, String);
impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}
impl Message for Counted {
    const NAME: &'static str = "test::Counted";
    type Response = ();
}

struct BigCounted(Arc<AtomicUsize>, [u64; 6]);
impl Drop for BigCounted {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}
impl Message for BigCounted {
    const NAME: &'static str = "test::BigCounted";
    type Response = ();
}

#[test]
fn small_and_large_messages_round_trip() {
    let p = Payload::new(Small(7));
    assert!(p.is::<Small>() && !p.is::<Large>());
    assert_eq!(p.name(), "test::Small");
    assert!(!p.is_request());
    assert_eq!(p.downcast_ref::<Small>(), Some(&Small(7)));
    assert_eq!(p.downcast::<Small>().ok(), Some(Small(7)));

    let p = Payload::new(Large([3; 8]));
    assert_eq!(p.downcast_ref::<Large>().map(|l| l.0[7]), Some(3));
    let Err(p) = p.downcast::<Small>() else {
        panic!("not a Small")
    };
    assert_eq!(p.downcast::<Large>().ok(), Some(Large([3; 8])));

    let p = Payload::new(Aligned(u128::MAX));
    assert_eq!(p.downcast_ref::<Aligned>(), Some(&Aligned(u128::MAX)));
    assert_eq!(p.downcast::<Aligned>().ok(), Some(Aligned(u128::MAX)));
}

#[test]
fn values_are_dropped_exactly_once() {
    let drops = Arc::new(AtomicUsize::new(0));
    drop(Payload::new(Counted(drops.clone(), "inline".into())));
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    drop(Payload::new(BigCounted(drops.clone(), [1; 6])));
    assert_eq!(drops.load(Ordering::SeqCst), 2);

    let taken = Payload::new(Counted(drops.clone(), "taken".into()))
        .downcast::<Counted>()
        .ok()
        .expect("a Counted");
    assert_eq!(drops.load(Ordering::SeqCst), 2, "moving out does not drop");
    assert_eq!(taken.1, "taken");
    drop(taken);
    assert_eq!(drops.load(Ordering::SeqCst), 3);

    let big = Payload::new(BigCounted(drops.clone(), [2; 6]))
        .downcast::<BigCounted>()
        .ok()
        .expect("a BigCounted");
    assert_eq!(big.1, [2; 6]);
    drop(big);
    assert_eq!(drops.load(Ordering::SeqCst), 4);

    // A failed downcast gives the payload back intact.
    let Err(back) = Payload::new(Counted(drops.clone(), "back".into())).downcast::<Small>() else {
        panic!("not a Small")
    };
    assert_eq!(drops.load(Ordering::SeqCst), 4);
    back.fail(RequestError::gone());
    assert_eq!(
        drops.load(Ordering::SeqCst),
        5,
        "failing a regular message drops it"
    );
}

#[test]
fn requests_fail_through_their_token_once() {
    let (token, mut rx) = ResponseToken::<u64>::new(None);
    let p = Payload::new(Requested {
        msg: Small(1),
        token,
    });
    assert!(p.is_request());
    assert!(p.try_clone().is_none(), "a request is never copied");
    p.fail(RequestError::Full);
    assert_eq!(rx.try_recv().ok(), Some(Err(RequestError::Full)));

    let (token, mut rx) = ResponseToken::<()>::new(None);
    let p = Payload::new(Requested {
        msg: Large([0; 8]),
        token,
    });
    let (msg, token) = match p.downcast::<Requested<Large>>() {
        Ok(r) => (r.msg, r.token),
        Err(_) => panic!("a Requested<Large>"),
    };
    assert_eq!(msg, Large([0; 8]));
    assert!(token.respond(()));
    assert_eq!(rx.try_recv().ok(), Some(Ok(())));
}

#[test]
fn clones_are_independent() {
    let p = Payload::new(Small(5));
    let q = p.try_clone().expect("Small is Clone");
    assert_eq!(p.downcast::<Small>().ok(), Some(Small(5)));
    assert_eq!(q.downcast::<Small>().ok(), Some(Small(5)));
    let p = Payload::new(Large([9; 8]));
    let q = p.try_clone().expect("Large is Clone");
    drop(p);
    assert_eq!(q.downcast_ref::<Large>(), Some(&Large([9; 8])));
    let drops = Arc::new(AtomicUsize::new(0));
    assert!(Payload::new(Counted(drops, String::new()))
        .try_clone()
        .is_none());
}

/// A unit-struct request (the usual `Get`) fits inline: its token is 24
/// bytes. Before, the token kept an `Option<Instant>` of 16 bytes (32 in
/// all), and every such request allocated its payload.
#[test]
fn a_unit_request_fits_inline() {
    struct Get;
    impl Message for Get {
        const NAME: &'static str = "test::Get";
        type Response = u64;
    }
    assert_eq!(std::mem::size_of::<ResponseToken<u64>>(), 24);
    assert!(super::fits_inline::<Requested<Get>>());
    assert!(!super::fits_inline::<Requested<Small>>());

    let (token, mut rx) = ResponseToken::<u64>::new(None);
    let p = Payload::new(Requested { msg: Get, token });
    match p.downcast::<Requested<Get>>() {
        Ok(r) => assert!(r.token.respond(7)),
        Err(_) => panic!("a Requested<Get>"),
    }
    assert_eq!(rx.try_recv().ok(), Some(Ok(7)));
}

/// The token keeps its deadline in one word, exactly: none stays none, and
/// an instant before or after the epoch comes back as itself.
#[test]
fn a_token_keeps_its_deadline_exactly() {
    use std::time::Duration;
    use tokio::time::Instant;

    let (token, _rx) = ResponseToken::<()>::new(None);
    assert_eq!(token.deadline(), None);
    let now = Instant::now();
    for at in [
        now,
        now + Duration::from_nanos(1),
        now + Duration::from_secs(5),
        now + Duration::from_secs(86_400 * 365 * 100) + Duration::from_nanos(7),
        now.checked_sub(Duration::from_secs(1) + Duration::from_nanos(3))
            .unwrap_or(now),
    ] {
        let (token, _rx) = ResponseToken::<()>::new(Some(crate::moment::Moment::from_instant(at)));
        assert_eq!(token.deadline(), Some(at));
    }
}
