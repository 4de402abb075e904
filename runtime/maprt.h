/*
 * maprt.h — Go's classic hash map for C, with always-on race checks.
 *
 * This is a port of the map in Go's runtime (runtime/map.go, Go 1.19–1.23):
 * an hmap header, 8-slot buckets with a tophash byte per slot, overflow
 * chains, load factor 6.5, growth by doubling (or same-size growth when
 * overflow buckets pile up) with incremental evacuation, a random seed per
 * map and a random iteration order.  The names follow Go's runtime so that
 * readers of map.go feel at home.
 *
 * Go's semantics, all of them:
 *   - NULL is the nil map: access yields the zero value, access-with-ok says
 *     absent, len is 0, delete is a no-op, iteration yields nothing, and
 *     assignment panics with "assignment to entry in nil map".
 *   - A map may be modified by the goroutine that iterates it: entries
 *     deleted before they are reached are not produced, entries added may or
 *     may not be.
 *
 * Concurrent misuse is detected, always: a write (assign, delete, clear,
 * free) claims the map with an atomic compare-and-swap and releases it when
 * done.  A second writer, a reader or an iterator that finds the claim taken
 * ends the program with Go's report:
 *
 *     fatal error: concurrent map writes
 *     fatal error: concurrent map read and map write
 *     fatal error: concurrent map iteration and map write
 *
 * naming both the goroutine that noticed and the one holding the claim; the
 * process exits with status 2 and nothing else runs (no atexit handlers).
 * Using a map after mr_mapfree() is reported as "map used after free" while
 * the freed header is still in quarantine (the last few thousand frees).
 *
 * Example:
 *
 *     mr_map *m = mr_makemap(&mr_type_i64_i64, 0);
 *     int64_t k = 42;
 *     *(int64_t *)mr_mapassign(&mr_type_i64_i64, m, &k) = 7;   // m[42] = 7
 *     bool ok;
 *     int64_t v = *(int64_t *)mr_mapaccess2(&mr_type_i64_i64, m, &k, &ok);
 *     mr_mapiter it;
 *     mr_mapiterinit(&mr_type_i64_i64, m, &it);
 *     while (mr_mapiternext(&it))
 *         printf("%lld=%lld\n", *(const int64_t *)it.key, *(int64_t *)it.elem);
 *     mr_mapfree(&mr_type_i64_i64, m);
 */
#ifndef MAPRT_H
#define MAPRT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The library is built with hidden visibility; this marks its interface. */
#define MR_API __attribute__((visibility("default")))

/* Go's hmap.  Opaque; NULL is the nil map. */
typedef struct mr_map mr_map;

/* A string key: pointer and length.  The map stores this pair, not a copy
 * of the bytes: they must outlive the entry (as with Go, where strings are
 * immutable and garbage-collected). */
typedef struct {
    const char *ptr;
    size_t len;
} mr_string;

/* ------------------------------------------------------------------------
 * Map types (Go's maptype)
 *
 * A map type tells the runtime the sizes of keys and elements, how to hash
 * and compare keys, and a printable name used in reports.  Define one with
 * MR_MAPTYPE_INIT, which also derives the bucket layout at compile time:
 *
 *     struct point { int32_t x, y; };
 *     static uint64_t point_hash(const void *k, uint64_t seed)
 *     { return mr_hash_bytes(k, sizeof(struct point), seed); }
 *     static bool point_equal(const void *a, const void *b)
 *     { const struct point *p = a, *q = b; return p->x == q->x && p->y == q->y; }
 *     static const mr_maptype point_names =
 *         MR_MAPTYPE_INIT("map[point]string", struct point, const char *,
 *                         point_hash, point_equal, 0);
 *
 * The hash must mix the seed in (each map has its own) and must give equal
 * keys equal hashes.  Keys or elements larger than 128 bytes, or aligned
 * to more than 8, are stored out of line, as Go does, in memory aligned as
 * their type requires (up to 32768 bytes); this is invisible to the user
 * except that mr_mapassign() then allocates.
 * ------------------------------------------------------------------------ */

typedef uint64_t (*mr_hashfn)(const void *key, uint64_t seed);
typedef bool (*mr_equalfn)(const void *a, const void *b);

