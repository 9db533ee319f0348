//! Helpers shared by the monitor, link and exit-reason tests: a watcher of
//! each kind (struct actor, functional actor) that reports what it sees,
//! and a target that exits the way a test asks.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, Semaphore};
use troupe::prelude::*;
use troupe::{init, GroupRef, LinkError};

#[path = "../bounded_common/mod.rs"]
mod bounded_common;

pub use bounded_common::{next, system, BOUND};

/// Asserts that nothing more comes: on paused time the wait ends only once
/// every task is idle.
pub async fn quiet<T: std::fmt::Debug>(rx: &mut mpsc::UnboundedReceiver<T>) {
    if let Ok(Some(item)) = tokio::time::timeout(Duration::from_secs(1), rx.recv()).await {
        panic!("unexpected: {item:?}");
    }
}

/// What a watcher reports.
#[derive(Debug, Clone, PartialEq)]
pub enum Seen {
    /// Its address (a functional watcher reports it when it starts).
    Addr(Addr),
    Down(Down),
    Exit(Exit),
    Note(u32),
}

/// Starts watching the process at this address; answers the monitor.
#[message(ret = MonitorRef)]
pub struct Watch(pub Addr);

/// Cancels a monitor; answers whether it was active.
#[message(ret = bool)]
pub struct Unwatch(pub MonitorRef);

/// Waits until the target has exited (its `Down` is then queued behind
/// this request), then cancels the monitor; answers whether it was active.
#[message(ret = bool)]
pub struct UnwatchAfterExit(pub MonitorRef, pub ActorRef<Target>);

/// Links to the process at this address.
#[message(ret = Result<(), LinkError>)]
pub struct LinkTo(pub Addr);

/// Removes the link to the process at this address.
#[message(ret = bool)]
pub struct UnlinkFrom(pub Addr);

/// Waits until the target has exited (its exit signal is then on its
/// way), then removes the link; answers whether there was one.
#[message(ret = bool)]
pub struct UnlinkAfterExit(pub ActorRef<Target>);

/// Holds the watcher's handler until its gate gets a permit.
#[message]
pub struct Hold;

/// A message the target sends its watcher before it exits.
#[message]
pub struct Note(pub u32);

/// A struct actor that monitors and links on request and reports every
/// `Down`, trapped `Exit` and `Note` it gets, in order.
pub struct Watcher {
    pub seen: mpsc::UnboundedSender<Seen>,
    pub gate: Arc<Semaphore>,
    pub trap: bool,
}

impl Watcher {
    pub fn new(trap: bool) -> (Self, mpsc::UnboundedReceiver<Seen>, Arc<Semaphore>) {
        let (seen, rx) = mpsc::unbounded_channel();
        let gate = Arc::new(Semaphore::new(0));
        let watcher = Self {
            seen,
            gate: gate.clone(),
            trap,
        };
        (watcher, rx, gate)
    }
}

impl Actor for Watcher {
    async fn pre_start(&mut self, ctx: &mut ActorContext<Self>) -> HandlerResult {
        ctx.trap_exit(self.trap);
        Ok(())
    }

    async fn on_down(&mut self, _: &mut ActorContext<Self>, down: Down) -> HandlerResult {
        let _ = self.seen.send(Seen::Down(down));
        Ok(())
    }

    async fn on_link_exit(&mut self, _: &mut ActorContext<Self>, exit: Exit) -> HandlerResult {
        let _ = self.seen.send(Seen::Exit(exit));
        Ok(())
    }
}

impl Handler<Watch> for Watcher {
    async fn handle(
        &mut self,
        msg: Watch,
        ctx: &mut ActorContext<Self>,
    ) -> HandlerResult<MonitorRef> {
        Ok(ctx.monitor(msg.0))
    }
}

impl Handler<Unwatch> for Watcher {
    async fn handle(&mut self, msg: Unwatch, ctx: &mut ActorContext<Self>) -> HandlerResult<bool> {
        Ok(ctx.demonitor(msg.0))
    }
}

impl Handler<UnwatchAfterExit> for Watcher {
    async fn handle(
        &mut self,
        UnwatchAfterExit(monitor, target): UnwatchAfterExit,
        ctx: &mut ActorContext<Self>,
    ) -> HandlerResult<bool> {
        target.wait_for_exit().await;
        Ok(ctx.demonitor(monitor))
    }
}

impl Handler<LinkTo> for Watcher {
    async fn handle(
        &mut self,
        msg: LinkTo,
        ctx: &mut ActorContext<Self>,
    ) -> HandlerResult<Result<(), LinkError>> {
        Ok(ctx.link(msg.0))
    }
}

impl Handler<UnlinkFrom> for Watcher {
    async fn handle(
        &mut self,
        msg: UnlinkFrom,
        ctx: &mut ActorContext<Self>,
    ) -> HandlerResult<bool> {
        Ok(ctx.unlink(msg.0))
    }
}

