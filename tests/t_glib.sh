#!/bin/bash
# Unmodified GLib and hsearch_r programs under maprace (lib/glib.c,
# lib/hsearch.c, lib/threads.c): every race caught in every run, with the
# user's lines, the table's creation line and the threads' creation lines;
# correct programs never reported; continue mode keeps the table whole;
# processes that use neither family are left exactly as they are.
. "$(dirname "$0")/tap.sh"
maprace="$top/lib/maprace"
lib="$(cd "$top/lib/.libs" && pwd)/libmaprace.so" # absolute: children change directory
child="$top/tests/glib_child"
src="$srcdir/tests/glib_child.c"
ex="$top/examples"
json_check="$top/tests/json_check"
runs=${MAPRACE_RUNS:-20}
plan 25
if [ ! -x "$child" ]; then
    for i in $(seq 1 24); do n=$((n + 1)); echo "ok $n # SKIP GLib (libglib2.0-dev) is not installed"; done
    exit 0
fi
line() { marker_line "$src" "$1"; }

# A racy mode, $runs times: every run must exit 2 with the message first,
# show each needle (fixed strings) and log one valid line of that kind.
racy() { # mode message needles...
    local mode=$1 msg=$2 i why=""
    shift 2
    for i in $(seq 1 "$runs"); do
        rm -f "$work"/log.*
        "$maprace" -o "$work/log" "$child" "$mode" >"$work/out" 2>"$work/err"
        local status=$?
        if [ "$status" != 2 ]; then why="run $i: exit $status"; break; fi
        # (GLib's own check may speak first: a foreach that a whole insert
        # slipped into, between two elements, ends with its g_return_if_fail;
        # and a reader that faulted inside GLib on the writer's freed arrays
        # has the race reported after Go's signal line: lib/fault.c.)
        local first
        first=$(grep -v -e '^(process:[0-9]*): GLib-CRITICAL' -e '^$' \
            -e '^\[signal SIG[A-Z]*: .*\] inside a GHashTable call$' "$work/err" | head -1)
        if [ "$first" != "fatal error: $msg" ]; then why="run $i: $first"; break; fi
        for f in "$@"; do # fixed strings, or ~regular expressions
            if [ "${f#\~}" != "$f" ]; then
                grep -qE -- "${f#\~}" "$work/err" || { why="run $i: lacks /${f#\~}/"; break 2; }
            else
                grep -qF -- "$f" "$work/err" || { why="run $i: lacks '$f'"; break 2; }
            fi
        done
        local log
        log=$(ls "$work"/log.*.jsonl 2>/dev/null | head -1)
        if [ -z "$log" ] || [ "$("$json_check" "$log")" != 1 ] || ! grep -qF "\"kind\":\"$msg\"" "$log"; then
            why="run $i: no valid log line"
            break
        fi
    done
    [ -z "$why" ] || { echo "# $mode: $why"; return 1; }
}

# 1-3: two threads insert into one GHashTable.
racy writes "concurrent map writes" \
    "~\\[running, (writing|wrote) map\\]:" "inserter(...)" "/tests/glib_child.c:$(line insert) +0x" \
    "created by two in goroutine 1" "/tests/glib_child.c:$(line create_a) +0x" "/tests/glib_child.c:$(line create_b) +0x" \
    "(GHashTable), made by goroutine 1 at" "goroutine 1 [pthread_join]:"
result $? "GHashTable inserts from two threads: caught in $runs/$runs runs, both insert lines, both creating lines, main shown [pthread_join]" "$work/err"
grep -A2 "(GHashTable), made by goroutine 1 at" "$work/err" | grep -qF "/tests/glib_child.c:$(line new) +0x"
result $? "the report names the g_hash_table_new line" "$work/err"
log=$(ls "$work"/log.*.jsonl | head -1)
grep -q '"map":{"address":"0x[0-9a-f]*","type":"GHashTable","created_by":1,' "$log" &&
    grep -q '"role":"detector"' "$log" && grep -q '"role":"writer"' "$log"
result $? "the log line names the GHashTable and both sides" "$log"

