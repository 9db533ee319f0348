//! Multi-responses (`ctx.request(..).all()`): a request to every actor the
//! routes select, resolved to each one's answer or error. Written as
//! elfo's tests are: a proxy actor, paused time.

use std::time::Duration;

use troupe::prelude::*;
use troupe::testkit::{Proxy, PROXY_GROUP};
use troupe::{DeadLetterReason, Outcome, RequestError, Topology};

/// Answered with the group's name and the actor's key; key `drop` drops
/// the token, key `mute` keeps it without answering.
#[message(ret = String)]
#[derive(Clone)]
struct Name {
    keys: Vec<&'static str>,
}

/// Like `Name`, but not `Clone`.
#[message(ret = String)]
struct Unique {
    keys: Vec<&'static str>,
}

/// A group keyed by the request's keys (a multicast), or a singleton.
fn named(name: &'static str, keyed: bool) -> Schema {
    let group = ActorGroup::new();
    let group = match keyed {
        false => group,
        true => group.router(|envelope| {
            msg!(match envelope {
                (Name { keys }, _token) => Outcome::multicast(keys.iter().copied()),
                (Unique { keys }, _token) => Outcome::multicast(keys.iter().copied()),
                _ => Outcome::Discard,
            })
        }),
    };
    group.exec(move |mut ctx| async move {
        let mut kept = Vec::new();
        while let Some(envelope) = ctx.recv().await {
            let key = ctx.key().to_owned();
            msg!(match envelope {
                (Name { .. }, token) => match key.as_str() {
                    "drop" => drop(token),
                    "mute" => kept.push(token),
                    _ => {
                        ctx.respond(token, format!("{name}/{key}"));
                    }
                },
                (Unique { .. }, token) => {
                    ctx.respond(token, format!("{name}/{key}"));
                }
            })
        }
    })
}

fn answers(names: &[&str]) -> Vec<Result<String, RequestError>> {
    names.iter().map(|n| Ok(n.to_string())).collect()
}

#[tokio::test(start_paused = true)]
async fn a_multicast_to_three_keyed_actors_gives_three_answers() {
    let proxy = Proxy::start(named("shards", true)).await.unwrap();
    let keys = vec!["a", "b", "c"];
    assert_eq!(
        proxy.request_all(Name { keys }).await,
        answers(&["shards/a", "shards/b", "shards/c"])
    );
    proxy.finish().await;
}

#[tokio::test(start_paused = true)]
async fn two_routes_answer_both_in_route_order() {
    let topology = Topology::empty();
    let first = topology.local("first");
    first.mount(named("first", false));
    topology.local(PROXY_GROUP).route_to(&first, |_| true);
    let proxy = Proxy::start_named("second", named("second", true), topology)
        .await
        .unwrap();
    let keys = vec!["x", "y"];
    assert_eq!(
        proxy.request_all(Name { keys }).await,
        answers(&["first/_", "second/x", "second/y"])
    );
    proxy.finish().await;
}

#[tokio::test(start_paused = true)]
async fn a_dropped_token_is_an_error_entry_among_answers() {
    let proxy = Proxy::start(named("shards", true)).await.unwrap();
    let keys = vec!["a", "drop", "c"];
    assert_eq!(
        proxy.request_all(Name { keys }).await,
        [
            Ok("shards/a".to_string()),
            Err(RequestError::Dropped),
            Ok("shards/c".to_string())
        ]
    );
    proxy.finish().await;
}

#[tokio::test(start_paused = true)]
async fn one_that_never_answers_times_out_the_others_answer() {
    let proxy = Proxy::start(named("shards", true)).await.unwrap();
    let asked = tokio::time::Instant::now();
    let keys = vec!["a", "mute", "c"];
    let entries = proxy.request_all(Name { keys }).await;
    assert_eq!(
        entries,
        [
            Ok("shards/a".to_string()),
            Err(RequestError::Timeout(Duration::from_secs(5))),
            Ok("shards/c".to_string())
        ]
    );
    assert_eq!(
        asked.elapsed(),
        Duration::from_secs(5),
        "one deadline for all: the default request timeout"
    );
    proxy.finish().await;
}

#[tokio::test(start_paused = true)]
async fn nobody_selected_is_an_empty_vec_and_one_dead_letter() {
    let proxy = Proxy::start(named("shards", true)).await.unwrap();
    let mut dead = proxy.dead_letters();
    assert_eq!(proxy.request_all(Name { keys: vec![] }).await, []);
    let letter = dead.recv().await;
    assert_eq!(letter.reason, DeadLetterReason::NoRecipient);
    assert_eq!(letter.message, <Name as Message>::NAME);
    assert!(dead.try_recv().is_none());
    proxy.finish().await;
}

#[tokio::test(start_paused = true)]
async fn a_message_that_is_not_clone_reaches_the_first_only() {
    let proxy = Proxy::start(named("shards", true)).await.unwrap();
    let mut dead = proxy.dead_letters();
    let keys = vec!["a", "b", "c"];
    assert_eq!(
        proxy.request_all(Unique { keys }).await,
        answers(&["shards/a"])
    );
    for _ in 0..2 {
        let letter = dead.recv().await;
        assert_eq!(letter.reason, DeadLetterReason::NoRecipient);
        assert_eq!(letter.message, <Unique as Message>::NAME);
    }
    assert!(dead.try_recv().is_none());
    proxy.finish().await;
}
