//! Adapter placeholder.

use std::time::Duration;

use crate::config::Sizes;
use crate::harness::{BenchError, RunResult};
use crate::workloads::Workload;

/// Setup notes for the report.
pub const NOTES: &[&str] = &["not implemented yet"];

/// Runs one workload.
pub fn run(_workload: Workload, _sizes: &Sizes, _limit: Duration) -> RunResult {
    Err(BenchError::Unsupported("adapter not written yet"))
}
