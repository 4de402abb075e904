/* bench.h — what bench_map.c shares with its libmaprt driver
 * (bench_maprt.c, built twice: with the race checks and, renamed, without;
 * see Makefile.am). */
#ifndef BENCH_H
#define BENCH_H

#include <maprt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct keyset {
    size_t n;
    int64_t *ints, *miss_ints;    /* inserted keys, keys never inserted */
    size_t *order;                /* a shuffled permutation of 0..n-1 */
    char **strs, **miss_strs;     /* NUL-terminated, for GLib */
    mr_string *mstrs, *miss_mstrs;/* the same bytes, for maprt */
} keyset;

/* One table behind the phases each row times.  Each phase is one call
 * whose loop calls the table directly, as bench_map.go's loops do Go's
 * map: no indirect call or test of the key type per operation (callgrind:
 * they were 14 of the 112 instructions of a small map's int64 lookup, and
 * a harness's cost is counted against every table but Go's). */
typedef struct impl {
    void *(*make)(bool strings);
    void (*insert_all)(void *m, const keyset *ks, bool strings);              /* keys 0..n-1 */
    int64_t (*lookup_all)(void *m, const keyset *ks, bool strings, bool miss); /* in ks->order */
    void (*remove_all)(void *m, const keyset *ks, bool strings);              /* in ks->order */
    int64_t (*iterate)(void *m, bool strings);                                /* sum of the values */
    void (*destroy)(void *m, bool strings);
} impl;

/* libmaprt with its race checks (bench_maprt.c), and the same driver over
 * the map compiled with -DMR_NO_RACE_CHECKS, its globals prefixed
 * "nochecks_" (absent from builds without that copy: a weak reference). */
extern const impl maprt_impl;
extern const impl nochecks_maprt_impl __attribute__((weak));

#endif
