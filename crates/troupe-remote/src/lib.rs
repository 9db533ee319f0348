//! Distribution for troupe: actors on several nodes.
//!
//! - [`frame`]: the wire format between two nodes, and its decoder (which
//!   never panics on bad input: every malformed frame is a typed error).
#![warn(missing_docs, missing_debug_implementations)]

pub mod frame;
