//! [`ContextCore`]: what every running process sees, whatever its
//! front-end. Struct actors' [`ActorContext`](crate::ActorContext) and
//! functional actors' [`Context`](crate::Context) both dereference to it,
//! so identity, trace, timers, streams and children are written once.

use std::fmt;
use std::ops::DerefMut;
use std::sync::Arc;

use super::stream::Streams;
use super::timer::Timers;
use crate::addr::{ActorMeta, Addr};
use crate::core::config::ActorConfig;
use crate::core::link::LinkError;
use crate::core::monitor::MonitorRef;
use crate::core::process::Shared;
use crate::core::restart::{Engine, RestartPolicy};
use crate::core::run_loop::Incarnation;
use crate::core::system::ActorSystem;
use crate::envelope::TraceId;
use crate::exit::ExitReason;
use crate::status::{Lifecycle, Status};

/// What every running process sees: its identity, the trace of the
/// envelope it handles, its system, the timers, streams and children of
/// its current incarnation, its monitors and links, and the means to stop
/// itself with a reason of its own.
///
/// Both contexts dereference to it, so its methods are called on either
/// (`ctx.addr()`, `ctx.cancel_timer(id)`, ...).
pub struct ContextCore {
    pub(crate) shared: Arc<Shared>,
    pub(crate) trace_id: TraceId,
    /// This incarnation's timers and streams (see `attached/`); dropped,
    /// so aborted, with the context.
    pub(crate) timers: Timers,
    pub(crate) streams: Streams,
    /// Its children, if it is a supervisor.
    pub(crate) supervisor: Option<Box<Engine>>,
    /// It asked to stop (`stop`, `stop_with`): a struct actor stops once
    /// its handler returns, a functional actor's mailbox closes.
    pub(crate) stop_requested: bool,
}

impl ContextCore {
    pub(crate) fn new(shared: Arc<Shared>, trace_id: TraceId) -> Self {
        Self {
            shared,
            trace_id,
            timers: Timers::default(),
            streams: Streams::default(),
            supervisor: None,
            stop_requested: false,
        }
    }

    /// Aborts this incarnation's timers and streams (its run ended).
    pub(crate) fn end_attached(&mut self) {
        self.timers.abort_all();
        self.streams.abort_all();
    }

    /// This process's address (its id).
    pub fn addr(&self) -> Addr {
        self.shared.addr
    }

    /// The name this process is registered under, if any.
    pub fn actor_name(&self) -> Option<&str> {
        self.shared.name()
    }

    /// This process's group and key.
    pub fn meta(&self) -> &ActorMeta {
        &self.shared.meta
    }

    /// This process's key within its group (its name, or `_`, for a
    /// struct actor).
    pub fn key(&self) -> &str {
        &self.shared.meta.key
    }

    /// The trace id of the envelope being handled (the last one received).
    pub fn trace_id(&self) -> TraceId {
        self.trace_id
    }

    /// The system this process belongs to.
    pub fn system(&self) -> &ActorSystem {
        &self.shared.system
    }

    /// Where this process is in its life.
    pub fn status(&self) -> Lifecycle {
        self.shared.lifecycle()
    }

    /// Sets the capacity of this process's mailbox while it runs (elfo's
    /// `set_mailbox_capacity`), keeping its overflow policy; returns the
    /// capacity now in force. It is validated as
    /// [`ActorConfig::with_mailbox_capacity`](crate::ActorConfig::with_mailbox_capacity)
    /// validates it: at least 1, at most
    /// [`MAX_MAILBOX_CAPACITY`](crate::defaults::MAX_MAILBOX_CAPACITY)
    /// (clamped, with a warning in the log).
    ///
    /// Nothing queued is dropped: a mailbox made smaller than what it
    /// holds takes no new message until it is drained below the new
    /// capacity (`try_send` fails with `Full`, `send` waits). Made larger,
    /// it lets waiting senders in at once. The mailbox, and so its
    /// capacity, is kept across restarts of the process; a reloaded
    /// configuration that sets its group's capacity sets this one too.
    ///
    /// ```
    /// use troupe::prelude::*;
    ///
    /// #[message(ret = usize)]
    /// struct Expect { burst: usize }
    ///
    /// struct Collector;
    /// impl Actor for Collector {}
    /// impl Handler<Expect> for Collector {
    ///     async fn handle(&mut self, msg: Expect, ctx: &mut ActorContext<Self>) -> HandlerResult<usize> {
    ///         Ok(ctx.set_mailbox_capacity(msg.burst))
    ///     }
    /// }
    ///
    /// # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let collector = Collector.spawn().await?;
    /// assert_eq!(collector.send(Expect { burst: 1024 }).await?, 1024);
    /// assert_eq!(collector.mailbox_capacity(), 1024);
    /// assert_eq!(collector.send(Expect { burst: 0 }).await?, 1, "at least 1");
    /// # Ok(()) }
    /// ```
    pub fn set_mailbox_capacity(&self, capacity: usize) -> usize {
        let capacity = ActorConfig::default()
            .with_mailbox_capacity(capacity)
            .mailbox_capacity();
        let mailbox = &self.shared.mailbox;
        mailbox.resize(capacity, mailbox.policy());
        mailbox.capacity()
    }

