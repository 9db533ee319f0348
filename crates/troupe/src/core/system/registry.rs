//! The registry of a system's processes and names: registering and
//! unregistering processes, lookups by name and by address (a remote
//! address gets its proxy), and stopping or killing an actor by its name.
//!
//! Names follow Erlang's `register/2` and `whereis/1`: a name maps to one
//! live actor, registering a taken name fails, and the name is freed when
//! the actor exits.

use std::any::TypeId;
use std::collections::HashMap;
use std::sync::Arc;

use super::ActorSystem;
use crate::addr::{Addr, AddrMap};
use crate::core::process::Shared;
use crate::error::{SpawnError, StopError};
use crate::exit::StopReason;

/// A registered process.
pub(super) struct Entry {
    pub(super) shared: Arc<Shared>,
    /// The actor type, for typed lookups (a function pointer: half the
    /// size of a `TypeId` in every registry entry).
    type_id: fn() -> TypeId,
}

/// A system's live processes by address, and the names registered.
#[derive(Default)]
pub(super) struct Registry {
    names: HashMap<Arc<str>, Addr>,
    pub(super) procs: AddrMap<Entry>,
}

impl ActorSystem {
    /// The process registered under `name` if its registry tag is `kind`.
    pub(crate) fn lookup_name(&self, name: &str, kind: TypeId) -> Option<Arc<Shared>> {
        let reg = self.inner.registry.lock();
        let addr = reg.names.get(name)?;
        let entry = reg.procs.get(addr)?;
        ((entry.type_id)() == kind).then(|| entry.shared.clone())
    }

    /// The address registered under `name`, whatever its type.
    pub fn whereis(&self, name: &str) -> Option<Addr> {
        self.inner.registry.lock().names.get(name).copied()
    }

    /// The names of all registered live actors, sorted.
    pub fn registered(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .inner
            .registry
            .lock()
            .names
            .keys()
            .map(|n| n.to_string())
            .collect();
        names.sort();
        names
    }

    /// How many processes are alive in this system.
    pub fn process_count(&self) -> usize {
        self.inner.registry.lock().procs.len()
    }

    fn shared_by_name(&self, name: &str) -> Result<Arc<Shared>, StopError> {
        let reg = self.inner.registry.lock();
        reg.names
            .get(name)
            .and_then(|a| reg.procs.get(a))
            .map(|e| e.shared.clone())
            .ok_or_else(|| StopError::NotFound(name.to_owned()))
    }

    /// Gracefully stops the actor registered as `name` (tier 1, vetoable).
    pub async fn stop(&self, name: &str) -> Result<(), StopError> {
        let shared = self.shared_by_name(name)?;
        shared
            .stop(StopReason::Graceful, shared.control_wait())
            .await
    }

    /// Kills the actor registered as `name` (tier 3, bypasses every hook).
    pub async fn kill(&self, name: &str) -> Result<(), StopError> {
        let shared = self.shared_by_name(name)?;
        shared.stop(StopReason::Kill, shared.control_wait()).await
    }

    pub(crate) fn register(
        &self,
        shared: &Arc<Shared>,
        type_id: fn() -> TypeId,
    ) -> Result<(), SpawnError> {
        if self.is_shutting_down() {
            return Err(SpawnError::ShuttingDown);
        }
        let mut reg = self.inner.registry.lock();
        if let Some(name) = shared.name() {
            if reg.names.contains_key(name) {
                return Err(SpawnError::NameTaken(name.to_string()));
            }
            reg.names.insert(Arc::from(name), shared.addr);
        }
        reg.procs.insert(
            shared.addr,
            Entry {
                shared: shared.clone(),
                type_id,
            },
        );
        shared.count_live(true);
        Ok(())
    }

    pub(crate) fn unregister(&self, shared: &Shared) {
        let mut reg = self.inner.registry.lock();
        if reg.procs.remove(&shared.addr).is_some() {
            shared.count_live(false);
            if let Some(name) = shared.name() {
                if reg.names.get(name) == Some(&shared.addr) {
                    reg.names.remove(name);
                }
            }
        }
    }

    /// The process at `addr`, if it is alive in this system; for an
    /// address of another node, its proxy (started on first use, once a
    /// transport is installed: see `core/remote.rs`).
    pub(crate) fn lookup(&self, addr: Addr) -> Option<Arc<Shared>> {
        if let Some(found) = self.lookup_registered(addr) {
            return Some(found);
        }
        let installed = self.inner.remote.get()?;
        if !self.is_remote(addr) || self.is_shutting_down() {
            return None;
        }
        (installed.spawn_proxy)(self, addr, &installed.transport)
    }

    /// The process registered at `addr` (a proxy for a remote one), if any.
    pub(crate) fn lookup_registered(&self, addr: Addr) -> Option<Arc<Shared>> {
        self.inner
            .registry
            .lock()
            .procs
            .get(&addr)
            .map(|e| e.shared.clone())
    }

    /// Every registered process (proxies of remote ones included), in no
    /// particular order: for introspection (`introspect.rs`).
    pub(crate) fn registered_processes(&self) -> Vec<Arc<Shared>> {
        let reg = self.inner.registry.lock();
        reg.procs.values().map(|e| e.shared.clone()).collect()
    }

    /// Registers `shared` unless a process is registered at its address
    /// already; returns the one that is. For proxies, which two senders
    /// may start at once.
    pub(crate) fn register_once(&self, shared: &Arc<Shared>) -> Result<(), Arc<Shared>> {
        let mut reg = self.inner.registry.lock();
        if let Some(e) = reg.procs.get(&shared.addr) {
            return Err(e.shared.clone());
        }
        reg.procs.insert(
            shared.addr,
            Entry {
                shared: shared.clone(),
                type_id: TypeId::of::<crate::core::remote::Installed>,
            },
        );
        shared.count_live(true);
        Ok(())
    }
}
