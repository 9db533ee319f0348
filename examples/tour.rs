//! A tour of troupe: a small system that exercises what exists and prints
//! what happens. Run it with `cargo run --release --example tour`.

use std::io::IsTerminal;
use std::time::Duration;

use troupe::prelude::*;
use troupe::supervision::{SupervisionEvent, SupervisorConfig};
use troupe::{ActorSystem, Failure, OverflowPolicy, SystemConfig};

#[message]
struct Deposit(u64);

#[message]
struct Withdraw(u64);

#[message(ret = u64)]
struct Balance;

#[message(ret = u64)]
struct Audit;

struct Account {
    balance: u64,
}

impl Actor for Account {
    async fn pre_start(&mut self, ctx: &mut ActorContext<Self>) -> HandlerResult {
        println!("[{}] account opened with {}", ctx.addr(), self.balance);
        Ok(())
    }

    async fn pre_stop(&mut self, _ctx: &mut ActorContext<Self>, reason: StopReason) -> bool {
        let allow = self.balance == 0;
        println!(
            "  pre_stop({reason:?}): balance {}, {}",
            self.balance,
            if allow { "closing" } else { "veto" }
        );
        allow
    }

    async fn on_stopped(&mut self, ctx: &mut ActorContext<Self>, reason: &ExitReason) {
        println!("[{}] account closed: {reason}", ctx.addr());
    }

    async fn handle_failure(&mut self, _ctx: &mut ActorContext<Self>, failure: Failure) {
        println!("  handle_failure: {failure} (the account goes on)");
    }
}

impl Handler<Deposit> for Account {
    async fn handle(&mut self, msg: Deposit, _: &mut ActorContext<Self>) -> HandlerResult {
        self.balance += msg.0;
        Ok(())
    }
}

impl Handler<Withdraw> for Account {
    async fn handle(&mut self, msg: Withdraw, _: &mut ActorContext<Self>) -> HandlerResult {
        self.balance = self
            .balance
            .checked_sub(msg.0)
            .ok_or_else(|| format!("cannot withdraw {} from {}", msg.0, self.balance))?;
        Ok(())
    }
}

impl Handler<Balance> for Account {
    async fn handle(&mut self, _: Balance, _: &mut ActorContext<Self>) -> HandlerResult<u64> {
        Ok(self.balance)
    }
}

impl Handler<Audit> for Account {
    async fn handle(&mut self, _: Audit, _: &mut ActorContext<Self>) -> HandlerResult<u64> {
        Err("the auditor found a discrepancy".into())
    }
}

/// An actor that is slow on purpose, to show backpressure.
struct Slow;
impl Actor for Slow {}

impl Handler<Deposit> for Slow {
    async fn handle(&mut self, _: Deposit, _: &mut ActorContext<Self>) -> HandlerResult {
        tokio::time::sleep(Duration::from_millis(1)).await;
        Ok(())
    }
}

/// A worker that a supervisor restarts when it crashes.
#[derive(Default)]
struct Teller {
    served: u32,
}

#[message(ret = u32)]
struct Serve;

#[message(ret = ())]
struct Faint;

impl Actor for Teller {
    async fn pre_start(&mut self, ctx: &mut ActorContext<Self>) -> HandlerResult {
        println!("  [{}] teller starts fresh", ctx.addr());
        Ok(())
    }
}

impl Handler<Serve> for Teller {
    async fn handle(&mut self, _: Serve, _: &mut ActorContext<Self>) -> HandlerResult<u32> {
        self.served += 1;
        Ok(self.served)
    }
}

impl Handler<Faint> for Teller {
    async fn handle(&mut self, _: Faint, _: &mut ActorContext<Self>) -> HandlerResult<()> {
        panic!("the teller fainted")
    }
}

/// Supervises the teller (one-for-one, at most 3 restarts in 5 s).
struct Branch;

impl Actor for Branch {
    async fn pre_start(&mut self, ctx: &mut ActorContext<Self>) -> HandlerResult {
        ctx.spawn_child(Teller::default).named("teller").await?;
        Ok(())
    }
}

/// Counts down on a timer, then stops itself.
struct Clock {
    left: u32,
}

#[derive(Clone)]
#[message]
struct Tick;

impl Actor for Clock {
    async fn pre_start(&mut self, ctx: &mut ActorContext<Self>) -> HandlerResult {
        ctx.schedule(Tick).every(Duration::from_millis(10)).await?;
        Ok(())
    }
}

impl Handler<Tick> for Clock {
    async fn handle(&mut self, _: Tick, ctx: &mut ActorContext<Self>) -> HandlerResult {
        println!("  tick ({} left)", self.left);
        self.left -= 1;
        if self.left == 0 {
            ctx.stop();
        }
        Ok(())
    }
}

#[message(ret = u32)]
struct Double(u32);

