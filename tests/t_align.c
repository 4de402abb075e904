/*
 * t_align — keys and elements of every alignment from 1 to 64 bytes are
 * stored aligned, on every path: assign, access, iterate, delete, and
 * across growth (evacuation moves inline slots and out-of-line pointers).
 * Over-aligned types go out of line, into memory the allocator only
 * guarantees to 16 bytes; an aligned store (an AVX-style access) through a
 * misaligned pointer would fault.
 */
#include "tap.h"

#include <maprt.h>

#include <stdint.h>
#include <string.h>

/* A type of size and alignment A, its first 8 bytes the value. */
#define ALIGNED(A)                                                                                        \
    typedef struct {                                                                                      \
        _Alignas(A) int64_t v;                                                                            \
        char pad[(A) > 8 ? (A) - 8 : 0];                                                                  \
    } a##A

typedef struct {
    char v;
} a1;
typedef struct {
    _Alignas(2) char v;
} a2;
typedef struct {
    _Alignas(4) char v;
} a4;
ALIGNED(8);
ALIGNED(16);
ALIGNED(32);
ALIGNED(64);

static uint64_t hash_first(const void *k, uint64_t seed)
{
    return mr_hash_u64((uint64_t)(unsigned char)*(const char *)k, seed);
}
static bool equal_first(const void *a, const void *b)
{
    return *(const char *)a == *(const char *)b;
}
static uint64_t hash_i64(const void *k, uint64_t seed)
{
    return mr_hash_u64(*(const uint64_t *)k, seed);
}
static bool equal_i64(const void *a, const void *b)
{
    return *(const int64_t *)a == *(const int64_t *)b;
}

static bool aligned(const void *p, size_t a)
{
    return ((uintptr_t)p & (a - 1)) == 0;
}

/* Keys of type K (alignment KA), elements of type V (alignment VA); n
 * entries, enough to grow the map several times.  Small keys (1 byte)
 * hold at most 100 distinct values. */
#define CHECK_TYPES(K, KA, V, VA, HASH, EQUAL, N)                                                       \
    do {                                                                                                  \
        static const mr_maptype T = MR_MAPTYPE_INIT("map[" #K "]" #V, K, V, HASH, EQUAL, 0);          \
        mr_map *m = mr_makemap(&T, 0);                                                                    \
        bool good = true;                                                                                 \
        for (int i = 0; i < (N); i++) {                                                                   \
            K k;                                                                                          \
            memset(&k, 0, sizeof k);                                                                      \
            memcpy(&k, &(int64_t){i}, sizeof k < 8 ? sizeof k : 8);                                       \
            V *e = mr_mapassign(&T, m, &k);                                                               \
            good &= aligned(e, VA);                                                                       \
            memset(e, 0, sizeof *e);                                                                      \
            memcpy(e, &(int64_t){i}, sizeof *e < 8 ? sizeof *e : 8);                                      \
        }                                                                                                 \
        for (int i = 0; i < (N); i++) {                                                                   \
            K k;                                                                                          \
            memset(&k, 0, sizeof k);                                                                      \
            memcpy(&k, &(int64_t){i}, sizeof k < 8 ? sizeof k : 8);                                       \
            const V *e = mr_mapaccess1(&T, m, &k);                                                        \
            good &= aligned(e, VA);                                                                       \
        }                                                                                                 \
        mr_mapiter it;                                                                                    \
        int seen = 0;                                                                                     \
        mr_mapiterinit(&T, m, &it);                                                                       \
        while (mr_mapiternext(&it)) {                                                                     \
            good &= aligned(it.key, KA) && aligned(it.elem, VA);                                          \
            seen++;                                                                                       \
        }                                                                                                 \
        for (int i = 0; i < (N); i += 2) {                                                                \
            K k;                                                                                          \
            memset(&k, 0, sizeof k);                                                                      \
            memcpy(&k, &(int64_t){i}, sizeof k < 8 ? sizeof k : 8);                                       \
            mr_mapdelete(&T, m, &k);                                                                      \
        }                                                                                                 \
        ok(good && seen == (N) && mr_maplen(m) == (size_t)((N) / 2),                                      \
           "map[" #K "]" #V ": keys aligned to %d, elements to %d, on assign, access, iteration, growth", \
           (int)(KA), (int)(VA));                                                                         \
        mr_mapfree(&T, m);                                                                                \
    } while (0)

int main(void)
{
    /* Elements of each alignment, int64 keys. */
    CHECK_TYPES(int64_t, 8, a1, 1, hash_i64, equal_i64, 1000);
    CHECK_TYPES(int64_t, 8, a2, 2, hash_i64, equal_i64, 1000);
    CHECK_TYPES(int64_t, 8, a4, 4, hash_i64, equal_i64, 1000);
    CHECK_TYPES(int64_t, 8, a8, 8, hash_i64, equal_i64, 1000);
    CHECK_TYPES(int64_t, 8, a16, 16, hash_i64, equal_i64, 1000);
    CHECK_TYPES(int64_t, 8, a32, 32, hash_i64, equal_i64, 1000);
    CHECK_TYPES(int64_t, 8, a64, 64, hash_i64, equal_i64, 1000);
    /* Keys of each alignment (the first byte or int64 is the key). */
    CHECK_TYPES(a1, 1, int64_t, 8, hash_first, equal_first, 100);
    CHECK_TYPES(a2, 2, int64_t, 8, hash_first, equal_first, 100);
    CHECK_TYPES(a4, 4, int64_t, 8, hash_first, equal_first, 100);
    CHECK_TYPES(a8, 8, int64_t, 8, hash_i64, equal_i64, 1000);
    CHECK_TYPES(a16, 16, int64_t, 8, hash_i64, equal_i64, 1000);
    CHECK_TYPES(a32, 32, int64_t, 8, hash_i64, equal_i64, 1000);
    CHECK_TYPES(a64, 64, int64_t, 8, hash_i64, equal_i64, 1000);
    /* Both over-aligned. */
    CHECK_TYPES(a64, 64, a32, 32, hash_i64, equal_i64, 1000);
    return tap_done();
}
