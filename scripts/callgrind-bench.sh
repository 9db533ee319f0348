#!/usr/bin/env bash
# Instructions per operation of one troupe-bench workload, for any of its
# frameworks, counted by valgrind's callgrind: the bench's own run (the
# same child process the report times) at a small and a large count; the
# difference of the two totals over the difference of the counts leaves
# out start-up and whatever does not grow with the count.
#
#   bash scripts/callgrind-bench.sh WORKLOAD FRAMEWORK...
#
#   bash scripts/callgrind-bench.sh ask troupe-1t tokio-1t
#   bash scripts/callgrind-bench.sh spawn troupe-1t actix tokio-1t
#
# Workloads and the size each one grows: ask (asks), tell, pingpong,
# ring (hops), big (pings per actor), spawn (actors), restarts. The spawn
# workload's child ends right after its timed window
# (TROUPE_BENCH_TIMED_ONLY), so that the stop of the actors is not
# counted. Nor is troupe's one-off clock calibration: it runs for a
# wall-clock time, so its instructions differ from run to run. The
# callgrind files are kept in
# target/callgrind-bench/ for callgrind_annotate.
#
# Needs valgrind (installs nothing). Builds troupe-bench in release mode
# first (several minutes the first time).
set -euo pipefail
cd "$(dirname "$0")/.."

[ $# -ge 2 ] || { sed -n 2,18p "$0" >&2; exit 2; }
workload="$1"
shift
command -v valgrind > /dev/null || { echo "callgrind-bench.sh: valgrind not found" >&2; exit 1; }

case "$workload" in
    ask) key=ask_n small=20000 large=60000 ;;
    tell) key=tell_n small=100000 large=300000 ;;
    pingpong) key=pingpong_n small=20000 large=60000 ;;
    ring) key=ring_hops small=100000 large=300000 ;;
    big) key=big_pings small=500 large=1500 ;;
    spawn) key=spawn_n small=10000 large=30000 ;;
    restarts) key=restarts small=10000 large=30000 ;;
    *) echo "callgrind-bench.sh: no counts for workload '$workload'" >&2; exit 2 ;;
esac

# The full run's sizes (crates/troupe-bench/src/config.rs, Sizes::full),
# with a restart window long enough for callgrind's pace.
sizes="ask_warmup=2000,ask_n=20000,tell_n=1000000,pingpong_n=100000,ring_actors=100"
sizes="$sizes,ring_hops=100000,fanout_actors=100,fanout_n=1000000,fanout_idle=0,big_actors=100"
sizes="$sizes,big_pings=1000,spawn_n=100000,bp_producers=8,bp_n=1000000,bp_capacity=64"
sizes="$sizes,restarts=50000,tree_depth=4,tree_breadth=5,tree_rounds=11,restart_window_ms=600000"

cargo build -q --release -p troupe-bench
target_dir="$(cargo metadata -q --no-deps --format-version 1 |
    sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')"
bin="$target_dir/release/troupe-bench"
out_dir="$target_dir/callgrind-bench"
mkdir -p "$out_dir"

# Total instructions of one child run of $1 at count $2.
instructions() {
    local framework="$1" n="$2"
    local out="$out_dir/$workload.$framework.$n.out"
    local run_sizes
    run_sizes="$(echo "$sizes" | sed "s/\(^\|,\)$key=[0-9]*/\1$key=$n/")"
    TROUPE_BENCH_TIMED_ONLY=1 valgrind --tool=callgrind --dump-instr=no \
        --callgrind-out-file="$out" \
        "$bin" --child "$workload" "$framework" "$run_sizes" 3600000 \
        > "$out_dir/stdout" 2> "$out_dir/log" || { cat "$out_dir/log" >&2; return 1; }
    local total
    total="$(sed -n 's/^totals: *\([0-9]*\).*/\1/p' "$out" | head -1)"
    [ -n "$total" ] || total="$(sed -n 's/^summary: *\([0-9]*\).*/\1/p' "$out" | head -1)"
    [ -n "$total" ] || { echo "callgrind-bench.sh: no total in $out" >&2; return 1; }
    local calibration
    calibration="$(callgrind_annotate --inclusive=yes --threshold=100 "$out" |
        sed -n 's/^ *\([0-9,]*\) .*troupe::stamp::calibrate.*/\1/p' | head -1 | tr -d ,)"
    echo $((total - ${calibration:-0}))
}

printf '%-10s %-14s %14s %14s %12s\n' workload framework "I(small)" "I(large)" "instr/op"
for framework in "$@"; do
    a="$(instructions "$framework" "$small")"
    b="$(instructions "$framework" "$large")"
    per_op="$(awk -v a="$a" -v b="$b" -v n=$((large - small)) \
        'BEGIN { printf "%.0f", (b - a) / n }')"
    printf '%-10s %-14s %14s %14s %12s\n' "$workload" "$framework" "$a" "$b" "$per_op"
done
