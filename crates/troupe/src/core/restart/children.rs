//! A supervisor's children: in start order, found by id or by address and
//! forgotten in constant time, whatever their number.
//!
//! A simple-one-for-one supervisor may hold many thousands of temporary
//! children (one per connection, per job), each forgotten when it ends. In
//! a plain `Vec`, finding the child that ended was a scan and forgetting it
//! moved every later child: `examples/lifepath churn n` (n temporary
//! children that end one after the other, oldest first) took 0.48 s for
//! 10,000 children and 11 s for 40,000, nine tenths of it in `memmove`.
//!
//! Here a forgotten child leaves an empty slot, so the slots (indices) of
//! the others do not move; the slots are compacted when a child joins and
//! the empty ones outnumber the live ones. Ids grow in start order, so a
//! child is found by id with a binary search; a map finds it by the address
//! of its current process.

use std::ops::{Index, IndexMut};
use std::sync::Arc;

use super::engine::Child;
use super::ChildId;
use crate::addr::{Addr, AddrMap};
use crate::core::process::Shared;

/// Empty slots tolerated before a compaction, whatever the live count.
const SLACK: usize = 32;

/// The children of one supervisor, in start order. A slot index stays
/// valid until the next [`Children::push`] (which may compact).
#[derive(Default)]
pub(super) struct Children {
    /// In start order; `None`: forgotten.
    slots: Vec<Option<Child>>,
    /// The id of each slot's child (forgotten ones too), ascending.
    ids: Vec<ChildId>,
    /// How many slots hold a child.
    live: usize,
    /// The slot of each child, by the address of its current process.
    by_addr: AddrMap<usize>,
}

impl Children {
    /// How many children it has.
    pub(super) fn len(&self) -> usize {
        self.live
    }

    /// The slots of its children, in start order.
    pub(super) fn indices(&self) -> Vec<usize> {
        (0..self.slots.len())
            .filter(|&i| self.slots[i].is_some())
            .collect()
    }

    /// Its children, in start order.
    pub(super) fn iter(&self) -> impl DoubleEndedIterator<Item = &Child> {
        self.slots.iter().flatten()
    }

    /// Its children, in start order.
    pub(super) fn iter_mut(&mut self) -> impl Iterator<Item = &mut Child> {
        self.slots.iter_mut().flatten()
    }

    /// The slot of the child with id `id`.
    pub(super) fn index_of(&self, id: ChildId) -> Option<usize> {
        let idx = self.ids.binary_search(&id).ok()?;
        self.slots[idx].is_some().then_some(idx)
    }

    /// The slot of the child whose current process has address `addr`.
    pub(super) fn index_by_addr(&self, addr: Addr) -> Option<usize> {
        self.by_addr.get(&addr).copied()
    }

    /// The ids of the children from slot `from` on, in start order.
    pub(super) fn ids_from(&self, from: usize) -> Vec<ChildId> {
        self.slots
            .iter()
            .skip(from)
            .flatten()
            .map(|c| c.id)
            .collect()
    }

    /// Adds a child, last; its id must be greater than every other's.
    pub(super) fn push(&mut self, child: Child) {
        debug_assert!(self.ids.last().is_none_or(|last| *last < child.id));
        let empty = self.slots.len() - self.live;
        if empty > SLACK && empty > self.live {
            self.compact();
        }
        self.by_addr.insert(child.shared.addr, self.slots.len());
        self.ids.push(child.id);
        self.slots.push(Some(child));
        self.live += 1;
    }

    /// Forgets the child at slot `idx`.
    ///
    /// # Panics
    /// If that slot is empty (a bug of the engine).
    pub(super) fn remove(&mut self, idx: usize) -> Child {
        let child = self.slots[idx].take().expect("a child in this slot");
        self.live -= 1;
        if self.by_addr.get(&child.shared.addr) == Some(&idx) {
            self.by_addr.remove(&child.shared.addr);
        }
        child
    }

    /// Forgets the children `keep` says no to.
    pub(super) fn retain(&mut self, mut keep: impl FnMut(&Child) -> bool) {
        for idx in 0..self.slots.len() {
            if self.slots[idx].as_ref().is_some_and(|c| !keep(c)) {
                self.remove(idx);
            }
        }
    }

    /// The child at slot `idx` runs as `shared` from now on (a restart
    /// may make a new process, with a new address); returns the process
    /// it ran as.
    pub(super) fn set_shared(&mut self, idx: usize, shared: Arc<Shared>) -> Arc<Shared> {
        let child = self.slots[idx].as_mut().expect("a child in this slot");
        if child.shared.addr != shared.addr {
            if self.by_addr.get(&child.shared.addr) == Some(&idx) {
                self.by_addr.remove(&child.shared.addr);
            }
            self.by_addr.insert(shared.addr, idx);
        }
        std::mem::replace(&mut child.shared, shared)
    }

    /// Drops the empty slots; slot indices change.
    fn compact(&mut self) {
        let slots = std::mem::take(&mut self.slots);
        self.ids.clear();
        self.by_addr.clear();
        for child in slots.into_iter().flatten() {
            self.by_addr.insert(child.shared.addr, self.slots.len());
            self.ids.push(child.id);
            self.slots.push(Some(child));
        }
    }
}

impl Index<usize> for Children {
    type Output = Child;

    /// # Panics
    /// If slot `idx` is empty (a bug of the engine).
    fn index(&self, idx: usize) -> &Child {
        self.slots[idx].as_ref().expect("a child in this slot")
    }
}

/// Mutable access to a child; its `shared` changes through
/// [`Children::set_shared`] only, which keeps the address map right.
impl IndexMut<usize> for Children {
    fn index_mut(&mut self, idx: usize) -> &mut Child {
        self.slots[idx].as_mut().expect("a child in this slot")
    }
}
