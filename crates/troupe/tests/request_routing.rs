//! Requests routed through the topology find a responder: they go to the
//! first route that takes them, skipping groups whose router discards them
//! and actors waiting for a restart; gentle outcomes reach only actors that
//! exist. Written as elfo's tests are: a proxy actor, paused time.

use std::time::Duration;

use troupe::prelude::*;
use troupe::supervision::SupervisionEvent;
use troupe::testkit::{Proxy, PROXY_GROUP};
use troupe::{DeadLetterReason, Outcome, RequestError, RestartPolicy, Topology};

/// Which group (and key) answers.
#[message(ret = String)]
#[derive(Clone)]
struct Which {
    user: u32,
}

/// Like `Which`, for any of several users.
#[message(ret = String)]
#[derive(Clone)]
struct WhichOf {
    users: Vec<u32>,
}

/// Makes the actors of group `group` that handle it fail.
#[message]
#[derive(Clone)]
struct Crash {
    group: String,
}

/// Starts a user's session.
#[message]
#[derive(Clone)]
struct Login {
    user: u32,
}

/// For a user's session, if there is one.
#[message]
#[derive(Clone)]
struct Notice {
    user: u32,
}

/// For the sessions of these users that exist.
#[message]
#[derive(Clone)]
struct NoticeAll {
    users: Vec<u32>,
}

/// How many notices a session got.
#[message(ret = u32)]
struct Notices {
    user: u32,
}

/// A group whose actors are restarted an hour after they fail.
fn late_restarts() -> ActorGroup {
    ActorGroup::new().restart_policy(
        RestartPolicy::on_failure()
            .with_backoff(Duration::from_secs(3600), Duration::from_secs(3600)),
    )
}

/// Its actors answer `Which` with `name/key`, count notices and fail on
/// a `Crash` for their group.
fn answers(group: ActorGroup, name: &'static str) -> Schema {
    group.exec(move |mut ctx| async move {
        let mut notices = 0;
        while let Some(envelope) = ctx.recv().await {
            msg!(match envelope {
                (Which { .. }, token) => {
                    let answer = format!("{name}/{}", ctx.key());
                    ctx.respond(token, answer);
                }
                (WhichOf { .. }, token) => {
                    let answer = format!("{name}/{}", ctx.key());
                    ctx.respond(token, answer);
                }
                (Notices { .. }, token) => {
                    ctx.respond(token, notices);
                }
                Notice { .. } | NoticeAll { .. } => notices += 1,
                Crash { group } => {
                    if group == name {
                        return Err("crashed on purpose");
                    }
                }
                _ => {}
            })
        }
        Ok(())
    })
}

/// Sessions keyed by user: `Login` starts one, `Notice`, `NoticeAll`,
/// `Which` and `WhichOf` reach only those that exist.
fn sessions() -> Schema {
    let router = late_restarts().router(|envelope| {
        msg!(match envelope {
            Login { user } => Outcome::unicast(user.to_string()),
            (Notices { user }, _token) => Outcome::unicast(user.to_string()),
            Notice { user } => Outcome::gentle_unicast(user.to_string()),
            NoticeAll { users } => Outcome::gentle_multicast(users.iter().map(u32::to_string)),
            (Which { user }, _token) => Outcome::gentle_unicast(user.to_string()),
            (WhichOf { users }, _token) => {
                Outcome::gentle_multicast(users.iter().map(u32::to_string))
            }
            _ => Outcome::Discard,
        })
    });
    answers(router, "sessions")
}

/// A group whose router discards everything.
fn discarding() -> Schema {
    answers(late_restarts().router(|_| Outcome::Discard), "discarding")
}

