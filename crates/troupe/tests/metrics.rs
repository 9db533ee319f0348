//! The metrics of messages and processes (see `troupe::metrics`): sent and
//! handled counts, waiting and handling times, mailbox depth, live
//! processes, the `group` label of each kind of process, the per-actor
//! opt-in, and nothing at all with metrics off. Each test has a recorder
//! of its own (`metrics_common`), so they run in parallel.

mod metrics_common;

use std::time::Duration;

use metrics_common::worker::*;
use metrics_common::{on, run};
use tokio::time::timeout;
use troupe::metrics as m;
use troupe::prelude::*;
use troupe::{init, Outcome, SystemConfig};

const BOUND: Duration = Duration::from_secs(5);

const WORKER: &[(&str, &str)] = &[(m::GROUP, "Worker")];

#[test]
fn sent_handled_waiting_and_handling_times_per_group() {
    run(|p| async move {
        let system = ActorSystem::create_with("metrics-messages", on()).unwrap();
        let (w, _) = worker();
        let w = w.spawn().named("w1").on_system(&system).await.unwrap();
        for _ in 0..3 {
            w.notify(Note).await.unwrap();
        }
        assert_eq!(w.send(Ask).await.unwrap(), 7);
        // The last handling ends when the actor asks for more or stops.
        w.stop(StopReason::Graceful).await.unwrap();

        assert_eq!(p.counter(m::MESSAGES_SENT, WORKER), 4);
        assert_eq!(p.counter(m::MESSAGES_HANDLED, WORKER), 4);
        let waiting = p.histogram(m::WAITING_TIME, WORKER);
        let handling = p.histogram(m::HANDLING_TIME, WORKER);
        assert_eq!((waiting.len(), handling.len()), (4, 4));
        assert!(waiting.iter().chain(&handling).all(|s| *s >= 0.0));
        // A struct actor's group is its type's short name, not its
        // registered name: no `actor` label without the opt-in.
        assert_eq!(
            p.series(m::MESSAGES_SENT),
            ["troupe_messages_sent_total{group=Worker}"]
        );
        system.shutdown().await;
    });
}

#[test]
fn the_mailbox_depth_follows_the_queue() {
    run(|p| async move {
        let system = ActorSystem::create_with("metrics-depth", on()).unwrap();
        let (w, Held { gate, mut holding }) = worker();
        let w = w.spawn().on_system(&system).await.unwrap();
        w.notify(Hold).await.unwrap();
        timeout(BOUND, holding.recv()).await.unwrap().unwrap();
        for _ in 0..5 {
            w.notify(Note).await.unwrap();
        }
        assert_eq!(w.mailbox_len(), 5);
        assert_eq!(p.gauge(m::MAILBOX_DEPTH, WORKER), 5.0);
        gate.add_permits(1);
        assert_eq!(timeout(BOUND, w.send(Ask)).await.unwrap().unwrap(), 7);
        assert_eq!(p.gauge(m::MAILBOX_DEPTH, WORKER), 0.0);

        // What is still queued when the actor ends leaves the gauge too.
        w.notify(Hold).await.unwrap();
        timeout(BOUND, holding.recv()).await.unwrap().unwrap();
        w.notify(Note).await.unwrap();
        w.notify(Note).await.unwrap();
        assert_eq!(p.gauge(m::MAILBOX_DEPTH, WORKER), 2.0);
        w.kill().await.unwrap();
        assert_eq!(p.gauge(m::MAILBOX_DEPTH, WORKER), 0.0);
        system.shutdown().await;
    });
}

#[test]
fn live_processes_go_up_and_down() {
    run(|p| async move {
        let system = ActorSystem::create_with("metrics-live", on()).unwrap();
        let (a, _) = worker();
        let (b, _) = worker();
        let a = a.spawn().on_system(&system).await.unwrap();
        let _b = b.spawn().on_system(&system).await.unwrap();
        assert_eq!(p.gauge(m::LIVE_PROCESSES, WORKER), 2.0);
        a.stop(StopReason::Graceful).await.unwrap();
        assert_eq!(p.gauge(m::LIVE_PROCESSES, WORKER), 1.0);
        system.shutdown().await;
        assert_eq!(p.gauge(m::LIVE_PROCESSES, WORKER), 0.0);
        let exits = [(m::GROUP, "Worker"), (m::REASON, "normal")];
        assert_eq!(p.counter(m::EXITS, &exits), 1);
        let exits = [(m::GROUP, "Worker"), (m::REASON, "shutdown")];
        assert_eq!(p.counter(m::EXITS, &exits), 1);
    });
}

