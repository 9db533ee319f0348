//! The one process core, asking a busy actor: request deadlines that cover
//! the wait for mailbox space, requests to oneself, and status snapshots
//! (while a handler is stuck, and the count of live children).
//!
//! Every test runs on paused time: the clock advances only when every task
//! is idle, so waits are deterministic, and each one is bounded.

mod one_core_common;

use std::sync::Arc;
use std::time::Duration;

use one_core_common::*;
use tokio::sync::{mpsc, Notify};
use tokio::time::{timeout, Instant};
use troupe::prelude::*;
use troupe::supervision::RestartType;
use troupe::{init, GroupRef, Lifecycle};

/// How far past its deadline a timed-out request may resolve (the timer
/// wheel rounds up to the millisecond).
const EPSILON: Duration = Duration::from_millis(2);

// ---------------------------------------------------------------------------
// 1. Request deadlines cover the wait for mailbox space.

#[message(ret = u32)]
struct Req;

/// Blocks the actor until released.
#[message]
struct Hold;

/// Fills the mailbox.
#[message]
struct Fill;

/// Asks the caller to request `Req` from this address.
#[message]
struct Probe(Addr);

const DEADLINE: Duration = Duration::from_millis(100);

/// A group whose singleton (mailbox capacity 1) reports its address, and
/// whose handling of [`Hold`] reports `held` and waits for `release`.
fn blocking_group(
    report: mpsc::UnboundedSender<&'static str>,
    addrs: mpsc::UnboundedSender<Addr>,
    release: Arc<Notify>,
) -> Schema {
    ActorGroup::new()
        .config(ActorConfig::default().with_mailbox_capacity(1))
        .exec(move |mut ctx| {
            let report = report.clone();
            let release = release.clone();
            let _ = addrs.send(ctx.addr());
            async move {
                while let Some(envelope) = ctx.recv().await {
                    msg!(match envelope {
                        Hold => {
                            let _ = report.send("held");
                            release.notified().await;
                        }
                        Fill => {}
                        (Req, token) => {
                            ctx.respond(token, 0);
                        }
                    })
                }
            }
        })
}

type Timed = (Result<u32, RequestError>, Duration);

/// A group whose singleton, given a [`Probe`], requests `Req` from that
/// address with [`DEADLINE`] and reports the result and the time it took.
fn caller_group(results: mpsc::UnboundedSender<Timed>) -> Schema {
    ActorGroup::new().exec(move |mut ctx| {
        let results = results.clone();
        async move {
            while let Some(envelope) = ctx.recv().await {
                msg!(match envelope {
                    Probe(addr) => {
                        let started = Instant::now();
                        let res = ctx
                            .request_to(addr, Req)
                            .timeout(Some(DEADLINE))
                            .resolve()
                            .await;
                        let _ = results.send((res, started.elapsed()));
                    }
                })
            }
        }
    })
}

struct Blocked {
    system: ActorSystem,
    group: GroupRef,
    addr: Addr,
    release: Arc<Notify>,
    results: mpsc::UnboundedReceiver<Timed>,
}

/// Starts a blocking group and a caller group, then blocks the former's
/// actor in a handler with one message queued: its mailbox is full.
async fn blocked() -> Blocked {
    let (report_tx, mut report) = mpsc::unbounded_channel();
    let (addr_tx, mut addrs) = mpsc::unbounded_channel();
    let (results_tx, results) = mpsc::unbounded_channel();
    let release = Arc::new(Notify::new());
    let topology = Topology::empty();
    topology
        .local("blocked")
        .mount(blocking_group(report_tx, addr_tx, release.clone()));
    topology.local("caller").mount(caller_group(results_tx));
    let system = init::try_start(topology).expect("the topology starts");
    let group = system.group("blocked").expect("mounted");
    let addr = next(&mut addrs).await;
    timeout(BOUND, group.notify(Hold))
        .await
        .expect("in time")
        .expect("queued");
    assert_eq!(next(&mut report).await, "held");
    timeout(BOUND, group.notify(Fill))
        .await
        .expect("in time")
        .expect("queued");
    assert!(matches!(group.try_notify(Fill), Err(SendError::Full(_))));
    Blocked {
        system,
        group,
        addr,
        release,
        results,
    }
}

