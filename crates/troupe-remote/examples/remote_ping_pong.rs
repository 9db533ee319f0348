//! Two nodes playing ping-pong: one actor on each node passes a ball back
//! and forth by address, over Zenoh on loopback.
//!
//! `cargo run -p troupe-remote --example remote_ping_pong`

use std::net::TcpListener;

use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use troupe::prelude::*;
use troupe::{NodeNo, SystemConfig};
use troupe_remote::{Messages, Node, NodeConfig, NodeEvent};

/// The ball, with the number of passes left and who to pass it back to.
#[message]
#[derive(Serialize, Deserialize)]
struct Ball {
    left: u32,
    from: Addr,
}

struct Player {
    name: &'static str,
    done: mpsc::UnboundedSender<(&'static str, u32)>,
    passes: u32,
}

impl Actor for Player {
    troupe::handles!(Ball);
}

impl Handler<Ball> for Player {
    async fn handle(&mut self, ball: Ball, ctx: &mut ActorContext<Self>) -> HandlerResult {
        self.passes += 1;
        if ball.left == 0 {
            let _ = self.done.send((self.name, self.passes));
            return Ok(());
        }
        // The sender is on the other node: its proxy carries the ball back.
        let back = ctx
            .system()
            .remote_ref::<Player>(ball.from)
            .ok_or("no route to the other node")?;
        back.notify(Ball {
            left: ball.left - 1,
            from: ctx.addr(),
        })
        .await?;
        Ok(())
    }
}

fn system(node: u16) -> Result<ActorSystem, Box<dyn std::error::Error>> {
    let config = SystemConfig {
        node: NodeNo(node),
        ..SystemConfig::default()
    };
    Ok(ActorSystem::create_with(
        format!("ping-pong-{node}"),
        config,
    )?)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let endpoint = format!("tcp/127.0.0.1:{port}");
    let messages = Messages::new().with::<Ball>();
    let (one, two) = (system(1)?, system(2)?);
    let node_one = Node::start(
        &one,
        NodeConfig::new("ping-pong", b"cookie").listen(&endpoint),
        messages.clone(),
    )
    .await?;
    let mut events = node_one.events();
    let node_two = Node::start(
        &two,
        NodeConfig::new("ping-pong", b"cookie").connect(&endpoint),
        messages,
    )
    .await?;
    while !node_one.peers().contains(&NodeNo(2)) {
        if let NodeEvent::Up(n) = events.recv().await? {
            println!("node 1 sees node {} up", n.0);
        }
    }
    let (done_tx, mut done) = mpsc::unbounded_channel();
    let player = |name| Player {
        name,
        done: done_tx.clone(),
        passes: 0,
    };
    let ping = player("ping").spawn().on_system(&one).await?;
    let pong = player("pong").spawn().on_system(&two).await?;
    // Node 1 serves: to pong, by its address on node 2.
    let to_pong = one.remote_ref::<Player>(pong.addr()).ok_or("no proxy")?;
    to_pong
        .notify(Ball {
            left: 10,
            from: ping.addr(),
        })
        .await?;
    let last = tokio::time::timeout(std::time::Duration::from_secs(10), done.recv()).await?;
    let (name, passes) = last.ok_or("no player finished")?;
    println!("ping-pong over two nodes: the last ball reached {name} after {passes} passes there");
    node_two.close().await;
    node_one.close().await;
    Ok(())
}
