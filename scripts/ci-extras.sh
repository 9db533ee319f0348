#!/usr/bin/env bash
# The slow checks CI runs after the README's test command (`cargo test
# --all-features`), fmt and clippy:
#   1. every example, run to completion (and no colour codes in a pipe);
#   2. Miri and loom on the unsafe code (scripts/check-unsafe.sh; installs
#      nightly's miri if missing, and says so first);
#   3. the benchmark crate's tests and its `--quick` smoke run (compiles
#      the peer frameworks in release; needs Rust 1.88; the tests add about
#      1.5 minutes on 2 cores). Its clippy run is left out
#      to keep CI under 20 minutes on 2 cores (it would check-build the
#      peers a second time): after changing the benchmark crate, run
#      `cargo clippy -p troupe-bench --all-targets -- -D warnings`.
# The frame decoder's fuzz test runs a short round within `cargo test`
# (crates/troupe-remote/tests/frame_fuzz.rs); scripts/fuzz-frames.sh runs a
# long one.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== examples (each must finish by itself, without colour codes in a pipe)"
out="$(mktemp)"
trap 'rm -f "$out"' EXIT
# The examples as `cargo test --all-features` built them (the default
# members, every feature): built again here only if something changed, and
# never a second time with another feature set.
cargo build -q --all-features --examples
target_dir="$(cargo metadata -q --no-deps --format-version 1 |
    sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')"
run_example() {
    local name="$1"
    timeout 120 "$target_dir/debug/examples/$name" > "$out"
    if grep -q $'\x1b\[' "$out"; then
        echo "example $name printed colour codes into a pipe" >&2
        exit 1
    fi
    echo "example $name: ok"
}
for example in tour simple_counter ping_pong cross_comm counter multi_runtime \
    supervision basic_supervisor timers stream_counter config_reload \
    pipeline remote_ping_pong remote_counter; do
    run_example "$example"
done

echo "== unsafe code under Miri and loom"
bash scripts/check-unsafe.sh

echo "== the benchmark crate: a quick run (builds ractor, kameo, actix, elfo)"
cargo run --profile smoke -q -p troupe-bench -- --quick > /dev/null
echo "benchmarks --quick: ok"
# Its own tests: the report's parts, the wire format between the harness and
# its children, the child mode end to end.
cargo test --profile smoke -q -p troupe-bench
if [ -n "${CI:-}" ]; then
    # Nothing later uses the peers' release build: give the disk back.
    rm -rf "$target_dir/smoke"
fi