/* Key flags for MR_MAPTYPE_INIT. */
enum {
    /* equal(k, k) can be false (floating-point NaN): Go's !reflexivekey. */
    MR_KEY_NONREFLEXIVE = 1u << 0,
    /* Equal keys can differ in their bytes (+0.0 and -0.0): an assignment
     * to an existing key overwrites the stored key (Go's needkeyupdate). */
    MR_KEY_NEEDUPDATE = 1u << 1,
    /* The key holds no pointers (Go's key.ptrdata == 0): a delete leaves
     * its bytes in the emptied cell, as Go does, instead of clearing them.
     * Without it a deleted key is zeroed, so that a pointer in it does
     * not keep its target "reachable" for valgrind's leak check. */
    MR_KEY_NOPOINTERS = 1u << 2,
    /* The element holds no pointers: a delete leaves its bytes in the
     * emptied cell, and the assign that later hands that cell out for a
     * new key zeroes it there instead (the element is read only through
     * a live key, so this is invisible).  Without it a deleted element is
     * zeroed at once, as Go does, for valgrind's leak check. */
    MR_ELEM_NOPOINTERS = 1u << 3,
};

struct mr_maptype {
    const char *name;      /* printable name, e.g. "map[int64]int64" */
    mr_hashfn hash;
    mr_equalfn equal;
    uint32_t keysize;      /* sizeof the key type */
    uint32_t elemsize;     /* sizeof the element type */
    uint32_t slotkeysize;  /* bytes per key slot in a bucket (8 if out of line) */
    uint32_t slotelemsize; /* bytes per element slot in a bucket */
    uint32_t bucketsize;   /* tophash[8] + 8 keys + 8 elems + overflow pointer */
    uint8_t flags;         /* MR_KEY_*, MR_ELEM_* */
    uint8_t indirect;      /* bit 0: keys out of line; bit 1: elements */
    uint8_t fastkind;      /* private: specialised code path, 0 for user types */
    uint16_t keyalign;     /* _Alignof the key type (0 is taken as 8) */
    uint16_t elemalign;    /* _Alignof the element type */
};
typedef struct mr_maptype mr_maptype;

#define MR_MAXKEYSIZE_ 128u
#define MR_MAXELEMSIZE_ 128u
#define MR_INDIRECT_(T, MAX) (sizeof(T) > (MAX) || _Alignof(T) > 8)
#define MR_SLOTSIZE_(T, MAX) ((uint32_t)(MR_INDIRECT_(T, MAX) ? sizeof(void *) : sizeof(T)))

/* A constant initializer for a map type with key type K and element type V. */
#define MR_MAPTYPE_INIT(NAME, K, V, HASH, EQUAL, FLAGS)                        \
    {                                                                          \
        .name = (NAME), .hash = (HASH), .equal = (EQUAL),                      \
        .keysize = (uint32_t)sizeof(K), .elemsize = (uint32_t)sizeof(V),       \
        .slotkeysize = MR_SLOTSIZE_(K, MR_MAXKEYSIZE_),                        \
        .slotelemsize = MR_SLOTSIZE_(V, MR_MAXELEMSIZE_),                      \
        .bucketsize = 8u + 8u * MR_SLOTSIZE_(K, MR_MAXKEYSIZE_) +             \
                      8u * MR_SLOTSIZE_(V, MR_MAXELEMSIZE_) +                  \
                      (uint32_t)sizeof(void *),                                \
        .flags = (uint8_t)(FLAGS),                                             \
        .indirect = (uint8_t)((MR_INDIRECT_(K, MR_MAXKEYSIZE_) ? 1u : 0u) |    \
                              (MR_INDIRECT_(V, MR_MAXELEMSIZE_) ? 2u : 0u)),   \
        .fastkind = 0,                                                         \
        .keyalign = (uint16_t)_Alignof(K), .elemalign = (uint16_t)_Alignof(V), \
    }

/* Ready-made types; the first four take the specialised fast paths
 * (Go's _fast64, _fast32 and _faststr). */
MR_API extern const mr_maptype mr_type_i64_i64;  /* map[int64]int64 */
MR_API extern const mr_maptype mr_type_i32_i32;  /* map[int32]int32 */
MR_API extern const mr_maptype mr_type_ptr_ptr;  /* map[unsafe.Pointer]unsafe.Pointer */
MR_API extern const mr_maptype mr_type_str_i64;  /* map[string]int64, key an mr_string */
MR_API extern const mr_maptype mr_type_str_ptr;  /* map[string]unsafe.Pointer */

/* Seeded hashes for writing the hash function of a map type. */
MR_API uint64_t mr_hash_bytes(const void *p, size_t len, uint64_t seed);
MR_API uint64_t mr_hash_u64(uint64_t v, uint64_t seed);

/* ------------------------------------------------------------------------
 * Operations
 * ------------------------------------------------------------------------ */

/* make(map[K]V, hint).  Never returns NULL: out of memory is fatal. */
MR_API mr_map *mr_makemap(const mr_maptype *t, size_t hint);

/* m[key]: a pointer to the element, or to a read-only zero value when the
 * key is absent.  Never NULL.  Valid until the next write to the map. */
MR_API void *mr_mapaccess1(const mr_maptype *t, mr_map *h, const void *key);

