#!/usr/bin/env bash
# All the tests: the workspace's unit, integration and doc tests (every
# feature on), every example run to completion, then the unsafe code under
# Miri and loom. It installs what it needs (nightly Miri) itself.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== cargo test (workspace, all features)"
cargo test --workspace --all-features

echo "== examples (each must finish by itself)"
for example in tour simple_counter ping_pong cross_comm counter multi_runtime \
    supervision basic_supervisor timers stream_counter; do
    timeout 120 cargo run -q -p troupe-examples --example "$example" > /dev/null
    echo "example $example: ok"
done
timeout 120 cargo run -q -p troupe-pipeline --features supervision --example pipeline > /dev/null
echo "example pipeline: ok"
timeout 120 cargo run -q -p troupe-remote --example ping_pong > /dev/null
echo "example ping_pong (two nodes): ok"
timeout 120 cargo run -q -p troupe-remote --example counter > /dev/null
echo "example counter (two nodes): ok"

echo "== unsafe code under Miri and loom"
bash scripts/check-unsafe.sh
