//! Pinning actors to Tokio runtimes by filters over their [`ActorMeta`].

use parking_lot::RwLock;
use tokio::runtime::Handle;

use crate::addr::ActorMeta;

pub(crate) type Filter = Box<dyn Fn(&ActorMeta) -> bool + Send + Sync>;

/// The dedicated runtimes of a system, checked in registration order: the
/// first filter that matches an actor's meta picks its runtime; an actor no
/// filter matches runs on the default runtime (the one that spawns it, or
/// the system's configured default). Actors never migrate between runtimes.
#[derive(Default)]
pub(crate) struct Runtimes {
    rules: RwLock<Vec<(Filter, Handle)>>,
    default: RwLock<Option<Handle>>,
}

impl Runtimes {
    pub(crate) fn add(&self, filter: Filter, handle: Handle) {
        self.rules.write().push((filter, handle));
    }

    pub(crate) fn set_default(&self, handle: Handle) {
        *self.default.write() = Some(handle);
    }

    /// The runtime of the running task, if that is where an actor with this
    /// meta runs (no dedicated runtime and no configured default claims it).
    pub(crate) fn current_if_selected(&self, meta: &ActorMeta) -> Option<Handle> {
        if self.rules.read().iter().any(|(filter, _)| filter(meta)) || self.default.read().is_some()
        {
            return None;
        }
        Handle::try_current().ok()
    }

    /// The configured default runtime, if any, and the dedicated ones in
    /// registration order (for introspection).
    pub(crate) fn handles(&self) -> (Option<Handle>, Vec<Handle>) {
        let dedicated = self.rules.read().iter().map(|(_, h)| h.clone()).collect();
        (self.default.read().clone(), dedicated)
    }

    /// The index of the dedicated runtime that runs an actor with this
    /// meta (the first filter that matches), or `None`: the default one.
    pub(crate) fn dedicated_index(&self, meta: &ActorMeta) -> Option<usize> {
        self.rules
            .read()
            .iter()
            .position(|(filter, _)| filter(meta))
    }

    /// The runtime an actor with this meta runs on.
    pub(crate) fn select(&self, meta: &ActorMeta) -> Option<Handle> {
        let rules = self.rules.read();
        if let Some((_, h)) = rules.iter().find(|(filter, _)| filter(meta)) {
            return Some(h.clone());
        }
        drop(rules);
        if let Some(h) = self.default.read().as_ref() {
            return Some(h.clone());
        }
        Handle::try_current().ok()
    }
}