/* v, ok := m[key]: as mr_mapaccess1, and *ok says whether key is present. */
MR_API void *mr_mapaccess2(const mr_maptype *t, mr_map *h, const void *key, bool *ok);

/* m[key] = ...: returns the slot where the caller stores the element (zero
 * for a new key).  Valid until the next write to the map.  On the nil map
 * this panics with "assignment to entry in nil map". */
MR_API void *mr_mapassign(const mr_maptype *t, mr_map *h, const void *key);

/* delete(m, key).  A no-op on the nil map or an absent key. */
MR_API void mr_mapdelete(const mr_maptype *t, mr_map *h, const void *key);

/* clear(m): removes every entry, keeps the buckets. */
MR_API void mr_mapclear(const mr_maptype *t, mr_map *h);

/* len(m). */
MR_API size_t mr_maplen(const mr_map *h);

/* Frees the map and everything it holds.  C has no garbage collector; the
 * map must not be used afterwards (doing so is reported while the header is
 * in quarantine).  Freeing the nil map does nothing. */
MR_API void mr_mapfree(const mr_maptype *t, mr_map *h);

/* The shape of a map, for tests, tools and the curious.  Reading it is a
 * read of the map (it must not overlap a write). */
typedef struct mr_mapstats {
    size_t count;        /* len(m) */
    unsigned B;          /* log2 of the number of buckets */
    unsigned noverflow;  /* overflow buckets (approximate when B >= 16) */
    bool growing;        /* an incremental growth is in progress */
    bool samesizegrow;   /* ... to a table of the same size */
    size_t oldbuckets;   /* buckets of the old table while growing */
    size_t nevacuate;    /* old buckets below this are evacuated */
    size_t parked;       /* blocks kept for open iterations */
    size_t parkedbytes;  /* ... and their size in bytes */
    size_t growths;      /* growths begun since the map was made */
    size_t samesizegrowths; /* ... of which to a table of the same size */
    uint64_t bias;       /* the goroutine whose writes claim the map without a
                            locked instruction: its only writer so far (0: none) */
} mr_mapstats;
MR_API void mr_mapgetstats(const mr_map *h, mr_mapstats *st);

/* ------------------------------------------------------------------------
 * Iteration (Go's hiter)
 *
 *     mr_mapiter it;
 *     mr_mapiterinit(t, m, &it);
 *     while (mr_mapiternext(&it))
 *         use(it.key, it.elem);
 *
 * The order is random and differs between iterations.  The iterating
 * goroutine may assign and delete while iterating.  Memory that the map
 * releases while an iteration is unfinished is kept until it ends (the
 * iterator may still look at it); if you leave the loop early, call
 * mr_mapiterstop(&it) so the map can release it sooner.  Forgetting is not
 * an error: the memory is released when the map is freed.
 * ------------------------------------------------------------------------ */
typedef struct mr_mapiter {
    const void *key;  /* current key, valid after mr_mapiternext returned true */
    void *elem;       /* current element */
    /* private state follows, as in Go's hiter */
    const mr_maptype *t_;
    mr_map *h_;
    void *buckets_;     /* bucket array at init time */
    void *bptr_;        /* current bucket */
    uintptr_t startbucket_;
    uintptr_t bucket_;
    uintptr_t checkbucket_;
    uint8_t offset_;
    uint8_t b_;
    uint8_t wrapped_;
    uint8_t state_;
    uint32_t cellq_;    /* current bucket's cells still to visit, a queue (map_iter.c) */
    uint64_t epoch_;    /* which iteration of the map this is (1, 2, ...) */
} mr_mapiter;

MR_API void mr_mapiterinit(const mr_maptype *t, mr_map *h, mr_mapiter *it);
MR_API bool mr_mapiternext(mr_mapiter *it);
MR_API void mr_mapiterstop(mr_mapiter *it);

/* Go's `for k, v := range m`, with an iteration that cannot be left open:
 *
 *     MR_RANGE(t, m, it) {
 *         use(it.key, it.elem);
 *         if (done)
 *             break;              (or return, or goto: the iteration ends)
 *     }
 *
 * The iterator lives for the loop; gcc's and clang's cleanup attribute
 * stops it however the loop is left.  (An iteration left without
 * mr_mapiterstop keeps what the map releases parked for it until the
 * next iteration begins in the same iterator, or one begins as the map's
 * only open iteration.) */
#define MR_RANGE(t, h, it)                                                                                \
    for (mr_mapiter it __attribute__((cleanup(mr_mapiterstop))) = {0},                                    \
                    *it##_begun_ = (mr_mapiterinit((t), (h), &it), &it);                                  \
         it##_begun_ != NULL && mr_mapiternext(&it);)

#ifdef __cplusplus
}
#endif
#endif /* MAPRT_H */
