//! A tour of troupe: a small system that exercises what exists and prints
//! what happens. Run it with `cargo run --release --example tour`.

use std::time::Duration;

use troupe::prelude::*;
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

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // `RUST_LOG=info` shows the framework's own events (actors starting, ...).
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
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
