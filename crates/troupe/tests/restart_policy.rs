//! Restart policy at run time, as elfo's restart tests drive it (a proxy
//! of the test kit, a paused clock where backoff matters): a cap on
//! restarts in a row, a backoff and a count that reset after a run that
//! went well, `ctx.set_restart_policy` for one actor, and a group failing
//! forever with zero backoff that neither spins nor outlives its budget.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use tokio::sync::mpsc;
use tokio::time::Instant;
use troupe::prelude::*;
use troupe::supervision::SupervisionEvent;
use troupe::testkit::{Proxy, Subscription};

/// Makes the actor fail.
#[message]
struct Crash;

/// Answers the address of the actor.
#[message(ret = Addr)]
struct WhoAmI;

/// Makes the actor set its own restart policy (`on_failure`, 10 ms).
#[message]
struct Resilient;

/// A group whose actor reports each start (its key and the time) and fails
/// on `Crash`.
fn crasher(policy: RestartPolicy, starts: mpsc::UnboundedSender<(String, Instant)>) -> Schema {
    ActorGroup::new()
        .router(|envelope| {
            msg!(match envelope {
                Keyed { key, .. } => Outcome::unicast(key.clone()),
                _ => Outcome::unicast("_"),
            })
        })
        .restart_policy(policy)
        .exec(move |mut ctx| {
            let starts = starts.clone();
            async move {
                let _ = starts.send((ctx.key().to_owned(), Instant::now()));
                while let Some(envelope) = ctx.recv().await {
                    msg!(match envelope {
                        Crash => return Err("crash requested"),
                        Keyed { inner, .. } => match inner {
                            Cmd::Crash => return Err("crash requested"),
                            Cmd::Resilient =>
                                ctx.set_restart_policy(RestartPolicy::on_failure().with_backoff(
                                    Duration::from_millis(10),
                                    Duration::from_millis(10)
                                ),),
                        },
                        Resilient => ctx.set_restart_policy(
                            RestartPolicy::on_failure()
                                .with_backoff(Duration::from_millis(10), Duration::from_millis(10)),
                        ),
                        (WhoAmI, token) => {
                            ctx.respond(token, ctx.addr());
                        }
                    })
                }
                Ok(())
            }
        })
}

#[derive(Clone, Copy, Debug)]
enum Cmd {
    Crash,
    Resilient,
}

/// A command for the actor of key `key`.
#[message]
struct Keyed {
    key: String,
    inner: Cmd,
}

fn keyed(key: &str, inner: Cmd) -> Keyed {
    Keyed {
        key: key.to_owned(),
        inner,
    }
}

/// The next start the group reports, within a bound of the paused clock.
async fn next_start(starts: &mut mpsc::UnboundedReceiver<(String, Instant)>) -> (String, Instant) {
    tokio::time::timeout(Duration::from_secs(600), starts.recv())
        .await
        .expect("a start within the bound")
        .expect("the group is there")
}

/// Starts the actor `_` (routing starts keyed actors on demand) and
/// waits for its start; returns its address.
async fn start(proxy: &Proxy, starts: &mut mpsc::UnboundedReceiver<(String, Instant)>) -> Addr {
    let addr = proxy.request(WhoAmI).await.unwrap();
    assert_eq!(next_start(starts).await.0, "_");
    addr
}

/// Whether another start comes within `wait` of the paused clock.
async fn no_start_within(
    starts: &mut mpsc::UnboundedReceiver<(String, Instant)>,
    wait: Duration,
) -> bool {
    tokio::time::timeout(wait, starts.recv()).await.is_err()
}

