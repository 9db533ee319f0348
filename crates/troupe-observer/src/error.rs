//! What can go wrong when starting an observer.

use std::net::SocketAddr;

/// An observer could not start, or a recorder could not be installed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ObserverError {
    /// The address could not be bound (in use, not local, no permission).
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// Actions were enabled with a token shorter than
    /// [`MIN_TOKEN_LEN`](crate::MIN_TOKEN_LEN) bytes, or with characters
    /// that cannot travel in an HTTP header.
    #[error("the actions token must be at least {min} printable ASCII characters")]
    WeakToken {
        /// The shortest token accepted.
        min: usize,
    },
    /// The Prometheus recorder could not be built or installed (another
    /// global recorder is installed already).
    #[error("cannot install the Prometheus recorder: {0}")]
    Recorder(String),
}
