//! Several Tokio runtimes in one system: producers and workers pinned to
//! dedicated runtimes by filters over actor metadata, with named threads.
//!
//! `cargo run --example multi_runtime`, then (while it runs)
//! `ps -T -p $(pidof multi_runtime)` shows `producers#0`, `workers#0..2`
//! and `default#0`. Set `MULTI_RUNTIME_SECS` to keep it running longer.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::runtime as rt;
use troupe::prelude::*;
use troupe::{Outcome, Topology};

#[message]
#[derive(Clone)]
struct Job {
    id: u32,
}

#[message]
struct Done {
    id: u32,
    thread: String,
}

fn start_runtime(name: &str, workers: usize) -> rt::Runtime {
    let name = name.to_string();
    let worker_idx = AtomicUsize::new(0);
    rt::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .thread_name_fn(move || {
            let idx = worker_idx.fetch_add(1, Ordering::SeqCst);
            format!("{name}#{idx}")
        })
        .build()
        .expect("cannot build a Tokio runtime")
}

fn thread() -> String {
    std::thread::current().name().unwrap_or("?").to_owned()
}

fn producers() -> Schema {
    ActorGroup::new().exec(|ctx| async move {
        println!("producer runs on {}", thread());
        for id in 0..6 {
            ctx.send(Job { id }).await.map_err(|e| e.to_string())?;
        }
        Ok::<(), String>(())
    })
}

fn workers() -> Schema {
    ActorGroup::new()
        .router(|envelope| {
            msg!(match envelope {
                Job { id } => Outcome::unicast(format!("w{}", id % 3)),
                _ => Outcome::Default,
            })
        })
        .exec(|mut ctx| async move {
            while let Some(envelope) = ctx.recv().await {
                msg!(match envelope {
                    Job { id } => {
                        let _ = ctx
                            .send(Done {
                                id,
                                thread: thread(),
                            })
                            .await;
                    }
                })
            }
        })
}

fn collector() -> Schema {
    ActorGroup::new().exec(|mut ctx| async move {
        let mut done = 0;
        while let Some(envelope) = ctx.recv().await {
            msg!(match envelope {
                Done {
                    id,
                    thread: worker_thread,
                } => {
                    done += 1;
                    println!(
                        "job {id} done on {worker_thread}; collected on {}",
                        thread()
                    );
                    if done == 6 {
                        let secs = std::env::var("MULTI_RUNTIME_SECS")
                            .ok()
                            .and_then(|s| s.parse().ok())
                            .unwrap_or(0);
                        tokio::time::sleep(Duration::from_secs(secs)).await;
                        ctx.system().terminate();
                    }
                }
            })
        }
    })
}

fn topology() -> (Topology, Vec<rt::Runtime>) {
    let producers_rt = start_runtime("producers", 1);
    let workers_rt = start_runtime("workers", 3);

    let topology = Topology::empty();
    let producer_group = topology.local("producers");
    let worker_group = topology.local("workers");
    let collectors = topology.local("collectors");
    producer_group.route_to(&worker_group, |e| e.is::<Job>());
    worker_group.route_to(&collectors, |e| e.is::<Done>());
    producer_group.mount(producers());
    worker_group.mount(workers());
    collectors.mount(collector());

    // Filters are checked in order; first match wins. Actors that don't
    // match any filter run on the default runtime.
    topology.add_dedicated_rt(
        |meta| meta.group == "producers",
        producers_rt.handle().clone(),
    );
    topology.add_dedicated_rt(|meta| meta.group == "workers", workers_rt.handle().clone());
    (topology, vec![producers_rt, workers_rt])
}

fn main() {
    // Colours only on a terminal: no escape codes in a pipe or a file.
    tracing_subscriber::fmt()
        .with_ansi(std::io::stdout().is_terminal())
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_thread_names(true)
        .init();
    let (topology, runtimes) = topology();
    let report = start_runtime("default", 1).block_on(troupe::init::start(topology));
    println!("terminated: {} actors stopped", report.actors.len());
    for rt in runtimes {
        rt.shutdown_background();
    }
}
