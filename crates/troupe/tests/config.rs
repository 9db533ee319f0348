//! Configuration per group: validation (invalid TOML, wrong types, unknown
//! keys and groups, every problem at once), the start, and reloads in two
//! phases (a refused one changes nothing; a new mailbox capacity takes
//! effect at once), by API call and by SIGHUP.

use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::{mpsc, Notify};
use troupe::config::{self, ConfigError, ConfigFile, ConfigProblem, ProblemKind};
use troupe::init::{self, InitError};
use troupe::prelude::*;
use troupe::testkit::Proxy;

#[derive(serde::Deserialize)]
struct CounterConfig {
    step: u32,
    #[serde(default)]
    label: String,
}

#[message]
struct Increment;

#[message(ret = u32)]
struct GetValue;

#[message(ret = (u32, String))]
struct GetConfig;

#[message(ret = (Option<String>, Option<bool>))]
struct GetSystem;

/// A counter that steps by its configured `step`, read at each message.
fn counter() -> Schema {
    ActorGroup::new()
        .checked_config::<CounterConfig>(|c| match c.step {
            0..=100 => Ok(()),
            n => Err(format!("step {n} is over 100")),
        })
        .exec(|mut ctx| async move {
            let mut value = 0;
            while let Some(envelope) = ctx.recv().await {
                let config = ctx.config::<CounterConfig>();
                msg!(match envelope {
                    Increment => value += config.map_or(1, |c| c.step),
                    (GetValue, token) => {
                        ctx.respond(token, value);
                    }
                    (GetConfig, token) => {
                        let reply =
                            config.map_or((0, String::new()), |c| (c.step, c.label.clone()));
                        ctx.respond(token, reply);
                    }
                    (GetSystem, token) => {
                        let level = ctx.log_level().map(|l| l.to_string());
                        ctx.respond(token, (level, ctx.metrics_enabled()));
                    }
                })
            }
        })
}

/// A group with no config type of its own.
fn plain() -> Schema {
    ActorGroup::new().exec(|mut ctx| async move { while ctx.recv().await.is_some() {} })
}

fn topology() -> Topology {
    let topology = Topology::empty();
    topology.local("counters").mount(counter());
    topology.local("plain").mount(plain());
    topology
}

fn file(name: &str, text: &str) -> PathBuf {
    let path =
        std::env::temp_dir().join(format!("troupe-config-{}-{name}.toml", std::process::id()));
    std::fs::write(&path, text).unwrap();
    path
}

fn problem(group: &str, key: &str, kind: ProblemKind) -> ConfigProblem {
    ConfigProblem {
        group: group.into(),
        key: key.into(),
        kind,
    }
}

#[test]
fn invalid_toml_is_reported_with_its_place() {
    let path = file("syntax", "[counters]\nstep = \n");
    let err = config::check(&path).unwrap_err();
    let ConfigError::Syntax { origin, message } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(origin, &path.display().to_string());
    assert!(message.contains("line 2"), "{message}");
    assert!(matches!(
        config::check("/nonexistent/troupe.toml"),
        Err(ConfigError::Read { .. })
    ));
}

#[test]
fn check_validates_system_tables_without_starting_anything() {
    let ok = file(
        "check-ok",
        "[counters]\nstep = 1\n[counters.system]\nmailbox_capacity = 8\n",
    );
    assert!(config::check(&ok).is_ok());
    let bad = file(
        "check-bad",
        "[counters.system]\nmailbox_capacity = 0\nflavour = 1\n[plain.system]\noverflow = \"sometimes\"\nrestart_window = \"soon\"\n",
    );
    let err = config::check(&bad).unwrap_err();
    let problems = err.problems();
    assert!(problems.contains(&problem(
        "counters",
        "system.flavour",
        ProblemKind::UnknownKey
    )));
    assert!(problems.iter().any(|p| p.group == "plain"
        && p.key == "system.overflow"
        && matches!(p.kind, ProblemKind::Invalid(_))));
    assert!(problems.contains(&problem(
        "counters",
        "system.mailbox_capacity",
        ProblemKind::Invalid("must be at least 1".into())
    )));
    assert_eq!(
        problems.len(),
        3,
        "one wrong type per table, every unknown key: {err}"
    );
    let capacity = file(
        "check-capacity",
        "[counters.system]\nmailbox_capacity = 0\n",
    );
    assert_eq!(
        config::check(&capacity).unwrap_err().problems(),
        &[problem(
            "counters",
            "system.mailbox_capacity",
            ProblemKind::Invalid("must be at least 1".into())
        )]
    );
}