#[tokio::test(start_paused = true)]
async fn max_retries_ends_the_restarts_in_a_row_and_the_group_goes_on() {
    let (tx, mut starts) = mpsc::unbounded_channel();
    let policy = RestartPolicy::always()
        .with_backoff(Duration::from_millis(10), Duration::from_millis(10))
        .with_max_retries(2);
    let proxy = Proxy::start(crasher(policy, tx)).await.unwrap();
    let mut events = proxy.supervision_events();
    start(&proxy, &mut starts).await;
    for _ in 0..2 {
        proxy.send(Crash).await.unwrap();
        next_start(&mut starts).await; // a retry
    }
    // The third failure in a row is one too many: no restart, even after
    // every backoff has passed.
    proxy.send(Crash).await.unwrap();
    assert!(no_start_within(&mut starts, Duration::from_secs(60)).await);
    let mut restarts = 0;
    while let Some(event) = events.try_recv() {
        assert!(
            !matches!(event, SupervisionEvent::BudgetExceeded { .. }),
            "the group's budget is not what ended it"
        );
        restarts += usize::from(matches!(
            event,
            SupervisionEvent::Started { restart: true, .. }
        ));
    }
    assert_eq!(restarts, 2);
    // The group goes on: a message routed to the key starts it anew.
    let again = proxy.request(WhoAmI).await;
    assert!(again.is_ok(), "{again:?}");
    next_start(&mut starts).await;
    proxy.finish().await;
}

#[tokio::test(start_paused = true)]
async fn a_run_that_went_well_resets_the_backoff_and_the_retries() {
    let (tx, mut starts) = mpsc::unbounded_channel();
    let min = Duration::from_millis(100);
    let policy = RestartPolicy::on_failure()
        .with_backoff(min, Duration::from_secs(60))
        .with_max_retries(3)
        .with_auto_reset(Duration::from_secs(1));
    let proxy = Proxy::start(crasher(policy, tx)).await.unwrap();
    start(&proxy, &mut starts).await;

    // Three quick failures: the backoff doubles, 100, 200, 400 ms.
    for delay in [min, min * 2, min * 4] {
        let crashed = Instant::now();
        proxy.send(Crash).await.unwrap();
        let (_, started) = next_start(&mut starts).await;
        assert_eq!(started - crashed, delay);
    }
    // This incarnation runs well for 2 s (more than `auto_reset`): its
    // failure is the first in a row again, restarted after the minimum
    // backoff although three retries in a row were used up before.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let crashed = Instant::now();
    proxy.send(Crash).await.unwrap();
    let (_, started) = next_start(&mut starts).await;
    assert_eq!(started - crashed, min);
    // The count starts again too: two more quick failures are retried.
    for delay in [min * 2, min * 4] {
        let crashed = Instant::now();
        proxy.send(Crash).await.unwrap();
        let (_, started) = next_start(&mut starts).await;
        assert_eq!(started - crashed, delay);
    }
    // And the fourth in a row is not.
    proxy.send(Crash).await.unwrap();
    assert!(no_start_within(&mut starts, Duration::from_secs(60)).await);
    proxy.finish().await;
}

#[tokio::test(start_paused = true)]
async fn set_restart_policy_holds_for_this_actor_only_and_across_its_restarts() {
    let (tx, mut starts) = mpsc::unbounded_channel();
    // The group's policy: never restart.
    let proxy = Proxy::start(crasher(RestartPolicy::never(), tx))
        .await
        .unwrap();
    proxy.send(keyed("ann", Cmd::Resilient)).await.unwrap();
    assert_eq!(next_start(&mut starts).await.0, "ann");
    proxy.send(keyed("bob", Cmd::Crash)).await.unwrap();
    assert_eq!(next_start(&mut starts).await.0, "bob");

    // `ann` set its own policy: restarted, and again after that.
    for _ in 0..2 {
        proxy.send(keyed("ann", Cmd::Crash)).await.unwrap();
        assert_eq!(next_start(&mut starts).await.0, "ann");
    }
    // `bob` kept the group's: not restarted.
    assert!(no_start_within(&mut starts, Duration::from_secs(60)).await);
    proxy.finish().await;
}

#[tokio::test(start_paused = true)]
async fn set_restart_policy_keeps_the_address_across_the_restart() {
    let (tx, mut starts) = mpsc::unbounded_channel();
    let proxy = Proxy::start(crasher(RestartPolicy::never(), tx))
        .await
        .unwrap();
    let before = start(&proxy, &mut starts).await;
    proxy.send(Resilient).await.unwrap();
    proxy.send(Crash).await.unwrap();
    next_start(&mut starts).await;
    assert_eq!(
        proxy.request(WhoAmI).await,
        Ok(before),
        "restarted in place"
    );
    proxy.finish().await;
}

