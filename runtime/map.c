/*
 * map.c — the map's entry points: make, access, assign, delete, clear,
 * len and free.
 *
 * Each of access, assign and delete is instantiated from map_body.h once
 * per key kind; the switch on the map type's fastkind picks the body (one
 * well-predicted branch, where Go's compiler picks at compile time).
 */
#include "map_body.h"
#include "map_internal.h"
#include "tsan.h"

#define COLD __attribute__((noinline, cold))

/* tophash_word's table: the word of every top byte a hash can have, the
 * byte raised past the values that mark empty and evacuated cells (Go's
 * tophash; tophash() reads it from here too). */
#define TOPHASH_WORD(b) (MR_LSB * ((b) < minTopHash ? (b) + minTopHash : (b)))
#define TOPHASH_WORDS4(b) TOPHASH_WORD(b), TOPHASH_WORD(b + 1), TOPHASH_WORD(b + 2), TOPHASH_WORD(b + 3)
#define TOPHASH_WORDS16(b) TOPHASH_WORDS4(b), TOPHASH_WORDS4(b + 4), TOPHASH_WORDS4(b + 8), TOPHASH_WORDS4(b + 12)
#define TOPHASH_WORDS64(b) TOPHASH_WORDS16(b), TOPHASH_WORDS16(b + 16), TOPHASH_WORDS16(b + 32), TOPHASH_WORDS16(b + 48)
__attribute__((aligned(64))) const uint64_t mr_tophash_words[256] = {
    TOPHASH_WORDS64(0ULL), TOPHASH_WORDS64(64ULL), TOPHASH_WORDS64(128ULL), TOPHASH_WORDS64(192ULL),
};

__thread uint8_t mr_tls_lookup_hit __attribute__((tls_model("initial-exec"))) = 1;

/* A read that found the write claim held: the report (which returns only
 * if the policy lets the program go on), then the lookup, by the generic
 * body, whose hash and equality every map type has. */
static COLD void *access1_seen_writer(const mr_maptype *t, mr_map *h, const void *key, uint64_t w)
{
    mr_map_read_failed(h, w, MR_FAULT_READ);
    void *e = mapaccess_body(t, h, key, MR_FAST_NONE, false, NULL);
    return e != NULL ? e : mr_zero_value(t);
}

static COLD void *access2_seen_writer(const mr_maptype *t, mr_map *h, const void *key, bool *ok, uint64_t w)
{
    mr_map_read_failed(h, w, MR_FAULT_READ);
    void *e = mapaccess_body(t, h, key, MR_FAST_NONE, false, NULL);
    *ok = e != NULL;
    return e != NULL ? e : mr_zero_value(t);
}

/* Each operation once per key kind, as a function of its own: the fast
 * kinds' bodies call nothing on their common path, so they compile to leaf
 * functions that save no registers, and the entry points reach them by a
 * tail call.  On a table far larger than the cache, a lookup's time is the
 * cache misses it cannot overlap with its neighbours', and how many
 * lookups the processor keeps in flight at once depends on how few
 * instructions each is: merged into one function with the generic kind's
 * calls, the int64 lookup saved six registers and took 2x as long.
 * (A lookup looks at the claim before the count, where Go looks at the
 * count first: that also catches a read of an empty map racing with its
 * first write.) */
/* noclone: without the checks a body's type argument can go unused, and
 * GCC then calls a clone without it, which costs the entry point three
 * register moves: the two builds make bench compares would differ by
 * more than the checks (callgrind, int64 lookups: 91.6 instructions
 * unchecked against 90.7 checked; 89.8 against 90.8 without the clone). */
#define KIND_FN static __attribute__((noinline, noclone))
#define PER_KIND(X) X(fast64, MR_FAST64) X(faststr, MR_FASTSTR) X(fast32, MR_FAST32) X(generic, MR_FAST_NONE)

/* A table beyond the cache (h->tops set) has lookups of its own, reached
 * by a tail call: what only they do (the tophash copy, the prediction of
 * mr_tls_lookup_hit) cost the in-cache lookups two saved registers when
 * both were one function (callgrind: int64 small hit 79.7 -> 80.8).
 *
 * Only while the table is not growing and no write holds the claim: the
 * two words are tested with one branch, an or with the claim word where
 * the unchecked build has a test of the old buckets, so that the checks
 * add no instruction to a lookup whose time is how many of them the
 * processor keeps in flight (the claim tested on its own, three
 * instructions, made 4M-key hits 3.6 % slower and misses 4.2 %).  Either
 * one set, the lookup is the in-cache one, which looks at the claim and
 * then reads the buckets themselves. */
