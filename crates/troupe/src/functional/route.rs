//! The topology's routes out of a group (`Context::send`), to groups of this
//! node or, through the installed transport, of another node.
//!
//! A message goes to every route whose filter accepts it. A request goes
//! to the first route that *takes* it: the filter accepts it, and the
//! group's router gives it an actor that exists or can be started and is
//! not waiting for a restart. Routes that do not take it are skipped
//! without a dead letter. When none does, the request goes to the first
//! actor it skipped for waiting for a restart (its next incarnation
//! answers), and without one, it is one dead letter (`NoRecipient`) and
//! the requester gets `Gone`. A group of another node counts as taking it
//! (only that node knows more). `request(..).all()` goes to every actor of
//! every accepting route ([`responders`]).
//!
//! [`responders`]: GroupRuntime::responders

use std::borrow::Cow;
use std::sync::{Arc, OnceLock, Weak};

use super::group_ref::GroupRef;
use super::mounted::GroupRuntime;
use super::responder::takes;
use crate::addr::{Addr, NodeNo};
use crate::core::dead_letter::DeadLetterReason;
use crate::core::instruments::Series;
use crate::core::process::Shared;
use crate::envelope::Envelope;
use crate::error::SendError;

type RouteFilter = Box<dyn Fn(&Envelope) -> bool + Send + Sync>;

/// An outgoing connection of the topology.
pub(crate) struct Route {
    pub(crate) to: RouteTo,
    pub(crate) filter: RouteFilter,
}

/// Where a route goes.
pub(crate) enum RouteTo {
    /// A group of this node.
    Local(Weak<GroupRuntime>),
    /// A group of another node (`Topology::remote`), reached through the
    /// transport once one is installed.
    Remote {
        node: NodeNo,
        name: Cow<'static, str>,
        /// The handle, made once the transport is there.
        handle: OnceLock<GroupRef>,
    },
}

impl RouteTo {
    /// A route to the group `name` of node `node`.
    pub(crate) fn remote(node: NodeNo, name: Cow<'static, str>) -> Self {
        RouteTo::Remote {
            node,
            name,
            handle: OnceLock::new(),
        }
    }
}

/// A route's destination for one envelope.
enum Dest {
    Local(Arc<GroupRuntime>),
    Remote(GroupRef),
}

impl Dest {
    fn name(&self) -> &str {
        match self {
            Dest::Local(g) => &g.name,
            Dest::Remote(g) => g.name(),
        }
    }

    async fn deliver(&self, env: Envelope) -> Result<(), SendError<Envelope>> {
        match self {
            Dest::Local(g) => g.deliver_routed(env).await,
            Dest::Remote(g) => g.deliver(env).await,
        }
    }

    fn try_deliver(&self, env: Envelope) -> Result<(), SendError<Envelope>> {
        match self {
            Dest::Local(g) => g.try_deliver_routed(env),
            Dest::Remote(g) => g.try_deliver_envelope(env),
        }
    }
}

impl GroupRuntime {
    /// Sends through this group's outgoing routes (`Context::send`): every
    /// route whose filter accepts the envelope gets it; a request, the
    /// first route that takes it.
    pub(crate) async fn send_routed(&self, env: Envelope) -> Result<(), SendError<Envelope>> {
        if env.is_request() {
            return self.request_routed(env).await;
        }
        let (first, rest) = self.destinations(&env);
        let Some(first) = first else {
            self.system
                .dead_letter(Addr::NULL, &env, DeadLetterReason::NoRecipient);
            return Err(SendError::NoRecipient(env));
        };
        let Some((last, others)) = rest.split_last() else {
            return first.deliver(env).await;
        };
        for dest in std::iter::once(&first).chain(others) {
            if let Some(copy) = self.copy_to(dest, &env) {
                dest.deliver(copy).await?;
            }
        }
        last.deliver(env).await
    }

    pub(crate) fn try_send_routed(&self, env: Envelope) -> Result<(), SendError<Envelope>> {
        if env.is_request() {
            return self.try_request_routed(env);
        }
        let (first, rest) = self.destinations(&env);
        let Some(first) = first else {
            return Err(SendError::NoRecipient(env));
        };
        let Some((last, others)) = rest.split_last() else {
            return first.try_deliver(env);
        };
        for dest in std::iter::once(&first).chain(others) {
            if let Some(copy) = self.copy_to(dest, &env) {
                dest.try_deliver(copy)?;
            }
        }
        last.try_deliver(env)
    }

