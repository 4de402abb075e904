#!/bin/bash
# make stress — the long runs behind the detector's figures (not part of
# make check; minutes).  Prints one line per figure:
#   1. examples/locked_ok (goroutines sharing a map under a Mutex) under
#      maprace, STRESS_CLEAN_RUNS times (default 1000): runs reported
#   2. each racy example under maprace, STRESS_RACY_RUNS times (default
#      50): runs reported
#   3. continue mode: goroutines racing on thousands of maps for
#      STRESS_SECONDS (default 30): distinct races reported, the summary,
#      the exit status, the peak memory
# Exit status 1 if a figure is wrong (a clean run reported, a racy run
# missed, a repeated report, a wrong summary or status).
top="${top_builddir:-.}"
maprace="$top/lib/maprace"
ex="$top/examples"
lib="$top/lib/.libs/libmaprace.so"
clean_runs=${STRESS_CLEAN_RUNS:-1000} racy_runs=${STRESS_RACY_RUNS:-50} seconds=${STRESS_SECONDS:-30}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
bad=0

reported=0
for i in $(seq 1 "$clean_runs"); do
    "$maprace" --no-log "$ex/locked_ok" >/dev/null 2>"$work/err"
    status=$?
    { [ "$status" != 0 ] || [ -s "$work/err" ]; } && reported=$((reported + 1))
done
echo "locked_ok under maprace: $reported of $clean_runs runs reported (or failed)"
[ "$reported" = 0 ] || bad=1

for name in defer_writes read_write iterate_write use_after_free glib_shared_table hsearch_shared; do
    [ -x "$ex/$name" ] || continue
    caught=0
    for i in $(seq 1 "$racy_runs"); do
        timeout 60 "$maprace" --no-log "$ex/$name" >/dev/null 2>"$work/err"
        status=$?
        if [ $status = 2 ] && grep -qE "^fatal error: (concurrent map|map used after free)" "$work/err"; then
            caught=$((caught + 1))
        else # what a missed run did
            echo "  $name run $i: exit $status, $(grep -v '^$' "$work/err" | head -3 | tr '\n' '|' | cut -c1-200)"
        fi
    done
    echo "$name under maprace: reported in $caught of $racy_runs runs"
    [ "$caught" = "$racy_runs" ] || bad=1
done

MAPRACE_OPTIONS="halt_on_error=0:log_path=$work/cont" LD_PRELOAD="$lib" \
    /usr/bin/time -f "%M" -o "$work/rss" "$top/tests/continue_child" manymaps "$seconds" >"$work/out" 2>"$work/err"
status=$?
distinct=$(grep -c "^warning: concurrent map" "$work/err")
summary=$(grep "^maprace: [0-9]* distinct race" "$work/err")
lines=$(cat "$work"/cont.*.jsonl 2>/dev/null | wc -l)
echo "continue mode, $seconds s on many maps: exit $status, $distinct reports, $lines log lines, peak RSS $(tail -1 "$work/rss") KB; $summary; $(tail -1 "$work/out")"
{ [ "$status" = 66 ] && [ "$distinct" -ge 1 ] && [ "$distinct" = "$lines" ] &&
    echo "$summary" | grep -q "^maprace: $distinct distinct race"; } || bad=1
exit $bad
