//! The static wiring of a system: groups, routes between them, and
//! dedicated runtimes.

use std::borrow::Cow;
use std::sync::Arc;

use parking_lot::Mutex;
use tokio::runtime::Handle;

use crate::addr::{ActorMeta, NodeNo};
use crate::core::core_set::CoreSet;
use crate::core::runtime::Placement;
use crate::core::system::SystemConfig;
use crate::envelope::Envelope;
use crate::functional::Schema;

type RouteFilter = Box<dyn Fn(&Envelope) -> bool + Send + Sync>;
type RtFilter = crate::core::runtime::Filter;

pub(crate) struct GroupDecl {
    pub(crate) name: Cow<'static, str>,
    pub(crate) schema: Option<Schema>,
    /// Set for a group of another node (`Topology::remote`).
    pub(crate) node: Option<NodeNo>,
}

pub(crate) struct RouteDecl {
    pub(crate) from: usize,
    pub(crate) to: usize,
    pub(crate) filter: RouteFilter,
}

#[derive(Default)]
pub(crate) struct TopologyDef {
    pub(crate) groups: Vec<GroupDecl>,
    pub(crate) routes: Vec<RouteDecl>,
    pub(crate) runtimes: Vec<(RtFilter, Placement)>,
    pub(crate) config: SystemConfig,
    /// Set by the first start: its groups now belong to a running system.
    pub(crate) started: bool,
    /// The configuration the groups start with (feature `config`; set by
    /// `Topology::configure`, type-erased so that the wiring does not
    /// depend on how configurations are read).
    #[cfg(feature = "config")]
    pub(crate) file: Option<Box<dyn std::any::Any + Send>>,
}

/// The static wiring of a system: which groups exist, which group's output
/// goes to which, and which actors run on dedicated runtimes. Start it with
/// [`init::start`](crate::init::start).
///
/// ```
/// use troupe::prelude::*;
/// use troupe::{ActorGroup, Topology};
///
/// #[message]
/// struct Hello;
///
/// let topology = Topology::empty();
/// let producers = topology.local("producers");
/// let consumers = topology.local("consumers");
/// producers.route_to(&consumers, |e| e.is::<Hello>());
/// consumers.mount(ActorGroup::new().exec(|mut ctx| async move {
///     while let Some(envelope) = ctx.recv().await {
///         msg!(match envelope { Hello => println!("hello"), _ => {} })
///     }
/// }));
/// ```
#[derive(Clone, Default)]
pub struct Topology {
    pub(crate) def: Arc<Mutex<TopologyDef>>,
}

impl Topology {
    /// A topology without groups.
    pub fn empty() -> Self {
        Self::default()
    }

    /// Sets the config of the system the topology starts.
    pub fn with_config(self, config: SystemConfig) -> Self {
        self.def.lock().config = config;
        self
    }

    /// Declares a group (or returns the one already declared under `name`).
    pub fn local(&self, name: impl Into<Cow<'static, str>>) -> Local {
        let name = name.into();
        let mut def = self.def.lock();
        let index = match def.groups.iter().position(|g| g.name == name) {
            Some(i) => i,
            None => {
                def.groups.push(GroupDecl {
                    name,
                    schema: None,
                    node: None,
                });
                def.groups.len() - 1
            }
        };
        Local {
            topology: self.clone(),
            index,
        }
    }

    /// Declares the group `name` of node `node`, a destination of routes
    /// (`route_to`): what the routes accept goes there through the
    /// transport of a distribution layer (`troupe-remote`) once it is
    /// installed; until then, nothing accepts it. It is mounted on its own
    /// node, not here.
    pub fn remote(&self, node: NodeNo, name: impl Into<Cow<'static, str>>) -> Local {
        let name = name.into();
        let mut def = self.def.lock();
        def.groups.push(GroupDecl {
            name,
            schema: None,
            node: Some(node),
        });
        Local {
            topology: self.clone(),
            index: def.groups.len() - 1,
        }
    }

    /// Runs the actors whose meta matches `filter` on the runtime of
    /// `handle`. Filters are checked in registration order and the first
    /// match wins; an actor no filter matches runs beside its nearest
    /// ancestor that one placed (its children stay on their parent's
    /// runtime), or else on the default runtime (the one that drives
    /// `init::start`). Actors never migrate between runtimes. The runtimes
    /// must outlive the system.
    pub fn add_dedicated_rt(
        &self,
        filter: impl Fn(&ActorMeta) -> bool + Send + Sync + 'static,
        handle: Handle,
    ) {
        let placement = Placement::One(handle);
        self.def.lock().runtimes.push((Box::new(filter), placement));
    }

    /// Runs the actors whose meta matches `filter` on the single-threaded
    /// runtimes of `cores`, each on one of them (picked from its address,
    /// so the actors spread evenly), with their children on the same
    /// thread: thread-per-core. Filters are checked in registration order,
    /// with those of [`add_dedicated_rt`](Topology::add_dedicated_rt). See
    /// [`CoreSet`] for when to choose it.
    pub fn add_core_set(
        &self,
        filter: impl Fn(&ActorMeta) -> bool + Send + Sync + 'static,
        cores: &CoreSet,
    ) {
        let placement = Placement::Spread(cores.handles());
        self.def.lock().runtimes.push((Box::new(filter), placement));
    }
}

/// A group declared in a topology.
#[derive(Clone)]
pub struct Local {
    topology: Topology,
    index: usize,
}

impl Local {
    /// The group's name.
    pub fn name(&self) -> String {
        self.topology.def.lock().groups[self.index].name.to_string()
    }

    /// Sends what this group's actors `send` (or `request`) to `dest` when
    /// `filter` accepts the envelope. With several routes, every accepting
    /// route gets a copy (a request goes to the first route that takes it:
    /// see [`Context::request`](crate::Context::request)).
    pub fn route_to(
        &self,
        dest: &Local,
        filter: impl Fn(&Envelope) -> bool + Send + Sync + 'static,
    ) {
        self.topology.def.lock().routes.push(RouteDecl {
            from: self.index,
            to: dest.index,
            filter: Box::new(filter),
        });
    }

    /// Sets the group's definition. Mounting a group twice replaces the
    /// first definition.
    pub fn mount(&self, schema: Schema) {
        self.topology.def.lock().groups[self.index].schema = Some(schema);
    }
}

impl std::fmt::Debug for Topology {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Topology").finish_non_exhaustive()
    }
}

impl std::fmt::Debug for Local {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Local").finish_non_exhaustive()
    }
}
