//! The observer on a small system with something to see: a supervision
//! tree with every kind of process, a busy group, an actor stuck in its
//! handler whose mailbox fills, and a child that crashes every few seconds.
//!
//! ```text
//! cargo run -p troupe-observer --example observer -- [--port N] [--token T]
//!     [--run-for SECS] [--stuck-capacity N] [--crash-every SECS] [--feed-every MS]
//! ```
//!
//! It prints one line, `observer listening on http://127.0.0.1:PORT/`, then
//! serves the page there until Ctrl-C (or for `--run-for` seconds). With
//! `--token T` (or `TROUPE_OBSERVER_TOKEN=T`; at least 16 characters),
//! stop and kill are enabled for requests that carry that token.
//!
//! The tree:
//!
//! ```text
//! app (struct actor, supervising)
//! ├── busy (group): w0..w3, ~200 messages/s; every tenth has no key (a dead letter)
//! ├── stuck: never finishes its first job (and says so: status `alarming`);
//! │   its mailbox fills, then its own heartbeat timer drops ticks
//! ├── crashy: fails every --crash-every seconds and is restarted
//! └── load (supervisor)
//!     ├── producer (plain process): feeds busy
//!     └── feeder (plain process): feeds stuck
//! ```
#![allow(dead_code)] // also compiled into the scrape test, which has its own main

use std::time::Duration;

use troupe::prelude::*;
use troupe::supervision::{process_fn, ChildSpec, Supervisor, SupervisorConfig};
use troupe::{Outcome, RestartPolicy};
use troupe_observer::{install_prometheus, Observer, ObserverHandle, PrometheusHandle};

/// The example's settings, from its command line.
#[derive(Clone, Debug)]
pub struct Options {
    pub port: u16,
    pub token: Option<String>,
    pub run_for: Option<Duration>,
    pub stuck_capacity: usize,
    pub crash_every: Duration,
    pub feed_every: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            port: 0,
            token: None,
            run_for: None,
            stuck_capacity: 256,
            crash_every: Duration::from_secs(3),
            feed_every: Duration::from_millis(200),
        }
    }
}

impl Options {
    /// Parses the arguments (after the program's name).
    pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Self, String> {
        let mut o = Options {
            token: std::env::var("TROUPE_OBSERVER_TOKEN").ok(),
            ..Options::default()
        };
        let mut args = args.into_iter();
        while let Some(flag) = args.next() {
            let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
            let number = |v: String| v.parse::<u64>().map_err(|e| format!("{flag}: {e}"));
            match flag.as_str() {
                "--port" => o.port = value()?.parse().map_err(|e| format!("--port: {e}"))?,
                "--token" => o.token = Some(value()?),
                "--run-for" => o.run_for = Some(Duration::from_secs(number(value()?)?)),
                "--stuck-capacity" => o.stuck_capacity = number(value()?)?.max(1) as usize,
                "--crash-every" => o.crash_every = Duration::from_secs(number(value()?)?.max(1)),
                "--feed-every" => o.feed_every = Duration::from_millis(number(value()?)?.max(1)),
                "-h" | "--help" => return Err(USAGE.to_owned()),
                other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
            }
        }
        Ok(o)
    }
}

const USAGE: &str = "usage: observer [--port N] [--token T] [--run-for SECS] \
[--stuck-capacity N] [--crash-every SECS] [--feed-every MS]";

/// A message for the busy group; its number picks the key.
#[message]
#[derive(Clone)]
pub struct Work(pub u64);

/// A job for the stuck actor.
#[message]
pub struct Job;

/// The stuck actor's own timer tick.
#[message]
#[derive(Clone)]
pub struct Heartbeat;

/// Tells crashy to crash.
#[message]
#[derive(Clone)]
pub struct Crash;

/// Never finishes its first job: its mailbox fills.
pub struct Stuck;

impl Actor for Stuck {
    async fn pre_start(&mut self, ctx: &mut ActorContext<Self>) -> HandlerResult {
        ctx.schedule(Heartbeat)
            .every(Duration::from_millis(250))
            .on_miss(MissPolicy::CatchUp)
            .await?;
        Ok(())
    }
}

impl Handler<Job> for Stuck {
    async fn handle(&mut self, _: Job, ctx: &mut ActorContext<Self>) -> HandlerResult {
        // Says so on the page (the `reported` column), then is
        // deliberately stuck: waits for nothing, forever (a kill ends it).
        ctx.set_status(troupe::Status::ALARMING.with_details("stuck in its first job"));
        std::future::pending::<()>().await;
        Ok(())
    }
}

impl Handler<Heartbeat> for Stuck {
    async fn handle(&mut self, _: Heartbeat, _: &mut ActorContext<Self>) -> HandlerResult {
        Ok(())
    }
}

/// Fails every `every`.
pub struct Crashy {
    every: Duration,
}

impl Actor for Crashy {
    async fn pre_start(&mut self, ctx: &mut ActorContext<Self>) -> HandlerResult {
        ctx.schedule(Crash).after(self.every).await?;
        Ok(())
    }
}