/// A proxy whose routes go to `before` (in order), then to `subject`.
async fn proxy_with(before: Vec<(&'static str, Schema)>, subject: (&str, Schema)) -> Proxy {
    let topology = Topology::empty();
    let proxy = topology.local(PROXY_GROUP);
    for (name, schema) in before {
        let group = topology.local(name);
        group.mount(schema);
        proxy.route_to(&group, |_| true);
    }
    Proxy::start_named(subject.0, subject.1, topology)
        .await
        .unwrap()
}

/// Makes the singleton of group `name` fail and waits until it waits for
/// its restart (an hour away).
async fn crash(proxy: &Proxy, name: &str) {
    let mut events = proxy.supervision_events();
    proxy
        .send(Crash {
            group: name.to_owned(),
        })
        .await
        .unwrap();
    events
        .find(|e| matches!(e, SupervisionEvent::Exited { supervisor, .. } if supervisor == name))
        .await
        .unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_discarding_route_is_skipped_without_a_dead_letter() {
    let proxy = proxy_with(
        vec![("discarding", discarding())],
        ("answering", answers(late_restarts(), "answering")),
    )
    .await;
    let mut dead = proxy.dead_letters();
    assert_eq!(
        proxy.request(Which { user: 1 }).await,
        Ok("answering/_".to_string())
    );
    assert!(
        dead.try_recv().is_none(),
        "a skipped route is no dead letter"
    );
    proxy.finish().await;
}

#[tokio::test(start_paused = true)]
async fn a_group_in_restart_backoff_is_skipped() {
    let proxy = proxy_with(
        vec![("failing", answers(late_restarts(), "failing"))],
        ("answering", answers(late_restarts(), "answering")),
    )
    .await;
    assert_eq!(
        proxy.request(Which { user: 1 }).await,
        Ok("failing/_".to_string()),
        "the first route takes it while its actor runs"
    );
    crash(&proxy, "failing").await;
    let mut dead = proxy.dead_letters();
    let asked = tokio::time::Instant::now();
    assert_eq!(
        proxy.request(Which { user: 1 }).await,
        Ok("answering/_".to_string()),
        "the failing group's actor waits an hour for its restart"
    );
    assert_eq!(asked.elapsed(), Duration::ZERO, "answered without waiting");
    assert!(
        dead.try_recv().is_none(),
        "a skipped route is no dead letter"
    );
    proxy.finish().await;
}

#[tokio::test(start_paused = true)]
async fn a_lone_group_in_restart_backoff_answers_after_its_restart() {
    let second = ActorGroup::new().restart_policy(
        RestartPolicy::on_failure().with_backoff(Duration::from_secs(1), Duration::from_secs(1)),
    );
    let proxy = Proxy::start_named("failing", answers(second, "failing"), Topology::empty())
        .await
        .unwrap();
    crash(&proxy, "failing").await;
    let asked = tokio::time::Instant::now();
    assert_eq!(
        proxy.request(Which { user: 1 }).await,
        Ok("failing/_".to_string()),
        "no other route takes it: the next incarnation answers"
    );
    assert_eq!(asked.elapsed(), Duration::from_secs(1), "after the backoff");
    proxy.finish().await;
}

#[tokio::test(start_paused = true)]
async fn no_route_takes_it_gone_and_one_dead_letter() {
    let proxy = proxy_with(
        vec![("discarding", discarding()), ("sessions", sessions())],
        ("last", discarding()),
    )
    .await;
    let mut dead = proxy.dead_letters();
    let answer = proxy.request(Which { user: 1 }).await;
    assert!(
        matches!(answer, Err(RequestError::Gone { .. })),
        "{answer:?}"
    );
    let letter = dead.recv().await;
    assert_eq!(letter.reason, DeadLetterReason::NoRecipient);
    assert_eq!(letter.message, <Which as Message>::NAME);
    assert_eq!(letter.sender, proxy.addr());
    assert!(
        dead.try_recv().is_none(),
        "one dead letter, not one per route"
    );
    proxy.finish().await;
}

#[tokio::test(start_paused = true)]
async fn gentle_tells_reach_existing_actors_only() {
    let proxy = Proxy::start_named("sessions", sessions(), Topology::empty())
        .await
        .unwrap();
    let mut dead = proxy.dead_letters();
    proxy.send(Login { user: 1 }).await.unwrap();
    proxy.send(Notice { user: 1 }).await.unwrap();
    assert!(dead.try_recv().is_none());

    // No session 2: a dead letter, and no session is started for it.
    proxy.send(Notice { user: 2 }).await.unwrap();
    let letter = dead.recv().await;
    assert_eq!(letter.reason, DeadLetterReason::NoRecipient);
    assert_eq!(letter.message, <Notice as Message>::NAME);

    // A gentle multicast skips the missing keys...
    proxy
        .send(NoticeAll {
            users: vec![2, 1, 3],
        })
        .await
        .unwrap();
    assert!(dead.try_recv().is_none(), "session 1 got it");
    // ...and is a dead letter when none exists.
    proxy.send(NoticeAll { users: vec![4, 5] }).await.unwrap();
    assert_eq!(dead.recv().await.message, <NoticeAll as Message>::NAME);

    assert_eq!(proxy.request(Notices { user: 1 }).await, Ok(2));
    let report = proxy.finish().await;
    let mut keys: Vec<_> = report
        .actors
        .iter()
        .filter(|a| a.meta.group == "sessions")
        .map(|a| a.meta.key.to_string())
        .collect();
    keys.sort();
    assert_eq!(keys, ["1"], "gentle outcomes started no session");
}

#[tokio::test(start_paused = true)]
async fn gentle_requests_move_on_when_no_actor_exists() {
    let proxy = proxy_with(
        vec![("sessions", sessions())],
        ("fallback", answers(late_restarts(), "fallback")),
    )
    .await;
    let mut dead = proxy.dead_letters();
    proxy.send(Login { user: 1 }).await.unwrap();
    assert_eq!(
        proxy.request(Which { user: 1 }).await,
        Ok("sessions/1".to_string())
    );
    assert_eq!(
        proxy.request(Which { user: 2 }).await,
        Ok("fallback/_".to_string()),
        "no session 2: the next route takes it"
    );
    assert_eq!(
        proxy.request(WhichOf { users: vec![3, 1] }).await,
        Ok("sessions/1".to_string()),
        "the first existing session of a gentle multicast takes it"
    );
    assert_eq!(
        proxy.request(WhichOf { users: vec![3, 4] }).await,
        Ok("fallback/_".to_string())
    );
    assert!(
        dead.try_recv().is_none(),
        "skipped routes are no dead letters"
    );
    let report = proxy.finish().await;
    let sessions = report
        .actors
        .iter()
        .filter(|a| a.meta.group == "sessions")
        .count();
    assert_eq!(sessions, 1, "gentle requests started no session");
}

#[tokio::test(start_paused = true)]
async fn a_request_to_several_keys_goes_to_one_actor_without_dead_letters() {
    let proxy = Proxy::start_named("sessions", sessions(), Topology::empty())
        .await
        .unwrap();
    proxy.send(Login { user: 1 }).await.unwrap();
    proxy.send(Login { user: 2 }).await.unwrap();
    let mut dead = proxy.dead_letters();
    let sessions = proxy.system().group("sessions").unwrap();
    assert_eq!(
        sessions
            .send(WhichOf {
                users: vec![3, 2, 1]
            })
            .await,
        Ok("sessions/2".to_string()),
        "the first existing key takes it"
    );
    assert!(
        dead.try_recv().is_none(),
        "the other keys are no dead letters"
    );
    proxy.finish().await;
}
