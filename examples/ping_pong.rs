//! Bidirectional communication: two actors bounce a ball until a count.

use tokio::sync::oneshot;
use troupe::prelude::*;

#[message]
struct Ball {
    hits: u32,
}

#[message]
struct Serve {
    to: ActorRef<Player>,
}

struct Player {
    name: &'static str,
    partner: Option<ActorRef<Player>>,
    rally: u32,
    done: Option<oneshot::Sender<u32>>,
}

impl Player {
    fn new(name: &'static str, rally: u32, done: Option<oneshot::Sender<u32>>) -> Self {
        Self {
            name,
            partner: None,
            rally,
            done,
        }
    }
}

impl Actor for Player {}

impl Handler<Serve> for Player {
    async fn handle(&mut self, msg: Serve, ctx: &mut ActorContext<Self>) -> HandlerResult {
        // Introduce ourselves to the partner, then serve.
        msg.to
            .notify(Introduce {
                partner: ctx.self_handle(),
            })
            .await?;
        self.partner = Some(msg.to.clone());
        msg.to.notify(Ball { hits: 1 }).await?;
        Ok(())
    }
}

#[message]
struct Introduce {
    partner: ActorRef<Player>,
}

impl Handler<Introduce> for Player {
    async fn handle(&mut self, msg: Introduce, _ctx: &mut ActorContext<Self>) -> HandlerResult {
        self.partner = Some(msg.partner);
        Ok(())
    }
}

impl Handler<Ball> for Player {
    async fn handle(&mut self, ball: Ball, _ctx: &mut ActorContext<Self>) -> HandlerResult {
        println!("{} hits the ball (hit #{})", self.name, ball.hits);
        if ball.hits >= self.rally {
            if let Some(done) = self.done.take() {
                let _ = done.send(ball.hits);
            }
            return Ok(());
        }
        let partner = self.partner.as_ref().ok_or("no partner yet")?;
        partner
            .notify(Ball {
                hits: ball.hits + 1,
            })
            .await?;
        Ok(())
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (done_tx, done_rx) = oneshot::channel();
    let (done2_tx, done2_rx) = oneshot::channel();
    let ping = Player::new("ping", 10, Some(done_tx))
        .spawn()
        .named("ping")
        .await?;
    let pong = Player::new("pong", 10, Some(done2_tx))
        .spawn()
        .named("pong")
        .await?;
    ping.notify(Serve { to: pong.clone() }).await?;
    tokio::select! {
        hits = done_rx => println!("rally over after {} hits (ping got the last)", hits?),
        hits = done2_rx => println!("rally over after {} hits (pong got the last)", hits?),
    }
    let report = ActorSystem::default().shutdown().await;
    println!("shutdown: {} actors stopped", report.actors.len());
    Ok(())
}