# 4-10: a reader (the table rewritten, then grown), a foreach walk and an
# iterator against a writer; a write between two steps of a walk; a crash.
racy read "concurrent map read and map write" "looker(...)" "/tests/glib_child.c:$(line lookup) +0x" \
    "~\\[running, (writing|wrote) map\\]:" "inserter(...)"
result $? "lookup against insert: 'concurrent map read and map write' in $runs/$runs runs, the lookup line" "$work/err"
racy readgrow "concurrent map read and map write" "looker(...)" "/tests/glib_child.c:$(line lookup) +0x"
result $? "lookup against inserts that grow the table: reported in $runs/$runs runs, never a crash inside GLib" "$work/err"
racy foreach "concurrent map iteration and map write" "walker(...)" "/tests/glib_child.c:$(line foreach) +0x" \
    "~\[running, (writing|wrote) map\]:"
result $? "g_hash_table_foreach against insert: 'concurrent map iteration and map write' in $runs/$runs runs" "$work/err"
racy iter "concurrent map iteration and map write" "iterator(...)" \
    "~/tests/glib_child.c:($(line iter_init)|$(line iter_next)) \+0x"
result $? "GHashTableIter against insert: the iteration message in $runs/$runs runs, the iter_init or iter_next line" "$work/err"
runs_saved=$runs runs=3 # (deterministic: the two are ordered by a barrier; the
# inserter returns after the second one, so it may have exited by the report)
racy iterstep "concurrent map iteration and map write" "stepper(...)" "/tests/glib_child.c:$(line iter_step) +0x" \
    "~\\[(running|dead), wrote map\\]:" "step_inserter(...)" "/tests/glib_child.c:$(line step_insert) +0x"
status=$? runs=$runs_saved
result $status "an insert that falls whole between two GHashTableIter steps: the iteration message, the iter_next line, the insert's line as the writer's last write" "$work/err"
runs_saved=$runs runs=3 # (deterministic: the inserter is joined before the next step)
racy iterexit "concurrent map iteration and map write" "stepper(...)" "/tests/glib_child.c:$(line iter_step) +0x" \
    "[dead, wrote map]:" "(the goroutine has exited since; its last write:)" "exiting_inserter(...)" \
    "/tests/glib_child.c:$(line exit_insert) +0x"
status=$? runs=$runs_saved
grep -qF '"status":"dead","role":"writer"' "$work"/log.*.jsonl || status=1
result $status "the same with the inserter exited and joined: the writer shown [dead, wrote map], its last write's line, 'dead' in the log" "$work/err"

# A crash inside a table call (a bad key for g_str_hash) while another
# thread writes the table without a lock: the race, after Go's signal
# line (the writer, between writes, may be found asleep); the same crash
# with the writer kept out by a lock the crashing thread holds: no race,
# the fault reported as libmaprt reports any (runtime/sigpanic.c).
if [ -n "$MAPRACE_SANITIZED" ]; then
    n=$((n + 1)); echo "ok $n # SKIP a sanitizer build: ASan takes a second fault in the report made from the SIGSEGV handler"
else
"$maprace" -o "$work/crash" "$child" crash >/dev/null 2>"$work/err"
status=$?
[ "$status" = 2 ] && head -1 "$work/err" | grep -q "^\[signal SIGSEGV: segmentation violation code=0x1 addr=0x10 pc=0x[0-9a-f]*\] inside a GHashTable call$" &&
    sed -n 2p "$work/err" | grep -qx "fatal error: concurrent map read and map write" &&
    grep -qF "/tests/glib_child.c:$(line bad_lookup) +0x" "$work/err" && grep -qE "^goroutine [0-9]+ \[(running|sleep), (writing|wrote) map\]:" "$work/err" &&
    grep -qF "/tests/glib_child.c:$(line string_write) +0x" "$work/err" && [ "$("$json_check" "$work"/crash.*.jsonl)" = 1 ]
