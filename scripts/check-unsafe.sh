#!/usr/bin/env bash
# Checks the workspace's unsafe code:
#   1. Miri runs the unit tests of troupe's inline message payload and
#      handler-future slot (crates/troupe/src/{payload,future_slot}/tests.rs)
#      and of troupe-pipeline's lossy
#      queue (src/queue/tests.rs): undefined behaviour, uninitialised reads,
#      double drops, leaks, data races.
#   2. loom explores every interleaving of the queue's atomics
#      (tests/loom_queue.rs, exhaustive on small models).
# Installs what it needs (nightly's miri and rust-src). Takes about two to
# three minutes on a 2-core machine, most of it compiling.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

if ! rustup toolchain list | grep -q '^nightly'; then
    rustup toolchain install nightly --profile minimal
fi
rustup component add miri rust-src --toolchain nightly
cargo +nightly miri setup

echo "== Miri: troupe's inline message payload and handler-future slot"
cargo +nightly miri test -p troupe --lib -- payload:: future_slot::

echo "== Miri: lossy queue unit tests"
cargo +nightly miri test -p troupe-pipeline --lib queue::

echo "== loom: lossy queue models"
# A separate target dir: --cfg loom rebuilds everything, and would otherwise
# throw away the normal build cache.
RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR="$root/target/loom" \
    cargo test -p troupe-pipeline --release --test loom_queue

echo "== check-unsafe: Miri and loom passed"
