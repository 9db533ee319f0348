//! `msg!` as expressive as `match`: guards (falling through to the next
//! arms with the envelope intact), `@` bindings of the whole message,
//! guarded requests and a guarded fallback, on a group driven by the test
//! kit's proxy under a paused clock.

use troupe::prelude::*;
use troupe::testkit::Proxy;
use troupe::{assert_msg, TraceId};

#[message]
#[derive(Debug, PartialEq)]
struct Reading {
    value: u32,
}

#[message]
struct Named {
    name: String,
}

#[message]
#[derive(Debug, PartialEq)]
struct Ping;

#[message]
#[derive(Debug, PartialEq)]
struct Pair(u32, u32);

#[message]
struct Unknown;

/// What the group under test tells about each envelope.
#[message]
#[derive(Debug, PartialEq)]
enum Seen {
    High(u32),
    Normal(u32),
    Starts(String),
    /// The fallback got the envelope: its message's name, and whether the
    /// `Reading` inside was whole (taken back out, with its value).
    Fallback(&'static str, Option<u32>),
    /// The envelope reached the guarded fallback with its trace id.
    Trace(TraceId),
}

#[message(ret = u32)]
struct Lookup {
    key: String,
}

/// Sends `seen` out, to the proxy.
async fn tell(ctx: &Context, seen: Seen) {
    let _ = ctx.send(seen).await;
}

fn guarded() -> Schema {
    ActorGroup::new().exec(|mut ctx| async move {
        let limit = 100;
        while let Some(envelope) = ctx.recv().await {
            msg!(match envelope {
                // A guard sees the bindings with their own types, as in
                // `match`: `value` is a `u32`, `name` a `String`.
                Reading { value } if value > limit => tell(&ctx, Seen::High(value)).await,
                Reading { value } if value > 10 => tell(&ctx, Seen::Normal(value)).await,
                Named { name } if name.starts_with('a') => tell(&ctx, Seen::Starts(name)).await,
                (Lookup { key }, token) if key == "answer" => {
                    ctx.respond(token, 42);
                }
                (Lookup { key }, token) if key.len() > 3 => {
                    ctx.respond(token, key.len() as u32);
                }
                e if e.is::<Ping>() => tell(&ctx, Seen::Trace(e.trace_id())).await,
                other => {
                    let name = other.message_name();
                    let value = other.downcast::<Reading>().ok().map(|r| r.value);
                    tell(&ctx, Seen::Fallback(name, value)).await;
                }
            })
        }
    })
}

#[tokio::test(start_paused = true)]
async fn a_guard_that_passes_takes_the_arm() {
    let mut proxy = Proxy::start(guarded()).await.unwrap();
    proxy.send(Reading { value: 500 }).await.unwrap();
    assert_msg!(proxy.recv().await, Seen::High(500));
    proxy.finish().await;
}

#[tokio::test(start_paused = true)]
async fn a_failed_guard_falls_through_to_the_next_arm() {
    let mut proxy = Proxy::start(guarded()).await.unwrap();
    proxy.send(Reading { value: 50 }).await.unwrap();
    assert_msg!(proxy.recv().await, Seen::Normal(50));
    proxy.finish().await;
}

#[tokio::test(start_paused = true)]
async fn failed_guards_fall_through_to_the_fallback_with_the_message_whole() {
    let mut proxy = Proxy::start(guarded()).await.unwrap();
    proxy.send(Reading { value: 5 }).await.unwrap();
    assert_msg!(
        proxy.recv().await,
        Seen::Fallback("troupe::Reading", Some(5))
    );
    proxy.send(Named { name: "bob".into() }).await.unwrap();
    assert_msg!(proxy.recv().await, Seen::Fallback("troupe::Named", None));
    proxy
        .send(Named {
            name: "alice".into(),
        })
        .await
        .unwrap();
    let seen = proxy.recv().await.downcast::<Seen>().unwrap();
    assert_eq!(seen, Seen::Starts("alice".into()));
    proxy.finish().await;
}

#[tokio::test(start_paused = true)]
async fn a_guarded_fallback_sees_the_envelope_and_lets_others_go_on() {
    let mut proxy = Proxy::start(guarded()).await.unwrap();
    proxy.send(Ping).await.unwrap();
    let seen = proxy.recv().await.downcast::<Seen>().unwrap();
    assert!(matches!(seen, Seen::Trace(_)), "{seen:?}");
    proxy.send(Unknown).await.unwrap();
    assert_msg!(proxy.recv().await, Seen::Fallback("troupe::Unknown", None));
    proxy.finish().await;
}

#[tokio::test(start_paused = true)]
async fn guarded_requests_fall_through_and_keep_their_token() {
    let proxy = Proxy::start(guarded()).await.unwrap();
    let answer = proxy
        .request(Lookup {
            key: "answer".into(),
        })
        .await;
    assert_eq!(answer, Ok(42));
    // The first guard says no: the second arm answers with the same token.
    let long = proxy
        .request(Lookup {
            key: "longer".into(),
        })
        .await;
    assert_eq!(long, Ok(6));
    proxy.finish().await;
}

#[tokio::test(start_paused = true)]
async fn a_request_no_guard_takes_reaches_the_fallback_and_is_answered() {
    let proxy = Proxy::start(guarded()).await.unwrap();
    // Both request guards say no; the fallback drops the envelope, which
    // answers the requester: never a hang.
    let short = proxy.request(Lookup { key: "ab".into() }).await;
    assert_eq!(short, Err(RequestError::Dropped));
    proxy.finish().await;
}

#[tokio::test(start_paused = true)]
async fn a_request_no_guard_takes_without_a_fallback_is_unhandled() {
    let proxy = Proxy::start(ActorGroup::new().exec(|mut ctx| async move {
        while let Some(envelope) = ctx.recv().await {
            msg!(match envelope {
                (Lookup { key }, token) if key.is_empty() => {
                    ctx.respond(token, 0);
                }
            })
        }
    }))
    .await
    .unwrap();
    let res = proxy.request(Lookup { key: "x".into() }).await;
    assert_eq!(res, Err(RequestError::Unhandled("troupe::Lookup")));
    proxy.finish().await;
}

fn forwarding() -> Schema {
    ActorGroup::new().exec(|mut ctx| async move {
        while let Some(envelope) = ctx.recv().await {
            msg!(match envelope {
                // The whole message, bound by value.
                r @ Reading { value: 1..=9 } => {
                    let _ = ctx.send(r).await;
                }
                p @ Pair(a, _) if a > 0 => {
                    let _ = ctx.send(p).await;
                }
                p @ Ping => {
                    let _ = ctx.send(p).await;
                }
                _ => tell(&ctx, Seen::Normal(0)).await,
            })
        }
    })
}

#[tokio::test(start_paused = true)]
async fn at_bindings_bind_the_whole_message() {
    let mut proxy = Proxy::start(forwarding()).await.unwrap();
    proxy.send(Reading { value: 7 }).await.unwrap();
    assert_eq!(
        proxy.recv().await.downcast::<Reading>().unwrap(),
        Reading { value: 7 }
    );
    proxy.send(Pair(1, 2)).await.unwrap();
    assert_eq!(proxy.recv().await.downcast::<Pair>().unwrap(), Pair(1, 2));
    proxy.send(Ping).await.unwrap();
    assert_eq!(proxy.recv().await.downcast::<Ping>().unwrap(), Ping);
    // Outside the range, or with the guard failing: the fallback.
    proxy.send(Reading { value: 70 }).await.unwrap();
    assert_msg!(proxy.recv().await, Seen::Normal(0));
    proxy.send(Pair(0, 2)).await.unwrap();
    assert_msg!(proxy.recv().await, Seen::Normal(0));
    proxy.finish().await;
}

#[tokio::test(start_paused = true)]
async fn alternatives_share_a_guard() {
    let mut proxy = Proxy::start(ActorGroup::new().exec(|mut ctx| async move {
        while let Some(envelope) = ctx.recv().await {
            msg!(match envelope {
                Reading { value: n } | Pair(n, _) if n % 2 == 0 => tell(&ctx, Seen::High(n)).await,
                _ => tell(&ctx, Seen::Normal(0)).await,
            })
        }
    }))
    .await
    .unwrap();
    proxy.send(Reading { value: 4 }).await.unwrap();
    assert_msg!(proxy.recv().await, Seen::High(4));
    proxy.send(Pair(6, 0)).await.unwrap();
    assert_msg!(proxy.recv().await, Seen::High(6));
    proxy.send(Pair(3, 0)).await.unwrap();
    assert_msg!(proxy.recv().await, Seen::Normal(0));
    proxy.finish().await;
}

/// In a router, bindings are references, in guards too.
fn is_high(envelope: &Envelope) -> bool {
    msg!(match envelope {
        Reading { value } if *value > 100 => true,
        (Lookup { key }, _token) if key == "answer" => true,
        e if e.is::<Ping>() => true,
        _ => false,
    })
}

#[test]
fn guards_work_on_borrowed_envelopes() {
    let env = |m| Envelope::new(m, Addr::NULL, TraceId::generate());
    assert!(is_high(&env(Reading { value: 101 })));
    assert!(!is_high(&env(Reading { value: 100 })));
    assert!(is_high(&Envelope::new(
        Ping,
        Addr::NULL,
        TraceId::generate()
    )));
    assert!(!is_high(&Envelope::new(
        Pair(1, 1),
        Addr::NULL,
        TraceId::generate()
    )));
}

#[test]
fn assert_msg_takes_a_guard() {
    let env = Envelope::new(Reading { value: 12 }, Addr::NULL, TraceId::generate());
    assert_msg!(env, Reading { value } if value > 10);
}

#[test]
#[should_panic(expected = "expected a message matching")]
fn assert_msg_fails_when_the_guard_does() {
    let env = Envelope::new(Reading { value: 2 }, Addr::NULL, TraceId::generate());
    assert_msg!(env, Reading { value } if value > 10);
}