    /// The capacity of this process's mailbox now.
    pub fn mailbox_capacity(&self) -> usize {
        self.shared.mailbox.capacity()
    }

    /// Sets when *this* process restarts, from its next exit on (elfo's
    /// `ctx.set_restart_policy`): the policy's restart type, backoff,
    /// [`max_retries`](RestartPolicy::with_max_retries) and
    /// [`auto_reset`](RestartPolicy::with_auto_reset) replace, for this
    /// process alone, what its supervisor had for it.
    ///
    /// Scope: an actor of a group sets it for itself; the group's other
    /// actors keep the group's policy, and so do actors started later for
    /// other keys. A struct actor under a supervisor sets it in place of
    /// its child spec's restart type, and is retried on the policy's
    /// terms. It holds across this process's restarts (it keeps its
    /// process, as it keeps its mailbox) until it sets another; once it is
    /// not restarted (and a group's key is started anew by routing) the
    /// group's policy or the child spec applies again. The policy's budget
    /// is not used: the supervisor's budget (for a group, over all its
    /// actors) stays as it is. A process without a supervisor is never
    /// restarted, whatever it sets; and as always, no restart follows a
    /// stop it was asked for, nor the system's shutdown.
    ///
    /// ```
    /// use std::time::Duration;
    /// use troupe::prelude::*;
    ///
    /// #[message]
    /// struct Connected;
    ///
    /// fn link() -> Schema {
    ///     ActorGroup::new()
    ///         .restart_policy(RestartPolicy::never())
    ///         .exec(|mut ctx| async move {
    ///             while let Some(envelope) = ctx.recv().await {
    ///                 msg!(match envelope {
    ///                     // Worth retrying from now on, a few times.
    ///                     Connected => ctx.set_restart_policy(
    ///                         RestartPolicy::on_failure()
    ///                             .with_backoff(Duration::from_millis(50), Duration::from_secs(5))
    ///                             .with_max_retries(5),
    ///                     ),
    ///                     _ => {}
    ///                 })
    ///             }
    ///         })
    /// }
    /// # let _ = link;
    /// ```
    pub fn set_restart_policy(&self, policy: RestartPolicy) {
        let (restart, retry) = (policy.restart_type(), policy.retry());
        self.shared.set_restart_override(restart, retry);
    }

    /// Publishes this process's status: [`Status::NORMAL`] or
    /// [`Status::ALARMING`], with a short detail if useful. Subscribers of
    /// its group ([`ActorSystem::subscribe_statuses`]) get a
    /// [`StatusReport`](crate::StatusReport) when the status it shows
    /// changes (setting the same one twice reports nothing); the observer
    /// shows it. It holds until it sets another or its incarnation ends (a
    /// restarted incarnation starts `normal` again). Set while it starts,
    /// only the details show (next to `starting`); the kind shows once it
    /// runs. Cheap when nobody subscribes (no report is built).
    ///
    /// elfo's `ctx.set_status(ActorStatus::ALARMING.with_details(..))`.
    ///
    /// ```
    /// use troupe::prelude::*;
    /// use troupe::{Status, StatusKind};
    ///
    /// #[message]
    /// struct LostReplica;
    ///
    /// struct Db;
    /// impl Actor for Db {}
    /// impl Handler<LostReplica> for Db {
    ///     async fn handle(&mut self, _: LostReplica, ctx: &mut ActorContext<Self>) -> HandlerResult {
    ///         ctx.set_status(Status::ALARMING.with_details("2 of 3 replicas"));
    ///         Ok(())
    ///     }
    /// }
    ///
    /// # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let db = Db.spawn().await?;
    /// db.send(LostReplica).await?;
    /// let status = db.get_status().await?.reported;
    /// assert_eq!(status.kind(), StatusKind::Alarming);
    /// assert_eq!(status.details(), Some("2 of 3 replicas"));
    /// # Ok(()) }
    /// ```
    pub fn set_status(&self, status: Status) {
        self.shared.set_status(|_| status);
    }

