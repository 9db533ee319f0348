//! Runnable examples of troupe: see the `[[example]]` entries of this
//! package (`cargo run --example tour`).