MR_INLINE bool dense_lookup(const mr_map *h)
{
    return h->tops != NULL && ((uintptr_t)h->oldbuckets | claimHolder(h)) == 0;
}

#define LOOKUP_FUNCTIONS(name, kind)                                                                \
    KIND_FN MR_HOT_PATH void *access1_dense_##name(const mr_maptype *t, mr_map *h, const void *key) \
    {                                                                                               \
        if (h->oldbuckets != NULL)                                                                  \
            __builtin_unreachable(); /* (dense_lookup) */                                           \
        /* (a user type's zero value may be a call: only on a miss) */                              \
        void *e = mapaccess_body(t, h, key, kind, true, kind == MR_FAST_NONE ? NULL : (void *)mr_zeroVal); \
        return kind == MR_FAST_NONE && e == NULL ? kind_zero_value(t, kind) : e;                    \
    }                                                                                               \
    KIND_FN MR_HOT_PATH void *access2_dense_##name(const mr_maptype *t, mr_map *h, const void *key, bool *ok) \
    {                                                                                               \
        if (h->oldbuckets != NULL)                                                                  \
            __builtin_unreachable(); /* (dense_lookup) */                                           \
        void *e = mapaccess_body(t, h, key, kind, true, NULL);                                      \
        *ok = e != NULL;                                                                            \
        return e != NULL ? e : kind_zero_value(t, kind);                                            \
    }                                                                                               \
    KIND_FN MR_HOT_PATH void *access1_##name(const mr_maptype *t, mr_map *h, const void *key) \
    {                                                                                               \
        void *e = NULL;                                                                             \
        if (MR_LIKELY(h != NULL)) {                                                                 \
            if (dense_lookup(h))                                                                    \
                return access1_dense_##name(t, h, key);                                             \
            uint64_t w = claimHolder(h);                                                            \
            if (MR_UNLIKELY(w != 0))                                                                \
                return access1_seen_writer(t, h, key, w);                                           \
            e = mapaccess_body(t, h, key, kind, false, NULL);                                       \
        }                                                                                           \
        return e != NULL ? e : kind_zero_value(t, kind);                                            \
    }                                                                                               \
    KIND_FN MR_HOT_PATH void *access2_##name(const mr_maptype *t, mr_map *h, const void *key, bool *ok) \
    {                                                                                               \
        void *e = NULL;                                                                             \
        if (MR_LIKELY(h != NULL)) {                                                                 \
            if (dense_lookup(h))                                                                    \
                return access2_dense_##name(t, h, key, ok);                                         \
            uint64_t w = claimHolder(h);                                                            \
            if (MR_UNLIKELY(w != 0))                                                                \
                return access2_seen_writer(t, h, key, ok, w);                                       \
            e = mapaccess_body(t, h, key, kind, false, NULL);                                       \
        }                                                                                           \
        *ok = e != NULL;                                                                            \
        return e != NULL ? e : kind_zero_value(t, kind);                                            \
    }
#define WRITE_FUNCTIONS(name, kind)                                                                 \
    KIND_FN MR_HOT_PATH void *assign_##name(const mr_maptype *t, mr_map *h, const void *key, uintptr_t pc) \
    {                                                                                               \
        return mapassign_body(t, h, key, pc, kind);                                                 \
    }                                                                                               \
    KIND_FN MR_HOT_PATH void delete_##name(const mr_maptype *t, mr_map *h, const void *key, uintptr_t pc) \
    {                                                                                               \
        mapdelete_body(t, h, key, pc, kind);                                                        \
    }
#define KIND_FUNCTIONS(name, kind)                                                                  \
    LOOKUP_FUNCTIONS(name, kind)                                                                    \
    WRITE_FUNCTIONS(name, kind)                                                                     \
    KIND_FN void evacuate_##name(const mr_maptype *t, mr_map *h, uintptr_t oldbucket)  \
    {                                                                                               \
        evacuate_body(t, h, oldbucket, kind);                                                       \
    }
PER_KIND(KIND_FUNCTIONS)
/* A string lookup's key of at most MR_SHORT_HASH_MAX bytes (most keys) is
 * hashed and compared inline: with no call to XXH3 or memcmp left in it,
 * the body saves four registers instead of six and sets up no frame
 * (callgrind: 152 -> 140 instructions a small-map hit; interleaved runs:
 * small-map hits -12 %, misses -8 %, 2M-key hits -6 %). */
LOOKUP_FUNCTIONS(faststrshort, MR_FASTSTR_SHORT)
/* So are an assign's and a delete's (callgrind: string small delete 186
 * -> 173 instructions); mr_hashbytes_inline hashes such keys with the
 * short hash too, so every body finds what another stored. */
