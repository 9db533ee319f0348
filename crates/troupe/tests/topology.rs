//! Routing, topology routes, dedicated runtimes, and struct/functional
//! actors talking to each other.

use std::collections::BTreeMap;
use std::time::Duration;

use tokio::sync::mpsc;
use troupe::prelude::*;
use troupe::{init, Outcome, RequestError};

#[message]
#[derive(Clone, Debug)]
struct Event {
    user: u32,
}

#[message]
struct NoClone {
    user: u32,
}

#[message(ret = (String, u32))]
struct Report;

#[message]
#[derive(Clone)]
struct Shout;

#[message(ret = String)]
struct WhichThread;

/// A keyed group: counts what each key's actor receives.
fn counting(router: impl Fn(&Envelope) -> Outcome + Send + Sync + 'static) -> Schema {
    ActorGroup::new().router(router).exec(|mut ctx| async move {
        let mut seen = 0;
        while let Some(envelope) = ctx.recv().await {
            msg!(match envelope {
                Event { .. } | NoClone { .. } => seen += 1,
                (Report, token) => {
                    let key = ctx.key().to_owned();
                    ctx.respond(token, (key, seen));
                }
            })
        }
    })
}

fn by_user(envelope: &Envelope) -> Outcome {
    msg!(match envelope {
        Event { user } => Outcome::unicast(user.to_string()),
        _ => Outcome::Broadcast,
    })
}

#[tokio::test]
async fn unicast_starts_keyed_actors_on_demand() {
    let topology = Topology::empty();
    topology.local("users").mount(counting(by_user));
    let system = init::try_start(topology).unwrap();
    assert_eq!(
        system.process_count(),
        1,
        "routed groups start nothing eagerly but their supervisor"
    );
    let users = system.group("users").unwrap();
    for user in [1, 2, 1, 3, 1] {
        users.notify(Event { user }).await.unwrap();
    }
    assert_eq!(system.process_count(), 4);
    let report = system.shutdown().await;
    let mut keys: Vec<_> = report
        .actors
        .iter()
        .filter(|a| a.meta.group == "users")
        .map(|a| a.meta.key.to_string())
        .collect();
    keys.sort();
    assert_eq!(keys, ["1", "2", "3"]);
}

#[tokio::test]
async fn multicast_broadcast_and_discard() {
    let topology = Topology::empty();
    topology.local("fan").mount(counting(|envelope| {
        msg!(match envelope {
            Event { user: 0 } => Outcome::Discard,
            Event { user } => Outcome::multicast([format!("a{user}"), format!("b{user}")]),
            NoClone { .. } => Outcome::multicast(["a1", "b1"]),
            (Report, _token) => Outcome::unicast("a1"),
            _ => Outcome::Default,
        })
    }));
    let system = init::try_start(topology).unwrap();
    let mut dead = system.dead_letters();
    let fan = system.group("fan").unwrap();
    fan.notify(Event { user: 1 }).await.unwrap();
    fan.notify(Event { user: 1 }).await.unwrap();
    assert_eq!(fan.send(Report).await, Ok(("a1".to_string(), 2)));
    assert_eq!(
        system.process_count(),
        3,
        "a1, b1 and the group's supervisor"
    );

    // A message that is not Clone reaches the first key; the others get a
    // dead letter.
    fan.notify(NoClone { user: 1 }).await.unwrap();
    let letter = dead.recv().await.unwrap();
    assert_eq!(letter.reason, troupe::DeadLetterReason::NoRecipient);
    assert_eq!(
        fan.send(Report).await,
        Ok(("a1".to_string(), 2)),
        "b1 got it, not a1"
    );

    // Discard: a dead letter, and a request would resolve with Gone.
    fan.notify(Event { user: 0 }).await.unwrap();
    assert_eq!(dead.recv().await.unwrap().message, <Event as Message>::NAME);
    system.shutdown().await;
}

