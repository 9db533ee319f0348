#!/usr/bin/env bash
# Checks the workspace's unsafe code:
#   1. Miri runs the unit tests of troupe's inline message payload and
#      handler-future slot (crates/troupe/src/{payload,future_slot}/tests.rs)
#      and of troupe-pipeline's lossy
#      queue (src/queue/tests.rs): undefined behaviour, uninitialised reads,
#      double drops, leaks, data races.
#   2. loom explores every interleaving of the queue's atomics
#      (tests/loom_queue.rs, exhaustive on small models).
# Installs what it needs if missing (a minimal nightly toolchain, its miri
# and rust-src components, Miri's own build of the standard library), and
# says so on screen before each. Takes about two to three minutes on a
# 2-core machine, most of it compiling.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

if ! rustup toolchain list | grep -q '^nightly'; then
    echo "== check-unsafe: installing the nightly toolchain (rustup, minimal profile) for Miri"
    rustup toolchain install nightly --profile minimal
fi
for component in miri rust-src; do
    if ! rustup component list --installed --toolchain nightly 2>/dev/null | grep -q "^$component"; then
        echo "== check-unsafe: installing the rustup component $component of the nightly toolchain"
        rustup component add "$component" --toolchain nightly
    fi
done
echo "== check-unsafe: preparing Miri's standard library (built once, then cached)"
cargo +nightly miri setup

echo "== Miri: troupe's inline message payload, handler-future slot and recycled envelope boxes"
cargo +nightly miri test -p troupe --lib -- payload:: future_slot:: envelope::letters::

echo "== Miri: lossy queue unit tests"
cargo +nightly miri test -p troupe-pipeline --lib queue::

echo "== loom: lossy queue models"
# A separate target dir: --cfg loom rebuilds everything, and would otherwise
# throw away the normal build cache.
RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR="$root/target/loom" \
    cargo test -p troupe-pipeline --release --test loom_queue

if [ -n "${CI:-}" ]; then
    # Nothing later uses Miri's or loom's builds: give the disk back.
    rm -rf "${CARGO_TARGET_DIR:-$root/target}/miri" "$root/target/loom"
fi
echo "== check-unsafe: Miri and loom passed"
