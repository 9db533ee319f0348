//! A whole pipeline as a child of a troupe supervisor (feature
//! `supervision`): started, stopped and restarted by the supervision engine
//! next to a struct actor; its exit (finished, or given up) reaches the
//! engine like any child's.
#![cfg(all(feature = "supervision", not(loom)))]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::WAIT;
use parking_lot::Mutex;
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};
use troupe::prelude::*;
use troupe::supervision::{ChildSpec, RestartType, SupervisionEvent, Supervisor, SupervisorConfig};
use troupe_pipeline::{
    Flow, PipelineBuilder, PipelineChild, Reader, Rule, Sink, StageOutcome, StageRestart,
    StopReport, Writer,
};

/// A sibling actor that fails on request.
struct Buddy;

impl Actor for Buddy {}

#[message(ret = ())]
struct Crash;

impl Handler<Crash> for Buddy {
    async fn handle(&mut self, _: Crash, _ctx: &mut ActorContext<Self>) -> HandlerResult<()> {
        Err("buddy failed".into())
    }
}

/// One line per supervision event: `start pipe`, `restart pipe`,
/// `exit buddy failed: ...`, `stop pipe shutdown`.
fn brief(event: &SupervisionEvent) -> String {
    match event {
        SupervisionEvent::Started { name, restart, .. } => {
            format!("{} {name}", if *restart { "restart" } else { "start" })
        }
        SupervisionEvent::StartFailed { name, .. } => format!("start-failed {name}"),
        SupervisionEvent::Exited { name, reason, .. } => format!("exit {name} {reason}"),
        SupervisionEvent::Stopped { name, reason, .. } => match reason {
            Some(reason) => format!("stop {name} {reason}"),
            None => format!("stop {name} stuck"),
        },
        SupervisionEvent::BudgetExceeded { .. } => "gave up".to_owned(),
    }
}

async fn next<T>(rx: &mut UnboundedReceiver<T>) -> T {
    tokio::time::timeout(WAIT, rx.recv())
        .await
        .expect("nothing within the bound")
        .expect("sender gone")
}

async fn events(rx: &mut UnboundedReceiver<SupervisionEvent>, n: usize) -> Vec<String> {
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(brief(&next(rx).await));
    }
    out
}

/// The sink of the test pipelines: says when its pipeline's first item
/// arrives (`flow N`) and when it is dropped (`dropped N`), N being the
/// build of the pipeline; panics on every item if `fail`.
struct Watch {
    build: usize,
    life: UnboundedSender<String>,
    flowing: bool,
    fail: bool,
}

impl Sink<u64> for Watch {
    fn process(&mut self, input: &mut Reader<u64>) -> Flow {
        while input.pop().is_some() {
            assert!(!self.fail, "bad item");
            if !self.flowing {
                self.flowing = true;
                let _ = self.life.send(format!("flow {}", self.build));
            }
        }
        if input.is_closed() {
            Flow::Done
        } else {
            Flow::Continue
        }
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = self.life.send(format!("dropped {}", self.build));
    }
}

