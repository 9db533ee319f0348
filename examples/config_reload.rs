//! Configuration per group: the groups start with `config_reload.toml`,
//! then the configuration is reloaded twice, once by an API call and once
//! by SIGHUP (on Unix), and a refused reload changes nothing. It finishes
//! by itself.
//!
//! `cargo run -p troupe-examples --example config_reload`

use std::time::Duration;

use troupe::config::{self, ConfigFile};
use troupe::prelude::*;

/// The `counters` group's own configuration.
#[derive(serde::Deserialize)]
struct CounterConfig {
    step: u32,
}

#[message]
struct Increment;

#[message(ret = (u32, u32))]
struct GetValue;

/// A counter that adds its configured step, read anew at each message.
fn counters() -> Schema {
    ActorGroup::new()
        .checked_config::<CounterConfig>(|c| match c.step {
            1..=1000 => Ok(()),
            n => Err(format!("step {n} is not in 1..=1000")),
        })
        .exec(|mut ctx| async move {
            let mut value = 0;
            while let Some(envelope) = ctx.recv().await {
                let step = ctx.config::<CounterConfig>().map_or(1, |c| c.step);
                msg!(match envelope {
                    Increment => value += step,
                    (GetValue, token) => {
                        ctx.respond(token, (value, step));
                    }
                })
            }
        })
}

/// A group without a config type of its own may still have a `system`
/// table; here, the `ticker` section has a key it does not know, which the
/// start reports (and the example then fixes).
fn ticker() -> Schema {
    ActorGroup::new().exec(|mut ctx| async move { while ctx.recv().await.is_some() {} })
}

async fn show(system: &ActorSystem, when: &str) {
    let group = system.group("counters").expect("mounted");
    for _ in 0..3 {
        let _ = group.notify(Increment).await;
    }
    match group.send(GetValue).await {
        Ok((value, step)) => println!("{when}: step {step}, value {value}"),
        Err(e) => println!("{when}: no answer: {e}"),
    }
}

fn topology() -> Topology {
    let topology = Topology::empty();
    topology.local("counters").mount(counters());
    topology.local("ticker").mount(ticker());
    topology
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let shipped = concat!(env!("CARGO_MANIFEST_DIR"), "/config_reload.toml");

    // 1. Checked without starting anything: the `ticker` section has a key
    //    no one declared, and every problem is listed.
    let file = config::check(shipped)?;
    if let Err(e) = config::check_with(&file, &topology()) {
        println!("checked: {e}");
    }

    // 2. The example runs from a copy it can rewrite, without the bad key.
    let path =
        std::env::temp_dir().join(format!("troupe-config-reload-{}.toml", std::process::id()));
    let text = std::fs::read_to_string(shipped)?;
    let fixed = text.replace(
        "[ticker]\nevery = \"250ms\"\n",
        "[ticker.system]\nmailbox_capacity = 4\n",
    );
    std::fs::write(&path, &fixed)?;
    let system = troupe::init::try_start(topology().configure(ConfigFile::load(&path)?))?;
    show(&system, "started").await;

    // 3. Reloaded by an API call.
    std::fs::write(&path, fixed.replace("step = 1", "step = 10"))?;
    config::reload_file(&system, &path)?;
    show(&system, "reloaded (API)").await;

    // 4. A configuration the counter refuses changes nothing.
    std::fs::write(&path, fixed.replace("step = 1", "step = 0"))?;
    if let Err(e) = config::reload_file(&system, &path) {
        println!("refused: {e}");
    }
    show(&system, "after the refused reload").await;

    // 5. Reloaded by SIGHUP, as a deployed program would be.
    #[cfg(unix)]
    {
        let mut reloads = config::reload_on_sighup(&system, &path)?;
        std::fs::write(&path, fixed.replace("step = 1", "step = 100"))?;
        std::process::Command::new("kill")
            .args(["-HUP", &std::process::id().to_string()])
            .status()?;
        match tokio::time::timeout(Duration::from_secs(10), reloads.next()).await {
            Ok(Some(Ok(()))) => show(&system, "reloaded (SIGHUP)").await,
            other => println!("no SIGHUP reload: {other:?}"),
        }
    }

    let _ = std::fs::remove_file(&path);
    let report = system.shutdown().await;
    println!(
        "stopped: {} actors, all gracefully: {}",
        report.actors.len(),
        report.all_stopped()
    );
    Ok(())
}
