//! Runnable examples of troupe: see the `[[example]]` entries of this
//! package (`cargo run --example tour`).
//!
//! The code blocks of the repository's README are doc tests of this crate
//! (`cargo test -p troupe-examples --doc`): each compiles and runs as
//! written, or the test fails.

/// The README, whose Rust code blocks run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct Readme;
