//! The observer's HTTP side over loopback: the versioned snapshot API, the
//! page, the dead-letter feed, live events, and the token check on
//! actions.

mod common;

use std::sync::Arc;

use common::*;
use http_body_util::BodyExt;
use hyper::StatusCode;
use tokio::sync::Semaphore;
use tokio::time::timeout;
use troupe::prelude::*;
use troupe::{DeadLetterReason, TraceId};
use troupe_observer::{Observer, ObserverError, MIN_TOKEN_LEN};

const TOKEN: &str = "test-token-0123456789";

#[message]
struct Work;

/// Handles `Work` once its gate gives a permit: its mailbox fills.
struct Gated(Arc<Semaphore>);

impl Actor for Gated {}

impl Handler<Work> for Gated {
    async fn handle(&mut self, _: Work, _: &mut ActorContext<Self>) -> HandlerResult {
        self.0.acquire().await?.forget();
        Ok(())
    }
}

/// Vetoes graceful stops.
struct Stubborn;

impl Actor for Stubborn {
    async fn pre_stop(&mut self, _: &mut ActorContext<Self>, _: StopReason) -> bool {
        false
    }
}

#[message]
struct Degrade;

/// Publishes an alarm when told to.
struct Db;

impl Actor for Db {}

impl Handler<Degrade> for Db {
    async fn handle(&mut self, _: Degrade, ctx: &mut ActorContext<Self>) -> HandlerResult {
        ctx.set_status(troupe::Status::ALARMING.with_details("replica lost"));
        Ok(())
    }
}

/// A message whose contents must never be shown.
#[message]
struct Secret(#[allow(dead_code)] &'static str);

fn path_of(addr: Addr) -> String {
    format!("/api/v1/processes/{}/{}", addr.node().0, addr.id())
}

#[tokio::test]
async fn the_snapshot_api_is_versioned_and_answers_every_view() {
    let system = ActorSystem::create("observer-api").unwrap();
    let gate = Arc::new(Semaphore::new(0));
    let busy = Gated(gate.clone())
        .spawn()
        .named("busy")
        .on_system(&system)
        .await
        .unwrap();
    let idle = Gated(gate.clone())
        .spawn()
        .on_system(&system)
        .await
        .unwrap();
    for _ in 0..4 {
        busy.notify(Work).await.unwrap();
    }
    let observer = Observer::new(&system).serve().await.unwrap();
    let addr = observer.local_addr();
    assert!(addr.ip().is_loopback(), "127.0.0.1 by default");
    assert_ne!(addr.port(), 0, "the bound port is returned");

    // The whole snapshot.
    let snap = get_until(addr, "/api/v1/snapshot", |s| {
        s["processes"]
            .as_array()
            .is_some_and(|ps| ps.iter().any(|p| p["mailbox_len"] == 3))
    })
    .await;
    assert_eq!(snap["version"], 1);
    assert_eq!(snap["system"]["name"], "observer-api");
    assert_eq!(snap["system"]["processes"], 2);
    assert_eq!(snap["system"]["queued"], 3);
    assert_eq!(snap["system"]["actions_enabled"], false);
    assert_eq!(snap["system"]["metrics_enabled"], false);
    assert!(!snap["system"]["runtimes"][0]["flavor"]
        .as_str()
        .unwrap()
        .is_empty());
    assert_eq!(snap["roots"].as_array().unwrap().len(), 2);
    let row = snap["processes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "busy")
        .unwrap();
    assert_eq!(row["addr"], busy.addr().to_string());
    assert_eq!(row["kind"], "actor");
    assert_eq!(row["status"], "running");
    assert_eq!(row["label"], "busy");
    assert_eq!(row["mailbox_capacity"], 64);
    assert_eq!(row["processed"], 1);

    // The table, sorted by mailbox depth ("who is stuck?"), and limited.
    let rows = get(addr, "/api/v1/processes?sort=mailbox&limit=1")
        .await
        .json();
    assert_eq!(rows.as_array().unwrap().len(), 1);
    assert_eq!(rows[0]["name"], "busy");
    let rows = get(addr, "/api/v1/processes?sort=addr").await.json();
    assert_eq!(rows[0]["addr"], busy.addr().to_string());
    assert_eq!(rows[1]["addr"], idle.addr().to_string());
    assert_eq!(rows[1]["label"], "Gated", "an anonymous actor: its type");
    for sort in ["rate", "restarts"] {
        let rows = get(addr, &format!("/api/v1/processes?sort={sort}")).await;
        assert_eq!(rows.status, StatusCode::OK);
    }
    let bad = get(addr, "/api/v1/processes?sort=size").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.json()["error"], "bad_query");

    // One process, in detail; an unknown or malformed address.
    let detail = get(addr, &path_of(idle.addr())).await;
    assert_eq!(detail.status, StatusCode::OK);
    let detail = detail.json();
    assert_eq!(detail["process"]["addr"], idle.addr().to_string());
    assert!(detail["parent"].is_null());
    assert_eq!(detail["children"], serde_json::json!([]));
    let missing = get(addr, "/api/v1/processes/0/281474976710000").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.json()["error"], "no_process");
    let malformed = get(addr, "/api/v1/processes/zero/1").await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    assert_eq!(malformed.json()["error"], "bad_address");

    // The overview, the tree, the page; no metrics without a recorder.
    let system_view = get(addr, "/api/v1/system").await.json();
    assert_eq!(system_view["processes"], 2);
    let tree = get(addr, "/api/v1/tree").await.json();
    assert_eq!(tree.as_array().unwrap().len(), 2);
    assert_eq!(tree[0]["label"], "busy");
    let page = get(addr, "/").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert!(page.text().contains("troupe observer"));
    let metrics = get(addr, "/metrics").await;
    assert_eq!(metrics.status, StatusCode::NOT_FOUND);
    assert_eq!(metrics.json()["error"], "no_metrics");
    let nowhere = get(addr, "/nowhere").await;
    assert_eq!(nowhere.status, StatusCode::NOT_FOUND);

    gate.add_permits(10);
    observer.shutdown().await;
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "a stopped observer listens no more"
    );
    system.shutdown().await;
}

