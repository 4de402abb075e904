#!/bin/sh
# Valgrind's memcheck over the map: leak_child (every map kind created,
# filled, grown during iteration, cleared and freed: no leak), t_iterate
# (iterators reading tables the map released: no invalid access) and a
# shortened t_model, also with every table keeping its tophash copy
# (t_model_tops); and that a delete leaves no pointer key behind to
# keep leaked memory reachable.
echo "1..7"
if [ -z "$VALGRIND" ]; then
    for i in 1 2 3 4 5 6 7; do echo "ok $i # SKIP valgrind not installed"; done
    exit 0
fi
if [ -n "$MAPRACE_SANITIZED" ]; then
    for i in 1 2 3 4 5 6 7; do echo "ok $i # SKIP a sanitizer build (ASan checks these programs instead)"; done
    exit 0
fi
dir="${top_builddir:-.}/tests"
n=0
check() { # description, command...
    desc=$1; shift
    n=$((n + 1))
    log=$(mktemp)
    "$VALGRIND" --quiet --error-exitcode=9 --leak-check=full \
        --show-leak-kinds=definite,indirect${POSSIBLE-,possible} \
        --errors-for-leak-kinds=definite,indirect${POSSIBLE-,possible} "$@" >"$log" 2>&1
    rc=$?
    if [ $rc -eq 0 ]; then
        echo "ok $n - valgrind: $desc"
    else
        echo "not ok $n - valgrind: $desc (exit $rc)"
        sed 's/^/# /' "$log" | head -60
    fi
    rm -f "$log"
}
check "no leak, no invalid access in create/fill/iterate/clear/free" "$dir/leak_child"
check "no invalid access by iterators over released tables" "$dir/t_iterate"
MODEL_SCALE=50 check "no invalid access in the model test" "$dir/t_model"
MODEL_SCALE=50 check "no invalid access in the model test, every table with its tophash copy" "$dir/t_model_tops"
# (A detached thread's last bytes may still be in glibc's hands at exit:
# "possibly lost" is not counted here, definite and indirect leaks are.)
POSSIBLE= check "no leak with goroutines panicking and recovering" "$dir/stress_child" 200
# And under the race detector: its records must not leak either.
preload="$(cd "${top_builddir:-.}/lib/.libs" && pwd)/libmaprace.so"
MAPRACE_OPTIONS=log_path=stderr LD_PRELOAD="$preload" POSSIBLE= \
    check "no leak under libmaprace.so: eight goroutines making and freeing maps" "$dir/continue_child" churn

# The other way round: keys deleted and dropped must show as leaks.
n=$((n + 1))
log=$(mktemp)
"$VALGRIND" --leak-check=full "$dir/leak_child" drop-deleted >"$log" 2>&1
lost=$(sed -n 's/.*definitely lost: [0-9,]* bytes in \([0-9,]*\) blocks.*/\1/p' "$log" | tr -d ,)
if [ "${lost:-0}" -eq 200 ]; then
    echo "ok $n - valgrind: 200 deleted pointer and string keys dropped by the program are definitely lost, none kept reachable by the map"
else
    echo "not ok $n - valgrind: deleted keys should be definitely lost (200 blocks), found ${lost:-none}"
    sed 's/^/# /' "$log" | head -60
fi
rm -f "$log"
