//! Stopping a functional actor: the [`Terminate`] message, the
//! [`TerminationPolicy`] that says what it does, and stopping one keyed
//! actor of a mounted group from outside ([`GroupRef::stop_actor`]).

use std::sync::Arc;

use super::group_ref::GroupRef;
use super::mounted::GroupRuntime;
use crate::core::process::Shared;
use crate::core::restart::{self, ChildKey, SupMsg, SupervisorError};
use crate::defaults::{KILL_WAIT, WORKER_SHUTDOWN};
use crate::exit::ExitReason;
use crate::message::Message;

/// Asks a functional actor to stop (elfo's `Terminate`).
///
/// A functional actor meets it in two ways, which act the same:
///
/// - a graceful stop of the actor (a system shutdown, its group stopped,
///   [`GroupRef::stop_actor`], a stop by address) is a `Terminate`;
/// - a `Terminate` sent to it as a message, through its group's router or
///   by address (`send_to(addr, Terminate)`), in its turn among the other
///   messages.
///
/// What it does is the actor's [`TerminationPolicy`]: by default its
/// mailbox closes, `recv` hands out what is queued and then `None`, and the
/// actor exits when its `exec` returns; an actor that terminates
/// [`manually`](TerminationPolicy::manually) gets the `Terminate` from
/// `recv`, matched with `msg!`, and decides.
///
/// An actor that stops after a `Terminate` exits normally (reason
/// `normal`; `shutdown` when the system or its group shuts down): as for
/// an OTP child, a group restarted `always` (permanent) restarts it, one
/// restarted `on_failure` (transient) or `never` does not. To stop one
/// keyed actor for good, whatever its group's restart policy, use
/// [`GroupRef::stop_actor`].
///
/// Struct actors do not handle it: their graceful stop runs
/// [`Actor::pre_stop`](crate::Actor::pre_stop), which can veto it.
///
/// ```
/// use troupe::prelude::*;
///
/// #[message]
/// struct Flushed;
///
/// // Flushes its buffer before it stops.
/// fn writer() -> Schema {
///     ActorGroup::new().exec(|mut ctx| async move {
///         ctx.set_termination_policy(TerminationPolicy::manually());
///         while let Some(envelope) = ctx.recv().await {
///             msg!(match envelope {
///                 Terminate => {
///                     let _ = ctx.send(Flushed).await;
///                     break;
///                 }
///                 _ => {}
///             })
///         }
///     })
/// }
/// # let _ = writer;
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Terminate;

impl Message for Terminate {
    const NAME: &'static str = "troupe::Terminate";
    type Response = ();

    fn __try_clone(&self) -> Option<Self> {
        Some(*self)
    }
}

/// What a [`Terminate`] does to a functional actor (elfo's
/// `TerminationPolicy`): set for a group with
/// [`ActorGroup::termination_policy`](crate::ActorGroup::termination_policy),
/// for one actor with
/// [`Context::set_termination_policy`](crate::Context::set_termination_policy).
///
/// Whatever the policy, a stop stays bounded: the shutdown of the system
/// or of the group, and [`GroupRef::stop_actor`], wait for the actor as
/// long as its shutdown time (5 s, OTP's default for workers) and then
/// kill it, as an OTP supervisor kills a child past its `shutdown` time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TerminationPolicy {
    close_mailbox: bool,
}

impl Default for TerminationPolicy {
    /// [`TerminationPolicy::closing`].
    fn default() -> Self {
        Self::closing()
    }
}

impl TerminationPolicy {
    /// The mailbox closes: the actor takes no new message, `recv` hands
    /// out what is queued and then `None`, and the `Terminate` itself is
    /// not handed out. The default.
    pub fn closing() -> Self {
        Self {
            close_mailbox: true,
        }
    }

    /// `recv` hands out the `Terminate` and the mailbox stays open: the
    /// actor decides when to stop (returning from its `exec`, or
    /// [`Context::close`](crate::Context::close) to drain first). Each
    /// further stop request is one more `Terminate`. A drain
    /// ([`StopReason::Drain`](crate::StopReason::Drain)) closes the
    /// mailbox whatever the policy: that is what it asks for.
    pub fn manually() -> Self {
        Self {
            close_mailbox: false,
        }
    }

    /// Whether a `Terminate` closes the mailbox.
    pub fn closes_mailbox(&self) -> bool {
        self.close_mailbox
    }
}