#[tokio::test]
async fn each_process_shows_the_status_it_publishes() {
    let system = ActorSystem::create("observer-statuses").unwrap();
    let db = Db.spawn().named("db").on_system(&system).await.unwrap();
    let calm = Db.spawn().named("calm").on_system(&system).await.unwrap();
    db.send(Degrade).await.unwrap();
    let observer = Observer::new(&system).serve().await.unwrap();
    let addr = observer.local_addr();
    let rows = get(addr, "/api/v1/processes?sort=addr").await.json();
    assert_eq!(rows[0]["name"], "db");
    assert_eq!(rows[0]["reported"], "alarming");
    assert_eq!(rows[0]["details"], "replica lost");
    assert_eq!(rows[1]["name"], "calm");
    assert_eq!(rows[1]["reported"], "normal");
    assert!(rows[1]["details"].is_null());
    let detail = get(addr, &path_of(db.addr())).await.json();
    assert_eq!(detail["process"]["reported"], "alarming");
    observer.shutdown().await;
    drop(calm);
    system.shutdown().await;
}

#[tokio::test]
async fn dead_letters_are_fed_with_type_names_never_contents() {
    let system = ActorSystem::create("observer-dead-letters").unwrap();
    let observer = Observer::new(&system).serve().await.unwrap();
    let addr = observer.local_addr();
    // Subscribed once `serve` returned: this one is in the feed.
    let env = Envelope::new(Secret("s3cret-payload"), Addr::NULL, TraceId::generate());
    let nobody = Addr::new(system.node(), 123_456);
    system.report_dead_letter(nobody, &env, DeadLetterReason::NoRecipient);

    let letters = get_until(addr, "/api/v1/dead-letters", |v| {
        v.as_array().is_some_and(|a| !a.is_empty())
    })
    .await;
    assert_eq!(letters[0]["seq"], 1);
    assert_eq!(letters[0]["recipient"], nobody.to_string());
    assert_eq!(letters[0]["reason"], "no_recipient");
    assert!(letters[0]["message"].as_str().unwrap().ends_with("Secret"));
    let snap = get(addr, "/api/v1/snapshot").await;
    assert_eq!(snap.json()["dead_letters"][0]["seq"], 1);
    assert_eq!(snap.json()["system"]["dead_letters"], 1);
    assert!(
        !snap.text().contains("s3cret-payload"),
        "never the contents"
    );
    observer.shutdown().await;
}