#[test]
fn wrong_types_are_reported_with_group_and_key_path() {
    let file = ConfigFile::parse(
        "[counters]\nstep = \"two\"\n[counters.system]\nmailbox_capacity = \"big\"\n[plain.system]\nmetrics = \"yes\"\n",
    )
    .unwrap();
    let err = config::check_with(&file, &topology()).unwrap_err();
    let keys: Vec<(&str, &str)> = err
        .problems()
        .iter()
        .map(|p| (p.group.as_str(), p.key.as_str()))
        .collect();
    assert!(keys.contains(&("counters", "step")), "{err}");
    assert!(
        keys.contains(&("counters", "system.mailbox_capacity")),
        "{err}"
    );
    assert!(keys.contains(&("plain", "system.metrics")), "{err}");
    assert_eq!(keys.len(), 3, "{err}");
    assert!(
        err.to_string().contains("[counters] step: invalid type"),
        "{err}"
    );
}

#[test]
fn unknown_keys_and_groups_are_reported_not_ignored() {
    let file = ConfigFile::parse(
        "[counters]\nstep = 1\nspeed = 3\n[counters.system]\nmailbox = 4\n[plain]\ncolour = \"red\"\n[ghosts]\nx = 1\n",
    )
    .unwrap();
    let err = config::check_with(&file, &topology()).unwrap_err();
    let problems = err.problems();
    for expected in [
        problem("ghosts", "", ProblemKind::UnknownGroup),
        problem("counters", "speed", ProblemKind::UnknownKey),
        problem("counters", "system.mailbox", ProblemKind::UnknownKey),
        problem("plain", "colour", ProblemKind::UnknownKey),
    ] {
        assert!(
            problems.contains(&expected),
            "{expected} missing from {err}"
        );
    }
    assert_eq!(problems.len(), 4, "{err}");
}

#[tokio::test(start_paused = true)]
async fn an_invalid_configuration_refuses_the_start() {
    let file = ConfigFile::parse("[counters]\nstep = 500\n").unwrap();
    let err = init::try_start(topology().configure(file)).unwrap_err();
    let InitError::Config(err) = err else {
        panic!("{err:?}")
    };
    assert_eq!(
        err.problems(),
        &[problem(
            "counters",
            "",
            ProblemKind::Rejected("step 500 is over 100".into())
        )]
    );
}

