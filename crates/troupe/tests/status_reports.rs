//! Status subscriptions: a status an actor sets reaches the subscribers of
//! its group, lifecycle changes are published (restart, failure, end), a
//! lagging subscriber loses its oldest reports (counted) without slowing
//! anyone, and with no subscriber nothing is kept. Driven by the test
//! kit's proxy under a paused clock; every wait is bounded.

use std::num::NonZeroUsize;
use std::time::Duration;

use tokio::sync::mpsc;
use troupe::prelude::*;
use troupe::testkit::Proxy;
use troupe::{Status, StatusKind, StatusReport, StatusSubscription};

#[message]
struct Degrade;

#[message]
struct Recover;

#[message]
struct Steps(u32);

#[message]
struct Crash;

/// The next report, within a bound (the clock is paused: a missing report
/// fails the test at once instead of hanging it).
async fn next(sub: &mut StatusSubscription) -> StatusReport {
    tokio::time::timeout(Duration::from_secs(60), sub.recv())
        .await
        .expect("a report within the bound")
        .expect("the system lives")
}

async fn kinds(sub: &mut StatusSubscription, n: usize) -> Vec<StatusKind> {
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(next(sub).await.kind());
    }
    out
}

/// A group whose one actor, key `k`, starts on its first message (after
/// the test subscribed).
fn reporting(policy: RestartPolicy) -> Schema {
    ActorGroup::new()
        .router(|_| Outcome::unicast("k"))
        .restart_policy(policy.with_backoff(Duration::from_millis(100), Duration::from_secs(1)))
        .exec(|mut ctx| async move {
            while let Some(envelope) = ctx.recv().await {
                msg!(match envelope {
                    Degrade => ctx.set_status(Status::ALARMING.with_details("replica lost")),
                    Recover => ctx.set_status(Status::NORMAL),
                    Steps(n) => {
                        for i in 0..n {
                            ctx.set_status_details(format!("step {i}"));
                        }
                    }
                    Crash => panic!("crash requested"),
                    _ => {}
                })
            }
        })
}

#[tokio::test(start_paused = true)]
async fn a_status_set_by_an_actor_reaches_the_subscribers_of_its_group() {
    let proxy = Proxy::start(reporting(RestartPolicy::on_failure()))
        .await
        .unwrap();
    let mut statuses = proxy.system().subscribe_statuses("subject");
    let mut others = proxy.system().subscribe_statuses("another-group");
    proxy.send(Degrade).await.unwrap();
    assert_eq!(
        kinds(&mut statuses, 2).await,
        [StatusKind::Starting, StatusKind::Normal]
    );
    let alarm = next(&mut statuses).await;
    assert_eq!(alarm.kind(), StatusKind::Alarming);
    assert_eq!(alarm.details(), Some("replica lost"));
    assert_eq!((&*alarm.meta.group, &*alarm.meta.key), ("subject", "k"));
    let addr = proxy.actor_addr("k").unwrap();
    assert_eq!(alarm.addr, addr);
    // The snapshot (what the observer shows) says the same.
    let shown = proxy.system().process(addr).unwrap().status.reported;
    assert_eq!(shown, Status::ALARMING.with_details("replica lost"));

    // The same status again changes nothing: no report.
    proxy.send(Degrade).await.unwrap();
    proxy.send(Recover).await.unwrap();
    let back = next(&mut statuses).await;
    assert_eq!((back.kind(), back.details()), (StatusKind::Normal, None));
    proxy.sync().await.unwrap();
    assert!(statuses.try_recv().is_none());
    assert!(others.try_recv().is_none(), "another group's subscriber");
    proxy.finish().await;
}

#[tokio::test(start_paused = true)]
async fn struct_actors_publish_statuses_too() {
    struct Db;
    impl Actor for Db {
        troupe::handles!(Degrade);
    }
    impl Handler<Degrade> for Db {
        async fn handle(&mut self, _: Degrade, ctx: &mut ActorContext<Self>) -> HandlerResult {
            ctx.set_status_details("connecting to db");
            Ok(())
        }
    }
    let proxy = Proxy::actor(|| Db).await.unwrap();
    let mut statuses = proxy.system().subscribe_all_statuses();
    proxy.send(Degrade).await.unwrap();
    let report = loop {
        let r = next(&mut statuses).await;
        if r.details().is_some() {
            break r;
        }
    };
    assert_eq!(report.kind(), StatusKind::Normal);
    assert_eq!(report.details(), Some("connecting to db"));
    assert_eq!(&*report.meta.group, "subject");
    proxy.finish().await;
}

#[tokio::test(start_paused = true)]
async fn a_restart_is_published_with_its_exit_reason_and_clears_the_status() {
    let proxy = Proxy::start(reporting(RestartPolicy::on_failure()))
        .await
        .unwrap();
    let mut statuses = proxy.system().subscribe_statuses("subject");
    proxy.send(Degrade).await.unwrap();
    proxy.send(Crash).await.unwrap();
    assert_eq!(
        kinds(&mut statuses, 3).await,
        [
            StatusKind::Starting,
            StatusKind::Normal,
            StatusKind::Alarming
        ]
    );
    // The failed exec ends (its stop hooks, then the exit).
    assert_eq!(next(&mut statuses).await.kind(), StatusKind::Stopping);
    let ended = next(&mut statuses).await;
    assert_eq!(ended.kind(), StatusKind::Restarting);
    let reason = ended.details().unwrap_or_default();
    assert!(reason.contains("crash requested"), "{reason}");
    // After the backoff: the next incarnation starts, `normal` again.
    assert_eq!(
        kinds(&mut statuses, 2).await,
        [StatusKind::Starting, StatusKind::Normal]
    );
    proxy.finish().await;
}

