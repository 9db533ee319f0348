#!/usr/bin/env bash
# Instructions per item through a 3-stage pipeline on one scheduler thread,
# with plain stages and with restartable ones (that never fail), counted by
# valgrind's callgrind: repeatable whatever the machine's load. For each
# kind, crates/troupe-pipeline/benches/stage_cost.rs runs under callgrind
# with a small and a large item count; the difference of the two totals,
# divided by the difference of the counts, leaves out start-up and stop.
#
#   bash scripts/callgrind-pipeline.sh
#
# Needs valgrind (installs nothing).
set -euo pipefail
cd "$(dirname "$0")/.."

small=100000
large=600000

command -v valgrind > /dev/null || { echo "callgrind-pipeline.sh: valgrind not found" >&2; exit 1; }

bin="$(cargo bench -q -p troupe-pipeline --features supervision --bench stage_cost --no-run \
    --message-format=json 2> /dev/null |
    sed -n 's/.*"executable":"\([^"]*stage_cost[^"]*\)".*/\1/p' | tail -1)"
[ -x "$bin" ] || { echo "callgrind-pipeline.sh: stage_cost not built" >&2; exit 1; }

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# Total instructions of one run.
instructions() {
    local out="$tmp/callgrind.out"
    valgrind --tool=callgrind --dump-instr=no --callgrind-out-file="$out" \
        "$bin" "$1" "$2" 2> "$tmp/log" || { cat "$tmp/log" >&2; return 1; }
    local total
    total="$(sed -n 's/^totals: *\([0-9]*\).*/\1/p' "$out")"
    [ -n "$total" ] || total="$(sed -n 's/^summary: *\([0-9]*\).*/\1/p' "$out")"
    [ -n "$total" ] || { echo "callgrind-pipeline.sh: no total in $out" >&2; return 1; }
    echo "$total"
}

printf '%-12s %14s %14s %12s\n' stages "I($small)" "I($large)" "instr/item"
for kind in plain restartable; do
    a="$(instructions "$kind" "$small")"
    b="$(instructions "$kind" "$large")"
    per_item="$(awk -v a="$a" -v b="$b" -v n=$((large - small)) \
        'BEGIN { printf "%.2f", (b - a) / n }')"
    printf '%-12s %14s %14s %12s\n' "$kind" "$a" "$b" "$per_item"
done
