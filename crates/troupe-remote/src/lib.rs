//! Distribution for troupe: actors on several nodes.
//!
//! - [`frame`]: the wire format between two nodes, and its decoder (which
//!   never panics on bad input: every malformed frame is a typed error).
//! - [`auth`]: the cluster cookie, the shared secret a node proves it knows
//!   in its handshake.
#![warn(missing_docs, missing_debug_implementations)]

pub mod auth;
pub mod frame;