impl Handler<UnlinkAfterExit> for Watcher {
    async fn handle(
        &mut self,
        UnlinkAfterExit(target): UnlinkAfterExit,
        ctx: &mut ActorContext<Self>,
    ) -> HandlerResult<bool> {
        target.wait_for_exit().await;
        Ok(ctx.unlink(target.addr()))
    }
}

impl Handler<Hold> for Watcher {
    async fn handle(&mut self, _: Hold, _: &mut ActorContext<Self>) -> HandlerResult {
        self.gate.acquire().await?.forget();
        Ok(())
    }
}

impl Handler<Note> for Watcher {
    async fn handle(&mut self, msg: Note, _: &mut ActorContext<Self>) -> HandlerResult {
        let _ = self.seen.send(Seen::Note(msg.0));
        Ok(())
    }
}

/// Stops the target normally once the handler returns.
#[message]
pub struct Quit;

/// Stops the target with this reason.
#[message]
pub struct QuitWith(pub ExitReason);

/// A request whose handler fails: the target exits with `Failed`.
#[message]
pub struct Crash;

/// Sends the watcher `Note(0..n)`, then stops normally.
#[message]
pub struct NotesThenQuit(pub ActorRef<Watcher>, pub u32);

/// Links the target to the process at this address.
#[message(ret = Result<(), LinkError>)]
pub struct TargetLink(pub Addr);

/// Panics in `on_stopped` when `panic_on_stop` is set.
#[derive(Default)]
pub struct Target {
    pub panic_on_stop: bool,
}

impl Actor for Target {
    async fn on_stopped(&mut self, _: &mut ActorContext<Self>, _: &ExitReason) {
        if self.panic_on_stop {
            panic!("cleanup went wrong");
        }
    }
}

impl Handler<Quit> for Target {
    async fn handle(&mut self, _: Quit, ctx: &mut ActorContext<Self>) -> HandlerResult {
        ctx.stop();
        Ok(())
    }
}

impl Handler<QuitWith> for Target {
    async fn handle(&mut self, msg: QuitWith, ctx: &mut ActorContext<Self>) -> HandlerResult {
        ctx.stop_with(msg.0);
        Ok(())
    }
}

impl Handler<Crash> for Target {
    async fn handle(&mut self, _: Crash, _: &mut ActorContext<Self>) -> HandlerResult {
        Err("boom".into())
    }
}

impl Handler<NotesThenQuit> for Target {
    async fn handle(&mut self, msg: NotesThenQuit, ctx: &mut ActorContext<Self>) -> HandlerResult {
        for i in 0..msg.1 {
            msg.0.notify(Note(i)).await?;
        }
        ctx.stop();
        Ok(())
    }
}

impl Handler<TargetLink> for Target {
    async fn handle(
        &mut self,
        msg: TargetLink,
        ctx: &mut ActorContext<Self>,
    ) -> HandlerResult<Result<(), LinkError>> {
        Ok(ctx.link(msg.0))
    }
}

/// A functional watcher: monitors and links on request (the same
/// requests as [`Watcher`]), traps exits if asked, stops with the reason
/// of a `QuitWith`, and reports its address, then every `Down` and `Exit`
/// it receives.
pub fn functional_watcher(seen: mpsc::UnboundedSender<Seen>, trap: bool) -> Schema {
    ActorGroup::new().exec(move |mut ctx| {
        let seen = seen.clone();
        async move {
            ctx.trap_exit(trap);
            let _ = seen.send(Seen::Addr(ctx.addr()));
            while let Some(envelope) = ctx.recv().await {
                msg!(match envelope {
                    (Watch(addr), token) => {
                        let monitor = ctx.monitor(addr);
                        ctx.respond(token, monitor);
                    }
                    (Unwatch(monitor), token) => {
                        let active = ctx.demonitor(monitor);
                        ctx.respond(token, active);
                    }
                    (UnwatchAfterExit(monitor, target), token) => {
                        target.wait_for_exit().await;
                        let active = ctx.demonitor(monitor);
                        ctx.respond(token, active);
                    }
                    (LinkTo(addr), token) => {
                        let linked = ctx.link(addr);
                        ctx.respond(token, linked);
                    }
                    QuitWith(reason) => ctx.stop_with(reason),
                    down @ Down { .. } => {
                        let _ = seen.send(Seen::Down(down));
                    }
                    exit @ Exit { .. } => {
                        let _ = seen.send(Seen::Exit(exit));
                    }
                })
            }
        }
    })
}

/// Mounts a functional watcher as the singleton of group `name` in a new
/// system; returns the system, the group, the watcher's reports and its
/// address.
pub async fn start_functional(
    name: &'static str,
    trap: bool,
) -> (ActorSystem, GroupRef, mpsc::UnboundedReceiver<Seen>, Addr) {
    let (tx, mut seen) = mpsc::unbounded_channel();
    let topology = Topology::empty();
    topology.local(name).mount(functional_watcher(tx, trap));
    let system = init::try_start(topology).expect("the topology starts");
    let group = system.group(name).expect("mounted");
    let Seen::Addr(addr) = next(&mut seen).await else {
        panic!("the watcher reports its address first");
    };
    (system, group, seen, addr)
}
