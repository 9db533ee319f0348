//! Which actor of a group takes a request: the group's side of "a request
//! routed through the topology goes to the first route that takes it"
//! (`Context::request`), and the one actor a request to the group gets.

use std::sync::Arc;

use super::mounted::GroupRuntime;
use super::Outcome;
use crate::core::process::Shared;
use crate::envelope::Envelope;
use crate::status::Lifecycle;

impl GroupRuntime {
    /// The actor of this group that `env`, a request routed here through
    /// the topology, goes to, if any: the one its router picks (of a
    /// multicast or a broadcast, the first that [`takes`] it, else the
    /// first that waits for a restart), started if needed and allowed (not
    /// for a gentle outcome). `None` (a discard, no such actor) lets the
    /// request move on to the next route; so does, unless no route has
    /// better, an actor that does not take it now.
    ///
    /// A unicast, the usual case, costs what delivering to it costs.
    pub(super) fn responder(self: &Arc<Self>, env: &Envelope) -> Option<Arc<Shared>> {
        self.responder_of(self.route(env))
    }

    /// The actor a request goes to for this outcome of the group's router
    /// (see [`GroupRuntime::responder`]): also for a request sent to the
    /// group itself (a [`GroupRef`](crate::GroupRef)), which has no other
    /// route to go to.
    pub(super) fn responder_of(self: &Arc<Self>, outcome: Outcome) -> Option<Arc<Shared>> {
        match outcome {
            Outcome::Unicast(key) => self.actor(key),
            Outcome::GentleUnicast(key) => self.existing(&key),
            Outcome::Multicast(keys) => {
                first_taking(keys.into_iter().filter_map(|k| self.actor(k)))
            }
            Outcome::GentleMulticast(keys) => {
                first_taking(keys.iter().filter_map(|k| self.existing(k)))
            }
            Outcome::Broadcast => self.any_actor(takes).or_else(|| self.any_actor(|_| true)),
            Outcome::Discard | Outcome::Default => None,
        }
    }
}

/// Whether an actor takes a request now: it is not ended and waiting for
/// its supervisor to restart it (in a backoff, where a request would wait
/// for the next incarnation).
pub(super) fn takes(actor: &Shared) -> bool {
    actor.lifecycle() != Lifecycle::Restarting
}

/// The first of these actors that takes a request now, else the first.
/// (Lazy: the actors after the first that takes it are not started.)
fn first_taking(actors: impl Iterator<Item = Arc<Shared>>) -> Option<Arc<Shared>> {
    let mut waiting = None;
    for actor in actors {
        if takes(&actor) {
            return Some(actor);
        }
        waiting.get_or_insert(actor);
    }
    waiting
}
