//! The topology's routes out of a group (`Context::send`), to groups of this
//! node or, through the installed transport, of another node.

use std::borrow::Cow;
use std::sync::{Arc, OnceLock, Weak};

use super::group_ref::GroupRef;
use super::mounted::GroupRuntime;
use crate::addr::{Addr, NodeNo};
use crate::core::dead_letter::DeadLetterReason;
use crate::core::instruments::Series;
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
    /// route whose filter accepts the envelope gets it.
    pub(crate) async fn send_routed(&self, env: Envelope) -> Result<(), SendError<Envelope>> {
        let (first, rest) = self.destinations(&env);
        let Some(first) = first else {
            self.system
                .dead_letter(Addr::NULL, &env, DeadLetterReason::NoRecipient);
            return Err(SendError::NoRecipient(env));
        };
        // A request goes to the first accepting route only (any-semantics).
        let (Some((last, others)), false) = (rest.split_last(), env.is_request()) else {
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
        let (first, rest) = self.destinations(&env);
        let Some(first) = first else {
            return Err(SendError::NoRecipient(env));
        };
        let (Some((last, others)), false) = (rest.split_last(), env.is_request()) else {
            return first.try_deliver(env);
        };
        for dest in std::iter::once(&first).chain(others) {
            if let Some(copy) = self.copy_to(dest, &env) {
                dest.try_deliver(copy)?;
            }
        }
        last.try_deliver(env)
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

    /// The series of the group of this node that a request would go to
    /// (the first route that accepts it), if any.
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
