#!/bin/sh
# Eight goroutines panicking and recovering in loops: every deferred call
# runs once, every panic is recovered where it should be; and, when the
# compiler has ThreadSanitizer, no data race inside the runtime, neither
# in that nor in correctly locked map use.
dir="${top_builddir:-.}/tests"
echo "1..3"
out=$("$dir/stress_child" 3000 2>&1)
if [ $? -eq 0 ]; then echo "ok 1 - $out"; else echo "not ok 1 - $out"; fi
if [ ! -x "$dir/stress_child_tsan" ]; then
    echo "ok 2 # SKIP the compiler has no ThreadSanitizer"
    echo "ok 3 # SKIP the compiler has no ThreadSanitizer"
    exit 0
fi
n=2
for cmd in "stress_child_tsan 300" "race_child_tsan locked"; do
    log=$(mktemp)
    TSAN_OPTIONS="halt_on_error=1 exitcode=66" $dir/$cmd >"$log" 2>&1
    rc=$?
    if [ $rc -eq 0 ] && ! grep -q "WARNING: ThreadSanitizer" "$log"; then
        echo "ok $n - ThreadSanitizer: no race inside the runtime ($cmd)"
    else
        echo "not ok $n - ThreadSanitizer ($cmd) exited $rc"
        sed 's/^/# /' "$log" | head -60
    fi
    rm -f "$log"
    n=$((n + 1))
done
