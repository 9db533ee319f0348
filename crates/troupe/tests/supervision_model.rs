//! Property test: random sequences of child failures, normal exits and
//! clock advances, run against the supervision engine and against a small
//! reference model of Erlang/OTP's `supervisor`. Both must produce the same
//! events (exits, stops, restarts, in the same order) and the same outcome
//! (budget exceeded or not).
//!
//! It runs a few cases by default; set `TROUPE_MODEL_CASES` for a long run.

mod supervision_common;

use std::time::Duration;

use proptest::prelude::*;
use supervision_common::*;
use tokio::sync::mpsc;
use tokio::time::Instant;
use troupe::supervision::{
    ChildSpec, RestartStrategy, RestartType, Supervisor, SupervisorConfig, SupervisorError,
};

/// One step: make a running child (picked by index among the running ones)
/// fail or exit normally, after advancing the clock.
#[derive(Clone, Debug)]
struct Step {
    pick: usize,
    fail: bool,
    advance_ms: u64,
}

#[derive(Clone, Debug)]
struct Setup {
    strategy: RestartStrategy,
    restarts: Vec<RestartType>,
    max_restarts: usize,
    within: Duration,
    steps: Vec<Step>,
}

/// The reference model: OTP's rules, written as directly as possible.
struct Model {
    strategy: RestartStrategy,
    /// `(name, restart type, running)`, in start order.
    children: Vec<(String, RestartType, bool)>,
    max_restarts: usize,
    within: Duration,
    restarts: Vec<Duration>,
    gave_up: bool,
}

impl Model {
    fn running(&self) -> Vec<String> {
        self.children
            .iter()
            .filter(|c| c.2)
            .map(|c| c.0.clone())
            .collect()
    }

    fn index(&self, name: &str) -> usize {
        self.children
            .iter()
            .position(|c| c.0 == name)
            .expect("known child")
    }

    /// The events an exit of `name` at time `now` produces.
    fn exit(&mut self, name: &str, fail: bool, now: Duration) -> Vec<String> {
        let mut ev = Vec::new();
        let idx = self.index(name);
        self.children[idx].2 = false;
        ev.push(format!(
            "exit {name} {}",
            if fail { "failed: boom" } else { "normal" }
        ));
        let restart = match self.children[idx].1 {
            RestartType::Permanent => true,
            RestartType::Transient => fail,
            RestartType::Temporary => false,
        };
        if !restart {
            if self.children[idx].1 == RestartType::Temporary
                || self.strategy == RestartStrategy::SimpleOneForOne
            {
                self.children.remove(idx);
            }
            return ev;
        }
        // OTP `add_restart`: forget restarts older than the window, count
        // this one, give up beyond the intensity.
        self.restarts.retain(|t| now - *t <= self.within);
        self.restarts.push(now);
        if self.restarts.len() > self.max_restarts {
            self.gave_up = true;
            ev.push("gave up".into());
            ev.extend(self.shutdown());
            return ev;
        }
        let group: Vec<String> = match self.strategy {
            RestartStrategy::OneForOne | RestartStrategy::SimpleOneForOne => vec![name.into()],
            RestartStrategy::OneForAll => self.children.iter().map(|c| c.0.clone()).collect(),
            RestartStrategy::RestForOne => {
                self.children[idx..].iter().map(|c| c.0.clone()).collect()
            }
        };
        for n in group.iter().rev() {
            let i = self.index(n);
            if self.children[i].2 {
                self.children[i].2 = false;
                ev.push(format!("stop {n} shutdown"));
            }
        }
        self.children
            .retain(|c| c.1 != RestartType::Temporary || !group.contains(&c.0));
        for c in self.children.iter_mut().filter(|c| group.contains(&c.0)) {
            c.2 = true;
            ev.push(format!("restart {}", c.0));
        }
        ev
    }

    /// The events of stopping every running child.
    fn shutdown(&mut self) -> Vec<String> {
        let mut order: Vec<usize> = (0..self.children.len()).collect();
        if self.strategy != RestartStrategy::SimpleOneForOne {
            order.reverse();
        }
        let mut ev = Vec::new();
        for i in order {
            if self.children[i].2 {
                self.children[i].2 = false;
                ev.push(format!("stop {} shutdown", self.children[i].0));
            }
        }
        ev
    }
}

