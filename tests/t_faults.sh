#!/bin/bash
# The runtime under pressure: out of memory during growth is Go's fatal
# error with a stack, not a crash; a thousand goroutines sharing maps
# under mutexes are never reported, plainly or under maprace.
. "$(dirname "$0")/tap.sh"
lib="$top/lib/.libs/libmaprace.so"
child="$top/tests/fault_child"
maprace="$top/lib/maprace"
plan 6
line() { marker_line "$srcdir/tests/fault_child.c" "$1"; }

if [ -n "$MAPRACE_SANITIZED" ]; then
    n=$((n + 1)); echo "ok $n # SKIP a sanitizer build (ASan reserves more address space than the limit)"
else
    (ulimit -v 400000; exec "$child" oom) >/dev/null 2>"$work/err"
    status=$?
    [ "$status" = 2 ] && head -1 "$work/err" | grep -qx "fatal error: runtime: out of memory" &&
        grep -q "^goroutine 1 \[running\]:$" "$work/err" && grep -qF "/tests/fault_child.c:$(line grow) +0x" "$work/err"
    result $? "out of memory while a map grows (ulimit -v): Go's fatal error with the growing line, exit 2 (got $status)" "$work/err"
fi

"$child" thousand >"$work/out" 2>"$work/err"
status=$?
[ "$status" = 0 ] && [ ! -s "$work/err" ] && grep -q "^thousand: 200000 increments, 200000 expected$" "$work/out"
result $? "1000 goroutines on four maps under mutexes: every increment, no report" "$work/err"
"$maprace" -o "$work/log" "$child" thousand >"$work/out" 2>"$work/err"
status=$?
[ "$status" = 0 ] && [ ! -s "$work/err" ] && grep -q "^thousand: 200000 increments, 200000 expected$" "$work/out" &&
    ! ls "$work"/log.* >/dev/null 2>&1
result $? "the same under maprace: no report, no log" "$work/err"

"$child" resume >"$work/out" 2>"$work/err"
status=$?
[ "$status" = 0 ] && grep -q "^the iteration ended$" "$work/out" && [ ! -s "$work/err" ]
result $? "an iteration kept open while its map grows and is cleared 40 times resumes and ends normally (exit $status)" "$work/err"

# A program with SIGURG and SIGSEGV handlers of its own (the runtime asks
# other goroutines for their stacks with SIGURG, as Go does) and a
# goroutine that blocks every signal.
"$child" handlers >"$work/out" 2>"$work/err"
status=$?
[ "$status" = 2 ] && grep -qx "before: 1 SIGURG, 1 SIGSEGV handled by the program" "$work/out" &&
    head -1 "$work/err" | grep -qx "fatal error: concurrent map writes" &&
    [ "$(grep -cF "/tests/fault_child.c:$(line racer) +0x" "$work/err")" = 2 ] &&
    grep -q "^goroutine [0-9]* \[running, writing map\]:$" "$work/err" &&
    grep -q "(stack not captured: the goroutine did not answer in time)" "$work/err" &&
    grep -q "^goroutine 1 \[semacquire\]:$" "$work/err"
result $? "own SIGURG and SIGSEGV handlers, a goroutine blocking every signal: the handlers run, the report is complete, the blocked goroutine noted (exit $status)" "$work/err"
MAPRACE_OPTIONS="halt_on_error=0:log_path=stderr" LD_PRELOAD="$lib" "$child" handlers >"$work/out" 2>"$work/err"
status=$?
[ "$status" = 66 ] && grep -qx "after: 2 SIGURG handled by the program" "$work/out" &&
    grep -qx "warning: concurrent map writes" "$work/err"
result $? "the same going on after the report (halt_on_error=0): the program's SIGURG handler still runs (exit $status)" "$work/err"
