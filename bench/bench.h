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

/* One table behind the operations each row times. */
typedef struct impl {
    void *(*make)(bool strings);
    void (*insert)(void *m, const keyset *ks, size_t i, bool strings);
    int64_t (*lookup)(void *m, const keyset *ks, size_t i, bool strings, bool miss);
    void (*remove)(void *m, const keyset *ks, size_t i, bool strings);
    int64_t (*iterate)(void *m, bool strings);
    void (*destroy)(void *m, bool strings);
} impl;

/* libmaprt with its race checks (bench_maprt.c), and the same driver over
 * the map compiled with -DMR_NO_RACE_CHECKS, its globals prefixed
 * "nochecks_" (absent from builds without that copy: a weak reference). */
extern const impl maprt_impl;
extern const impl nochecks_maprt_impl __attribute__((weak));

#endif
