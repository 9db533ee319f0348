//! Links, as in Erlang: two processes that share their fate.
//!
//! A link is kept by address in the process core, on both sides (it is
//! bidirectional), whatever the kinds of the two processes, and apart from
//! the supervision tree (a supervisor learns of its children's exits on
//! its own). When a process exits, `Shared::finish` sends each partner an
//! exit signal with its reason:
//!
//! - a partner that traps exits gets an [`Exit`] message (a signal in its
//!   mailbox, after what the exiting process sent it before);
//! - a partner that does not trap exits and gets an abnormal reason exits
//!   with that same reason (the signal travels on its system channel, and
//!   takes it down between two messages, as a stop does; its `on_stopped`
//!   runs unless the reason is [`ExitReason::Killed`]), which its own
//!   partners, monitors and supervisor then see;
//! - a normal reason (`Normal`, `Shutdown`) leaves a partner that does not
//!   trap exits alone.
//!
//! Either way the link is then gone. `unlink` removes it from both sides,
//! and the receiver's run loop drops an exit signal whose link it no longer
//! holds, so once `unlink` returns the link has no effect (as in OTP).

use std::sync::{Arc, Weak};

use super::process::{Shared, SysMsg};
use super::signal;
use crate::addr::Addr;
use crate::envelope::Envelope;
use crate::error::SendError;
use crate::exit::ExitReason;
use crate::message::Message;

/// A link partner exited: what a process that traps exits gets instead of
/// exiting with it (Erlang's `{'EXIT', From, Reason}`).
///
/// A struct actor gets it in
/// [`Actor::on_link_exit`](crate::Actor::on_link_exit); a functional actor
/// receives it from `recv` as an envelope, matched with `msg!`
/// (`Exit { from, reason, .. } => ..`).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Exit {
    /// The partner that exited.
    pub from: Addr,
    /// How it exited (normal reasons included: a trapping process hears of
    /// every exit of its partners).
    pub reason: ExitReason,
}

impl Message for Exit {
    const NAME: &'static str = "troupe::Exit";
    type Response = ();
}

/// Why a link could not be made.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LinkError {
    /// No process lives at that address (it exited, or never was). OTP's
    /// `link/1` raises `noproc` in a linker that does not trap exits (for a
    /// local process; uncaught, it ends the linker) and sends one that
    /// traps exits an `{'EXIT', Pid, noproc}` message; troupe reports it to
    /// the caller in both cases, who decides.
    #[error("no process at {0}")]
    NoProc(Addr),
}

/// The links of one process.
#[derive(Default)]
pub(crate) struct Peers {
    partners: Vec<(Addr, Weak<Shared>)>,
    trap_exit: bool,
}

impl Peers {
    fn remove(&mut self, addr: Addr) -> Option<Weak<Shared>> {
        let at = self.partners.iter().position(|(a, _)| *a == addr)?;
        Some(self.partners.swap_remove(at).1)
    }

    fn holds(&self, addr: Addr) -> bool {
        self.partners.iter().any(|(a, _)| *a == addr)
    }
}

/// What a process does with an exit signal it takes.
pub(crate) enum ExitAction {
    /// It traps exits: its front-end gets the [`Exit`].
    Deliver,
    /// It exits with this reason.
    Exit(ExitReason),
    /// Nothing: a normal exit, or the link was removed meanwhile.
    Ignore,
}

impl Shared {
    /// Links this process and the one at `partner` (nothing if they are
    /// linked already, or if it is this process). A partner of another
    /// node is linked through its proxy here, and the transport links it
    /// to this process's proxy there, so that either exit reaches the
    /// other side.
    pub(crate) fn link(self: &Arc<Self>, partner: Addr) -> Result<(), LinkError> {
        let proxy = self.link_here(partner)?;
        if self.system.is_remote(partner) {
            self.tell_proxy(&proxy, true);
        }
        Ok(())
    }