#[tokio::test(start_paused = true)]
async fn an_end_without_restart_is_published_as_failed() {
    let proxy = Proxy::start(reporting(RestartPolicy::never()))
        .await
        .unwrap();
    let mut statuses = proxy.system().subscribe_statuses("subject");
    proxy.send(Crash).await.unwrap();
    assert_eq!(
        kinds(&mut statuses, 4).await,
        [
            StatusKind::Starting,
            StatusKind::Normal,
            StatusKind::Stopping,
            StatusKind::Restarting
        ]
    );
    let failed = next(&mut statuses).await;
    assert_eq!(failed.kind(), StatusKind::Failed);
    assert!(failed
        .details()
        .unwrap_or_default()
        .contains("crash requested"));
    proxy.finish().await;
}

#[tokio::test(start_paused = true)]
async fn a_lagging_subscriber_loses_its_oldest_reports_counted() {
    let proxy = Proxy::start(reporting(RestartPolicy::on_failure()))
        .await
        .unwrap();
    let mut slow = proxy
        .system()
        .subscribe_statuses("subject")
        .with_capacity(NonZeroUsize::new(2).unwrap());
    let mut fast = proxy.system().subscribe_statuses("subject");
    // starting, normal, then 10 details: 12 reports, nobody reading.
    proxy.send(Steps(10)).await.unwrap();
    proxy.sync().await.unwrap();
    assert_eq!(slow.len(), 2);
    assert_eq!(slow.lost(), 10);
    assert_eq!(next(&mut slow).await.details(), Some("step 8"));
    assert_eq!(next(&mut slow).await.details(), Some("step 9"));
    assert!(slow.try_recv().is_none());
    // Another subscriber keeps its own (larger) queue whole.
    assert_eq!((fast.len(), fast.lost()), (12, 0));
    assert_eq!(next(&mut fast).await.kind(), StatusKind::Starting);
    proxy.finish().await;
}

#[tokio::test(start_paused = true)]
async fn without_subscribers_nothing_is_kept() {
    let proxy = Proxy::start(reporting(RestartPolicy::on_failure()))
        .await
        .unwrap();
    assert_eq!(proxy.system().status_subscribers(), 0);
    proxy.send(Degrade).await.unwrap();
    proxy.sync().await.unwrap();
    // Reports published before a subscription were not kept for it...
    let mut late = proxy.system().subscribe_statuses("subject");
    assert_eq!(proxy.system().status_subscribers(), 1);
    assert!(late.try_recv().is_none());
    // ...while the status itself is still shown.
    let addr = proxy.actor_addr("k").unwrap();
    let shown = proxy.system().process(addr).unwrap().status.reported;
    assert_eq!(shown.kind(), StatusKind::Alarming);
    // A dropped subscription is forgotten.
    drop(late);
    assert_eq!(proxy.system().status_subscribers(), 0);
    proxy.finish().await;
}

#[tokio::test(start_paused = true)]
async fn an_actor_gets_the_reports_as_messages() {
    let (tx, mut seen) = mpsc::unbounded_channel::<(StatusKind, Option<String>)>();
    let watcher = ActorGroup::new().exec(move |mut ctx| {
        let tx = tx.clone();
        async move {
            let statuses = ctx.system().subscribe_statuses("subject");
            ctx.add_stream(statuses);
            while let Some(envelope) = ctx.recv().await {
                msg!(match envelope {
                    r @ StatusReport { .. } => {
                        let _ = tx.send((r.kind(), r.details().map(str::to_owned)));
                    }
                    _ => {}
                })
            }
        }
    });
    let topology = Topology::empty();
    topology.local("watcher").mount(watcher);
    let proxy = Proxy::start_named("subject", reporting(RestartPolicy::on_failure()), topology)
        .await
        .unwrap();
    // The watcher starts on its first message; it subscribes once it runs.
    let watcher = proxy.system().group("watcher").unwrap();
    watcher.notify(Recover).await.unwrap();
    tokio::time::timeout(Duration::from_secs(60), async {
        while proxy.system().status_subscribers() == 0 {
            // A sleep, not a yield: the paused clock moves on, so the
            // bound holds if the watcher never subscribes.
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    })
    .await
    .expect("the watcher subscribes");
    proxy.send(Degrade).await.unwrap();
    let alarm = tokio::time::timeout(Duration::from_secs(60), async {
        loop {
            let (kind, details) = seen.recv().await.expect("the watcher lives");
            if kind == StatusKind::Alarming {
                break details;
            }
        }
    })
    .await
    .expect("the alarm within the bound");
    assert_eq!(alarm.as_deref(), Some("replica lost"));
    proxy.finish().await;
}