/// A pipeline child `pipe`: a periodic source and a [`Watch`] sink
/// (restartable: transient, 3 restarts in 5 s). `items`: how many items the
/// source writes before it finishes (`None`: it never does). `fail`: whether
/// the sink of a build panics.
fn pipe(
    life: UnboundedSender<String>,
    items: Option<u64>,
    fail: impl Fn(usize) -> bool + Send + Sync + 'static,
) -> PipelineChild {
    let builds = Arc::new(Mutex::new(0));
    PipelineChild::new("pipe", move || {
        let build = {
            let mut builds = builds.lock();
            *builds += 1;
            *builds
        };
        let _ = life.send(format!("built {build}"));
        let mut builder = PipelineBuilder::new("pipe").threads(2);
        let ticks = builder.channel::<u64>("ticks", 16);
        let mut n = 0;
        builder
            .add("tick", Rule::Periodic(Duration::from_millis(2)))
            .source(ticks, move |out: &mut Writer<u64>| {
                n += 1;
                out.push(n);
                if Some(n) == items {
                    Flow::Done
                } else {
                    Flow::Continue
                }
            });
        let (life, fail) = (life.clone(), fail(build));
        builder
            .add("watch", Rule::OnMessage)
            .restartable(StageRestart::transient())
            .sink(ticks, move || Watch {
                build,
                life: life.clone(),
                flowing: false,
                fail,
            });
        builder
    })
    .stop_wait(WAIT)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pipeline_under_one_for_all_is_restarted_when_its_sibling_actor_fails() {
    let system = ActorSystem::create("pipeline-one-for-all").expect("unique name");
    let (ev_tx, mut ev) = unbounded_channel();
    let (life_tx, mut life) = unbounded_channel();
    let reports = Arc::new(Mutex::new(Vec::<StopReport>::new()));
    let kept = Arc::clone(&reports);
    let child = pipe(life_tx, None, |_| false).on_stop(move |r| kept.lock().push(r.clone()));
    let root = Supervisor::new("root")
        .with_config(SupervisorConfig::one_for_all().observe(ev_tx))
        .with_worker(child)
        .with_worker(ChildSpec::actor("buddy", || Buddy))
        .spawn(&system)
        .await
        .expect("starts");
    assert_eq!(events(&mut ev, 2).await, ["start pipe", "start buddy"]);
    assert_eq!(next(&mut life).await, "built 1");
    assert_eq!(next(&mut life).await, "flow 1");

    // The sibling fails: one-for-all stops the pipeline and starts it again.
    let buddy = system.get::<Buddy>("buddy").expect("registered");
    assert!(buddy.send(Crash).await.is_err());
    let seen = events(&mut ev, 4).await;
    assert!(seen[0].starts_with("exit buddy failed:"), "{seen:?}");
    assert_eq!(
        seen[1..],
        ["stop pipe shutdown", "restart pipe", "restart buddy"]
    );
    // The first pipeline was stopped (its stages dropped on their threads)
    // before the second was built, and the second flows.
    assert_eq!(next(&mut life).await, "dropped 1");
    assert_eq!(next(&mut life).await, "built 2");
    assert_eq!(next(&mut life).await, "flow 2");
    {
        let reports = reports.lock();
        assert_eq!(reports.len(), 1);
        assert!(reports[0].is_clean(), "{:?}", reports[0]);
        // Stopped, or finished: `watch` may see its input close (its
        // source dropped on the other thread) before its own thread stops.
        assert!(
            reports[0]
                .stages
                .iter()
                .all(|s| matches!(s.outcome, StageOutcome::Stopped | StageOutcome::Finished)),
            "{:?}",
            reports[0]
        );
    }
    let children = root.children().await.expect("children");
    assert_eq!(children[0].name, "pipe");
    assert_eq!((children[0].restarts, children[0].alive), (1, true));

    root.shutdown().await.expect("clean shutdown");
    assert_eq!(next(&mut life).await, "dropped 2");
    assert_eq!(reports.lock().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pipeline_that_gives_up_exits_abnormally_and_is_restarted() {
    let system = ActorSystem::create("pipeline-gives-up").expect("unique name");
    let (ev_tx, mut ev) = unbounded_channel();
    let (life_tx, mut life) = unbounded_channel();
    // The first build's sink panics on every item: 3 restarts, then the
    // pipeline gives up; the second build's does not.
    let child = pipe(life_tx, None, |build| build == 1);
    let root = Supervisor::new("root")
        .with_config(SupervisorConfig::one_for_one().observe(ev_tx))
        .with_worker(child)
        .spawn(&system)
        .await
        .expect("starts");
    assert_eq!(events(&mut ev, 1).await, ["start pipe"]);
    assert_eq!(
        events(&mut ev, 2).await,
        [
            "exit pipe failed: stage `watch` needed more than 3 restart(s) within 5s \
             (last exit: failed: panic: bad item): the pipeline gave up",
            "restart pipe"
        ]
    );
    let lines = [next(&mut life).await, next(&mut life).await];
    assert_eq!(lines, ["built 1", "dropped 1"]);
    // Three more incarnations of the first build's sink, all dropped.
    for _ in 0..3 {
        assert_eq!(next(&mut life).await, "dropped 1");
    }
    assert_eq!(next(&mut life).await, "built 2");
    assert_eq!(next(&mut life).await, "flow 2");
    root.shutdown().await.expect("clean shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_finished_transient_pipeline_exits_normally_and_stays_finished() {
    let system = ActorSystem::create("pipeline-finishes").expect("unique name");
    let (ev_tx, mut ev) = unbounded_channel();
    let (life_tx, mut life) = unbounded_channel();
    let child =
        ChildSpec::worker(pipe(life_tx, Some(3), |_| false)).restart(RestartType::Transient);
    let root = Supervisor::new("root")
        .with_config(SupervisorConfig::one_for_one().observe(ev_tx))
        .with_worker(child)
        .spawn(&system)
        .await
        .expect("starts");
    assert_eq!(events(&mut ev, 2).await, ["start pipe", "exit pipe normal"]);
    assert_eq!(next(&mut life).await, "built 1");
    assert_eq!(next(&mut life).await, "flow 1");
    assert_eq!(next(&mut life).await, "dropped 1");
    let children = root.children().await.expect("children");
    assert_eq!((children[0].alive, children[0].restarts), (false, 0));
    root.shutdown().await.expect("clean shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pipeline_that_cannot_be_built_is_a_failed_start() {
    let system = ActorSystem::create("pipeline-bad-wiring").expect("unique name");
    let child = PipelineChild::new("pipe", || {
        let mut builder = PipelineBuilder::new("pipe");
        // A channel nobody writes: `build` refuses it.
        let lonely = builder.channel::<u64>("lonely", 4);
        builder
            .add("sink", Rule::OnMessage)
            .sink(lonely, |_: &mut Reader<u64>| Flow::Continue);
        builder
    });
    let error = Supervisor::new("root")
        .with_worker(child)
        .spawn(&system)
        .await
        .expect_err("the child cannot start");
    let message = error.to_string();
    assert!(message.contains("pipe"), "{message}");
    assert!(
        message.contains("channel `lonely` has no writer"),
        "{message}"
    );
}