#[tokio::test]
async fn broadcast_reaches_every_running_actor() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let topology = Topology::empty();
    topology.local("all").mount(
        ActorGroup::new()
            .router(|envelope| {
                msg!(match envelope {
                    Event { user } => Outcome::unicast(user.to_string()),
                    _ => Outcome::Broadcast,
                })
            })
            .exec(move |mut ctx| {
                let tx = tx.clone();
                async move {
                    while let Some(envelope) = ctx.recv().await {
                        msg!(match envelope {
                            Event { .. } => {}
                            NoClone { user } => {
                                let _ = tx.send((ctx.key().to_owned(), user));
                            }
                            Shout => {
                                let _ = tx.send((ctx.key().to_owned(), 0));
                            }
                        })
                    }
                }
            }),
    );
    let system = init::try_start(topology).unwrap();
    let all = system.group("all").unwrap();
    for user in 1..=3 {
        all.notify(Event { user }).await.unwrap();
    }
    all.notify(Shout).await.unwrap();
    let mut heard: Vec<_> = Vec::new();
    for _ in 0..3 {
        heard.push(rx.recv().await.unwrap().0);
    }
    heard.sort();
    assert_eq!(
        heard,
        ["1", "2", "3"],
        "every running actor got the broadcast"
    );
    // A message that is not Clone cannot be copied: the broadcast reaches
    // one actor and the two others get dead letters.
    all.notify(NoClone { user: 9 }).await.unwrap();
    let (_key, user) = rx.recv().await.unwrap();
    assert_eq!(user, 9);
    assert_eq!(system.dead_letter_count(), 2);
    system.shutdown().await;
}

#[tokio::test]
async fn groups_send_and_request_through_routes() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let topology = Topology::empty();
    let samples = topology.local("samples");
    let counters = topology.local("counters");
    // A plain pattern in a route filter matches requests of its type too.
    samples.route_to(&counters, |e| {
        msg!(match e {
            Event { .. } | Report => true,
            _ => false,
        })
    });
    counters.mount(counting(|_| Outcome::unicast("only")));
    samples.mount(ActorGroup::new().exec(move |ctx| {
        let tx = tx.clone();
        async move {
            ctx.send(Event { user: 1 })
                .await
                .map_err(|e| e.to_string())?;
            ctx.send(Event { user: 2 })
                .await
                .map_err(|e| e.to_string())?;
            let value = ctx.request(Report).resolve().await;
            let _ = tx.send(value);
            Ok::<(), String>(())
        }
    }));
    let system = init::try_start(topology).unwrap();
    assert_eq!(rx.recv().await, Some(Ok(("only".to_string(), 2))));
    system.shutdown().await;
}

// ---- struct actors and functional actors in one system ----

struct Ledger {
    total: u32,
}
impl Actor for Ledger {}

#[message(ret = u32)]
struct Add(u32);

impl Handler<Add> for Ledger {
    async fn handle(&mut self, msg: Add, _: &mut ActorContext<Self>) -> HandlerResult<u32> {
        self.total += msg.0;
        Ok(self.total)
    }
}

#[message(ret = (String, u32))]
struct AskCounter;

impl Handler<AskCounter> for Ledger {
    async fn handle(
        &mut self,
        _: AskCounter,
        ctx: &mut ActorContext<Self>,
    ) -> HandlerResult<(String, u32)> {
        let counters = ctx.system().group("counters").ok_or("no counters group")?;
        Ok(counters.send(Report).await?)
    }
}

#[tokio::test]
async fn struct_and_functional_actors_exchange_requests() {
    let topology = Topology::empty();
    topology
        .local("counters")
        .mount(counting(|_| Outcome::unicast("c")));
    topology
        .local("bookkeeper")
        .mount(ActorGroup::new().exec(|mut ctx| async move {
            while let Some(envelope) = ctx.recv().await {
                msg!(match envelope {
                    (Add(n), token) => {
                        // Functional → struct: a typed request through the registry.
                        let ledger = ctx.system().get::<Ledger>("ledger");
                        let total = match ledger {
                            Some(l) => l.send(Add(n)).await.unwrap_or(0),
                            None => 0,
                        };
                        ctx.respond(token, total);
                    }
                })
            }
        }));
    let system = init::try_start(topology).unwrap();
    let ledger = Ledger { total: 0 }
        .spawn()
        .named("ledger")
        .on_system(&system)
        .await
        .unwrap();
    system
        .group("counters")
        .unwrap()
        .notify(Event { user: 5 })
        .await
        .unwrap();

    // Struct → functional.
    assert_eq!(ledger.send(AskCounter).await, Ok(("c".to_string(), 1)));
    // Functional → struct, asked from outside through the group.
    let bookkeeper = system.group("bookkeeper").unwrap();
    assert_eq!(bookkeeper.send(Add(3)).await, Ok(3));
    assert_eq!(bookkeeper.send(Add(4)).await, Ok(7));
    assert!(system.shutdown().await.all_stopped());
}

// ---- dedicated runtimes ----

fn named_runtime(name: &'static str, workers: usize) -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .thread_name_fn({
            let idx = std::sync::atomic::AtomicUsize::new(0);
            move || {
                format!(
                    "{name}#{}",
                    idx.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
                )
            }
        })
        .build()
        .unwrap()
}