WRITE_FUNCTIONS(faststrshort, MR_FASTSTR_SHORT)

#define BY_KIND(op, t, ...)                                                     \
    switch ((t)->fastkind) {                                                    \
    case MR_FAST64: return op##_fast64(t, __VA_ARGS__);                         \
    case MR_FASTSTR: return op##_faststr(t, __VA_ARGS__);                       \
    case MR_FAST32: return op##_fast32(t, __VA_ARGS__);                         \
    default: return op##_generic(t, __VA_ARGS__);                               \
    }

/* As BY_KIND, with a string key of at most MR_SHORT_HASH_MAX bytes sent to
 * the short-string body (its length looked at only for string maps).  A
 * switch of its own, not a test before BY_KIND's: that compared the kind
 * twice on every int64 operation and kept the dispatch from inlining
 * (callgrind: int64 hit 115.7 instructions, 111.7 this way). */
#define BY_KEY(op, t, key, ...)                                                 \
    switch ((t)->fastkind) {                                                    \
    case MR_FAST64: return op##_fast64(t, __VA_ARGS__);                         \
    case MR_FASTSTR:                                                            \
        if (((const mr_string *)(key))->len <= MR_SHORT_HASH_MAX)               \
            return op##_faststrshort(t, __VA_ARGS__);                           \
        return op##_faststr(t, __VA_ARGS__);                                    \
    case MR_FAST32: return op##_fast32(t, __VA_ARGS__);                         \
    default: return op##_generic(t, __VA_ARGS__);                               \
    }

MR_INLINE void *access1(const mr_maptype *t, mr_map *h, const void *key)
{
    BY_KEY(access1, t, key, h, key)
}

MR_INLINE void *access2(const mr_maptype *t, mr_map *h, const void *key, bool *ok)
{
    BY_KEY(access2, t, key, h, key, ok)
}

/* pc: the program's call site, kept with the write claim. */
MR_INLINE void *assign(const mr_maptype *t, mr_map *h, const void *key, uintptr_t pc)
{
    BY_KEY(assign, t, key, h, key, pc)
}

MR_INLINE void delete(const mr_maptype *t, mr_map *h, const void *key, uintptr_t pc)
{
    BY_KEY(delete, t, key, h, key, pc)
}

static void clear(const mr_maptype *t, mr_map *h, uintptr_t pc);
static void mapfree(const mr_maptype *t, mr_map *h, uintptr_t pc);

/* The one check on the fast paths: inside a deferred call, every map
 * operation reports its touch, and with ThreadSanitizer's runtime in the
 * process it is told of every operation.  Otherwise it costs a
 * thread-local load, a global load and a branch.  The slow twin of each
 * operation is a separate cold function reached by a tail call, so that
 * the fast path saves no registers for it. */
#define SLOW() MR_UNLIKELY((mr_tls_running != NULL) | mr_tsan_on)
#define CALLER() ((uintptr_t)__builtin_return_address(0))

static COLD void noted(mr_map *h, mr_mapop op, uintptr_t pc)
{
    if (mr_tls_running != NULL)
        mr_hook_defer_touch(h, op, pc);
    if (mr_tsan_on) {
        if (op == MR_OP_ACCESS)
            mr_tsan_read(h, pc);
        else
            mr_tsan_write(h, pc);
    }
}

static COLD void *access1_slow(const mr_maptype *t, mr_map *h, const void *key, uintptr_t pc)
{
    noted(h, MR_OP_ACCESS, pc);
    return access1(t, h, key);
}

static COLD void *access2_slow(const mr_maptype *t, mr_map *h, const void *key, bool *ok, uintptr_t pc)
{
    noted(h, MR_OP_ACCESS, pc);
    return access2(t, h, key, ok);
}

static COLD void *assign_slow(const mr_maptype *t, mr_map *h, const void *key, uintptr_t pc)
{
    noted(h, MR_OP_ASSIGN, pc);
    return assign(t, h, key, pc);
}

static COLD void delete_slow(const mr_maptype *t, mr_map *h, const void *key, uintptr_t pc)
{
    noted(h, MR_OP_DELETE, pc);
    delete(t, h, key, pc);
}

static COLD void clear_slow(const mr_maptype *t, mr_map *h, uintptr_t pc)
{
    noted(h, MR_OP_CLEAR, pc);
    clear(t, h, pc);
}

MR_HOT_PATH void *mr_mapaccess1(const mr_maptype *t, mr_map *h, const void *key)
{
    if (SLOW())
        return access1_slow(t, h, key, CALLER());
    return access1(t, h, key);
}