async fn run(setup: Setup) -> Result<(), TestCaseError> {
    let sys = system("model");
    let w = Workers::new();
    let (tx, mut events) = mpsc::unbounded_channel();
    let config = SupervisorConfig::default()
        .strategy_is(setup.strategy)
        .max_restarts(setup.max_restarts, setup.within)
        .observe(tx);
    let mut sup = Supervisor::new("root").with_config(config);
    let mut model = Model {
        strategy: setup.strategy,
        children: Vec::new(),
        max_restarts: setup.max_restarts,
        within: setup.within,
        restarts: Vec::new(),
        gave_up: false,
    };
    for (i, restart) in setup.restarts.iter().enumerate() {
        let name = format!("c{i}");
        sup.add_worker(ChildSpec::worker(w.worker(&name)).restart(*restart));
        model.children.push((name, *restart, true));
    }
    let sup = sup.spawn(&sys).await.expect("starts");
    let started: Vec<String> = model
        .children
        .iter()
        .map(|c| format!("start {}", c.0))
        .collect();
    prop_assert_eq!(take(&mut events, started.len()).await, started);

    let t0 = Instant::now();
    for step in &setup.steps {
        tokio::time::advance(Duration::from_millis(step.advance_ms)).await;
        let running = model.running();
        if running.is_empty() {
            break;
        }
        let name = &running[step.pick % running.len()];
        w.send(name, if step.fail { Cmd::Fail } else { Cmd::Exit });
        let expected = model.exit(name, step.fail, t0.elapsed());
        prop_assert_eq!(
            take(&mut events, expected.len()).await,
            expected,
            "{:?}",
            step
        );
        if model.gave_up {
            break;
        }
    }

    if model.gave_up {
        let outcome = sup.wait().await;
        let gave_up = matches!(outcome, Err(SupervisorError::RestartBudgetExceeded { .. }));
        prop_assert!(gave_up, "outcome: {:?}", outcome);
    } else {
        quiet(&mut events).await;
        let infos = sup.children().await.expect("answers");
        let alive: Vec<String> = infos
            .iter()
            .filter(|c| c.alive)
            .map(|c| c.name.clone())
            .collect();
        prop_assert_eq!(alive, model.running());
        sup.shutdown().await.expect("clean shutdown");
        let expected = model.shutdown();
        prop_assert_eq!(take(&mut events, expected.len()).await, expected);
    }
    quiet(&mut events).await;
    prop_assert_eq!(sys.process_count(), 0);
    Ok(())
}

fn setup() -> impl Strategy<Value = Setup> {
    let strategy = prop_oneof![
        Just(RestartStrategy::OneForOne),
        Just(RestartStrategy::OneForAll),
        Just(RestartStrategy::RestForOne),
        Just(RestartStrategy::SimpleOneForOne),
    ];
    let restart = prop_oneof![
        3 => Just(RestartType::Permanent),
        2 => Just(RestartType::Transient),
        1 => Just(RestartType::Temporary),
    ];
    let step = (
        0..4usize,
        any::<bool>(),
        prop_oneof![Just(0u64), Just(1000), Just(2500), Just(6000)],
    )
        .prop_map(|(pick, fail, advance_ms)| Step {
            pick,
            fail,
            advance_ms,
        });
    (
        strategy,
        prop::collection::vec(restart, 1..=4),
        0..4usize,
        prop_oneof![Just(3u64), Just(5)],
        prop::collection::vec(step, 1..20),
    )
        .prop_map(|(strategy, restarts, max_restarts, within, steps)| Setup {
            strategy,
            restarts,
            max_restarts,
            within: Duration::from_secs(within),
            steps,
        })
}

/// Cases run by default: enough for every test run.
const DEFAULT_CASES: u32 = 96;

/// The number of cases: `TROUPE_MODEL_CASES` if set (a long run, e.g.
/// `TROUPE_MODEL_CASES=10000 cargo test -p troupe --release --test
/// supervision_model`), else [`DEFAULT_CASES`].
fn cases() -> u32 {
    match std::env::var("TROUPE_MODEL_CASES") {
        Ok(v) => v.trim().parse().ok().filter(|n| *n > 0).unwrap_or_else(|| {
            panic!("TROUPE_MODEL_CASES must be a positive number of cases, not {v:?}")
        }),
        Err(_) => DEFAULT_CASES,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn the_engine_follows_the_otp_model(setup in setup()) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .expect("runtime");
        rt.block_on(run(setup))?;
    }
}
