//! A test kit (feature `testkit`): drive a group or a struct actor from a
//! test as its peers would, assert on what comes out, on dead letters and
//! on supervision, and inject faults to test supervisors; all of it under
//! a paused Tokio clock.
//!
//! - [`Proxy`]: sends and requests to the group under test, receives what
//!   it sends out (`recv`, `try_recv`, bounded in real time), and `sync`s:
//!   waits until the group has handled everything sent so far, so that a
//!   test can assert that *nothing* came out;
//! - [`assert_msg!`](crate::assert_msg): asserts that an envelope matches
//!   a [`msg!`](crate::msg) pattern;
//! - [`Subscription`]: the system's dead letters and supervision events;
//! - [`inject`] a [`Fault`]: the next handling of a message by a process
//!   panics or stalls;
//! - [`within`]: a real-time bound that holds when Tokio's clock is paused.
//!
//! Modelled on elfo's `elfo-test`.
//!
//! A supervisor tree under test, with a paused clock: a fault makes a
//! child fail, the supervision events show its restart.
//!
//! ```
//! use std::time::Duration;
//! use troupe::prelude::*;
//! use troupe::supervision::{ChildSpec, SupervisionEvent, Supervisor, SupervisorConfig};
//! use troupe::testkit::{self, Fault, Subscription};
//!
//! #[message(ret = u32)]
//! struct Ping;
//!
//! #[derive(Default)]
//! struct Worker;
//! impl Actor for Worker {}
//! impl Handler<Ping> for Worker {
//!     async fn handle(&mut self, _: Ping, _: &mut ActorContext<Self>) -> HandlerResult<u32> {
//!         Ok(1)
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
//! let system = ActorSystem::create("doc-testkit-tree").unwrap();
//! let mut events = Subscription::supervision(&system);
//! let root = Supervisor::new("root")
//!     .with_config(SupervisorConfig::one_for_one().max_restarts(3, Duration::from_secs(5)))
//!     .with_worker(ChildSpec::actor("worker", Worker::default))
//!     .spawn(&system)
//!     .await
//!     .unwrap();
//! let worker: ActorRef<Worker> = system.get("worker").unwrap();
//! testkit::inject(worker.addr(), Fault::Panic("boom".into()));
//! assert!(worker.send(Ping).await.is_err(), "the request dies with the handler");
//! let restarted = events
//!     .find(|e| matches!(e, SupervisionEvent::Started { restart: true, .. }))
//!     .await
//!     .unwrap();
//! # let _ = restarted;
//! assert_eq!(worker.send(Ping).await, Ok(1), "the next incarnation answers");
//! root.shutdown().await.unwrap();
//! # }
//! ```

use std::time::Duration;

mod proxy;
mod subscription;
mod wall;

pub use crate::core::probe::Fault;
pub use proxy::{Proxy, ProxyError, PROXY_GROUP};
pub use subscription::{Subscription, SubscriptionError};
pub use wall::{within, TimedOut};

use crate::addr::Addr;
use crate::core::system::ActorSystem;

/// How long the test kit waits, in real time, before it gives up.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// Makes the next handling of a message by the process at `addr` (any
/// kind: struct actor, a group's actor, a supervisor) fail as `fault` says:
/// it strikes when the process takes its next envelope from its mailbox.
/// A fault armed and not struck yet is replaced.
///
/// This is how a test makes a supervisor's child crash or hang on cue.
pub fn inject(addr: Addr, fault: Fault) {
    crate::core::probe::arm(addr, fault);
}

/// Whether a fault injected for the process at `addr` has not struck yet
/// (it strikes when the process takes its next envelope).
pub fn is_armed(addr: Addr) -> bool {
    crate::core::probe::is_armed(addr)
}

/// Waits (within [`DEFAULT_TIMEOUT`] of real time) until the process at
/// `addr` has handled everything queued for it so far; at once if it is
/// not alive.
pub async fn sync(system: &ActorSystem, addr: Addr) -> Result<(), TimedOut> {
    let Some(process) = system.lookup_registered(addr) else {
        return Ok(());
    };
    let marker = crate::core::probe::sync(&process);
    within(DEFAULT_TIMEOUT, async move {
        let _ = marker.await;
    })
    .await
}

/// Asserts that an envelope matches a [`msg!`](crate::msg) pattern,
/// failing the test with the pattern and the message's name otherwise.
///
/// ```
/// use troupe::prelude::*;
///
/// #[message]
/// struct Report { value: u32 }
///
/// let envelope = Envelope::new(Report { value: 3 }, Addr::NULL, troupe::TraceId::generate());
/// troupe::assert_msg!(envelope, Report { value: 3 });
/// ```
#[macro_export]
macro_rules! assert_msg {
    ($envelope:expr, $($pattern:tt)+) => {{
        let envelope: $crate::Envelope = $envelope;
        let name = envelope.message_name();
        $crate::msg!(match envelope {
            $($pattern)+ => {}
            _ => panic!(
                "expected a message matching `{}`, got a `{}`",
                stringify!($($pattern)+),
                name
            ),
        })
    }};
}
