//! The seed's functional pair on two nodes: the `counters` group runs on
//! node 2, the `samples` group on node 1, and node 1's topology routes the
//! counter's messages to node 2.
//!
//! `cargo run -p troupe-remote --example remote_counter`

mod counter {
    use serde::{Deserialize, Serialize};
    use troupe::prelude::*;

    #[message]
    #[derive(Serialize, Deserialize)]
    pub struct Increment {
        pub delta: u32,
    }

    #[message(ret = u32)]
    #[derive(Serialize, Deserialize)]
    pub struct GetValue;

    pub fn counter() -> Schema {
        ActorGroup::new().exec(|mut ctx| async move {
            let mut value = 0;
            while let Some(envelope) = ctx.recv().await {
                msg!(match envelope {
                    Increment { delta } => {
                        value += delta;
                    }
                    (GetValue, token) => {
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

    /// Starts the sample once the cluster is up.
    #[message]
    pub struct Go;

    pub fn sample() -> Schema {
        ActorGroup::new().exec(|mut ctx| async move {
            while let Some(envelope) = ctx.recv().await {
                msg!(match envelope {
                    Go => {
                        // As in the seed: through the topology's route,
                        // which goes to node 2.
                        let _ = ctx.send(Increment { delta: 1 }).await;
                        let _ = ctx.send(Increment { delta: 3 }).await;
                        if let Ok(value) = ctx.request(GetValue).resolve().await {
                            println!("sample (node 1): the counter on node 2 says {value}");
                        }
                        ctx.system().terminate();
                    }
                })
            }
        })
    }
}

use std::net::TcpListener;

use troupe::prelude::*;
use troupe::{NodeNo, SystemConfig};
use troupe_remote::{Messages, Node, NodeConfig};

fn node(n: u16) -> Topology {
    Topology::empty().with_config(SystemConfig {
        node: NodeNo(n),
        ..SystemConfig::default()
    })
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let endpoint = format!("tcp/127.0.0.1:{port}");
    let messages = Messages::new()
        .with::<counter::Increment>()
        .with::<counter::GetValue>();

    // Node 2: the counters.
    let two = node(2);
    two.local("counters").mount(counter::counter());
    let two = troupe::init::try_start(two)?;
    let node_two = Node::start(
        &two,
        NodeConfig::new("seed", b"cookie").listen(&endpoint),
        messages.clone(),
    )
    .await?;

    // Node 1: the samples, with a route to node 2's counters.
    let one = node(1);
    let counters = one.remote(NodeNo(2), "counters");
    let samples = one.local("samples");
    samples.route_to(&counters, |envelope| {
        msg!(match envelope {
            counter::Increment { .. } | counter::GetValue => true,
            _ => false,
        })
    });
    samples.mount(sample::sample());
    let one = troupe::init::try_start(one)?;
    let node_one = Node::start(
        &one,
        NodeConfig::new("seed", b"cookie").connect(&endpoint),
        messages,
    )
    .await?;

    let mut events = node_one.events();
    while !node_one.peers().contains(&NodeNo(2)) {
        events.recv().await?;
    }
    one.group("samples")
        .ok_or("no samples")?
        .notify(sample::Go)
        .await?;
    tokio::time::timeout(std::time::Duration::from_secs(10), one.terminated()).await?;
    node_one.close().await;
    node_two.close().await;
    one.shutdown().await;
    two.shutdown().await;
    Ok(())
}
