//! Starting a system from a [`Topology`].

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tokio::runtime::Handle;

use crate::core::system::{ActorSystem, ShutdownReport};
use crate::functional::{GroupRuntime, GroupSupervisor, Route, RouteTo};
use crate::topology::Topology;

/// A topology could not be started.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum InitError {
    /// A group was declared (with `local` or as a route's end) but never
    /// mounted.
    #[error("the group {0:?} is declared but not mounted")]
    NotMounted(String),
    /// The topology was already started once (its groups belong to that
    /// system).
    #[error("the topology was already started")]
    AlreadyStarted,
    /// `start` must run inside a Tokio runtime.
    #[error("no Tokio runtime is running")]
    NoRuntime,
    /// The system could not be created (its name, `topology-N`, is taken
    /// by a system created by hand).
    #[error(transparent)]
    System(#[from] crate::error::SystemError),
    /// A group's supervisor could not be started.
    #[error("a group could not start: {0}")]
    Spawn(#[from] crate::error::SpawnError),
    /// The configuration file is not valid for this topology (every
    /// problem is listed).
    #[cfg(feature = "config")]
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
}

/// Starts the topology's system and runs it until it terminates: on Ctrl-C,
/// or when something calls [`ActorSystem::terminate`]. Then it shuts the
/// system down (stopping every actor, see [`ActorSystem::shutdown`]) and
/// returns how each actor ended. The runtime that drives this future is the
/// default runtime of actors no dedicated-runtime filter matches.
///
/// A topology that cannot start (see [`InitError`]) is logged at error
/// level and yields an empty report; use [`try_start`] to handle it.
pub async fn start(topology: Topology) -> ShutdownReport {
    let system = match try_start(topology) {
        Ok(system) => system,
        Err(e) => {
            tracing::error!(error = %e, "the topology could not start");
            return ShutdownReport::default();
        }
    };
    let ctrl_c = async {
        match tokio::signal::ctrl_c().await {
            Ok(()) => tracing::info!("ctrl-c: terminating"),
            // No signal handling here: only `terminate` ends the system.
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for ctrl-c");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        _ = system.terminated() => {}
        _ = ctrl_c => {}
    }
    system.shutdown().await
}

/// Starts the topology's system and returns it at once (the groups'
/// singleton actors are started). Terminate it with
/// [`ActorSystem::shutdown`].
pub fn try_start(topology: Topology) -> Result<ActorSystem, InitError> {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let handle = Handle::try_current().map_err(|_| InitError::NoRuntime)?;
    let mut def = {
        let mut shared = topology.def.lock();
        if shared.started {
            return Err(InitError::AlreadyStarted);
        }
        if let Some(g) = shared
            .groups
            .iter()
            .find(|g| g.schema.is_none() && g.node.is_none())
        {
            return Err(InitError::NotMounted(g.name.to_string()));
        }
        let def = std::mem::take(&mut *shared);
        shared.started = true;
        def
    };
    let name = format!("topology-{}", NEXT.fetch_add(1, Ordering::Relaxed));
    let config = std::mem::take(&mut def.config);
    let system = ActorSystem::create_with(name, config)?;
    system.runtimes().set_default(handle);
    for (filter, placement) in def.runtimes.drain(..) {
        system.runtimes().add(filter, placement);
    }
    // One entry per declaration: a group mounted here, or another node's.
    let decls: Vec<Result<Arc<GroupRuntime>, RouteTo>> = def
        .groups
        .drain(..)
        .map(|g| match (g.node, g.schema) {
            (Some(node), _) => Err(RouteTo::remote(node, g.name)),
            (None, Some(schema)) => Ok(GroupRuntime::new(g.name, schema, system.clone())),
            // Refused above: every local group is mounted.
            (None, None) => Err(RouteTo::Local(std::sync::Weak::new())),
        })
        .collect();
    for route in def.routes.drain(..) {
        let Ok(from) = &decls[route.from] else {
            continue; // routes out of another node's group are its own
        };
        let to = match &decls[route.to] {
            Ok(group) => RouteTo::Local(Arc::downgrade(group)),
            Err(RouteTo::Remote { node, name, .. }) => RouteTo::remote(*node, name.clone()),
            Err(RouteTo::Local(_)) => continue,
        };
        from.add_route(Route {
            to,
            filter: route.filter,
        });
    }
    let groups: Vec<Arc<GroupRuntime>> = decls.into_iter().filter_map(Result::ok).collect();
    // The configuration is validated for every group before any starts.
    #[cfg(feature = "config")]
    if let Some(file) = def.file.take() {
        if let Ok(file) = file.downcast::<crate::config::ConfigFile>() {
            crate::config::apply_at_start(&file, &groups)?;
        }
    }
    for group in &groups {
        system.mount(group.name.to_string(), group.clone());
    }
    // Every group takes messages before any group's actor runs (see
    // `GroupSupervisor::prepare_root`).
    let prepared: Vec<_> = groups
        .iter()
        .map(|group| (group, GroupSupervisor::prepare_root(group)))
        .collect();
    for (group, supervisor) in prepared {
        GroupSupervisor::start_root(group, supervisor)?;
    }
    Ok(system)
}