    /// Publishes new details for this process's status, keeping its kind
    /// (`normal` unless it set another): "connecting to db", "catching up,
    /// 40%". See [`set_status`](Self::set_status).
    pub fn set_status_details(&self, details: impl Into<std::sync::Arc<str>>) {
        let details = details.into();
        self.shared
            .set_status(|old| old.cloned().unwrap_or(Status::NORMAL).with_details(details));
    }

    /// Whether this process is a supervisor.
    pub fn is_supervisor(&self) -> bool {
        self.supervisor.is_some()
    }

    /// Watches the process at `target` (Erlang's `monitor/2`): this process
    /// gets one [`Down`](crate::Down) when it exits, with its exit reason,
    /// or at once, with [`ExitReason::NoProc`], if it is already gone. A
    /// struct actor gets it in [`Actor::on_down`](crate::Actor::on_down), a
    /// functional actor from `recv`. Every kind of process can be watched.
    ///
    /// The `Down` is never lost: it is queued past the mailbox's capacity,
    /// whatever its overflow policy, after every message the watched
    /// process sent before it exited. Monitoring twice gives two monitors
    /// (two `Down`s). The monitor ends with the incarnation that set it.
    ///
    /// ```
    /// use tokio::sync::mpsc;
    /// use troupe::prelude::*;
    ///
    /// struct Worker;
    /// impl Actor for Worker {}
    ///
    /// #[message]
    /// struct Watch(Addr);
    ///
    /// struct Watcher(mpsc::UnboundedSender<Down>);
    /// impl Actor for Watcher {
    ///     async fn on_down(&mut self, _: &mut ActorContext<Self>, down: Down) -> HandlerResult {
    ///         let _ = self.0.send(down);
    ///         Ok(())
    ///     }
    /// }
    /// impl Handler<Watch> for Watcher {
    ///     async fn handle(&mut self, Watch(addr): Watch, ctx: &mut ActorContext<Self>) -> HandlerResult {
    ///         ctx.monitor(addr);
    ///         Ok(())
    ///     }
    /// }
    ///
    /// # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let (tx, mut downs) = mpsc::unbounded_channel();
    /// let watcher = Watcher(tx).spawn().await?;
    /// let worker = Worker.spawn().await?;
    /// watcher.send(Watch(worker.addr())).await?;
    /// worker.kill().await?;
    /// let down = downs.recv().await.unwrap();
    /// assert_eq!((down.addr, down.reason), (worker.addr(), ExitReason::Killed));
    /// # Ok(()) }
    /// ```
    pub fn monitor(&self, target: Addr) -> MonitorRef {
        self.shared.monitor(target)
    }

    /// Cancels a monitor this process holds (Erlang's `demonitor/2` with
    /// `flush`): once it returns, no `Down` of that monitor reaches this
    /// process, even one that was already on its way. `false` if it held
    /// no such monitor (its `Down` was already received, or it was
    /// cancelled before).
    pub fn demonitor(&self, monitor: MonitorRef) -> bool {
        self.shared.demonitor(monitor)
    }