    /// Hands a request to the first route that takes it (elfo's routing of
    /// requests: a group that does not take it is skipped), or reports it
    /// as a dead letter when none does.
    ///
    /// An actor waiting for a restart is skipped too, but kept: if no
    /// later route takes the request, it goes to the first such actor
    /// (queued for its next incarnation), rather than failing.
    async fn request_routed(&self, mut env: Envelope) -> Result<(), SendError<Envelope>> {
        let (first, rest) = self.destinations(&env);
        let mut waiting = None;
        for dest in first.into_iter().chain(rest) {
            env = match dest {
                Dest::Remote(group) => return group.deliver(env).await,
                Dest::Local(group) => match group.responder(&env) {
                    None => env,
                    Some(actor) if !takes(&actor) => {
                        waiting.get_or_insert(actor);
                        env
                    }
                    Some(actor) => match actor.deliver(env).await {
                        // It stopped meanwhile: the next route may take it.
                        Err(SendError::Closed(env)) => env,
                        delivered => return delivered,
                    },
                },
            };
        }
        match waiting {
            Some(actor) => actor.deliver(env).await,
            None => self.no_responder(env),
        }
    }

    /// [`GroupRuntime::request_routed`] without waiting for mailbox space.
    fn try_request_routed(&self, mut env: Envelope) -> Result<(), SendError<Envelope>> {
        let (first, rest) = self.destinations(&env);
        let mut waiting = None;
        for dest in first.into_iter().chain(rest) {
            env = match dest {
                Dest::Remote(group) => return group.try_deliver_envelope(env),
                Dest::Local(group) => match group.responder(&env) {
                    None => env,
                    Some(actor) if !takes(&actor) => {
                        waiting.get_or_insert(actor);
                        env
                    }
                    Some(actor) => match actor.try_deliver(env) {
                        Err(SendError::Closed(env)) => env,
                        delivered => return delivered,
                    },
                },
            };
        }
        match waiting {
            Some(actor) => actor.try_deliver(env),
            None => self.no_responder(env),
        }
    }

    /// A request no route takes: one dead letter, and the envelope back.
    fn no_responder(&self, env: Envelope) -> Result<(), SendError<Envelope>> {
        self.system
            .dead_letter(Addr::NULL, &env, DeadLetterReason::NoRecipient);
        Err(SendError::NoRecipient(env))
    }

    /// Every responder of a request sent to all (`request(..).all()`), in
    /// the order of the routes and, within a group, of its router's keys:
    /// each actor the router of each accepting route selects (started on
    /// demand where the outcome says so), and each group of another node
    /// (one responder: its router there picks).
    pub(crate) fn responders(&self, env: &Envelope) -> Vec<Responder> {
        let (first, rest) = self.destinations(env);
        let mut responders = Vec::new();
        for dest in first.into_iter().chain(rest) {
            match dest {
                Dest::Local(group) => {
                    let targets = group.targets(group.route(env));
                    let series = &group.series;
                    responders.extend(
                        targets
                            .into_iter()
                            .map(|actor| Responder::Actor(actor, series.clone())),
                    );
                }
                Dest::Remote(group) => responders.push(Responder::Remote(group)),
            }
        }
        responders
    }

    /// A copy of the envelope for one of several routes, or a dead letter
    /// when it cannot be copied (its type is not `Clone`).
    fn copy_to(&self, dest: &Dest, env: &Envelope) -> Option<Envelope> {
        let copy = env.try_clone();
        if copy.is_none() {
            tracing::debug!(group = %dest.name(), "a message that is not Clone reaches one route only");
            self.system
                .dead_letter(Addr::NULL, env, DeadLetterReason::NoRecipient);
        }
        copy
    }

    /// The series of the group of this node that a request is counted in
    /// (that of the first route whose filter accepts it), if any.
    pub(crate) fn first_route_series(&self, env: &Envelope) -> Option<Series> {
        match self.destinations(env).0? {
            Dest::Local(g) => g.series.clone(),
            Dest::Remote(_) => None,
        }
    }

    /// The destinations whose route accepts the envelope: the first, then
    /// the others (a list that stays empty, so unallocated, for the usual
    /// single route). A route to another node counts once a transport is
    /// installed.
    fn destinations(&self, env: &Envelope) -> (Option<Dest>, Vec<Dest>) {
        let routes = self.routes.read();
        let mut accepted = routes
            .iter()
            .filter(|r| (r.filter)(env))
            .filter_map(|r| match &r.to {
                RouteTo::Local(g) => g.upgrade().map(Dest::Local),
                RouteTo::Remote { node, name, handle } => match handle.get() {
                    Some(group) => Some(Dest::Remote(group.clone())),
                    None => {
                        let group = self.system.remote_group(*node, name)?;
                        Some(Dest::Remote(handle.get_or_init(|| group).clone()))
                    }
                },
            });
        let first = accepted.next();
        (first, accepted.collect())
    }
}

/// One responder of a request sent to all (`request(..).all()`).
pub(crate) enum Responder {
    /// An actor of this node, with its group's series (metrics on).
    Actor(Arc<Shared>, Option<Series>),
    /// A group of another node.
    Remote(GroupRef),
}
