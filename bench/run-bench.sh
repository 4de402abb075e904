#!/bin/sh
# run-bench.sh CHECKS_BIN NOCHECKS_BIN — the `make bench` table.
#
# Runs libmaprt (race checks on), the same code with the checks compiled
# out, and GLib's GHashTable, interleaved, BENCH_RUNS times (default 3),
# keeps each row's best figure and prints ns/op and the ratios:
#   checks cost      = maprt / nochecks - 1   (target: <= 3 %)
#   GHashTable/maprt = how many times faster maprt is (target: > 1)
set -eu
checks=$1 nochecks=$2
runs=${BENCH_RUNS:-3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
i=1
while [ "$i" -le "$runs" ]; do
    echo "bench: run $i of $runs" >&2
    "$checks" maprt >>"$tmp/maprt" 2>/dev/null
    "$nochecks" maprt >>"$tmp/nochecks" 2>/dev/null
    "$checks" ghash >>"$tmp/ghash" 2>/dev/null
    i=$((i + 1))
done
awk -F'\t' '
    FNR == 1 { file++ }
    {
        row = $1; v = $2 + 0
        if (file == 1) { if (!(row in a) || v < a[row]) a[row] = v; if (!(row in seen)) { seen[row] = 1; order[++n] = row } }
        if (file == 2) { if (!(row in b) || v < b[row]) b[row] = v }
        if (file == 3) { if (!(row in g) || v < g[row]) g[row] = v }
    }
    END {
        printf "%-28s %10s %10s %8s %10s %9s\n", "row (ns/op)", "maprt", "no-checks", "checks", "GHashTable", "GHash/mr"
        faster = 0; cheap = 0
        for (i = 1; i <= n; i++) {
            r = order[i]
            cost = b[r] > 0 ? (a[r] / b[r] - 1) * 100 : 0
            ratio = a[r] > 0 ? g[r] / a[r] : 0
            if (ratio > 1) faster++
            if (cost <= 3) cheap++
            printf "%-28s %10.2f %10.2f %+7.1f%% %10.2f %8.2fx\n", r, a[r], b[r], cost, g[r], ratio
        }
        printf "\nfaster than GHashTable: %d of %d rows; race checks within 3%%: %d of %d rows\n", faster, n, cheap, n
    }' "$tmp/maprt" "$tmp/nochecks" "$tmp/ghash"