    /// Links this process and the one at `partner` (Erlang's `link/1`):
    /// when either exits abnormally, the other exits with the same reason,
    /// unless it traps exits ([`trap_exit`](Self::trap_exit)); then it gets
    /// an [`Exit`](crate::Exit) message instead (for normal exits too), in
    /// [`Actor::on_link_exit`](crate::Actor::on_link_exit) or from `recv`.
    /// Linking twice, or to itself, does nothing. Every kind of process can
    /// be a partner; links are apart from supervision.
    ///
    /// Linking to a process that is gone fails with
    /// [`LinkError::NoProc`], as OTP's `link/1` fails with `noproc` in a
    /// process that does not trap exits (one that traps them gets an
    /// `{'EXIT', Pid, noproc}` message there instead; here it gets the
    /// error too).
    ///
    /// ```
    /// use tokio::sync::mpsc;
    /// use troupe::prelude::*;
    ///
    /// struct Worker;
    /// impl Actor for Worker {}
    ///
    /// #[message]
    /// struct LinkTo(Addr);
    ///
    /// struct Guard(mpsc::UnboundedSender<Exit>);
    /// impl Actor for Guard {
    ///     async fn pre_start(&mut self, ctx: &mut ActorContext<Self>) -> HandlerResult {
    ///         ctx.trap_exit(true); // partners' exits arrive as messages
    ///         Ok(())
    ///     }
    ///     async fn on_link_exit(&mut self, _: &mut ActorContext<Self>, exit: Exit) -> HandlerResult {
    ///         let _ = self.0.send(exit);
    ///         Ok(())
    ///     }
    /// }
    /// impl Handler<LinkTo> for Guard {
    ///     async fn handle(&mut self, LinkTo(addr): LinkTo, ctx: &mut ActorContext<Self>) -> HandlerResult {
    ///         ctx.link(addr)?;
    ///         Ok(())
    ///     }
    /// }
    ///
    /// # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let (tx, mut exits) = mpsc::unbounded_channel();
    /// let guard = Guard(tx).spawn().await?;
    /// let worker = Worker.spawn().await?;
    /// guard.send(LinkTo(worker.addr())).await?;
    /// worker.kill().await?;
    /// let exit = exits.recv().await.unwrap();
    /// assert_eq!((exit.from, exit.reason), (worker.addr(), ExitReason::Killed));
    /// assert!(guard.is_alive());
    /// # Ok(()) }
    /// ```
    pub fn link(&self, partner: Addr) -> Result<(), LinkError> {
        self.shared.link(partner)
    }

    /// Removes the link to `partner` on both sides (Erlang's `unlink/1`):
    /// once it returns, the link has no effect on this process, even if the
    /// partner's exit signal was already on its way. `false` if there was
    /// no link.
    pub fn unlink(&self, partner: Addr) -> bool {
        self.shared.unlink(partner)
    }

    /// Sets whether this process traps exits (Erlang's
    /// `process_flag(trap_exit, ..)`): a trapping process gets each link
    /// partner's exit as an [`Exit`](crate::Exit) message instead of
    /// exiting with it. Off by default, and off again in a restarted
    /// incarnation.
    pub fn trap_exit(&self, on: bool) {
        self.shared.set_trap_exit(on);
    }

    /// Whether this process traps exits.
    pub fn traps_exit(&self) -> bool {
        self.shared.traps_exit()
    }

    /// Stops this process with `reason` (OTP's `{stop, Reason, State}`): a
    /// struct actor once its current handler returns (its `on_stopped`
    /// runs with `reason`); a functional actor's mailbox closes, `recv`
    /// returns what is queued then `None`, and when its `exec` returns
    /// (successfully) it exits with `reason`. Its supervisor, monitors and
    /// link partners see `reason`; use an [`ExitReason::custom`] reason for
    /// one of the program's own (abnormal: a transient child is restarted).
    ///
    /// ```
    /// use troupe::prelude::*;
    ///
    /// #[message]
    /// struct Quit;
    ///
    /// struct Worker;
    /// impl Actor for Worker {}
    /// impl Handler<Quit> for Worker {
    ///     async fn handle(&mut self, _: Quit, ctx: &mut ActorContext<Self>) -> HandlerResult {
    ///         ctx.stop_with(ExitReason::custom("lease lost"));
    ///         Ok(())
    ///     }
    /// }
    ///
    /// # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let worker = Worker.spawn().await?;
    /// worker.notify(Quit).await?;
    /// assert_eq!(worker.wait_for_exit().await, ExitReason::custom("lease lost"));
    /// # Ok(()) }
    /// ```
    pub fn stop_with(&mut self, reason: ExitReason) {
        self.shared.request_exit(reason);
        self.stop_requested = true;
    }
}

impl Incarnation for ContextCore {
    fn core(&mut self) -> (&Arc<Shared>, &mut Option<Box<Engine>>) {
        (&self.shared, &mut self.supervisor)
    }

    fn set_trace(&mut self, trace_id: TraceId) {
        self.trace_id = trace_id;
    }

    fn end_attached(&mut self) {
        ContextCore::end_attached(self);
    }
}

/// Both front-ends' contexts run in the loop through their core.
impl<C: DerefMut<Target = ContextCore> + Send> Incarnation for C {
    fn core(&mut self) -> (&Arc<Shared>, &mut Option<Box<Engine>>) {
        Incarnation::core(&mut **self)
    }

    fn set_trace(&mut self, trace_id: TraceId) {
        (**self).set_trace(trace_id);
    }

    fn end_attached(&mut self) {
        ContextCore::end_attached(self);
    }
}

impl fmt::Debug for ContextCore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ContextCore")
            .field("addr", &self.shared.addr)
            .field("meta", &self.shared.meta)
            .finish()
    }
}
