#!/bin/bash
# maprace-report: renders logged races back as Go's report, summarises
# them by signature, re-emits valid JSON Lines, reports a damaged line
# with FILE:LINE and goes on; exit status 0 none / 1 races / 2 error.
. "$(dirname "$0")/tap.sh"
maprace="$top/lib/maprace"
report="$top/lib/maprace-report"
ex="$top/examples"
json_check="$top/tests/json_check"
plan 10

# The examples race for real: on a loaded machine their two goroutines can
# take turns on one CPU and miss each other, as defer_writes itself says.
# This script tests the reader, not detection, so each run is repeated
# (at most five times) until it has logged its race.
logged_run() { # log-prefix program
    local i before
    for i in 1 2 3 4 5; do
        before=$(ls "$1".*.jsonl 2>/dev/null | wc -l)
        "$maprace" -o "$1" "$2" >/dev/null 2>&1
        [ "$(ls "$1".*.jsonl 2>/dev/null | wc -l)" -gt "$before" ] && return 0
    done
    echo "# $2 logged no race in five runs"
}
logged_run "$work/a" "$ex/defer_writes"
logged_run "$work/a" "$ex/defer_writes"
logged_run "$work/a" "$ex/iterate_write"
cat "$work"/a.*.jsonl >"$work/all.jsonl"

"$report" "$work/all.jsonl" >"$work/out" 2>"$work/err"
status=$?
[ "$status" = 1 ] && [ "$(grep -c '^fatal error: concurrent map writes$' "$work/out")" = 2 ] &&
    grep -q '^fatal error: concurrent map iteration and map write$' "$work/out" &&
    grep -qE '^goroutine [0-9]* \[running, (writing|wrote) map\]:$' "$work/out" &&
    grep -q '^cleanup_sessions(...)$' "$work/out" &&
    grep -q "^	/.*/examples/defer_writes.c:[0-9]* +0x" "$work/out" &&
    grep -q "^maprace: deferred calls that touched it:$" "$work/out" &&
    ! grep -v "^mr_wg_wait(\|^mr_mutex_lock(" "$work/out" | grep -q "^mr_\|^_start"
result $? "text: each race as Go's report with the map's history, runtime frames hidden but the WaitGroup/Mutex calls (exit $status)" "$work/out"

