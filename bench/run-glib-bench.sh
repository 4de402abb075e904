#!/bin/bash
# run-glib-bench.sh BENCH BENCH_TSAN RACY RACY_TSAN MAPRACE — the cost of
# watching an unmodified GLib program, and who finds its race.
#
# Race-free GHashTable-heavy program (bench_glib), best of BENCH_RUNS
# (default 10) interleaved runs: plain, under maprace, rebuilt with
# -fsanitize=thread, and under Valgrind's Helgrind (one run, smaller
# scale, scaled back up).  Then the racy glib_shared_table with each tool,
# BENCH_RACY_RUNS times (default 5), each at most 30 s (a plain racy run
# often hangs inside GLib): how often each reports, in how long,
# and whether the report names a line of glib_shared_table.c.
set -u
bench=$1 bench_tsan=$2 racy=$3 racy_tsan=$4 maprace=$5
runs=${BENCH_RUNS:-10} racy_runs=${BENCH_RACY_RUNS:-5}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
have_valgrind=$(command -v valgrind || true)

best() { sort -n | head -1; }
for i in $(seq 1 "$runs"); do
    echo "bench: glib run $i of $runs" >&2
    "$bench" 2>/dev/null >>"$tmp/plain"
    "$maprace" --no-log "$bench" 2>/dev/null >>"$tmp/maprace"
    TSAN_OPTIONS=report_bugs=1 "$bench_tsan" 2>/dev/null >>"$tmp/tsan"
done
plain=$(best <"$tmp/plain")
echo
echo "Race-free GHashTable-heavy program (bench_glib: 4 threads), ms, best of $runs:"
printf "%-34s %10s %10s\n" "tool" "ms" "slowdown"
calc() { awk "BEGIN { print $1 }"; }
row() { printf "%-34s %10.1f %9.2fx\n" "$1" "$2" "$(calc "$2 / $plain")"; }
row "plain" "$plain"
row "maprace (LD_PRELOAD, no rebuild)" "$(best <"$tmp/maprace")"
row "ThreadSanitizer (rebuilt)" "$(best <"$tmp/tsan")"
if [ -n "$have_valgrind" ]; then
    small=$(valgrind -q --tool=helgrind "$bench" 1 2>/dev/null | tail -1)
    one=$("$bench" 1 2>/dev/null)
    row "Helgrind (no rebuild)" "$(calc "$small / $one * $plain")"
else
    echo "Helgrind: skipped (no valgrind)"
fi

echo
echo "Racy glib_shared_table, $racy_runs runs each: runs reported / mean seconds to the report / names a user line"
printf "%-34s %10s %10s %12s\n" "tool" "reported" "seconds" "user line"
racy_row() { # label command...
    local label=$1 found=0 named=0 total=0 crashed=0
    shift
    for i in $(seq 1 "$racy_runs"); do
        local t0 t1 status
        t0=$(date +%s.%N)
        # (In a subshell that waits for it, so that a run killed by a
        # signal - the plain program's corrupted table often ends in
        # abort() - is counted below rather than announced by this shell
        # as "Aborted".)
        (timeout 30 "$@" >/dev/null 2>"$tmp/err"; exit $?) 2>/dev/null
        status=$?
        t1=$(date +%s.%N)
        [ "$status" -gt 128 ] && [ "$status" != 124 ] && crashed=$((crashed + 1))
        if grep -qE "fatal error: concurrent map|WARNING: ThreadSanitizer|Possible data race|conflicts with a previous" "$tmp/err"; then
            found=$((found + 1))
            total=$(calc "$total + $t1 - $t0")
            grep -q "glib_shared_table.c:[0-9]" "$tmp/err" && named=$((named + 1))
        fi
    done
    local mean="-"
    [ "$found" -gt 0 ] && mean=$(printf "%.2f" "$(calc "$total / $found")")
    printf "%-34s %7d/%-3d %9s %9d/%-3d" "$label" "$found" "$racy_runs" "$mean" "$named" "$racy_runs"
    [ "$crashed" -gt 0 ] && printf "  (%d killed by a signal)" "$crashed"
    echo
}
racy_row "plain (no detector)" "$racy"
racy_row "maprace" "$maprace" --no-log "$racy"
racy_row "ThreadSanitizer (rebuilt)" "$racy_tsan"
[ -n "$have_valgrind" ] && racy_row "Helgrind" valgrind --tool=helgrind "$racy"
exit 0