/// A functional group that counts per key: routed by the key in `Keyed`.
#[message]
#[derive(Clone)]
struct Keyed(&'static str);

fn keyed(config: ActorConfig) -> Schema {
    ActorGroup::new()
        .router(|env| {
            troupe::msg!(match env {
                Keyed(key) => Outcome::unicast(*key),
                _ => Outcome::Discard,
            })
        })
        .config(config)
        .exec(|mut ctx| async move { while ctx.recv().await.is_some() {} })
}

fn start(name: &'static str, schema: Schema) -> ActorSystem {
    let topology = Topology::empty().with_config(on());
    topology.local(name).mount(schema);
    init::try_start(topology).unwrap()
}

#[test]
fn a_functional_group_is_labelled_with_its_name() {
    run(|p| async move {
        let system = start("keyed", keyed(ActorConfig::default()));
        let group = system.group("keyed").unwrap();
        for key in ["x", "y", "x"] {
            group.notify(Keyed(key)).await.unwrap();
        }
        let keyed = [(m::GROUP, "keyed")];
        assert_eq!(p.counter(m::MESSAGES_SENT, &keyed), 3);
        assert_eq!(p.gauge(m::LIVE_PROCESSES, &keyed), 2.0);
        // The group's supervisor is a struct actor of its own type.
        let supervisor = [(m::GROUP, "GroupSupervisor")];
        assert_eq!(p.gauge(m::LIVE_PROCESSES, &supervisor), 1.0);
        system.shutdown().await;
        assert_eq!(p.counter(m::MESSAGES_HANDLED, &keyed), 3);
        assert_eq!(p.histogram(m::HANDLING_TIME, &keyed).len(), 3);
        assert_eq!(p.gauge(m::LIVE_PROCESSES, &keyed), 0.0);
        assert_eq!(
            p.series(m::MESSAGES_HANDLED),
            [
                "troupe_messages_handled_total{group=GroupSupervisor}",
                "troupe_messages_handled_total{group=keyed}"
            ]
        );
    });
}

#[test]
fn actors_have_series_of_their_own_only_when_they_opt_in() {
    run(|p| async move {
        // A group that opts in: one series per key.
        let per_actor = ActorConfig::default().with_actor_metrics(true);
        let system = start("per-actor", keyed(per_actor.clone()));
        let group = system.group("per-actor").unwrap();
        for key in ["x", "y", "y"] {
            group.notify(Keyed(key)).await.unwrap();
        }
        // Struct actors: two that opt in, one that does not.
        for name in ["a", "b"] {
            let (w, _) = worker();
            let w = w.spawn().named(name).with_config(per_actor.clone());
            w.on_system(&system)
                .await
                .unwrap()
                .notify(Note)
                .await
                .unwrap();
        }
        let (c, _) = worker();
        let c = c.spawn().named("c").on_system(&system).await.unwrap();
        c.notify(Note).await.unwrap();

        assert_eq!(
            p.series(m::MESSAGES_SENT),
            [
                "troupe_messages_sent_total{actor=a,group=Worker}",
                "troupe_messages_sent_total{actor=b,group=Worker}",
                "troupe_messages_sent_total{actor=x,group=per-actor}",
                "troupe_messages_sent_total{actor=y,group=per-actor}",
                // The group's supervisor did not opt in.
                "troupe_messages_sent_total{group=GroupSupervisor}",
                "troupe_messages_sent_total{group=Worker}",
            ]
        );
        let y = [(m::GROUP, "per-actor"), (m::ACTOR, "y")];
        assert_eq!(p.counter(m::MESSAGES_SENT, &y), 2);
        system.shutdown().await;
    });
}

#[test]
fn nothing_is_recorded_with_metrics_off() {
    run(|p| async move {
        let config = SystemConfig::default();
        assert!(!config.metrics, "off by default");
        let topology = Topology::empty().with_config(config);
        topology.local("quiet").mount(keyed(ActorConfig::default()));
        let system = init::try_start(topology).unwrap();
        assert!(!system.metrics_enabled());
        let group = system.group("quiet").unwrap();
        group.notify(Keyed("x")).await.unwrap();
        // Routed nowhere: a dead letter.
        group.notify(Note).await.unwrap();
        let (w, _) = worker();
        let per_actor = ActorConfig::default().with_actor_metrics(true);
        let w = w.spawn().with_config(per_actor).on_system(&system).await;
        let w = w.unwrap();
        w.notify(Note).await.unwrap();
        assert_eq!(w.send(Ask).await.unwrap(), 7);
        w.stop(StopReason::Graceful).await.unwrap();
        assert_eq!(
            w.send(Ask).await,
            Err(RequestError::gone_with(ExitReason::Normal))
        );
        system.shutdown().await;
        assert_eq!(system.dead_letter_count(), 1);
        assert_eq!(p.everything(), Vec::<String>::new());
    });
}
