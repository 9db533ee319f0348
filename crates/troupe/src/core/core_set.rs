//! [`CoreSet`]: single-threaded Tokio runtimes, one named thread each, for
//! placing actors so that those that talk to each other never cross
//! threads (thread-per-core).

use std::io;
use std::sync::Arc;
use std::thread::JoinHandle;

use parking_lot::Mutex;
use tokio::runtime::Handle;
use tokio::sync::oneshot;

/// A set of single-threaded Tokio runtimes, each driven by a thread of its
/// own named `{name}-{i}`: the building block of a thread-per-core layout.
///
/// Pin actors to it with [`Topology::add_core_set`](crate::Topology::add_core_set)
/// or [`ActorSystem::add_core_set`](crate::ActorSystem::add_core_set): each
/// actor a filter selects runs on one runtime of the set, picked from its
/// address, so the actors spread evenly; its children (and their children)
/// run on the same thread as it unless a filter of their own says
/// otherwise. Two actors on the same runtime exchange messages without a
/// cross-thread wake-up, which is what makes a current-thread runtime
/// faster than a work-stealing one for chatty actors (see BENCHMARKS.md).
///
/// Which to choose:
/// - one current-thread runtime (`#[tokio::main(flavor = "current_thread")]`)
///   for a service whose actors are chatty and whose total load fits one
///   core: no message ever crosses a thread;
/// - a `CoreSet` when the load needs several cores but falls into parts
///   (a trading gateway's venues, a telemetry agent's sources): put each
///   part's actors under one parent, or select them with one filter, and
///   each part stays on one thread;
/// - Tokio's multi-thread runtime (the default) when the load is uneven or
///   unpredictable: work stealing balances it, at the price of
///   cross-thread wake-ups.
///
/// A blocking call on one runtime of the set stalls every actor pinned to
/// it (there is no work stealing); use `spawn_blocking` for such work.
///
/// The threads stop when the set is dropped (or [`CoreSet::shutdown`]):
/// the tasks still on them are dropped, as when a Tokio runtime is. Stop
/// the system that uses the set first.
///
/// ```
/// use troupe::prelude::*;
/// use troupe::CoreSet;
///
/// #[derive(Default)]
/// struct Venue;
/// impl Actor for Venue {}
///
/// # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let cores = CoreSet::new("venue", 2)?;
/// let system = ActorSystem::isolated();
/// // Every actor named `venue-*` runs on one of the two threads.
/// system.add_core_set(|meta| meta.key.starts_with("venue-"), &cores);
/// let a = Venue.spawn().on_system(&system).named("venue-a").await?;
/// let b = Venue.spawn().on_system(&system).named("venue-b").await?;
/// assert!(a.is_alive() && b.is_alive());
/// system.shutdown().await;
/// cores.shutdown();
/// # Ok(()) }
/// ```
pub struct CoreSet {
    handles: Arc<[Handle]>,
    threads: Mutex<Vec<(oneshot::Sender<()>, JoinHandle<()>)>>,
}

impl CoreSet {
    /// Starts `count` threads named `{name}-0` … `{name}-{count-1}`, each
    /// driving a current-thread runtime with time and I/O enabled. Fails
    /// if `count` is zero or a thread or runtime cannot be made.
    pub fn new(name: &str, count: usize) -> io::Result<Self> {
        if count == 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "a core set needs at least one runtime",
            ));
        }
        let mut handles = Vec::with_capacity(count);
        let mut threads = Vec::with_capacity(count);
        for i in 0..count {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .thread_name(format!("{name}-{i}-blocking"))
                .build()?;
            handles.push(runtime.handle().clone());
            let (stop, stopped) = oneshot::channel::<()>();
            // On an error below, the threads started so far stop: their
            // `stop` senders are dropped with `threads`.
            let thread = std::thread::Builder::new()
                .name(format!("{name}-{i}"))
                .spawn(move || {
                    // Until the set says stop (or is dropped); the runtime
                    // and what is left on it are dropped on this thread.
                    let _ = runtime.block_on(stopped);
                })?;
            threads.push((stop, thread));
        }
        Ok(CoreSet {
            handles: Arc::from(handles),
            threads: Mutex::new(threads),
        })
    }

    /// One runtime per core the machine reports
    /// ([`std::thread::available_parallelism`]).
    pub fn per_core(name: &str) -> io::Result<Self> {
        let count = std::thread::available_parallelism().map_or(1, |n| n.get());
        Self::new(name, count)
    }

    /// How many runtimes (threads) the set has.
    pub fn len(&self) -> usize {
        self.handles.len()
    }

    /// Always `false`: a set has at least one runtime.
    pub fn is_empty(&self) -> bool {
        self.handles.is_empty()
    }

    /// The handle of the `i`th runtime, to spawn a task or pin an actor to
    /// it alone ([`Topology::add_dedicated_rt`](crate::Topology::add_dedicated_rt)).
    pub fn handle(&self, i: usize) -> Option<&Handle> {
        self.handles.get(i)
    }

    pub(crate) fn handles(&self) -> Arc<[Handle]> {
        self.handles.clone()
    }

    /// Stops every thread of the set and waits for them to end. Tasks
    /// still on the runtimes are dropped. Call it outside the set's own
    /// threads (from one of them it would wait for itself: it then only
    /// asks them to stop).
    pub fn shutdown(self) {
        self.stop(true);
    }

    fn stop(&self, join: bool) {
        let threads = std::mem::take(&mut *self.threads.lock());
        let here = std::thread::current().id();
        let mut joins = Vec::with_capacity(threads.len());
        for (stop, thread) in threads {
            let _ = stop.send(());
            joins.push(thread);
        }
        if join {
            for thread in joins {
                if thread.thread().id() != here {
                    let _ = thread.join();
                }
            }
        }
    }
}

/// Dropping the set asks its threads to stop without waiting for them.
impl Drop for CoreSet {
    fn drop(&mut self) {
        self.stop(false);
    }
}

impl std::fmt::Debug for CoreSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CoreSet")
            .field("runtimes", &self.handles.len())
            .finish()
    }
}