result $? "a crash inside GLib during another thread's unlocked write: the signal, then the race with both lines, logged (exit $status)" "$work/err"
fi
"$maprace" -o "$work/crash2" "$child" crashlocked >/dev/null 2>"$work/err"
status=$?
[ "$status" = 2 ] && head -2 "$work/err" | tr '\n' '|' | grep -qE "^panic: runtime error: invalid memory address or nil pointer dereference\|\[signal SIGSEGV: segmentation violation code=0x1 addr=0x10 pc=0x[0-9a-f]+\]\|$" &&
    grep -q "^g_hash_table_lookup(...)$" "$work/err" && ! grep -q "concurrent map" "$work/err" && ! ls "$work"/crash2.* >/dev/null 2>&1
result $? "the same crash with the writer locked out: no race, the fault as libmaprt reports any (Go's nil dereference panic), nothing logged (exit $status)" "$work/err"

# 11-12: correct programs are never reported.
why=""
for i in $(seq 1 "$runs"); do
    "$maprace" -o "$work/clean" "$child" locked >"$work/out" 2>"$work/err"
    status=$?
    { [ "$status" = 0 ] && [ ! -s "$work/err" ] && grep -q "locked: 53332 keys, 53332 expected" "$work/out"; } ||
        { why="run $i: exit $status"; break; }
done
! ls "$work"/clean.* >/dev/null 2>&1 && [ -z "$why" ]
result $? "a GMutex-protected table (insert, lookup, remove, foreach, iterators): no report in $runs runs ${why}" "$work/err"
"$maprace" -o "$work/clean" "$child" gobject >"$work/out" 2>"$work/err"
[ $? = 0 ] && [ ! -s "$work/err" ] && ! ls "$work"/clean.* >/dev/null 2>&1
result $? "GObject types, objects and private tables in four threads, no table shared: no report" "$work/err"

# 13: tables made, shared under a lock, referenced and destroyed, many times.
"$maprace" -o "$work/clean" "$child" churn >"$work/out" 2>"$work/err"
[ $? = 0 ] && [ ! -s "$work/err" ] && grep -q "churn: done" "$work/out"
result $? "tables made, ref'd, unref'd and destroyed under a lock: no report" "$work/err"

# 14: continue mode: the second writer waits, the table stays whole.
MAPRACE_OPTIONS=halt_on_error=0 "$maprace" -o "$work/cont" "$child" continue >"$work/out" 2>"$work/err"
status=$?
[ "$status" = 66 ] && grep -q "continue: 200000 keys, 0 missing" "$work/out" &&
    grep -q "^warning: concurrent map writes$" "$work/err" &&
    grep -q "^maprace: 1 distinct race reported" "$work/err"
result $? "continue mode: one report, every key found afterwards, exit 66 (got $status)" "$work/err"

# 15-17: glibc's hsearch_r.
racy hwrites "concurrent map writes" "hloader(...)" "/tests/glib_child.c:$(line hsearch_enter) +0x" \
    "~\\[running, (writing|wrote) map\\]:" "(hsearch_r table), made by goroutine 1 at"
result $? "hsearch_r ENTER from two threads: caught in $runs/$runs runs, the hsearch_r line" "$work/err"
grep -A2 "(hsearch_r table), made by goroutine 1 at" "$work/err" | grep -qF "/tests/glib_child.c:$(line hcreate) +0x"
result $? "the report names the hcreate_r line" "$work/err"
"$maprace" -o "$work/clean" "$child" hlocked >"$work/out" 2>"$work/err"
[ $? = 0 ] && [ ! -s "$work/err" ] && grep -q "hsearch: 50000 of 50000 found" "$work/out"
result $? "hsearch_r under a mutex: no report, every entry found" "$work/err"