fn assert_at_deadline(elapsed: Duration) {
    assert!(
        elapsed >= DEADLINE && elapsed < DEADLINE + EPSILON,
        "resolved after {elapsed:?}, the deadline is {DEADLINE:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_functional_request_into_a_full_mailbox_times_out_at_its_deadline() {
    let mut b = blocked().await;
    let caller = b.system.group("caller").expect("mounted");
    timeout(BOUND, caller.notify(Probe(b.addr)))
        .await
        .expect("in time")
        .expect("queued");
    let (res, elapsed) = next(&mut b.results).await;
    assert_eq!(res, Err(RequestError::Timeout(DEADLINE)));
    assert_at_deadline(elapsed);
    b.release.notify_one();
    timeout(BOUND, b.system.shutdown()).await.expect("in time");
}

#[tokio::test(start_paused = true)]
async fn a_group_ref_request_into_a_full_mailbox_times_out_at_its_deadline() {
    let b = blocked().await;
    let started = Instant::now();
    let res = timeout(BOUND, b.group.send_timeout(Req, Some(DEADLINE)))
        .await
        .expect("in time");
    let elapsed = started.elapsed();
    assert_eq!(res, Err(RequestError::Timeout(DEADLINE)));
    assert_at_deadline(elapsed);
    b.release.notify_one();
    timeout(BOUND, b.system.shutdown()).await.expect("in time");
}

// ---------------------------------------------------------------------------
// 2. Requesting oneself.

#[message(ret = u32)]
struct Other;

/// Answers with what requesting itself gave, and how long it took.
#[message(ret = (Result<u32, RequestError>, Duration))]
struct AskSelf;

struct Selfish;

impl Actor for Selfish {}

impl Handler<Other> for Selfish {
    async fn handle(&mut self, _: Other, _: &mut ActorContext<Self>) -> HandlerResult<u32> {
        Ok(1)
    }
}

impl Handler<AskSelf> for Selfish {
    async fn handle(
        &mut self,
        _: AskSelf,
        ctx: &mut ActorContext<Self>,
    ) -> HandlerResult<(Result<u32, RequestError>, Duration)> {
        let started = Instant::now();
        let res = ctx.self_handle().send(Other).await;
        Ok((res, started.elapsed()))
    }
}

#[tokio::test(start_paused = true)]
async fn requesting_oneself_fails_at_once() {
    let system = system("calling-self");
    let actor = Selfish.spawn().on_system(&system).await.expect("starts");
    let answer = timeout(BOUND, actor.send(AskSelf))
        .await
        .expect("in time")
        .expect("answered");
    assert_eq!(answer, (Err(RequestError::CallingSelf), Duration::ZERO));
    // The actor is unharmed.
    let other = timeout(BOUND, actor.send(Other)).await.expect("in time");
    assert_eq!(other, Ok(1));
    timeout(BOUND, system.shutdown()).await.expect("in time");
}

// ---------------------------------------------------------------------------
// 3. Status while a handler is stuck.

#[message]
struct Block;

#[message]
struct Noop;

struct Stuck {
    gate: Arc<Notify>,
    entered: mpsc::UnboundedSender<()>,
}

impl Actor for Stuck {}

impl Handler<Block> for Stuck {
    async fn handle(&mut self, _: Block, _: &mut ActorContext<Self>) -> HandlerResult {
        let _ = self.entered.send(());
        self.gate.notified().await;
        Ok(())
    }
}

impl Handler<Noop> for Stuck {
    async fn handle(&mut self, _: Noop, _: &mut ActorContext<Self>) -> HandlerResult {
        Ok(())
    }
}

#[tokio::test(start_paused = true)]
async fn status_answers_while_a_handler_is_stuck() {
    let system = system("stuck-status");
    let gate = Arc::new(Notify::new());
    let (entered_tx, mut entered) = mpsc::unbounded_channel();
    let actor = Stuck {
        gate: gate.clone(),
        entered: entered_tx,
    }
    .spawn()
    .on_system(&system)
    .await
    .expect("starts");
    timeout(BOUND, actor.notify(Block))
        .await
        .expect("in time")
        .expect("queued");
    next(&mut entered).await;
    timeout(BOUND, actor.notify(Noop))
        .await
        .expect("in time")
        .expect("queued");

    let asked = Instant::now();
    let status = timeout(BOUND, actor.get_status())
        .await
        .expect("in time")
        .expect("not gone");
    assert_eq!(asked.elapsed(), Duration::ZERO);
    assert_eq!(status.lifecycle, Lifecycle::Running);
    assert_eq!(status.processed, 1);
    assert_eq!(status.mailbox_len, 1);

    gate.notify_one();
    timeout(BOUND, actor.stop(StopReason::Graceful))
        .await
        .expect("in time")
        .expect("stops");
    assert_eq!(actor.exit_reason(), Some(ExitReason::Normal));
    timeout(BOUND, system.shutdown()).await.expect("in time");
}

struct Leaf;
impl Actor for Leaf {}

struct Parent;
impl Actor for Parent {
    async fn pre_start(&mut self, ctx: &mut ActorContext<Self>) -> HandlerResult {
        ctx.spawn_child(|| Leaf)
            .named("leaf-1")
            .restart_type(RestartType::Temporary)
            .await?;
        ctx.spawn_child(|| Leaf).named("leaf-2").await?;
        Ok(())
    }
}

#[tokio::test(start_paused = true)]
async fn status_reports_the_number_of_live_children() {
    let system = ActorSystem::create("one-core-status-children").unwrap();
    let parent = Parent
        .spawn()
        .on_system(&system)
        .supervised()
        .await
        .unwrap();
    assert_eq!(parent.get_status().await.unwrap().children, 2);
    let leaf = system.get::<Leaf>("leaf-1").unwrap();
    leaf.stop(StopReason::Graceful).await.unwrap();
    // Answered once the supervisor handled the exit (a temporary child is
    // not restarted).
    assert_eq!(parent.children().await.unwrap().len(), 1);
    assert_eq!(parent.get_status().await.unwrap().children, 1);
    let lonely = Leaf.spawn().on_system(&system).await.unwrap();
    assert_eq!(lonely.get_status().await.unwrap().children, 0);
    system.shutdown().await;
}