#[tokio::test]
async fn live_events_carry_snapshots_while_a_page_is_connected() {
    let system = ActorSystem::create("observer-events").unwrap();
    let gate = Arc::new(Semaphore::new(0));
    let _a = Gated(gate)
        .spawn()
        .named("a")
        .on_system(&system)
        .await
        .unwrap();
    let observer = Observer::new(&system).serve().await.unwrap();
    let res = send(observer.local_addr(), "GET", "/api/v1/events", &[]).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "text/event-stream");
    let mut body = res.into_body();
    let mut text = String::new();
    let event = timeout(BOUND, async {
        loop {
            let frame = body.frame().await.expect("more").expect("a frame");
            if let Some(data) = frame.data_ref() {
                text.push_str(&String::from_utf8_lossy(data));
            }
            if let Some(at) = text.find("event: snapshot\ndata: ") {
                let rest = &text[at + "event: snapshot\ndata: ".len()..];
                if let Some(end) = rest.find('\n') {
                    return rest[..end].to_owned();
                }
            }
        }
    })
    .await
    .expect("a snapshot event in time");
    let snap: serde_json::Value = serde_json::from_str(&event).unwrap();
    assert_eq!(snap["version"], 1);
    assert_eq!(snap["processes"][0]["name"], "a");
    // Shutting down ends the open stream: the shutdown is bounded.
    timeout(BOUND, observer.shutdown())
        .await
        .expect("the shutdown ends with a page open");
    system.shutdown().await;
}

#[tokio::test]
async fn actions_are_refused_unless_enabled() {
    let system = ActorSystem::create("observer-no-actions").unwrap();
    let target = Stubborn.spawn().on_system(&system).await.unwrap().addr();
    let observer = Observer::new(&system).serve().await.unwrap();
    let bearer = format!("Bearer {TOKEN}");
    for verb in ["stop", "kill"] {
        let refused = call(
            observer.local_addr(),
            "POST",
            &format!("{}/{verb}", path_of(target)),
            &[("authorization", &bearer)],
        )
        .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        assert_eq!(refused.json()["error"], "actions_disabled");
    }
    assert!(system.process(target).is_some(), "untouched");
    observer.shutdown().await;
    system.shutdown().await;
}