# 18-21: the examples, plain and under maprace.
# (The table calls of the cache: the lines of victim() and cached_page().)
exsrc="$srcdir/examples/glib_shared_table.c"
first=$(grep -n "^static gpointer victim" "$exsrc" | cut -d: -f1)
last=$(grep -n "^static void \*worker" "$exsrc" | cut -d: -f1)
calls=$(awk -v a="$first" -v b="$last" 'NR > a && NR < b && /g_hash_table_/ { printf "%s%d", sep, NR; sep = "|" }' "$exsrc")
"$maprace" -o "$work/ex" "$ex/glib_shared_table" >"$work/out" 2>"$work/err"
status=$?
# (As in racy(): a reader that faulted inside GLib on the writer's freed
# arrays has the race reported after Go's signal line.)
[ "$status" = 2 ] && grep -v -e '^(process:[0-9]*): GLib-CRITICAL' -e '^$' \
    -e '^\[signal SIG[A-Z]*: .*\] inside a GHashTable call$' "$work/err" | head -1 |
    grep -qE "^fatal error: concurrent map (writes|read and map write|iteration and map write)$" &&
    grep -qE "/examples/glib_shared_table.c:($calls) \+0x" "$work/err" &&
    grep -q "^created by main in goroutine 1$" "$work/err" && grep -q "(GHashTable), made by goroutine 1 at" "$work/err"
result $? "glib_shared_table under maprace: Go's report naming a table call of the cache, exit 2 (got $status)" "$work/err"
"$ex/glib_shared_table" locked >"$work/out" 2>"$work/err" &&
    "$maprace" -o "$work/clean" "$ex/glib_shared_table" locked >>"$work/out" 2>>"$work/err" &&
    [ "$(grep -c "2000 pages cached, every one intact" "$work/out")" = 2 ] && [ ! -s "$work/err" ]
result $? "glib_shared_table locked: a full cache, every page intact, plain and under maprace, no report" "$work/err"
"$maprace" -o "$work/ex" "$ex/hsearch_shared" >"$work/out" 2>"$work/err"
status=$?
[ "$status" = 2 ] && head -1 "$work/err" | grep -qx "fatal error: concurrent map writes" &&
    grep -q "^loader(...)$" "$work/err" && grep -q "(hsearch_r table), made by goroutine 1 at" "$work/err"
result $? "hsearch_shared under maprace: concurrent map writes naming loader, exit 2 (got $status)" "$work/err"
"$ex/hsearch_shared" locked >"$work/out" 2>"$work/err" &&
    "$maprace" -o "$work/clean" "$ex/hsearch_shared" locked >>"$work/out" 2>>"$work/err" &&
    [ "$(grep -c "200000 of 200000 words found, every one" "$work/out")" = 2 ] && [ ! -s "$work/err" ]
result $? "hsearch_shared locked: every word found, plain and under maprace, no report" "$work/err"

# 22-24: processes that use neither family: same output, same status,
# nothing printed, libmaprt not even loaded.
same() { # description command...
    local a b sa sb
    a=$("$@" 2>&1)
    sa=$?
    b=$(LD_PRELOAD="$lib" "$@" 2>&1)
    sb=$?
    [ "$a" = "$b" ] && [ "$sa" = "$sb" ]
}
printf 'int f(int x) { return x + 1; }\n' >"$work/f.c"
printf 'all:\n\t@echo made $(words a b c)\n' >"$work/Makefile"
same bash -c 'echo hi; exit 3' && same make --version && same make -s -C "$work" &&
    same gcc -c -o "$work/f.o" "$work/f.c" && same gcc --version &&
    { ! command -v python3 >/dev/null || same python3 -c 'import threading; print(sum(range(10)))'; } &&
    same "$top/tests/plain_threads" && [ "$(LD_PRELOAD="$lib" "$top/tests/plain_threads" 2>&1 | tail -1)" = "libmaprt mapped: no" ]
result $? "bash, make (running a rule), gcc (compiling), python3, a threaded program that forks and execs: exactly as without the preload"
[ "$(LD_PRELOAD="$lib" grep -c libmaprt /proc/self/maps)" = 0 ] &&
    [ "$(LD_PRELOAD="$lib" "$child" locked 2>/dev/null >/dev/null; LD_PRELOAD="$lib" grep -c libmaprt /proc/self/maps)" = 0 ]
result $? "a process that uses neither family does not load libmaprt"
"$child" locked >"$work/out" 2>&1 && "$child" gobject >>"$work/out" 2>&1
result $? "the GLib test program itself runs plainly" "$work/out"
