#!/bin/bash
# maprace --hb: map races that never overlap in time, found by
# happens-before under ThreadSanitizer's runtime, preloaded into programs
# that were not rebuilt; and the same annotations in a program built with
# -fsanitize=thread.  Unsynchronised uses are reported every run, with
# both call sites, the map's creation and a log line; synchronised ones
# (a mutex, pthread_join, a WaitGroup) never.
. "$(dirname "$0")/tap.sh"
maprace="$top/lib/maprace"
report="$top/lib/maprace-report"
json_check="$top/tests/json_check"
child="$top/tests/hb_child"
ex="$top/examples"
runs=${HB_RUNS:-20}
plan 11
[ -n "${MAPRACE_SANITIZED:-}" ] && skip_all "ThreadSanitizer cannot run with AddressSanitizer"
[ -n "${TSAN_RUNTIME:-}" ] && [ -r "$TSAN_RUNTIME" ] || skip_all "gcc's ThreadSanitizer runtime (libtsan.so.2) is not installed"
export MAPRACE_TSAN="$TSAN_RUNTIME"
line() { marker_line "$1" "$2"; }
# (examples carry no markers: their lines are found by what they say)
exline() { grep -n -- "$2" "$1" | head -1 | cut -d: -f1; }
src="$srcdir/tests/hb_child.c"

# A racy run: TSan's header, our line, both call sites, the map's creation,
# TSan's exit status 66 and one valid log line of the kind.
# hb_racy PROGRAM-ARGS... -- header kind needles...
hb_racy() {
    local args=() why="" i
    while [ "$1" != "--" ]; do args+=("$1"); shift; done
    shift
    local header=$1 kind=$2
    shift 2
    for i in $(seq 1 "$runs"); do
        rm -f "$work"/log.*
        "$maprace" --hb -o "$work/log" "${args[@]}" >"$work/out" 2>"$work/err"
        local status=$?
        [ "$status" = 66 ] || { why="run $i: exit $status"; break; }
        grep -qE "^WARNING: ThreadSanitizer: ($header) \(pid=[0-9]+\)$" "$work/err" || { why="run $i: no TSan header '$header'"; break; }
        grep -q "^maprace: $kind (happens-before): " "$work/err" || { why="run $i: no maprace line for $kind"; break; }
        local f
        for f in "$@"; do grep -qE -- "$f" "$work/err" || { why="run $i: lacks /$f/"; break 2; }; done
        local log
        log=$(ls "$work"/log.*.jsonl 2>/dev/null | head -1)
        { [ -n "$log" ] && [ "$("$json_check" "$log")" -ge 1 ] && grep -qF "\"kind\":\"$kind (happens-before)\"" "$log"; } ||
            { why="run $i: no log line"; break; }
    done
    [ -z "$why" ] || { echo "# $why"; return 1; }
}

# A correct run: exit 0, nothing on stderr, no log.
hb_silent() {
    local i why=""
    for i in $(seq 1 "$runs"); do
        rm -f "$work"/log.*
        "$maprace" --hb -o "$work/log" "$@" >"$work/out" 2>"$work/err"
        local status=$?
        { [ "$status" = 0 ] && [ ! -s "$work/err" ] && ! ls "$work"/log.* >/dev/null 2>&1; } || { why="run $i: exit $status"; break; }
    done
    [ -z "$why" ] || { echo "# $why"; return 1; }
}

sr="$srcdir/examples/short_race.c"
hb_racy "$ex/short_race" -- "concurrent map writes" "concurrent map writes" \
    "#1 writer .*examples/short_race.c:$(exline "$sr" "the race: no lock") " \
    "^maprace: goroutine [0-9]+, the write:$" "^maprace: (goroutine [0-9]+, the earlier write|the earlier write \(by a goroutine that has exited since\)), at:$" \
    "^		/.*/examples/short_race.c:$(exline "$sr" "the race: no lock") \+0x" "made by goroutine 1 at" "^		/.*/examples/short_race.c:$(exline "$sr" "shared = mr_makemap") \+0x"
result $? "short_race under maprace --hb, no rebuild: reported in $runs/$runs runs, both writes' lines, the map's creation, logged, exit 66" "$work/err"

"$report" "$(ls "$work"/log.*.jsonl | head -1)" >"$work/rep" 2>&1
[ $? = 1 ] && grep -qx "WARNING: concurrent map writes (happens-before)" "$work/rep" && grep -q "earlier operation\]:$" "$work/rep"
result $? "maprace-report lists the happens-before race as a warning with the earlier operation" "$work/rep"