#[tokio::test]
async fn kill_and_stop_need_the_bearer_token() {
    let system = ActorSystem::create("observer-actions").unwrap();
    let gate = Arc::new(Semaphore::new(0));
    // Anonymous, its handle dropped: found and killed by address.
    let target = Gated(gate).spawn().on_system(&system).await.unwrap().addr();
    let stubborn = Stubborn.spawn().on_system(&system).await.unwrap().addr();
    let observer = Observer::new(&system)
        .enable_actions(TOKEN)
        .serve()
        .await
        .unwrap();
    let at = observer.local_addr();
    let kill = format!("{}/kill", path_of(target));

    let no_token = call(at, "POST", &kill, &[]).await;
    assert_eq!(no_token.status, StatusCode::UNAUTHORIZED);
    assert_eq!(no_token.headers["www-authenticate"], "Bearer");
    assert_eq!(no_token.json()["error"], "unauthorized");
    let wrong = format!("Bearer {TOKEN}x");
    let wrong = call(at, "POST", &kill, &[("authorization", &wrong)]).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(
        system.process(target).is_some(),
        "a refused kill touches nothing"
    );
    let get_kill = call(at, "GET", &kill, &[]).await;
    assert_eq!(get_kill.status, StatusCode::METHOD_NOT_ALLOWED);

    let bearer = format!("Bearer {TOKEN}");
    let auth = [("authorization", bearer.as_str())];
    let killed = call(at, "POST", &kill, &auth).await;
    assert_eq!(killed.status, StatusCode::OK, "{}", killed.text());
    assert_eq!(killed.json()["ok"], true);
    assert!(system.process(target).is_none(), "killed by address");
    let again = call(at, "POST", &kill, &auth).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    assert_eq!(again.json()["error"], "no_process");

    let stop = format!("{}/stop", path_of(stubborn));
    let vetoed = call(at, "POST", &stop, &auth).await;
    assert_eq!(vetoed.status, StatusCode::CONFLICT);
    assert_eq!(vetoed.json()["error"], "vetoed");

    let snap = get(at, "/api/v1/snapshot").await.json();
    assert_eq!(snap["system"]["actions_enabled"], true);
    assert!(
        !get(at, "/api/v1/snapshot").await.text().contains(TOKEN),
        "the token is never shown"
    );
    observer.shutdown().await;
    system.shutdown().await;
}

#[tokio::test]
async fn a_weak_token_or_a_taken_port_is_a_typed_error() {
    let system = ActorSystem::create("observer-errors").unwrap();
    let short = Observer::new(&system).enable_actions("short").serve().await;
    assert!(
        matches!(short, Err(ObserverError::WeakToken { min }) if min == MIN_TOKEN_LEN),
        "{short:?}"
    );
    let spaced = Observer::new(&system)
        .enable_actions("a token with spaces in it")
        .serve()
        .await;
    assert!(matches!(spaced, Err(ObserverError::WeakToken { .. })));

    let first = Observer::new(&system).serve().await.unwrap();
    let taken = Observer::new(&system)
        .bind(first.local_addr())
        .serve()
        .await;
    match taken {
        Err(ObserverError::Bind { addr, .. }) => assert_eq!(addr, first.local_addr()),
        other => panic!("expected a bind error, got {other:?}"),
    }
    first.shutdown().await;
}

#[tokio::test]
async fn a_loopback_observer_answers_loopback_hosts_only() {
    let system = ActorSystem::create("observer-hosts").unwrap();
    let observer = Observer::new(&system).serve().await.unwrap();
    let at = observer.local_addr();
    let rebound = call(at, "GET", "/api/v1/snapshot", &[("host", "evil.example")]).await;
    assert_eq!(rebound.status, StatusCode::FORBIDDEN);
    assert_eq!(rebound.json()["error"], "bad_host");
    let localhost = format!("localhost:{}", at.port());
    let local = call(at, "GET", "/api/v1/snapshot", &[("host", &localhost)]).await;
    assert_eq!(local.status, StatusCode::OK);
    observer.shutdown().await;
}

#[tokio::test]
async fn the_feed_can_be_turned_off_and_the_token_never_prints() {
    let system = ActorSystem::create("observer-no-feed").unwrap();
    let builder = Observer::new(&system)
        .keep_dead_letters(0)
        .enable_actions(TOKEN);
    assert!(
        !format!("{builder:?}").contains(TOKEN),
        "Debug hides the token"
    );
    let observer = builder.serve().await.unwrap();
    let env = Envelope::new(Work, Addr::NULL, TraceId::generate());
    system.report_dead_letter(Addr::NULL, &env, DeadLetterReason::NoRecipient);
    let letters = get(observer.local_addr(), "/api/v1/dead-letters")
        .await
        .json();
    assert_eq!(letters, serde_json::json!([]), "no feed kept");
    let snap = get(observer.local_addr(), "/api/v1/snapshot").await.json();
    assert_eq!(
        snap["system"]["dead_letters"], 1,
        "still counted by the system"
    );
    observer.shutdown().await;
}
