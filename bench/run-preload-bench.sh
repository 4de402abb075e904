#!/bin/bash
# run-preload-bench.sh PROGRAM LIBMAPRACE — what LD_PRELOAD=libmaprace.so
# costs a race-free, map-heavy, multi-threaded program (target <= 5 %),
# and what it adds to start-up (target <= 5 ms).  Runs are interleaved;
# each figure is the best of BENCH_RUNS (default 5).
set -eu
prog=$1 lib=$2
runs=${BENCH_RUNS:-5}
export MAPRACE_OPTIONS=log_path=stderr
now_ns() { date +%s%N; }
startup_ms() { # mean ms per run of 200 start-ups, with the given preload
    local t0 t1
    t0=$(now_ns)
    for _ in $(seq 200); do LD_PRELOAD="$1" "$prog" start; done
    t1=$(now_ns)
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 200 / 1e6 }'
}
p=1e18 q=1e18 sp=1e18 sq=1e18
for _ in $(seq "$runs"); do
    p=$(awk -v x="$p" -v y="$("$prog" work)" 'BEGIN { print (y < x ? y : x) }')
    q=$(awk -v x="$q" -v y="$(LD_PRELOAD="$lib" "$prog" work)" 'BEGIN { print (y < x ? y : x) }')
done
for _ in 1 2 3; do
    sp=$(awk -v x="$sp" -v y="$(startup_ms "")" 'BEGIN { print (y < x ? y : x) }')
    sq=$(awk -v x="$sq" -v y="$(startup_ms "$lib")" 'BEGIN { print (y < x ? y : x) }')
done
awk -v p="$p" -v q="$q" -v sp="$sp" -v sq="$sq" -v runs="$runs" 'BEGIN {
    printf "\n%-44s %10s %10s %9s\n", "preload cost (best of " runs ")", "plain", "preloaded", "cost"
    printf "%-44s %9.2fms %9.2fms %+8.1f%%\n", "map-heavy 8-goroutine program", p, q, (q / p - 1) * 100
    printf "%-44s %9.3fms %9.3fms %+7.3fms\n", "start-up (one map, then exit)", sp, sq, sq - sp
}'
