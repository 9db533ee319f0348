//! Pinning actors to Tokio runtimes by filters over their [`ActorMeta`],
//! and placing children beside their parent.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use parking_lot::RwLock;
use tokio::runtime::Handle;

use super::process::Shared;
use crate::addr::{ActorMeta, Addr};

pub(crate) type Filter = Box<dyn Fn(&ActorMeta) -> bool + Send + Sync>;

/// Where the actors a filter selects run.
#[derive(Clone)]
pub(crate) enum Placement {
    /// All on one runtime.
    One(Handle),
    /// Each on one runtime of a [`CoreSet`](super::core_set::CoreSet),
    /// picked from its address (so a process restarted in place, which
    /// keeps its address, stays where it was).
    Spread(Arc<[Handle]>),
}

impl Placement {
    fn pick(&self, addr: Addr) -> &Handle {
        match self {
            Placement::One(h) => h,
            // Addresses are handed out in sequence: consecutive actors go
            // to consecutive runtimes.
            Placement::Spread(hs) => &hs[(addr.id() % hs.len() as u64) as usize],
        }
    }

    fn handles(&self) -> impl Iterator<Item = &Handle> {
        let (one, many) = match self {
            Placement::One(h) => (Some(h), &[][..]),
            Placement::Spread(hs) => (None, &hs[..]),
        };
        one.into_iter().chain(many)
    }
}

/// The dedicated runtimes of a system, checked in registration order.
///
/// A process runs on:
/// 1. the placement of the first filter that matches its meta;
/// 2. else, beside its nearest ancestor (supervisor, parent, …) that a
///    filter placed: on the same runtime, the same thread of a core set, so
///    a subtree stays on one thread ("children beside their parent");
/// 3. else on the default runtime: the system's configured one (a
///    topology's is the one that drives `init::start`), or else the one
///    that spawns it.
///
/// Processes never migrate: the choice is made when a process starts (and
/// again when it is restarted in place, with the same result unless the
/// rules changed).
#[derive(Default)]
pub(crate) struct Runtimes {
    rules: RwLock<Vec<(Filter, Placement)>>,
    default: RwLock<Option<Handle>>,
    /// Whether a rule or a default runtime was ever set. Until then every
    /// process runs on the runtime that spawns it, and a spawn or a
    /// restart takes neither lock (two read locks and a second `Handle`
    /// were about 100 instructions of each, `scripts/callgrind-bench.sh`).
    configured: AtomicBool,
}

/// How far up the tree a process looks for a placed ancestor (a bound
/// against a cycle that should never exist).
const MAX_DEPTH: usize = 64;

impl Runtimes {
    pub(crate) fn add(&self, filter: Filter, placement: Placement) {
        self.rules.write().push((filter, placement));
        self.configured.store(true, Ordering::Release);
    }

    pub(crate) fn set_default(&self, handle: Handle) {
        *self.default.write() = Some(handle);
        self.configured.store(true, Ordering::Release);
    }

    /// Whether anything decides where processes run (see `configured`).
    fn is_configured(&self) -> bool {
        self.configured.load(Ordering::Acquire)
    }

    /// The runtime of the running task, if that is where this process runs
    /// (so its start can run right in the spawner's task).
    pub(crate) fn current_if_selected(&self, shared: &Shared) -> Option<Handle> {
        let here = Handle::try_current().ok()?;
        if !self.is_configured() {
            return Some(here);
        }
        let selected = self.select(shared)?;
        (selected.id() == here.id()).then_some(here)
    }

    /// The configured default runtime, if any, and the dedicated ones in
    /// registration order, a core set's one by one (for introspection).
    pub(crate) fn handles(&self) -> (Option<Handle>, Vec<Handle>) {
        let rules = self.rules.read();
        let dedicated = rules
            .iter()
            .flat_map(|(_, p)| p.handles())
            .cloned()
            .collect();
        (self.default.read().clone(), dedicated)
    }

    /// The index, among [`Runtimes::handles`]' dedicated ones, of the
    /// runtime that runs this process, or `None`: the default one.
    pub(crate) fn dedicated_index(&self, shared: &Shared) -> Option<usize> {
        let rules = self.rules.read();
        let (rule, addr) = Self::placed(&rules, shared)?;
        let chosen = rules[rule].1.pick(addr).id();
        let index = rules
            .iter()
            .flat_map(|(_, p)| p.handles())
            .position(|h| h.id() == chosen);
        index
    }

    /// The rule that places this process and the address it picks by: its
    /// own, or its nearest placed ancestor's.
    fn placed(rules: &[(Filter, Placement)], shared: &Shared) -> Option<(usize, Addr)> {
        if rules.is_empty() {
            return None;
        }
        let find = |meta: &ActorMeta| rules.iter().position(|(filter, _)| filter(meta));
        if let Some(rule) = find(&shared.meta) {
            return Some((rule, shared.addr));
        }
        let mut ancestor = shared.parent();
        for _ in 0..MAX_DEPTH {
            let a = ancestor?;
            if let Some(rule) = find(&a.meta) {
                return Some((rule, a.addr));
            }
            ancestor = a.parent();
        }
        None
    }

    /// The runtime this process runs on.
    pub(crate) fn select(&self, shared: &Shared) -> Option<Handle> {
        if !self.is_configured() {
            return Handle::try_current().ok();
        }
        let rules = self.rules.read();
        if let Some((rule, addr)) = Self::placed(&rules, shared) {
            return Some(rules[rule].1.pick(addr).clone());
        }
        drop(rules);
        if let Some(h) = self.default.read().as_ref() {
            return Some(h.clone());
        }
        Handle::try_current().ok()
    }
}
