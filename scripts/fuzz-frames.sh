#!/usr/bin/env bash
# Long fuzzing of troupe-remote's frame decoder: arbitrary frames round-trip,
# and arbitrary or mutated bytes decode to a frame or a typed error, never a
# panic, never a large allocation (crates/troupe-remote/tests/frame_fuzz.rs).
#
#   bash scripts/fuzz-frames.sh [cases]   (default: 1000000)
#
# `cases` is the number of fuzzed inputs decoded, half random bytes, half
# mutated encodings; the round-trip property runs a quarter as many frames
# on top. The seed is fixed; set TROUPE_FUZZ_SEED to explore others.
# Builds in release; the default takes under a minute once built on a
# 2-core machine.
set -euo pipefail
cd "$(dirname "$0")/.."

cases="${1:-1000000}"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT

start=$(date +%s.%N)
set +e
TROUPE_FUZZ_CASES="$cases" cargo test --release -p troupe-remote --test frame_fuzz \
    -- --nocapture 2>&1 | tee "$log" | grep -E '^frame_fuzz:|^test result|panicked|FAILED'
status=${PIPESTATUS[0]}
set -e
end=$(date +%s.%N)

awk -v start="$start" -v end="$end" '
    /^frame_fuzz:/ {
        n = $0; sub(/^frame_fuzz: [^:]*: /, "", n); sub(/ cases.*/, "", n)
        total += n
        if ($0 !~ /round trip/) fuzzed += n
    }
    END {
        printf "%d cases in all, %d of them random or mutated inputs; %.1f s wall time, build included\n",
            total, fuzzed, end - start
    }' "$log"
exit "$status"