# The writer's state as the live report gave it: caught inside its write,
# or gone from it (its last write shown); a log from before the field was
# kept says neither and reads as "writing map".
line=$(grep -h '"kind":"concurrent map writes"' "$work"/a.*.jsonl | head -n 1)
printf '%s\n' "$line" | sed 's/"doing":"[a-z ]*"/"doing":"writing map"/' >"$work/doing.jsonl"
printf '%s\n' "$line" | sed 's/"doing":"[a-z ]*"/"doing":"wrote map"/' >>"$work/doing.jsonl"
printf '%s\n' "$line" | sed 's/"doing":"[a-z ]*",//' >>"$work/doing.jsonl"
"$report" "$work/doing.jsonl" >"$work/out" 2>"$work/err"
[ "$?" = 1 ] && [ "$(grep -c '"doing":"' "$work/doing.jsonl")" = 2 ] &&
    [ "$(grep -E '^goroutine [0-9]+ \[running, (writing|wrote) map\]:$' "$work/out" | sed 's/.*, //' | tr '\n' '|')" = \
        "writing map]:|wrote map]:|writing map]:|" ]
result $? "the writer's line says 'writing map' or 'wrote map' as logged; without the field, 'writing map'" "$work/out"

# The summary groups races by kind and the two sides' top frames.  Two
# real runs can differ there (a writer that did not answer in time is
# grouped apart, by design), so its input is fixed: one defer_writes race,
# the same race as another run would log it (another pid, map address and
# time), and the iteration race.
grep -h '"kind":"concurrent map writes"' "$work"/a.*.jsonl | head -n 1 >"$work/sum.jsonl"
sed 's/"pid":[0-9]*/"pid":4242/; s/"address":"0x[0-9a-f]*"/"address":"0xc000012345"/; s/"time":"[^"]*"/"time":"2026-01-02T03:04:05.678Z"/' \
    "$work/sum.jsonl" >"$work/again.jsonl"
cat "$work/again.jsonl" >>"$work/sum.jsonl"
grep -h '"kind":"concurrent map iteration and map write"' "$work"/a.*.jsonl | head -1 >>"$work/sum.jsonl"
"$report" --summary "$work/sum.jsonl" >"$work/out" 2>&1
status=$?
[ "$status" = 1 ] && grep -q "^3 races in 2 groups$" "$work/out" && grep -q "^2x concurrent map writes$" "$work/out" &&
    grep -q "noticed in cleanup_sessions (defer_writes.c:[0-9]*)" "$work/out" &&
    grep -q "deferred call: cleanup_sessions deferred at serve (defer_writes.c:[0-9]*)" "$work/out" &&
    grep -q "^1x concurrent map iteration and map write$" "$work/out"
result $? "summary: grouped by kind and top frames, with counts, map types and defer sites" "$work/out"

"$report" --json "$work/all.jsonl" >"$work/out.jsonl" 2>"$work/err"
[ "$?" = 1 ] && [ "$("$json_check" "$work/out.jsonl")" = 3 ] && cmp -s "$work/out.jsonl" "$work/all.jsonl"
result $? "json: the valid lines, unchanged, as JSON Lines" "$work/err"

{ head -1 "$work/all.jsonl"; echo '{"v":1,"kind":"concurrent map writes","map":'; echo 'not json'; echo '{"v":2,"kind":"x"}'; tail -1 "$work/all.jsonl"; } >"$work/damaged.jsonl"
"$report" "$work/damaged.jsonl" >"$work/out" 2>"$work/err"
status=$?
[ "$status" = 1 ] && grep -q "^maprace-report: $work/damaged.jsonl:2: damaged line" "$work/err" &&
    grep -q "damaged.jsonl:3: damaged line" "$work/err" && grep -q "damaged.jsonl:4: damaged line (not a version 1 race record)" "$work/err" &&
    [ "$(grep -c '^==> ' "$work/out")" = 2 ]
result $? "damaged lines are named with FILE:LINE and skipped; the others are read" "$work/err"

: >"$work/empty.jsonl"
"$report" --summary "$work/empty.jsonl" >"$work/out" 2>&1
status=$?
[ "$status" = 0 ] && grep -q "^0 races in 0 groups$" "$work/out"
result $? "no race: exit 0" "$work/out"

"$report" "$work/missing.jsonl" >/dev/null 2>"$work/err"
[ "$?" = 2 ] && grep -q "missing.jsonl" "$work/err"
result $? "an unreadable log: exit 2, named" "$work/err"

"$report" >/dev/null 2>"$work/err"
[ "$?" = 2 ] && grep -q "no log to read" "$work/err"
result $? "no log given: a usage error" "$work/err"

# The inputs a fuzzer found reading past the buffer of the old reader: a
# last line without a newline ending inside a string after a backslash,
# right after a key, inside an object after a key.  Each alone: no valid
# line, exit 2; after a valid line: read, exit 1; never an invalid read.
vg=""
command -v valgrind >/dev/null && [ -z "$MAPRACE_SANITIZED" ] && vg="valgrind -q --error-exitcode=99"
why=""
i=0
for tail in '{"v":1,"kind":"abc\\' '{"v":1,"kind"' '{"v":1,"map":{"file"'; do
    i=$((i + 1))
    printf '%s' "$tail" >"$work/trunc$i.jsonl"
    { head -1 "$work/all.jsonl"; printf '%s' "$tail"; } >"$work/after$i.jsonl"
    $vg "$report" "$work/trunc$i.jsonl" >/dev/null 2>"$work/err"
    status=$?
    [ "$status" = 2 ] && grep -q "trunc$i.jsonl: not a race log" "$work/err" || { why="trunc$i: exit $status"; break; }
    $vg "$report" --summary "$work/after$i.jsonl" >"$work/out" 2>"$work/err"
    status=$?
    [ "$status" = 1 ] && grep -q "^1 race in 1 group$" "$work/out" && grep -q "after$i.jsonl:2: damaged line" "$work/err" ||
        { why="after$i: exit $status"; break; }
done
[ -z "$why" ]
result $? "truncated last lines (fuzzer finds): skipped safely${vg:+ under valgrind}, a log of nothing else is an error ${why}" "$work/err"

head -c 100000 /dev/urandom >"$work/garbage.jsonl"
"$report" "$work/garbage.jsonl" >/dev/null 2>"$work/err"
status=$?
[ "$status" = 2 ] && [ "$(grep -c 'damaged line (' "$work/err")" = 5 ] && ! LC_ALL=C grep -q '[^[:print:]]' "$work/err" && grep -q "more damaged lines skipped" "$work/err" &&
    grep -q "garbage.jsonl: not a race log" "$work/err" && [ "$(wc -l <"$work/err")" -le 7 ]
result $? "100 KB of random bytes: five warnings, a count, 'not a race log', exit 2 (exit $status)" "$work/err"