impl Handler<Crash> for Crashy {
    async fn handle(&mut self, _: Crash, ctx: &mut ActorContext<Self>) -> HandlerResult {
        ctx.stop_with(ExitReason::Failed("crashes on purpose".into()));
        Ok(())
    }
}

/// The root: a struct actor that supervises the rest (built in its
/// `pre_start`, again at each restart).
#[derive(Clone)]
pub struct App {
    options: Options,
}

impl Actor for App {
    async fn pre_start(&mut self, ctx: &mut ActorContext<Self>) -> HandlerResult {
        let system = ctx.system().clone();
        let o = &self.options;
        ctx.supervise(ChildSpec::group("busy", busy_group()))
            .await?;
        let capacity = o.stuck_capacity;
        ctx.spawn_child(|| Stuck)
            .named("stuck")
            .with_config(ActorConfig::default().with_mailbox_capacity(capacity))
            .await?;
        let every = o.crash_every;
        ctx.spawn_child(move || Crashy { every })
            .named("crashy")
            .await?;
        let load = Supervisor::new("load")
            .with_config(budget())
            .with_worker(producer(system.clone()))
            .with_worker(feeder(system, o.feed_every));
        ctx.supervise(ChildSpec::supervisor(load)).await?;
        Ok(())
    }
}

fn budget() -> SupervisorConfig {
    SupervisorConfig::one_for_one().max_restarts(1000, Duration::from_secs(60))
}

fn busy_group() -> Schema {
    ActorGroup::new()
        .router(|envelope| {
            msg!(match envelope {
                Work(n) => match n % 10 {
                    9 => Outcome::Discard,
                    _ => Outcome::unicast(format!("w{}", n % 4)),
                },
                _ => Outcome::Discard,
            })
        })
        .restart_policy(RestartPolicy::always())
        .exec(|mut ctx| async move {
            let mut sum = 0u64;
            while let Some(envelope) = ctx.recv().await {
                msg!(match envelope {
                    Work(n) => sum = sum.wrapping_add(n),
                    _ => {}
                })
            }
            let _ = sum;
        })
}

fn producer(system: ActorSystem) -> impl troupe::supervision::Supervisable {
    process_fn("producer", move |mut shutdown| {
        let system = system.clone();
        async move {
            let mut tick = tokio::time::interval(Duration::from_millis(10));
            let mut n = 0u64;
            loop {
                tokio::select! {
                    _ = shutdown.wait_for_shutdown() => return Ok(()),
                    _ = tick.tick() => {}
                }
                if let Some(busy) = system.group("busy") {
                    for _ in 0..2 {
                        n += 1;
                        let _ = busy.try_notify(Work(n));
                    }
                }
            }
        }
    })
}

fn feeder(system: ActorSystem, every: Duration) -> impl troupe::supervision::Supervisable {
    process_fn("feeder", move |mut shutdown| {
        let system = system.clone();
        async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tokio::select! {
                    _ = shutdown.wait_for_shutdown() => return Ok(()),
                    _ = tick.tick() => {}
                }
                if let Some(stuck) = system.get::<Stuck>("stuck") {
                    let _ = stuck.try_notify(Job);
                }
            }
        }
    })
}

/// The running example.
pub struct Demo {
    pub system: ActorSystem,
    pub root: ActorRef<App>,
    pub observer: ObserverHandle,
}

/// Starts the system and its observer (on 127.0.0.1).
pub async fn start(
    options: &Options,
    prometheus: Option<PrometheusHandle>,
    system_name: &str,
) -> Result<Demo, Box<dyn std::error::Error>> {
    // Metrics on: the `troupe_*` series the page's Prometheus endpoint
    // serves.
    let config = troupe::SystemConfig {
        metrics: true,
        ..troupe::SystemConfig::default()
    };
    let system = ActorSystem::create_with(system_name, config)?;
    let app = App {
        options: options.clone(),
    };
    let root = app
        .spawn()
        .named("app")
        .with_config(ActorConfig::default().with_supervision(budget()))
        .on_system(&system)
        .await?;
    let mut observer = Observer::new(&system).bind(([127, 0, 0, 1], options.port));
    if let Some(token) = &options.token {
        observer = observer.enable_actions(token.clone());
    }
    if let Some(handle) = prometheus {
        observer = observer.with_prometheus(handle);
    }
    let observer = observer.serve().await?;
    Ok(Demo {
        system,
        root,
        observer,
    })
}

impl Demo {
    /// Stops the observer, then the system.
    pub async fn stop(self) {
        self.observer.shutdown().await;
        self.system.shutdown_with(Duration::from_secs(5)).await;
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let options = match Options::parse(std::env::args().skip(1)) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let metrics = install_prometheus()?;
    let demo = start(&options, Some(metrics), "observer-demo").await?;
    {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        writeln!(out, "observer listening on {}", demo.observer.url())?;
        out.flush()?;
    }
    match options.run_for {
        Some(d) => {
            tokio::select! {
                _ = tokio::time::sleep(d) => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        None => tokio::signal::ctrl_c().await?,
    }
    demo.stop().await;
    Ok(())
}