hb_silent "$ex/locked_ok"
result $? "locked_ok under maprace --hb: no report in $runs/$runs runs (mutexes and the WaitGroup order the writes)" "$work/err"

hb_racy "$child" apart -- "concurrent map writes" "concurrent map writes" "#1 writer .*tests/hb_child.c:$(line "$src" write) "
result $? "two threads writing 2 ms apart, no lock: reported in $runs/$runs runs" "$work/err"

hb_silent "$child" mutex && hb_silent "$child" joined
result $? "the same under a mutex, or ordered by pthread_join: silent in $runs/$runs runs each" "$work/err"

hb_racy "$child" deferred -- "concurrent map (read and map write|writes)" "concurrent map read and map write" \
    "#1 main .*tests/hb_child.c:$(line "$src" read) " "#1 drop_session .*tests/hb_child.c:$(line "$src" deferred_delete) " \
    "^	drop_session\(\.\.\.\)$" "drop_session\(\.\.\.\), deferred at session"
result $? "a read after a deferred cleanup's unsynchronised delete: 'read and map write', the deferred function named, its history" "$work/err"

hb_racy "$child" iterate -- "concurrent map iteration and map write" "concurrent map iteration and map write" \
    "#1 main .*tests/hb_child.c:$(line "$src" range) "
result $? "a range 2 ms after an unsynchronised write: 'iteration and map write'" "$work/err"

printf 'race:writer\n' >"$work/supp"
MAPRACE_OPTIONS="suppressions=$work/supp" "$maprace" --hb -o "$work/supp" "$ex/short_race" >"$work/out" 2>"$work/err"
status=$?
[ "$status" = 0 ] && ! grep -q "ThreadSanitizer\|maprace:" "$work/err" && grep -q "^short_race: 20 entries$" "$work/out"
result $? "maprace's suppressions (race:writer) apply to happens-before reports (exit $status)" "$work/err"

# GLib's tables: inserts 2 ms apart without a lock are reported; under a
# GMutex (built on futexes TSan cannot see: libmaprace tells it of each
# lock and unlock), and GLib's locked workload, are not.
glib_child="$top/tests/glib_child"
if [ -x "$glib_child" ]; then
    gsrc="$srcdir/tests/glib_child.c"
    hb_racy "$glib_child" apart -- "concurrent map writes" "concurrent map writes" \
        "#1 apart_writer .*tests/glib_child.c:$(line "$gsrc" apart_insert) " "^maprace: table 0x[0-9a-f]+ \(GHashTable\), made by goroutine 1 at$" \
        "^		/.*/tests/glib_child.c:$(line "$gsrc" apart_new) \+0x"
    result $? "GHashTable inserts 2 ms apart, no lock: reported in $runs/$runs runs, with the table's creation" "$work/err"
    hb_silent "$glib_child" apartlocked && hb_silent "$glib_child" locked
    result $? "the same under a GMutex, and four threads sharing a table under a GMutex: silent in $runs/$runs runs each" "$work/err"
else
    echo "ok $((n + 1)) # SKIP GLib (libglib2.0-dev) is not installed"
    echo "ok $((n + 2)) # SKIP GLib (libglib2.0-dev) is not installed"
    n=$((n + 2))
fi

# With a rebuild: the program built with -fsanitize=thread, run under
# maprace without --hb (TSan is in the program already).
if ${CC:-gcc} -g -O1 -fsanitize=thread -I"$srcdir/runtime" -o "$work/short_race_tsan" "$sr" \
    -L"$top/runtime/.libs" -lmaprt -Wl,-rpath,"$(cd "$top/runtime/.libs" && pwd)" 2>"$work/cc"; then
    why=""
    for i in $(seq 1 5); do
        "$maprace" -o "$work/tsanlog" "$work/short_race_tsan" >"$work/out" 2>"$work/err"
        status=$?
        { [ "$status" = 66 ] && grep -q "WARNING: ThreadSanitizer: concurrent map writes" "$work/err" &&
            grep -qE "#1 writer .*short_race.c:$(exline "$sr" "the race: no lock") " "$work/err" &&
            grep -q "^maprace: concurrent map writes (happens-before): " "$work/err"; } || { why="run $i: exit $status"; break; }
    done
    [ -z "$why" ]
    result $? "built with -fsanitize=thread, run under maprace: TSan's report, then maprace's section ($why)" "$work/err"
else
    result 1 "built with -fsanitize=thread: does not build" "$work/cc"
fi
