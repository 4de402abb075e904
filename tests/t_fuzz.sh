#!/bin/bash
# The fuzz targets of the parsers of outside input (tests/fuzz): each runs
# FUZZ_RUNS inputs (default 20000) from its seeds under ASan and UBSan
# and must end without a crash, a leak or a sanitizer report.  SKIP when
# configure found no libFuzzer (Debian: clang).  A long run:
#     tests/fuzz/fuzz_racelog -max_total_time=600 CORPUS tests/fuzz/seeds/racelog
top="${top_builddir:-.}"
srcdir="${srcdir:-$top}"
runs=${FUZZ_RUNS:-20000}
targets="racelog options suppressions"
echo "1..3"
n=0
for t in $targets; do
    n=$((n + 1))
    bin="$top/tests/fuzz/fuzz_$t"
    if [ ! -x "$bin" ]; then
        echo "ok $n # SKIP no libFuzzer (install clang and re-run configure)"
        continue
    fi
    corpus=$(mktemp -d)
    cp "$srcdir/tests/fuzz/seeds/$t"/* "$corpus"/
    "$bin" -runs="$runs" -close_fd_mask=3 -timeout=10 "$corpus" >"$corpus.log" 2>&1
    status=$?
    summary=$(grep -E "^Done [0-9]+ runs" "$corpus.log" | tail -1)
    if [ "$status" = 0 ] && [ -n "$summary" ]; then
        echo "ok $n - fuzz_$t: $summary, no crash"
    else
        echo "not ok $n - fuzz_$t: exit $status"
        grep -E "ERROR|SUMMARY|runtime error|==[0-9]+==" "$corpus.log" | head -20 | sed 's/^/# /'
    fi
    rm -rf "$corpus" "$corpus.log"
done