/// A group whose actor fails at once, forever, with no backoff at all, on
/// a runtime of one thread: each restart yields, so another task of that
/// runtime makes progress between them, and the group's budget ends it.
#[test]
fn a_group_failing_forever_with_zero_backoff_does_not_spin() {
    const BUDGET: usize = 50;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .unwrap();
    runtime.block_on(async {
        let runs = Arc::new(AtomicU64::new(0));
        let failing = {
            let runs = runs.clone();
            ActorGroup::new()
                .restart_policy(
                    RestartPolicy::on_failure()
                        .with_backoff(Duration::ZERO, Duration::ZERO)
                        .with_budget(BUDGET, Duration::from_secs(60)),
                )
                .exec(move |_ctx| {
                    runs.fetch_add(1, Ordering::Relaxed);
                    async { Err::<(), _>("fails at once") }
                })
        };
        // Another task of the same thread: it notes how many runs it saw
        // each time it gets a turn.
        let seen = Arc::new(Mutex::new(Vec::new()));
        let ticker = tokio::spawn({
            let (runs, seen) = (runs.clone(), seen.clone());
            async move {
                loop {
                    seen.lock().push(runs.load(Ordering::Relaxed));
                    tokio::task::yield_now().await;
                }
            }
        });

        let topology = Topology::empty();
        topology.local("failing").mount(failing);
        let system = troupe::init::try_start(topology).unwrap();
        let mut events = Subscription::supervision(&system);
        let gave_up = events
            .find(|e| matches!(e, SupervisionEvent::BudgetExceeded { .. }))
            .await;
        assert!(gave_up.is_ok(), "the budget ends the group: {gave_up:?}");
        ticker.abort();

        let total = runs.load(Ordering::Relaxed);
        assert_eq!(total, BUDGET as u64 + 1, "the first run and its restarts");
        let seen = seen.lock().clone();
        assert!(
            seen.iter().any(|&n| n > 1 && n < total),
            "the other task ran while the group was failing: {seen:?}"
        );
        system.shutdown().await;
    });
}

/// A struct actor that reports each start, fails on `Crash` (an abnormal
/// exit of its own) and sets its own restart policy on `Resilient`.
struct Flaky {
    starts: mpsc::UnboundedSender<(String, Instant)>,
}

impl Actor for Flaky {
    async fn pre_start(&mut self, _: &mut ActorContext<Self>) -> HandlerResult {
        let _ = self.starts.send(("flaky".to_owned(), Instant::now()));
        Ok(())
    }
}

impl Handler<Crash> for Flaky {
    async fn handle(&mut self, _: Crash, ctx: &mut ActorContext<Self>) -> HandlerResult {
        ctx.stop_with(ExitReason::custom("crash requested"));
        Ok(())
    }
}

impl Handler<Resilient> for Flaky {
    async fn handle(&mut self, _: Resilient, ctx: &mut ActorContext<Self>) -> HandlerResult {
        ctx.set_restart_policy(
            RestartPolicy::on_failure()
                .with_backoff(Duration::from_millis(10), Duration::from_millis(10))
                .with_max_retries(1),
        );
        Ok(())
    }
}

#[tokio::test(start_paused = true)]
async fn a_supervised_struct_actor_sets_its_own_restart_policy() {
    use troupe::supervision::{ChildSpec, Supervisor};

    let system = ActorSystem::isolated();
    let (tx, mut starts) = mpsc::unbounded_channel();
    // Its child spec says: never restart.
    let spec = ChildSpec::actor("flaky", move || Flaky { starts: tx.clone() })
        .restart(RestartType::Temporary);
    let root = Supervisor::new("root")
        .with_worker(spec)
        .spawn(&system)
        .await
        .unwrap();
    next_start(&mut starts).await;
    let flaky: ActorRef<Flaky> = system.get("flaky").unwrap();
    flaky.notify(Resilient).await.unwrap();
    flaky.notify(Crash).await.unwrap();
    next_start(&mut starts).await; // restarted on the policy it set
                                   // Its single retry in a row is used: the next failure ends it.
    flaky.notify(Crash).await.unwrap();
    assert!(no_start_within(&mut starts, Duration::from_secs(60)).await);
    root.shutdown().await.unwrap();
    system.shutdown().await;
}
