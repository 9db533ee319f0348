//! Addresses and identities of processes.

use std::borrow::Cow;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

/// Number of a node in a (future) distributed system.
///
/// A single-process system is node `0` unless configured otherwise. The node
/// number is part of every [`Addr`], so that addresses stay meaningful when
/// messages cross the network.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct NodeNo(pub u16);

const ID_BITS: u32 = 48;
const ID_MASK: u64 = (1 << ID_BITS) - 1;

/// The untyped, copyable address of a process: a node number and a process id.
///
/// Addresses are cheap to copy, compare and hash (one `u64`). The null
/// address ([`Addr::NULL`]) stands for "no process", for example the sender
/// of a message sent from outside any actor.
///
/// ```
/// use troupe::{Addr, NodeNo};
/// let a = Addr::new(NodeNo(2), 42);
/// assert_eq!(a.node(), NodeNo(2));
/// assert_eq!(a.id(), 42);
/// assert_eq!(a.to_string(), "2/42");
/// assert!(Addr::NULL.is_null());
/// ```
/// With the `serde` feature, an address serializes as its raw `u64`, so
/// that it can travel in messages to other nodes.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(transparent))]
pub struct Addr(u64);

impl Addr {
    /// The address of no process.
    pub const NULL: Addr = Addr(0);

    /// Builds an address from a node number and a process id (48 bits are kept).
    pub const fn new(node: NodeNo, id: u64) -> Self {
        Addr(((node.0 as u64) << ID_BITS) | (id & ID_MASK))
    }

    /// The node this process lives on.
    pub const fn node(self) -> NodeNo {
        NodeNo((self.0 >> ID_BITS) as u16)
    }

    /// The process id, unique within its node.
    pub const fn id(self) -> u64 {
        self.0 & ID_MASK
    }

    /// Whether this is [`Addr::NULL`].
    pub const fn is_null(self) -> bool {
        self.0 == 0
    }

    /// The raw 64-bit form (for wire formats).
    pub const fn into_bits(self) -> u64 {
        self.0
    }

    /// Rebuilds an address from [`Addr::into_bits`].
    pub const fn from_bits(bits: u64) -> Self {
        Addr(bits)
    }

    pub(crate) fn next(node: NodeNo) -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        Addr::new(node, NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

impl fmt::Display for Addr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_null() {
            f.write_str("null")
        } else {
            write!(f, "{}/{}", self.node().0, self.id())
        }
    }
}

impl fmt::Debug for Addr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Addr({self})")
    }
}

/// Hashes addresses for the registry's maps: one multiplication (Fibonacci
/// hashing) instead of SipHash, since addresses are not chosen by an
/// adversary (they are handed out by a counter).
#[derive(Clone, Copy, Default)]
pub(crate) struct AddrHasher(u64);

impl std::hash::Hasher for AddrHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0 ^ n).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// A map keyed by address, hashed with [`AddrHasher`].
pub(crate) type AddrMap<V> =
    std::collections::HashMap<Addr, V, std::hash::BuildHasherDefault<AddrHasher>>;

/// The identity of a process in logs, metrics and runtime filters.
///
/// For a struct actor, `group` is the actor's type name and `key` its
/// registered name (or `_`). For a functional actor, `group` is its group's
/// name and `key` the routing key.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ActorMeta {
    /// The group (or type) the process belongs to.
    pub group: Cow<'static, str>,
    /// The key of the process within its group.
    pub key: Cow<'static, str>,
}

impl ActorMeta {
    /// Builds a meta from a group and a key.
    pub fn new(group: impl Into<Cow<'static, str>>, key: impl Into<Cow<'static, str>>) -> Self {
        Self {
            group: group.into(),
            key: key.into(),
        }
    }
}

impl fmt::Display for ActorMeta {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.group, self.key)
    }
}
