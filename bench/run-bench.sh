#!/bin/sh
# run-bench.sh BENCH_MAP [GO_SOURCE] — the `make bench` table.
#
# Runs bench-map with libmaprt (race checks on), the same map with the
# checks compiled out (linked into the same program: bench_maprt.c) and
# GLib's GHashTable, their rounds alternating in one process, and, when a
# Go toolchain is installed ($GO, else `go` on the PATH), Go's own map
# (GO_SOURCE, bench_map.go: the same rows and keys), BENCH_RUNS times
# (default 5); keeps each row's best figure and prints ns/op and the ratios:
#   checks cost      = maprt / nochecks - 1   (target: <= 3 %), from rounds
#                      rather than bests: the median, over the runs, of each
#                      run's median of the two builds' ratio in one round
#                      (bench_map.c: checks_ratio)
#   GHashTable/maprt, Go/maprt = how many times faster maprt is (target: > 1)
# Then the peak memory per entry of an int64->int64 table of 10^6 and 10^7
# entries, and, with valgrind, the instructions per operation the race
# checks add (callgrind: exact, where timings on a shared machine are not).
set -eu
map=$1 gosrc=${2:-}
runs=${BENCH_RUNS:-5}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Go's map, when there is a toolchain to build bench_map.go with.
gobin=""
go=${GO:-$(command -v go || true)}
if [ -n "$go" ] && [ -n "$gosrc" ] && [ -r "$gosrc" ]; then
    cp "$gosrc" "$tmp/bench_map.go"
    if (cd "$tmp" && GOCACHE="$tmp/gocache" GOPATH="$tmp/gopath" GO111MODULE=off GOFLAGS= \
        "$go" build -o bench-map-go bench_map.go) >"$tmp/go-build.log" 2>&1; then
        gobin="$tmp/bench-map-go"
    else
        echo "bench: Go's bench_map.go did not build (no Go column):" >&2
        cat "$tmp/go-build.log" >&2
    fi
fi
: >"$tmp/go"

i=1
while [ "$i" -le "$runs" ]; do
    echo "bench: run $i of $runs" >&2
    "$map" maprt nochecks ghash >>"$tmp/map" 2>/dev/null
    if [ -n "$gobin" ]; then "$gobin" >>"$tmp/go" 2>/dev/null; fi
    i=$((i + 1))
done
gover=""
[ -n "$gobin" ] && gover=$("$go" version 2>/dev/null || true)
awk -F'\t' -v havego="${gobin:+1}" '
    FNR == 1 { file++ }
    file == 1 {  # bench-map: table, row, ns
        row = $2; v = $3 + 0
        if ($1 == "maprt") { if (!(row in a) || v < a[row]) a[row] = v; if (!(row in seen)) { seen[row] = 1; order[++n] = row } }
        if ($1 == "nochecks") { if (!(row in b) || v < b[row]) b[row] = v }
        if ($1 == "ghash") { if (!(row in g) || v < g[row]) g[row] = v }
        if ($1 == "checks") ck[row, ++nck[row]] = v
    }
    file == 2 { row = $1; v = $2 + 0; if (!(row in o) || v < o[row]) o[row] = v }  # Go: row, ns
    function median(r,    i, j, k, x, m) {
        m = nck[r]
        for (i = 1; i <= m; i++) x[i] = ck[r, i]
        for (i = 2; i <= m; i++)
            for (j = i; j > 1 && x[j - 1] > x[j]; j--) { k = x[j]; x[j] = x[j - 1]; x[j - 1] = k }
        return m % 2 ? x[(m + 1) / 2] : (x[m / 2] + x[m / 2 + 1]) / 2
    }
    END {
        printf "%-28s %10s %10s %8s %10s %9s", "row (ns/op)", "maprt", "no-checks", "checks", "GHashTable", "GHash/mr"
        if (havego) printf " %10s %8s", "Go", "Go/mr"
        printf "\n"
        faster = 0; fastergo = 0; cheap = 0
        for (i = 1; i <= n; i++) {
            r = order[i]
            cost = nck[r] > 0 ? (median(r) - 1) * 100 : 0
            ratio = a[r] > 0 ? g[r] / a[r] : 0
            if (ratio > 1) faster++
            if (cost <= 3) cheap++
            printf "%-28s %10.2f %10.2f %+7.1f%% %10.2f %8.2fx", r, a[r], b[r], cost, g[r], ratio
            if (havego) {
                rgo = a[r] > 0 ? o[r] / a[r] : 0
                if (rgo > 1) fastergo++
                printf " %10.2f %7.2fx", o[r], rgo
            }
            printf "\n"
        }
        printf "\nfaster than GHashTable: %d of %d rows; ", faster, n
        if (havego) printf "faster than Go: %d of %d rows; ", fastergo, n
        else printf "faster than Go: not measured (no Go toolchain: install golang-go); "
        printf "race checks within 3%%: %d of %d rows\n", cheap, n
    }' "$tmp/map" "$tmp/go"
if [ -n "$gobin" ]; then echo "(Go: ${gover:-go})"; fi

# Peak memory per entry.
echo
echo "Peak memory per entry, int64 -> int64 (bytes):"
printf "%-12s %10s %12s %10s\n" "entries" "maprt" "GHashTable" "Go"
for n in 1000000 10000000; do
    m=$("$map" maprt mem "$n" | cut -f2)
    h=$("$map" ghash mem "$n" | cut -f2)
    o="-"
    [ -n "$gobin" ] && o=$("$gobin" mem "$n" | cut -f2)
    printf "%-12s %10s %12s %10s\n" "$n" "$m" "$h" "$o"
done

# Instructions per operation, with and without the checks.
if command -v valgrind >/dev/null 2>&1 && command -v callgrind_annotate >/dev/null 2>&1; then
    for v in maprt nochecks; do
        mkdir -p "$tmp/cg-$v"
        valgrind -q --tool=callgrind --callgrind-out-file="$tmp/cg-$v/out" "$map" "$v" count >/dev/null 2>&1 || true
        # Each dump: "desc: Trigger: Client Request: <row> <ops>", "totals: N".
        k=1
        while [ -f "$tmp/cg-$v/out.$k" ]; do
            f="$tmp/cg-$v/out.$k"
            k=$((k + 1))
            awk '/^desc: Trigger: Client Request: / { sub(/^desc: Trigger: Client Request: /, ""); name = $0 }
                 /^totals: / { t = $2 } END { if (name != "") print name "\t" t }' "$f"
        done >"$tmp/cg-$v.txt"
    done
    echo
    echo "Instructions per operation (callgrind, maps of 1000 keys, 3 rounds):"
    awk -F'\t' '
        FNR == 1 { file++ }
        {
            k = split($1, w, " "); ops = w[k]; row = w[1]; for (j = 2; j < k; j++) row = row " " w[j]
            per = ops > 0 ? $2 / ops : 0
            if (file == 1) { c[row] += per; cnt[row]++; if (!(row in seen)) { seen[row] = 1; order[++n] = row } }
            else { nc[row] += per; ncnt[row]++ }
        }
        END {
            printf "%-28s %10s %10s %8s\n", "row", "maprt", "no-checks", "added"
            for (i = 1; i <= n; i++) {
                r = order[i]; x = c[r] / cnt[r]; y = ncnt[r] ? nc[r] / ncnt[r] : 0
                printf "%-28s %10.1f %10.1f %+8.1f\n", r, x, y, x - y
            }
        }' "$tmp/cg-maprt.txt" "$tmp/cg-nochecks.txt"
else
    echo
    echo "Instructions per operation: skipped (no valgrind)"
fi
