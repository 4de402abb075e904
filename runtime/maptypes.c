/*
 * maptypes.c — the ready-made map types and the public hash helpers.
 *
 * The ready-made types carry a fastkind so the map takes its specialised
 * bodies for them; their hash and equal functions are still real, for the
 * generic paths (growth, iteration) and for users who copy them.
 */
#include "hash.h"
#include "map_internal.h"

uint64_t mr_hash_bytes(const void *p, size_t len, uint64_t seed)
{
    return mr_hashbytes_inline(p, len, seed);
}

uint64_t mr_hash_u64(uint64_t v, uint64_t seed)
{
    return mr_hash64_inline(v, seed);
}

static uint64_t hash_u64(const void *k, uint64_t seed)
{
    uint64_t v;
    memcpy(&v, k, sizeof v);
    return mr_hash64_inline(v, seed);
}

static bool equal_u64(const void *a, const void *b)
{
    return memcmp(a, b, 8) == 0;
}

static uint64_t hash_u32(const void *k, uint64_t seed)
{
    uint32_t v;
    memcpy(&v, k, sizeof v);
    return mr_hash64_inline(v, seed);
}

static bool equal_u32(const void *a, const void *b)
{
    return memcmp(a, b, 4) == 0;
}

static uint64_t hash_str(const void *k, uint64_t seed)
{
    const mr_string *s = k;
    return mr_hashbytes_inline(s->ptr, s->len, seed);
}

static bool equal_str(const void *a, const void *b)
{
    const mr_string *x = a, *y = b;
    return x->len == y->len && (x->ptr == y->ptr || memcmp(x->ptr, y->ptr, x->len) == 0);
}

#define FAST_TYPE(NAME, K, V, HASH, EQUAL, KIND, FLAGS)                         \
    {                                                                          \
        .name = (NAME), .hash = (HASH), .equal = (EQUAL),                      \
        .keysize = sizeof(K), .elemsize = sizeof(V),                           \
        .slotkeysize = sizeof(K), .slotelemsize = sizeof(V),                   \
        .bucketsize = 8 + 8 * sizeof(K) + 8 * sizeof(V) + MR_FAST_EXTRA(KIND) + sizeof(void *), \
        .flags = (FLAGS), .fastkind = (KIND),                                  \
    }

/* A ready-made type and the check that its element has the size its fast
 * kind's bodies take as a constant. */
#define DEFINE_FAST_TYPE(VAR, NAME, K, V, HASH, EQUAL, KIND, FLAGS)              \
    _Static_assert(sizeof(V) == MR_FAST_ELEMSIZE(KIND), #VAR ": element size"); \
    const mr_maptype VAR = FAST_TYPE(NAME, K, V, HASH, EQUAL, KIND, FLAGS)

DEFINE_FAST_TYPE(mr_type_i64_i64, "map[int64]int64", int64_t, int64_t, hash_u64, equal_u64, MR_FAST64, MR_KEY_NOPOINTERS | MR_ELEM_NOPOINTERS);
DEFINE_FAST_TYPE(mr_type_i32_i32, "map[int32]int32", int32_t, int32_t, hash_u32, equal_u32, MR_FAST32, MR_KEY_NOPOINTERS | MR_ELEM_NOPOINTERS);
DEFINE_FAST_TYPE(mr_type_ptr_ptr, "map[unsafe.Pointer]unsafe.Pointer", void *, void *, hash_u64, equal_u64, MR_FAST64, 0);
DEFINE_FAST_TYPE(mr_type_str_i64, "map[string]int64", mr_string, int64_t, hash_str, equal_str, MR_FASTSTR, MR_ELEM_NOPOINTERS);
DEFINE_FAST_TYPE(mr_type_str_ptr, "map[string]unsafe.Pointer", mr_string, void *, hash_str, equal_str, MR_FASTSTR, 0);