    /// Tells the proxy of a remote partner that this process linked to it
    /// or unlinked (see [`RemoteLink`](super::remote::RemoteLink)), in order
    /// with what this process sends there.
    fn tell_proxy(&self, proxy: &Arc<Shared>, linked: bool) {
        let link = super::remote::RemoteLink {
            local: self.addr,
            linked,
        };
        let env = Envelope::new(link, self.addr, super::current::current().1);
        if let Err(SendError::Full(env)) = proxy.try_deliver(env) {
            let proxy = proxy.clone();
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                runtime.spawn(async move { proxy.deliver(env).await });
            }
        }
    }

    /// [`Shared::link`] on this node only: for a link another node asked
    /// for.
    /// Returns the partner's process (its proxy, for a remote one).
    pub(crate) fn link_here(self: &Arc<Self>, partner: Addr) -> Result<Arc<Shared>, LinkError> {
        if partner == self.addr {
            return Ok(self.clone());
        }
        let other = self
            .system
            .lookup(partner)
            .ok_or(LinkError::NoProc(partner))?;
        // Recorded here first: the partner's exit signal is accepted
        // however soon it comes.
        self.with_links(|l| {
            if !l.peers.holds(partner) {
                l.peers.partners.push((partner, Arc::downgrade(&other)));
            }
        });
        if other.add_partner(self) {
            Ok(other)
        } else {
            self.remove_partner(partner);
            Err(LinkError::NoProc(partner))
        }
    }

    /// Records a partner, unless this incarnation has exited.
    fn add_partner(&self, partner: &Arc<Shared>) -> bool {
        let mut links = self.links.lock();
        // Under the lock `finish` takes the partners with: a partner
        // recorded here gets the exit signal.
        if self.exit_reason().is_some() {
            return false;
        }
        let peers = &mut links.get_or_insert_with(Box::default).peers;
        if !peers.holds(partner.addr) {
            peers.partners.push((partner.addr, Arc::downgrade(partner)));
        }
        true
    }

    fn remove_partner(&self, partner: Addr) -> Option<Weak<Shared>> {
        self.links.lock().as_mut()?.peers.remove(partner)
    }

    /// Removes the link to `partner` on both sides (through the transport
    /// for a partner of another node); `false` if there was none.
    pub(crate) fn unlink(&self, partner: Addr) -> bool {
        let removed = self.unlink_here(partner);
        if removed && self.system.is_remote(partner) {
            if let Some(proxy) = self.system.lookup_registered(partner) {
                self.tell_proxy(&proxy, false);
            }
        }
        removed
    }

    /// [`Shared::unlink`] on this node only.
    pub(crate) fn unlink_here(&self, partner: Addr) -> bool {
        let Some(other) = self.remove_partner(partner) else {
            return false;
        };
        if let Some(other) = other.upgrade() {
            other.remove_partner(self.addr);
        }
        true
    }

    /// Sets whether this incarnation traps exits.
    pub(crate) fn set_trap_exit(&self, on: bool) {
        if on || self.traps_exit() {
            self.with_links(|l| l.peers.trap_exit = on);
        }
    }

    /// Whether this incarnation traps exits.
    pub(crate) fn traps_exit(&self) -> bool {
        self.links
            .lock()
            .as_ref()
            .is_some_and(|l| l.peers.trap_exit)
    }

    /// The exit of an incarnation, for its links (taken from it by
    /// `finish`): every partner gets an exit signal.
    pub(crate) fn end_links(&self, peers: Peers, reason: &ExitReason) {
        for (_, partner) in peers.partners {
            if let Some(partner) = partner.upgrade() {
                partner.exit_signal(self.addr, reason);
            }
        }
    }

    /// Sends this process the exit signal of its partner `from`, by the
    /// path its trapping calls for (see the module docs).
    fn exit_signal(&self, from: Addr, reason: &ExitReason) {
        let trap = {
            let mut links = self.links.lock();
            let Some(peers) = links.as_mut().map(|l| &mut l.peers) else {
                return;
            };
            if !peers.holds(from) {
                return; // unlinked meanwhile
            }
            if !peers.trap_exit && !reason.is_abnormal() {
                peers.remove(from);
                return;
            }
            peers.trap_exit
        };
        let exit = Exit {
            from,
            reason: reason.clone(),
        };
        if trap {
            signal::send(self, from, exit);
        } else {
            // Refused only when this process is gone (or between two
            // incarnations): it has exited already.
            let _ = self.mailbox.push_sys(SysMsg::Exit(Box::new(exit)));
        }
    }

    /// Takes an exit signal from `from`, in this process's own task: what
    /// to do with it, decided by whether it traps exits now. The link is
    /// gone afterwards; a signal whose link was removed is ignored.
    pub(crate) fn accept_exit(&self, from: Addr, reason: &ExitReason) -> ExitAction {
        let mut links = self.links.lock();
        let Some(peers) = links.as_mut().map(|l| &mut l.peers) else {
            return ExitAction::Ignore;
        };
        if peers.remove(from).is_none() {
            ExitAction::Ignore
        } else if peers.trap_exit {
            ExitAction::Deliver
        } else if reason.is_abnormal() {
            ExitAction::Exit(reason.clone())
        } else {
            ExitAction::Ignore
        }
    }
}