async fn proxy_with(text: &str) -> Proxy {
    let topology = Topology::empty();
    topology.local("plain").mount(plain());
    let topology = topology.configure(ConfigFile::parse(text).unwrap());
    Proxy::start_named("counters", counter(), topology)
        .await
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn groups_see_their_config_through_their_context_and_reloads() {
    let proxy = proxy_with("[counters]\nstep = 2\nlabel = \"a\"\n[counters.system]\nlog_level = \"debug\"\nmetrics = false\n").await;
    proxy.send(Increment).await.unwrap();
    assert_eq!(proxy.request(GetValue).await, Ok(2));
    assert_eq!(proxy.request(GetConfig).await, Ok((2, "a".into())));
    assert_eq!(
        proxy.request(GetSystem).await,
        Ok((Some("DEBUG".into()), Some(false)))
    );

    let next = ConfigFile::parse("[counters]\nstep = 5\n").unwrap();
    config::reload(proxy.system(), &next).unwrap();
    proxy.send(Increment).await.unwrap();
    assert_eq!(proxy.request(GetValue).await, Ok(7));
    assert_eq!(proxy.request(GetConfig).await, Ok((5, String::new())));
    assert_eq!(
        proxy.request(GetSystem).await,
        Ok((None, None)),
        "left out: back to none"
    );
    proxy.finish().await;
}

#[tokio::test(start_paused = true)]
async fn a_reload_refused_by_one_group_changes_no_group() {
    let topology = Topology::empty();
    topology.local("counters").mount(counter());
    topology.local("others").mount(counter());
    let topology = topology.configure(
        ConfigFile::parse(
            "[counters]\nstep = 1\n[others]\nstep = 1\n[others.system]\nmailbox_capacity = 4\n",
        )
        .unwrap(),
    );
    let system = init::try_start(topology).unwrap();
    let counters = system.group("counters").unwrap();
    let others = system.group("others").unwrap();
    assert_eq!(counters.send(GetConfig).await, Ok((1, String::new())));

    // `counters` accepts step 50; `others` refuses 1000: nothing changes.
    let refused = ConfigFile::parse(
        "[counters]\nstep = 50\n[counters.system]\nmailbox_capacity = 1\n[others]\nstep = 1000\n",
    )
    .unwrap();
    let err = config::reload(&system, &refused).unwrap_err();
    assert_eq!(
        err.problems(),
        &[problem(
            "others",
            "",
            ProblemKind::Rejected("step 1000 is over 100".into())
        )]
    );
    assert_eq!(counters.send(GetConfig).await, Ok((1, String::new())));
    assert_eq!(others.send(GetConfig).await, Ok((1, String::new())));
    // The mailbox of `counters` kept its capacity: 64 messages fit.
    for _ in 0..64 {
        counters.try_notify(Increment).unwrap();
    }
    let _ = system.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_reload_that_changes_a_mailbox_capacity_takes_effect() {
    let gate = Arc::new(Notify::new());
    let (entered_tx, mut entered) = mpsc::unbounded_channel();
    #[message]
    struct Hold;
    let held = {
        let gate = gate.clone();
        ActorGroup::new().exec(move |mut ctx| {
            let (gate, entered_tx) = (gate.clone(), entered_tx.clone());
            async move {
                while let Some(envelope) = ctx.recv().await {
                    msg!(match envelope {
                        Hold => {
                            let _ = entered_tx.send(());
                            gate.notified().await;
                        }
                        _ => {}
                    })
                }
            }
        })
    };
    let topology = Topology::empty();
    topology.local("held").mount(held);
    let topology = topology.configure(
        ConfigFile::parse("[held.system]\nmailbox_capacity = 1\noverflow = \"fail_fast\"\n")
            .unwrap(),
    );
    let system = init::try_start(topology).unwrap();
    let group = system.group("held").unwrap();
    group.notify(Hold).await.unwrap();
    entered.recv().await.unwrap();
    // The actor is busy: its mailbox of 1 takes one message, then is full.
    group.try_notify(Increment).unwrap();
    assert!(matches!(
        group.try_notify(Increment),
        Err(SendError::Full(_))
    ));

    let larger =
        ConfigFile::parse("[held.system]\nmailbox_capacity = 3\noverflow = \"fail_fast\"\n")
            .unwrap();
    config::reload(&system, &larger).unwrap();
    group.try_notify(Increment).unwrap();
    group.try_notify(Increment).unwrap();
    assert!(matches!(
        group.try_notify(Increment),
        Err(SendError::Full(_))
    ));
    gate.notify_one();
    let _ = system.shutdown().await;
}

#[cfg(unix)]
#[tokio::test]
async fn sighup_reloads_the_file() {
    let path = file("sighup", "[counters]\nstep = 1\n");
    let topology = Topology::empty();
    topology.local("counters").mount(counter());
    let system = init::try_start(topology.configure(ConfigFile::load(&path).unwrap())).unwrap();
    let mut reloads = config::reload_on_sighup(&system, &path).unwrap();
    let counters = system.group("counters").unwrap();
    assert_eq!(counters.send(GetConfig).await, Ok((1, String::new())));

    std::fs::write(&path, "[counters]\nstep = 3\n").unwrap();
    let status = std::process::Command::new("kill")
        .args(["-HUP", &std::process::id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let outcome = tokio::time::timeout(std::time::Duration::from_secs(10), reloads.next())
        .await
        .unwrap();
    assert_eq!(outcome, Some(Ok(())));
    assert_eq!(counters.send(GetConfig).await, Ok((3, String::new())));

    // A refused file leaves the group as it was, and says why.
    std::fs::write(&path, "[counters]\nstep = \"x\"\n").unwrap();
    std::process::Command::new("kill")
        .args(["-HUP", &std::process::id().to_string()])
        .status()
        .unwrap();
    let outcome = tokio::time::timeout(std::time::Duration::from_secs(10), reloads.next())
        .await
        .unwrap();
    assert!(matches!(outcome, Some(Err(ConfigError::Invalid(_)))));
    assert_eq!(counters.send(GetConfig).await, Ok((3, String::new())));
    let _ = system.shutdown().await;
}
