//! The seed's functional pair: a `counter` group and a `sample` group that
//! increments it and asks for its value, wired by a topology.
//!
//! `cargo run --example counter`

mod counter {
    use troupe::prelude::*;

    #[message]
    pub struct Increment {
        pub delta: u32,
    }

    #[message(ret = u32)]
    pub struct GetValue;

    pub fn counter() -> Schema {
        ActorGroup::new().exec(|mut ctx| async move {
            // Private state of the actor.
            let mut value = 0;

            // The main actor loop: receive a message, handle it, repeat.
            // Returns `None` and breaks the loop if the actor's mailbox is
            // closed (usually when the system terminates).
            while let Some(envelope) = ctx.recv().await {
                msg!(match envelope {
                    Increment { delta } => {
                        value += delta;
                    }
                    // It's a syntax for requests.
                    (GetValue, token) => {
                        // ... and responses.
                        ctx.respond(token, value);
                    }
                })
            }
        })
    }
}

mod sample {
    use super::counter::{GetValue, Increment};
    use troupe::prelude::*;

    pub fn sample() -> Schema {
        ActorGroup::new().exec(|ctx| async move {
            // Increment the counter, we aren't interested in errors.
            let _ = ctx.send(Increment { delta: 1 }).await;
            // ... and again.
            let _ = ctx.send(Increment { delta: 3 }).await;

            // Request the current counter's value and wait for the response.
            if let Ok(value) = ctx.request(GetValue).resolve().await {
                tracing::info!(value, "got it!");
                println!("sample: the counter says {value}");
            }
            // This example ends here: ask the system to terminate.
            ctx.system().terminate();
        })
    }
}

use std::io::IsTerminal;
use troupe::prelude::*;

#[tokio::main]
async fn main() {
    // Colours only on a terminal: no escape codes in a pipe or a file.
    tracing_subscriber::fmt()
        .with_ansi(std::io::stdout().is_terminal())
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();

    let topology = Topology::empty();
    let counters = topology.local("counters");
    let samples = topology.local("samples");

    samples.route_to(&counters, |envelope| {
        msg!(match envelope {
            counter::Increment { .. } | counter::GetValue => true,
            _ => false,
        })
    });

    counters.mount(counter::counter());
    samples.mount(sample::sample());

    let report = troupe::init::start(topology).await;
    println!("terminated: {} actors stopped", report.actors.len());
}
