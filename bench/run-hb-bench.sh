#!/bin/bash
# run-hb-bench.sh BENCH_MAP BENCH_MAP_TSAN BENCH_GLIB BENCH_GLIB_TSAN MAPRACE
# — what happens-before checking costs: each program plain, under
# `maprace --hb` (ThreadSanitizer's runtime preloaded, no rebuild: only
# the map operations are checked), and rebuilt whole with
# -fsanitize=thread.  The map bench's small-map rows (ns/op) and the
# GHashTable-heavy bench_glib (ms), best of BENCH_HB_RUNS (default 3)
# interleaved runs; a TSan rebuild of the map bench runs once (it is slow).
set -u
map=$1 map_tsan=$2 glib=$3 glib_tsan=$4 maprace=$5
runs=${BENCH_HB_RUNS:-3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for i in $(seq 1 "$runs"); do
    echo "bench: happens-before run $i of $runs" >&2
    "$map" maprt small 2>/dev/null >>"$tmp/map.plain"
    "$maprace" --hb --no-log "$map" maprt small 2>/dev/null >>"$tmp/map.hb"
    "$glib" 2>/dev/null >>"$tmp/glib.plain"
    "$maprace" --hb --no-log "$glib" 2>/dev/null >>"$tmp/glib.hb"
    "$glib_tsan" 2>/dev/null >>"$tmp/glib.tsan"
done
echo "bench: the map bench rebuilt with -fsanitize=thread (once)" >&2
"$map_tsan" maprt small 2>/dev/null >"$tmp/map.tsan"

echo
echo "Happens-before checking: maps of 1000 keys, ns/op, best of $runs (TSan rebuild: one run)"
awk -F'\t' '
    FNR == 1 { f++ }
    { r = $1; v = $2 + 0; if (!((f, r) in best) || v < best[f, r]) best[f, r] = v; if (f == 1 && !(r in seen)) { seen[r] = 1; order[++n] = r } }
    END {
        printf "%-26s %9s %9s %8s %11s %8s\n", "row", "plain", "--hb", "--hb/pl", "TSan build", "TSan/pl"
        for (i = 1; i <= n; i++) {
            r = order[i]; p = best[1, r]; h = best[2, r]; t = best[3, r]
            printf "%-26s %9.2f %9.2f %7.2fx %11.2f %7.1fx\n", r, p, h, (p > 0 ? h / p : 0), t, (p > 0 ? t / p : 0)
        }
    }' "$tmp/map.plain" "$tmp/map.hb" "$tmp/map.tsan"
best() { sort -n | head -1; }
plain=$(best <"$tmp/glib.plain")
echo
echo "GHashTable-heavy bench_glib (4 threads), ms, best of $runs:"
printf "%-40s %9s %9s\n" "run" "ms" "slowdown"
for v in "plain:$plain" "maprace --hb (no rebuild):$(best <"$tmp/glib.hb")" \
    "ThreadSanitizer (rebuilt):$(best <"$tmp/glib.tsan")"; do
    label=${v%%:*} ms=${v##*:}
    printf "%-40s %9.1f %8.2fx\n" "$label" "$ms" "$(awk "BEGIN { print $ms / $plain }")"
done
echo "(--hb: every map and GHashTable operation told to TSan, and GLib's locks; the TSan rebuild checks every memory access)"