MR_HOT_PATH void *mr_mapaccess2(const mr_maptype *t, mr_map *h, const void *key, bool *ok)
{
    if (SLOW())
        return access2_slow(t, h, key, ok, CALLER());
    return access2(t, h, key, ok);
}

MR_HOT_PATH void *mr_mapassign(const mr_maptype *t, mr_map *h, const void *key)
{
    if (SLOW())
        return assign_slow(t, h, key, CALLER());
    return assign(t, h, key, CALLER());
}

MR_HOT_PATH void mr_mapdelete(const mr_maptype *t, mr_map *h, const void *key)
{
    if (SLOW())
        delete_slow(t, h, key, CALLER());
    else
        delete(t, h, key, CALLER());
}

void mr_mapclear(const mr_maptype *t, mr_map *h)
{
    if (SLOW())
        clear_slow(t, h, CALLER());
    else
        clear(t, h, CALLER());
}

void mr_mapfree(const mr_maptype *t, mr_map *h)
{
    if (SLOW())
        noted(h, MR_OP_FREE, CALLER());
    mapfree(t, h, CALLER());
}

void mr_evacuate(const mr_maptype *t, mr_map *h, uintptr_t oldbucket)
{
    BY_KIND(evacuate, t, h, oldbucket)
}

/* Go's mapaccessK: the stored key and element for key, used by iterators
 * that must look an entry up in the grown table.  Returns the key or NULL. */
void *mr_mapaccessK(const mr_maptype *t, mr_map *h, const void *key, void **elem)
{
    uint64_t hash = t->hash(key, h->hash0);
    uintptr_t m = h->mask;
    bmap *b = bucketAt(t, h->buckets, hash & m);
    if (h->oldbuckets != NULL) {
        if (!isSameSizeGrow(h))
            m >>= 1;
        bmap *oldb = bucketAt(t, h->oldbuckets, hash & m);
        if (!evacuated(oldb))
            b = oldb;
    }
    uint8_t top = tophash(hash);
    for (; b != NULL; b = overflow(t, b)) {
        for (uintptr_t i = 0; i < bucketCnt; i++) {
            if (b->tophash[i] != top) {
                if (b->tophash[i] == emptyRest)
                    return NULL;
                continue;
            }
            void *k = slotkey(t, bkey(t, b, i));
            if (t->equal(key, k)) {
                *elem = slotelem(t, belem(t, b, i));
                return k;
            }
        }
    }
    return NULL;
}

/* A hand-written map type must have been made with MR_MAPTYPE_INIT or be
 * equally consistent; catching a bad one here beats corrupting memory. */
static void check_type(const mr_maptype *t)
{
    if (t == NULL)
        mr_throw("mr_makemap: NULL map type");
    if (t->hash == NULL || t->equal == NULL)
        mr_throw("mr_makemap: map type without hash or equal function");
    uint32_t want = 8 + 8 * t->slotkeysize + 8 * t->slotelemsize + MR_FAST_EXTRA(t->fastkind) + (uint32_t)sizeof(void *);
    uint32_t keyslot = indirectkey(t) ? (uint32_t)sizeof(void *) : t->keysize;
    uint32_t elemslot = indirectelem(t) ? (uint32_t)sizeof(void *) : t->elemsize;
    if (t->bucketsize != want || t->slotkeysize != keyslot || t->slotelemsize != elemslot)
        mr_throw("mr_makemap: inconsistent map type (define it with MR_MAPTYPE_INIT)");
}

/* makemap implements Go map creation for make(map[k]v, hint). */
mr_map *mr_makemap(const mr_maptype *t, size_t hint)
{
    check_type(t);
    /* A hint too large for memory is ignored, as in Go (maxAlloc). */
    if (hint > ((size_t)1 << 40) / t->bucketsize)
        hint = 0;
    mr_map *h = mr_map_alloc(MR_ALLOC_MAP, sizeof *h, NULL);
    h->type = t;
    h->hash0 = mr_fastrand64();
    atomic_init(&h->bias, MR_BIAS_UNSET);
    /* Find the size parameter B which will hold the requested # of elements. */
    uint8_t B = 0;
    while (overLoadFactor(hint, B))
        B++;
    h->B = B;
    h->mask = bucketMask(B);
    /* Allocate the initial hash table.  If B == 0, the buckets field is
     * allocated lazily by mapassign. */
    if (B != 0)
        set_buckets(t, h, mr_makeBucketArray(t, h, B, NULL, &h->nextOverflow));
    mr_hook_map_made(h, t, (uintptr_t)__builtin_return_address(0));
    if (MR_UNLIKELY(mr_tsan_on))
        mr_tsan_made(h);
    return h;
}