/// A functional actor: a group whose `exec` matches envelopes with `msg!`.
fn doubler() -> Schema {
    ActorGroup::new().exec(|mut ctx| async move {
        while let Some(envelope) = ctx.recv().await {
            msg!(match envelope {
                (Double(n), token) => {
                    ctx.respond(token, n * 2);
                }
            })
        }
    })
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // `RUST_LOG=info` shows the framework's own events (actors starting, ...).
    // Colours only on a terminal: no escape codes in a pipe or a file.
    tracing_subscriber::fmt()
        .with_ansi(std::io::stdout().is_terminal())
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    // Handlers panic on purpose below: print one line, not a backtrace.
    std::panic::set_hook(Box::new(|info| println!("  (panic: {info})")));
    let config = SystemConfig {
        shutdown_timeout: Duration::from_secs(2),
        ..SystemConfig::default()
    };
    let system = ActorSystem::create_with("tour", config)?;

    println!("== struct actors, notify and send");
    let alice = Account { balance: 10 }
        .spawn()
        .named("alice")
        .on_system(&system)
        .await?;
    alice.notify(Deposit(5)).await?;
    println!("  alice has {}", alice.send(Balance).await?);

    println!("== a failed notify goes to handle_failure");
    alice.notify(Withdraw(100)).await?;
    println!("  alice still has {}", alice.send(Balance).await?);

    println!("== pre_stop can veto a graceful stop");
    match alice.stop(StopReason::Graceful).await {
        Err(e) => println!("  stop: {e}"),
        Ok(()) => println!("  stopped"),
    }

    println!("== the registry");
    let found = system
        .get::<Account>("alice")
        .ok_or("alice is not registered")?;
    println!(
        "  registered: {:?}; lookup finds {}",
        system.registered(),
        found.id()
    );

    println!("== a failed request stops the actor (its supervisor decides)");
    println!("  audit: {:?}", alice.send(Audit).await);
    println!("  alice exited: {}", alice.wait_for_exit().await);

    println!("== backpressure and lossy mailboxes");
    let slow = Slow
        .spawn()
        .with_config(ActorConfig::default().with_mailbox_capacity(4))
        .on_system(&system)
        .await?;
    for i in 0..8 {
        slow.notify(Deposit(i)).await?; // waits whenever the mailbox is full
    }
    println!(
        "  8 notifies into a mailbox of 4 completed; try_notify now: {:?}",
        {
            let mut last = Ok(());
            for i in 0..8 {
                last = slow.try_notify(Deposit(i)).map_err(|e| e.to_string());
            }
            last
        }
    );
    let status = slow.get_status().await?;
    println!(
        "  status via the system channel: {} queued of {}",
        status.mailbox_len, status.mailbox_capacity
    );

    let lossy = Slow
        .spawn()
        .with_config(
            ActorConfig::default()
                .with_mailbox_capacity(2)
                .with_overflow(OverflowPolicy::DropOldest),
        )
        .on_system(&system)
        .await?;
    for i in 0..10 {
        lossy.notify(Deposit(i)).await?;
    }
    println!(
        "  drop-oldest mailbox dropped {} messages",
        lossy.mailbox_dropped()
    );
    println!("  dead letters so far: {}", system.dead_letter_count());

    println!("== supervision: a crashed child is restarted, its handle keeps working");
    let (observer, mut events) = tokio::sync::mpsc::unbounded_channel();
    let branch = Branch
        .spawn()
        .named("branch")
        .on_system(&system)
        .with_supervision(SupervisorConfig::one_for_one().observe(observer))
        .await?;
    let teller = system.get::<Teller>("teller").ok_or("no teller")?;
    println!("  served: {}", teller.send(Serve).await?);
    println!("  faint: {:?}", teller.send(Faint).await);
    // Follow what the supervisor does until the teller is back.
    while let Some(event) = events.recv().await {
        match event {
            SupervisionEvent::Exited { name, reason, .. } => println!("  {name} exited: {reason}"),
            SupervisionEvent::Started {
                name,
                restart: true,
                ..
            } => {
                println!("  {name} restarted");
                break;
            }
            _ => {}
        }
    }
    for child in branch.children().await? {
        println!(
            "  child {:?}: restarts {}, alive {}",
            child.name, child.restarts, child.alive
        );
    }
    // The same handle reaches the restarted teller (fresh state).
    println!("  served after the restart: {}", teller.send(Serve).await?);

    println!("== timers");
    let clock = Clock { left: 3 }.spawn().on_system(&system).await?;
    println!("  clock exited: {}", clock.wait_for_exit().await);

    println!("== functional actors in a topology");
    let topology = Topology::empty();
    topology.local("doublers").mount(doubler());
    let functional = troupe::init::try_start(topology)?;
    let doublers = functional.group("doublers").ok_or("no doublers")?;
    println!("  the doubler says {}", doublers.send(Double(21)).await?);
    functional.shutdown().await;

    println!("== coordinated shutdown");
    let bob = Account { balance: 0 }
        .spawn()
        .named("bob")
        .on_system(&system)
        .await?;
    bob.notify(Deposit(1)).await?;
    let report = system.shutdown().await;
    for exit in &report.actors {
        let reason = exit
            .reason
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_else(|| "still running".into());
        println!(
            "  {} ({}): {reason}{}",
            exit.addr,
            exit.meta,
            if exit.escalated {
                " after escalation"
            } else {
                ""
            }
        );
    }
    println!(
        "  all stopped gracefully: {}, in {:?}",
        report.all_stopped(),
        report.elapsed
    );
    Ok(())
}