/// Why [`GroupRef::stop_actor`] could not stop an actor.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StopActorError {
    /// No actor with this key runs in the group (none was started, or it
    /// ended and was not restarted). Nothing is started to be stopped.
    #[error("no actor with key {0:?} runs in the group")]
    UnknownKey(String),
    /// The group is no longer mounted: its supervisor is gone (the system
    /// shuts down, or the group gave up).
    #[error("the group is not mounted")]
    NotMounted,
    /// The group is another node's: its actors are stopped there.
    #[error("the group runs on another node")]
    Remote,
    /// The actor did not end even after being killed (stuck in blocking
    /// code that never yields).
    #[error("the actor did not end even after being killed")]
    Stuck,
}

/// How long `stop_actor` waits for the group's supervisor: the actor's
/// shutdown time, its kill, and a margin.
const STOP_BOUND: std::time::Duration = WORKER_SHUTDOWN.saturating_add(KILL_WAIT.saturating_mul(3));

impl GroupRef {
    /// Stops the keyed actor `key` of this group and waits for its exit;
    /// returns how it ended.
    ///
    /// The group's supervisor stops it as OTP's `terminate_child` stops a
    /// child of a `simple_one_for_one` supervisor: gracefully (the actor
    /// gets a [`Terminate`], see [`TerminationPolicy`]) within its
    /// shutdown time of 5 s, then killed; and it forgets it. So the actor
    /// is not restarted, whatever the group's
    /// [`RestartPolicy`](crate::RestartPolicy); what was still queued for
    /// it becomes dead letters. Its siblings go on. A message routed to
    /// `key` later starts a new actor, as routing does.
    ///
    /// An actor waiting for its restart is stopped too (it does not
    /// restart); its last exit is returned.
    ///
    /// ```
    /// use troupe::prelude::*;
    /// use troupe::{StopActorError, Topology};
    ///
    /// #[message]
    /// struct Job { user: String }
    ///
    /// # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let topology = Topology::empty();
    /// topology.local("jobs").mount(
    ///     ActorGroup::new()
    ///         .router(|envelope| msg!(match envelope {
    ///             Job { user } => Outcome::unicast(user.clone()),
    ///             _ => Outcome::Discard,
    ///         }))
    ///         .exec(|mut ctx| async move { while ctx.recv().await.is_some() {} }),
    /// );
    /// let system = troupe::init::try_start(topology)?;
    /// let jobs = system.group("jobs").unwrap();
    /// jobs.notify(Job { user: "ada".into() }).await?;
    ///
    /// assert_eq!(jobs.stop_actor("ada").await, Ok(ExitReason::Shutdown));
    /// assert_eq!(
    ///     jobs.stop_actor("bob").await,
    ///     Err(StopActorError::UnknownKey("bob".into()))
    /// );
    /// system.shutdown().await;
    /// # Ok(()) }
    /// ```
    pub async fn stop_actor(&self, key: &str) -> Result<ExitReason, StopActorError> {
        match self.local() {
            Some(group) => stop_actor(group, key).await,
            None => Err(StopActorError::Remote),
        }
    }
}

async fn stop_actor(group: &Arc<GroupRuntime>, key: &str) -> Result<ExitReason, StopActorError> {
    let Some(actor) = group.existing(key) else {
        return Err(StopActorError::UnknownKey(key.to_owned()));
    };
    let Some(supervisor) = group.supervisor() else {
        return Err(StopActorError::NotMounted);
    };
    let stop = |tx| SupMsg::StopChild(ChildKey::Addr(actor.addr), tx);
    match restart::ask(&supervisor, stop, Some(STOP_BOUND)).await {
        Ok(()) => Ok(ended(&actor)),
        // It ended by itself meanwhile, and was not restarted.
        Err(SupervisorError::UnknownChild(_)) => match actor.exit_reason() {
            Some(reason) => Ok(reason),
            None => Err(StopActorError::UnknownKey(key.to_owned())),
        },
        Err(SupervisorError::ShutdownTimedOut { .. }) => Err(StopActorError::Stuck),
        Err(_) => Err(StopActorError::NotMounted),
    }
}

/// How a stopped actor ended (it has: its supervisor waited for it).
fn ended(actor: &Shared) -> ExitReason {
    actor.exit_reason().unwrap_or(ExitReason::Killed)
}