size_t mr_maplen(const mr_map *h)
{
    return h == NULL ? 0 : h->count;
}

void mr_mapgetstats(const mr_map *h, mr_mapstats *st)
{
    *st = (mr_mapstats){0};
    if (h == NULL)
        return;
    checkNotWriting(h, MR_FAULT_READ);
    st->count = h->count;
    st->B = h->B;
    st->noverflow = h->noverflow;
    st->growing = growing(h);
    st->samesizegrow = growing(h) && isSameSizeGrow(h);
    st->oldbuckets = growing(h) ? noldbuckets(h) : 0;
    st->nevacuate = h->nevacuate;
    st->parked = h->parked.len;
    st->parkedbytes = h->parked.bytes;
    st->growths = h->ngrow;
    st->samesizegrowths = h->nsamesizegrow;
    uint64_t bias = atomic_load_explicit(&((mr_map *)h)->bias, memory_order_relaxed);
    st->bias = bias == MR_BIAS_NONE || bias == MR_BIAS_REVOKING || bias == MR_BIAS_UNSET ? 0 : bias;
}

/* mapclear deletes all keys from a map, keeping its buckets. */
static void clear(const mr_maptype *t, mr_map *h, uintptr_t pc)
{
    if (h == NULL)
        return;
    claimWriting(h, pc);
    if (h->count == 0 && h->oldbuckets == NULL)
        goto out;
    mr_release_entries(t, h);
    uint8_t oldB = isSameSizeGrow(h) ? h->B : (uint8_t)(h->B - 1);
    if (atomic_load_explicit(&h->iterators, memory_order_acquire) == 0) {
        if (h->oldbuckets != NULL)
            mr_release_bucket_array(t, h, h->oldbuckets, oldB);
        /* Reuse the table: clear it and recover its preallocated overflow
         * buckets, as if newly allocated. */
        mr_release_overflow(t, h, h->buckets, h->B);
        set_buckets(t, h, mr_makeBucketArray(t, h, h->B, h->buckets, &h->nextOverflow));
    } else {
        /* Open iterations still read these tables: mark them empty so the
         * iterations end (Go issue 59411), park them, start afresh. */
        if (h->oldbuckets != NULL) {
            mr_mark_buckets_empty(t, h->oldbuckets, oldB);
            mr_release_bucket_array(t, h, h->oldbuckets, oldB);
        }
        mr_mark_buckets_empty(t, h->buckets, h->B);
        mr_release_bucket_array(t, h, h->buckets, h->B);
        set_buckets(t, h, mr_makeBucketArray(t, h, h->B, NULL, &h->nextOverflow));
        mr_trim_parked(h);
    }
    h->flags &= (uint8_t)~sameSizeGrow;
    h->oldbuckets = NULL;
    h->nevacuate = 0;
    h->noverflow = 0;
    h->count = 0;
    /* Reset the hash seed to make it more difficult for attackers to
     * repeatedly trigger hash collisions (Go issue 25237). */
    h->hash0 = mr_fastrand64();
out:
    releaseWriting(h);
}

static void mapfree(const mr_maptype *t, mr_map *h, uintptr_t pc)
{
    if (h == NULL)
        return;
    /* Freeing is a write: it must not overlap any other use (the claim is
     * kept: quarantine poisons the header). */
    claimWriting(h, pc);
    mr_hook_map_freed(h, t, pc);
    /* A type defined static in a header has one copy per file, so compare
     * what matters for freeing: the layout. */
    if (t != h->type && (t->bucketsize != h->type->bucketsize || t->indirect != h->type->indirect ||
                         t->keysize != h->type->keysize || t->elemsize != h->type->elemsize))
        mr_throw("mr_mapfree: map freed with a different map type than it was made with");
    mr_release_entries(t, h);
    /* Nothing can be iterating a freed map legitimately: free it all. */
    atomic_store_explicit(&h->iterators, 0, memory_order_relaxed);
    atomic_store_explicit(&h->last_iter, NULL, memory_order_relaxed);
    if (h->oldbuckets != NULL)
        mr_release_bucket_array(t, h, h->oldbuckets, isSameSizeGrow(h) ? h->B : (uint8_t)(h->B - 1));
    if (h->buckets != NULL)
        mr_release_bucket_array(t, h, h->buckets, h->B);
    mr_release_parked(h);
    h->buckets = h->oldbuckets = NULL;
    h->tops = NULL;
    h->count = 0;
    releaseWriting_check(h);
    /* The header stays poisoned in quarantine for a while, so that a later
     * use is reported instead of reading reused memory. */
    mr_quarantine_header(h);
}
