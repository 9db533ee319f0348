#!/usr/bin/env bash
# Instructions per message on troupe's hot paths, counted by valgrind's
# callgrind: repeatable whatever the machine's load, so fit to compare a
# change before and after. For each workload of examples/hotpath.rs, the
# example runs under callgrind with a small and a large message count; the
# difference of the two totals, divided by the difference of the counts,
# leaves out start-up, spawn and shutdown.
#
#   bash scripts/callgrind.sh [workload...]   (default: tell ask)
#
# Workloads: tell, ask, pingpong, route-ask (examples/hotpath.rs); spawn,
# restart, tree (examples/lifepath.rs).
#
# Needs valgrind (installs nothing). About half a minute once built.
set -euo pipefail
cd "$(dirname "$0")/.."

small=20000
large=120000
workloads=("$@")
[ ${#workloads[@]} -gt 0 ] || workloads=(tell ask)

command -v valgrind > /dev/null || { echo "callgrind.sh: valgrind not found" >&2; exit 1; }

cargo build -q --release -p troupe-examples --example hotpath --example lifepath
target_dir="$(cargo metadata -q --no-deps --format-version 1 |
    sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')"
# Spawns and restarts run in a binary of their own (see examples/lifepath.rs).
bin_of() {
    case "$1" in
        spawn | restart | tree) echo "$target_dir/release/examples/lifepath" ;;
        *) echo "$target_dir/release/examples/hotpath" ;;
    esac
}

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# Total instructions of one run of the example.
instructions() {
    local out="$tmp/callgrind.out"
    valgrind --tool=callgrind --dump-instr=no --callgrind-out-file="$out" \
        "$(bin_of "$1")" "$1" "$2" 2> "$tmp/log" || { cat "$tmp/log" >&2; return 1; }
    local total
    total="$(sed -n 's/^totals: *\([0-9]*\).*/\1/p' "$out")"
    [ -n "$total" ] || total="$(sed -n 's/^summary: *\([0-9]*\).*/\1/p' "$out")"
    [ -n "$total" ] || { echo "callgrind.sh: no total in $out" >&2; return 1; }
    echo "$total"
}

printf '%-8s %14s %14s %12s\n' workload "I(small)" "I(large)" "instr/op"
for workload in "${workloads[@]}"; do
    # A tree's stop waits at most 5 s, which 120,000 children under
    # callgrind exceed: a tenth of the counts.
    scale=1
    [ "$workload" = tree ] && scale=10
    a="$(instructions "$workload" $((small / scale)))"
    b="$(instructions "$workload" $((large / scale)))"
    per_op="$(awk -v a="$a" -v b="$b" -v n=$(((large - small) / scale)) \
        'BEGIN { printf "%.1f", (b - a) / n }')"
    printf '%-8s %14s %14s %12s\n' "$workload" "$a" "$b" "$per_op"
done