fn thread_reporter() -> Schema {
    ActorGroup::new().exec(|mut ctx| async move {
        while let Some(envelope) = ctx.recv().await {
            msg!(match envelope {
                (WhichThread, token) => {
                    let name = std::thread::current().name().unwrap_or("?").to_owned();
                    ctx.respond(token, name);
                }
            })
        }
    })
}

#[test]
fn actors_run_on_the_runtime_their_filter_selects() {
    let first = named_runtime("first", 1);
    let second = named_runtime("second", 1);
    let default = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .thread_name("default#0")
        .build()
        .unwrap();
    let topology = Topology::empty();
    for group in ["workers", "writers", "producers", "others"] {
        topology.local(group).mount(thread_reporter());
    }
    // First match wins: "workers" matches both filters and lands on `first`.
    topology.add_dedicated_rt(|meta| meta.group.starts_with('w'), first.handle().clone());
    topology.add_dedicated_rt(
        |meta| meta.group == "workers" || meta.group == "producers",
        second.handle().clone(),
    );
    let threads = default.block_on(async move {
        let system = init::try_start(topology).unwrap();
        let mut threads = BTreeMap::new();
        for group in ["workers", "writers", "producers", "others"] {
            let g = system.group(group).unwrap();
            let name = tokio::time::timeout(Duration::from_secs(5), g.send(WhichThread))
                .await
                .unwrap()
                .unwrap();
            threads.insert(group, name);
        }
        system.shutdown().await;
        threads
    });
    assert_eq!(threads["workers"], "first#0");
    assert_eq!(threads["writers"], "first#0");
    assert_eq!(threads["producers"], "second#0");
    assert_eq!(
        threads["others"], "default#0",
        "unmatched actors run on the default runtime"
    );
    first.shutdown_background();
    second.shutdown_background();
}

#[tokio::test]
async fn a_request_to_a_discarding_router_resolves_gone() {
    let topology = Topology::empty();
    topology.local("void").mount(counting(|_| Outcome::Discard));
    let system = init::try_start(topology).unwrap();
    assert_eq!(
        system.group("void").unwrap().send(Report).await,
        Err(RequestError::gone())
    );
    system.shutdown().await;
}

#[tokio::test]
async fn several_routes_each_get_a_copy_and_a_request_goes_to_the_first() {
    let (tx, mut rx) = mpsc::unbounded_channel::<(&'static str, &'static str)>();
    let listener = |name: &'static str, tx: mpsc::UnboundedSender<(&'static str, &'static str)>| {
        ActorGroup::new().exec(move |mut ctx| {
            let tx = tx.clone();
            async move {
                while let Some(envelope) = ctx.recv().await {
                    msg!(match envelope {
                        Shout => {
                            let _ = tx.send((name, "shout"));
                        }
                        NoClone { .. } => {
                            let _ = tx.send((name, "no-clone"));
                        }
                        (Report, token) => {
                            let _ = tx.send((name, "report"));
                            ctx.respond(token, (name.to_string(), 0));
                        }
                    })
                }
            }
        })
    };
    let (done_tx, mut done) = mpsc::unbounded_channel();
    let topology = Topology::empty();
    let source = topology.local("source");
    let first = topology.local("first");
    let second = topology.local("second");
    source.route_to(&first, |_| true);
    source.route_to(&second, |_| true);
    first.mount(listener("first", tx.clone()));
    second.mount(listener("second", tx.clone()));
    source.mount(ActorGroup::new().exec(move |ctx| {
        let done = done_tx.clone();
        async move {
            ctx.send(Shout).await.map_err(|e| e.to_string())?;
            let answer = ctx
                .request(Report)
                .resolve()
                .await
                .map_err(|e| e.to_string())?;
            ctx.send(NoClone { user: 1 })
                .await
                .map_err(|e| e.to_string())?;
            let _ = done.send(answer.0);
            Ok::<(), String>(())
        }
    }));
    let system = init::try_start(topology).unwrap();
    assert_eq!(
        done.recv().await.as_deref(),
        Some("first"),
        "the request went to the first route"
    );
    let mut seen = Vec::new();
    for _ in 0..4 {
        seen.push(rx.recv().await.unwrap());
    }
    seen.sort();
    assert_eq!(
        seen,
        [
            ("first", "report"),
            ("first", "shout"),
            ("second", "no-clone"),
            ("second", "shout")
        ],
        "both got the Clone message, one the request, the last route the message that is not Clone"
    );
    assert_eq!(
        system.dead_letter_count(),
        1,
        "the copy that could not be made"
    );
    system.shutdown().await;
}
