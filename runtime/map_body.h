/*
 * map_body.h — access, assign and delete, written once.
 *
 * Go keeps its fast paths (mapaccess1_fast64, mapassign_faststr, ...) as
 * hand-copied files.  Here each operation is one always-inline body taking
 * the key kind as a compile-time constant; map.c instantiates it per kind,
 * and the compiler folds the key size, hash and equality into straight-line
 * code.  The algorithm exists once.
 *
 * Included only by map.c.
 */
#ifndef MAPRT_MAP_BODY_H
#define MAPRT_MAP_BODY_H

#include "hash.h"
#include "map_internal.h"

/* ---- the key, per kind ------------------------------------------------ */

MR_INLINE uint32_t kind_keysize(const mr_maptype *t, int kind)
{
    switch (kind) {
    case MR_FAST32: return 4;
    case MR_FAST64: return 8;
    case MR_FASTSTR:
    case MR_FASTSTR_SHORT: return sizeof(mr_string);
    default: return t->keysize;
    }
}

MR_INLINE uint32_t kind_slotkeysize(const mr_maptype *t, int kind)
{
    return kind == MR_FAST_NONE ? t->slotkeysize : kind_keysize(t, kind);
}

MR_INLINE bool kind_indirectkey(const mr_maptype *t, int kind)
{
    return kind == MR_FAST_NONE && indirectkey(t);
}

/* The ready-made types' elements are 8 bytes but map[int32]int32's 4
 * (MR_FAST_ELEMSIZE, checked where they are defined): with the sizes as
 * constants the bucket's size and offsets fold too, instead of a load and
 * a multiply, and an element's copy is one move, not a switch on its size. */
MR_INLINE uint32_t kind_elemsize(const mr_maptype *t, int kind)
{
    return kind == MR_FAST_NONE ? t->slotelemsize : MR_FAST_ELEMSIZE(kind);
}

/* Where a fast kind's bucket ends its keys and elements: its hashes
 * follow, if it keeps them, then the overflow pointer. */
MR_INLINE uint32_t kind_slots_end(const mr_maptype *t, int kind)
{
    return dataOffset + bucketCnt * (kind_keysize(t, kind) + kind_elemsize(t, kind));
}

MR_INLINE uint32_t kind_bucketsize(const mr_maptype *t, int kind)
{
    if (kind == MR_FAST_NONE)
        return t->bucketsize;
    return kind_slots_end(t, kind) + MR_FAST_EXTRA(kind) + sizeof(void *);
}

/* Whether the kind's buckets keep their entries' hashes (MR_STR_HASHES_BYTES),
 * and where. */
MR_INLINE bool kind_hashes(int kind)
{
    return MR_FAST_EXTRA(kind) != 0;
}

MR_INLINE uint32_t *kind_bhashes(const mr_maptype *t, int kind, bmap *b)
{
    return (uint32_t *)((char *)b + kind_slots_end(t, kind));
}

MR_INLINE bmap *kind_bucketAt(const mr_maptype *t, int kind, void *array, uintptr_t i)
{
    return (bmap *)((char *)array + i * kind_bucketsize(t, kind));
}

MR_INLINE bmap *kind_overflow(const mr_maptype *t, int kind, bmap *b)
{
    return *(bmap **)((char *)b + kind_bucketsize(t, kind) - sizeof(void *));
}

MR_INLINE uint64_t kind_hash(const mr_maptype *t, int kind, const void *key, uint64_t seed)
{
    switch (kind) {
    case MR_FAST32: {
        uint32_t k;
        memcpy(&k, key, 4);
        return mr_hash64_inline(k, seed);
    }
    case MR_FAST64: {
        uint64_t k;
        memcpy(&k, key, 8);
        return mr_hash64_inline(k, seed);
    }
    case MR_FASTSTR: {
        const mr_string *s = key;
        return mr_hashbytes_inline(s->ptr, s->len, seed);
    }
    case MR_FASTSTR_SHORT: {
        const mr_string *s = key;
        return mr_hash_short(s->ptr, s->len, seed);
    }
    default: return t->hash(key, seed);
    }
}

MR_INLINE bool kind_equal(const mr_maptype *t, int kind, const void *a, const void *b)
{
    switch (kind) {
    case MR_FAST32: return memcmp(a, b, 4) == 0;
    case MR_FAST64: return memcmp(a, b, 8) == 0;
    case MR_FASTSTR: {
        const mr_string *x = a, *y = b;
        return x->len == y->len && (x->ptr == y->ptr || memcmp(x->ptr, y->ptr, x->len) == 0);
    }
    case MR_FASTSTR_SHORT: { /* (a is the key looked up, of at most MR_SHORT_HASH_MAX bytes) */
        const mr_string *x = a, *y = b;
        return x->len == y->len && (x->ptr == y->ptr || mr_short_equal(x->ptr, y->ptr, x->len));
    }
    default: return t->equal(a, b);
    }
}

MR_INLINE void *kind_bkey(const mr_maptype *t, int kind, bmap *b, uintptr_t i)
{
    if (kind_paired(kind))
        return pair_key(b, i);
    return (char *)b + dataOffset + i * kind_slotkeysize(t, kind);
}

MR_INLINE void *kind_belem(const mr_maptype *t, int kind, bmap *b, uintptr_t i)
{
    if (kind_paired(kind))
        return pair_elem(b, i);
    return (char *)b + dataOffset + bucketCnt * kind_slotkeysize(t, kind) + i * kind_elemsize(t, kind);
}

/* The element of a slot.  A ready-made type's is always in the slot
 * (FAST_TYPE, maptypes.c, gives none out-of-line): no flag to test. */
MR_INLINE void *kind_slotelem(const mr_maptype *t, int kind, void *e)
{
    return kind == MR_FAST_NONE ? slotelem(t, e) : e;
}

/* The zero value an access returns for an absent key: a ready-made type's
 * element (4 or 8 bytes) is always within the static block. */
MR_INLINE void *kind_zero_value(const mr_maptype *t, int kind)
{
    return kind == MR_FAST_NONE ? zero_value_of(t) : (void *)mr_zeroVal;
}

/* Copies a key or element: the common sizes inline, the rest by memcpy
 * (whose size is not a constant for user types or for elements). */
MR_INLINE void copy_slot(void *dst, const void *src, uint32_t n)
{
    switch (n) {
    case 4: memcpy(dst, src, 4); break;
    case 8: memcpy(dst, src, 8); break;
    case 16: memcpy(dst, src, 16); break;
    default: memcpy(dst, src, n); break;
    }
}

/* Zeroes a key or element slot: the common sizes as inline stores (an
 * element's size is not a constant even on the fast paths, and a call to
 * memset for eight bytes was a tenth of a small map's delete). */
MR_INLINE void zero_slot(void *dst, uint32_t n)
{
    static const char zeros[16];
    switch (n) {
    case 4: memcpy(dst, zeros, 4); break;
    case 8: memcpy(dst, zeros, 8); break;
    case 16: memcpy(dst, zeros, 16); break;
    default: memset(dst, 0, n); break;
    }
}

/* ---- asking for a bucket's lines ahead of use ------------------------- */

enum { PREFETCH_MIN_B = 14 }; /* 2^14 buckets: megabytes, beyond L2 */

/* Asks for every line of bucket i of a table, for writing or reading. */
MR_INLINE void prefetch_bucket(const mr_maptype *t, int kind, const char *table, uintptr_t i, bool write)
{
    const uint32_t size = kind_bucketsize(t, kind);
    const char *p = table + i * size, *end = p + size - 1;
    for (; p < end; p += 64) {
        if (write)
            __builtin_prefetch(p, 1);
        else
            __builtin_prefetch(p, 0);
    }
    if (write)
        __builtin_prefetch(end, 1);
    else
        __builtin_prefetch(end, 0);
}

/* ---- mapaccess -------------------------------------------------------- */

/* Records whether this thread's last dense lookup found its key, with a
 * store only when that changes: the byte read again (volatile), not kept
 * in a register from the prediction's test, which cost the lookup saved
 * registers. */
MR_INLINE void lookup_was_hit(bool hit)
{
    if (*(volatile uint8_t *)&mr_tls_lookup_hit != hit)
        mr_tls_lookup_hit = hit;
}

/* Returns the element for key, or `absent` (NULL, which the callers turn
 * into the zero value, or the zero value itself: a dense hit then returns
 * with no test of its result, which GCC had added where both ends store
 * mr_tls_lookup_hit).  The callers have checked that h is not NULL and
 * looked at the write claim (map.c: a reader's only cold call is there,
 * so that this body stays a leaf).  dense: whether h->tops is set (known
 * when compiled: map.c has a function for each case, so that what only a
 * table beyond the cache does costs the others no register). */
MR_INLINE void *mapaccess_body(const mr_maptype *t, mr_map *h, const void *key, int kind, bool dense, void *absent)
{
    /* A dense table always has buckets, and an empty one's copy matches
     * nothing: only a small table's count needs a look. */
    if (!dense && h->count == 0)
        return absent;
    uint64_t hash = kind_hash(t, kind, key, h->hash0);
    uintptr_t m = h->mask;
    bmap *b = kind_bucketAt(t, kind, h->buckets, hash & m);
    /* The main bucket's tophash word: in a table beyond the cache, from
     * the dense copy (map_internal.h), the bucket's first line (its own
     * tophash bytes, checked for a candidate, and the first keys) asked
     * for meanwhile.  Only the first: lookups run back to back overlap
     * their misses, and a lookup that asked for all of its bucket's three
     * or four lines took as many of the few outstanding misses a core has,
     * so fewer lookups overlapped (with the maps of make bench, measured
     * in one process: string hits 225 -> 215 ns, misses 203 -> 169, int64
     * misses 97 -> 93, int64 hits alike; with no line asked for, int64
     * hits waited for the copy and then the bucket, 117 -> 128).  A
     * paired bucket's first two lines: they hold the tophash bytes and
     * the pairs of the slots most buckets fill, so that a hit waits for
     * no miss after the copy's (4M int64 keys, one process, best of 11:
     * hits 5-6 % faster, misses 0-6 % slower).
     *
     * Only while this thread's last lookup found its key: a miss mostly
     * reads nothing but the copy, and the lines it asked for took memory
     * bandwidth and miss slots from the lookups after it (4M int64 keys,
     * one process, best of 5: misses 45.8 -> 39.0 ns, 2M strings 107.5 ->
     * 101.2, hits alike).  A thread whose lookups alternate between hits
     * and misses gets, at worst, each kind's figure of the other choice.
     * The prediction is stored only when it changes (lookup_was_hit): a
     * store on every hit, with the claim's load at the entry (map.c:
     * dense_lookup), made 4M-key hits 8-10 % slower, though either
     * alone cost nothing measurable.
     *
     * While the copy is exact (no delete from this table yet), a key it
     * names is live: its bucket's byte need not be read before the key,
     * one dependent load fewer on a hit whose pair is on the bucket's
     * second line (4M int64 keys, one process per build, alternated four
     * times: hits faster in 4 of 4 pairs by 0.6-2.3 ns, then in 3 of 4;
     * make bench's two columns: alike).  Not for a key kept out of line,
     * which a racing delete could free meanwhile: the byte check narrows
     * that window as before. */
    bool exact = dense && !kind_indirectkey(t, kind) && (h->flags & topsExact);
    uint64_t w;
    if (dense) {
        w = h->tops[hash & m];
        if (MR_LIKELY(mr_tls_lookup_hit)) {
            __builtin_prefetch(b);
            if (kind_paired(kind))
                __builtin_prefetch((const char *)b + 64);
        }
    } else {
        w = load_tophash(b);
    }
    if (MR_UNLIKELY(h->oldbuckets != NULL)) {
        if (!isSameSizeGrow(h))
            m >>= 1; /* There used to be half as many buckets; mask down one more power of two. */
        bmap *oldb = kind_bucketAt(t, kind, h->oldbuckets, hash & m);
        if (!evacuated(oldb)) {
            b = oldb;
            w = load_tophash(b);
        }
    }
    uint64_t top8 = tophash_word(hash);
    uint8_t top = (uint8_t)top8;
    for (;;) {
        for (uint64_t cand = match_top(w, top8); cand != 0; cand &= cand - 1) {
            uintptr_t i = first_slot(cand);
            /* The copy may still show a deleted cell, whose out-of-line
             * key is gone: the bucket's own byte says whether it is live. */
            if (MR_UNLIKELY(!exact && b->tophash[i] != top))
                continue;
            void *k = kind_bkey(t, kind, b, i);
            if (kind_indirectkey(t, kind))
                k = *(void **)k;
            if (MR_LIKELY(kind_equal(t, kind, key, k))) {
                if (dense)
                    lookup_was_hit(true);
                return kind_slotelem(t, kind, kind_belem(t, kind, b, i));
            }
        }
        if (has_empty_rest(w))
            break;
        b = kind_overflow(t, kind, b);
        if (b == NULL)
            break;
        w = load_tophash(b);
    }
    if (dense)
        lookup_was_hit(false);
    return absent;
}

/* ---- the bucket a write will touch, asked for before the claim ----------
 *
 * The claim's compare-and-swap waits for every earlier store to reach the
 * cache, and a write to a table far larger than the cache stores into its
 * bucket's lines (a delete clears the key and element, an assign's caller
 * fills the element), each a miss: the next write's claim would wait for
 * them one after another.  Asking for the bucket's lines, for writing, as
 * soon as the hash is known (before the claim) lets them arrive with the
 * tophash line, and the claim waits for nothing slow.  An assign asks
 * for them even when its claim is a plain store (biased): its stores and
 * a growing map's evacuation then find their lines on the way (without,
 * 2M- and 4M-key inserts took 8-10 % longer); it also stores into the
 * copy of the tophash words (set_tophash).  A delete asks only ahead of a
 * compare-and-swap.  Only a hint: B, buckets and tops are read without
 * the claim, so as atomics, and may be stale. */
MR_INLINE void prefetch_write_bucket(const mr_maptype *t, mr_map *h, uint64_t hash, bool assign, int kind)
{
    uint8_t B = __atomic_load_n(&h->B, __ATOMIC_RELAXED);
    if (B < PREFETCH_MIN_B)
        return;
    const char *buckets = __atomic_load_n((char **)&h->buckets, __ATOMIC_RELAXED);
    const uint64_t *tops = __atomic_load_n(&h->tops, __ATOMIC_RELAXED);
    uintptr_t m = bucketMask(B);
    prefetch_bucket(t, kind, buckets, hash & m, true);
    if (assign)
        __builtin_prefetch(&tops[hash & m], 1); /* (set_tophash stores there) */
    /* While the map grows, the write first evacuates the old bucket its
     * key hashes to (mr_growWork): that one is read, and its entries go to
     * this bucket and to its sibling half a table away (a growth to the
     * same size keeps them in place).  Stores to lines still on their way
     * fill the store buffer and stall the writes after them: this took
     * about 5 % off an int64 insert into a map growing to 4M entries. */
    const char *old = __atomic_load_n((char **)&h->oldbuckets, __ATOMIC_RELAXED);
    if (old == NULL)
        return;
    bool sameSize = __atomic_load_n(&h->flags, __ATOMIC_RELAXED) & sameSizeGrow;
    uintptr_t oldbucket = hash & (sameSize ? m : m >> 1);
    if (oldbucket < __atomic_load_n(&h->nevacuate, __ATOMIC_RELAXED))
        return; /* moved already (mr_growWork): not read */
    prefetch_bucket(t, kind, old, oldbucket, false);
    if (sameSize)
        return;
    prefetch_bucket(t, kind, buckets, (hash & m) ^ ((m + 1) >> 1), true);
    if (assign)
        __builtin_prefetch(&tops[(hash & m) ^ ((m + 1) >> 1)], 1);
}

/* ---- mapassign -------------------------------------------------------- */

MR_INLINE void *mapassign_body(const mr_maptype *t, mr_map *h, const void *key, uintptr_t pc, int kind)
{
    if (h == NULL)
        mr_panic_nilmap();
    /* Hash before claiming, as Go does, so a user hash that fails leaves
     * the map unclaimed. */
    uint64_t hash = kind_hash(t, kind, key, h->hash0);
    prefetch_write_bucket(t, h, hash, true, kind);
    claimWriting(h, pc);
    if (MR_UNLIKELY(h->buckets == NULL))
        set_buckets(t, h, mr_makeBucketArray(t, h, 0, NULL, &h->nextOverflow)); /* makemap_small: one bucket, made lazily */

    uint64_t top8 = tophash_word(hash);
    uint8_t top = (uint8_t)top8;
    bmap *insertb; /* the first free cell: its bucket and slot */
    uintptr_t insertslot;
    void *elem;
again:;
    uintptr_t bucket = hash & h->mask;
    if (growing(h))
        mr_growWork(t, h, bucket);
    bmap *b = kind_bucketAt(t, kind, h->buckets, bucket);
    bmap *bmain = b;
    /* The main bucket's word from the copy while it is exact: a new key
     * is then stored without a load from the bucket (map_internal.h). */
    uint64_t w = tops_exact(h) ? h->tops[bucket] : load_tophash(b);
    insertb = NULL;
    insertslot = 0;
    for (;;) {
        for (uint64_t cand = match_top(w, top8); cand != 0; cand &= cand - 1) {
            uintptr_t i = first_slot(cand);
            void *k = kind_bkey(t, kind, b, i);
            if (kind_indirectkey(t, kind))
                k = *(void **)k;
            if (!kind_equal(t, kind, key, k))
                continue;
            /* Already have a mapping for key.  Update it. */
            if (kind == MR_FAST_NONE && (t->flags & MR_KEY_NEEDUPDATE))
                memcpy(k, key, t->keysize);
            elem = kind_belem(t, kind, b, i);
            goto done;
        }
        uint64_t empty = match_empty(w);
        if (insertb == NULL && empty != 0) {
            /* The first free cell of the chain, in Go's scan order. */
            insertb = b;
            insertslot = first_slot(empty);
        }
        if (has_empty_rest(w))
            break;
        bmap *ovf = kind_overflow(t, kind, b);
        if (ovf == NULL)
            break;
        b = ovf;
        w = load_tophash(b);
    }
    /* Did not find mapping for key.  Allocate new cell & add entry.
     * If we hit the max load factor or we have too many overflow buckets,
     * and we're not already in the middle of growing, start growing. */
    if (!growing(h) && (overLoadFactor(h->count + 1, h->B) || tooManyOverflowBuckets(h->noverflow, h->B))) {
        mr_hashGrow(t, h);
        goto again; /* Growing the table invalidates everything, so try again. */
    }
    if (insertb == NULL) {
        /* The current bucket and all the overflow buckets connected to it are full. */
        insertb = mr_newoverflow(t, h, b);
        insertslot = 0;
    }
    /* Store the new key/elem at the insert position. */
    void *insertk = kind_bkey(t, kind, insertb, insertslot);
    elem = kind_belem(t, kind, insertb, insertslot);
    if (kind_indirectkey(t, kind)) {
        void *kmem = mr_slot_alloc(MR_ALLOC_KEY, t->keysize, t->keyalign, h);
        *(void **)insertk = kmem;
        insertk = kmem;
    }
    if (kind == MR_FAST_NONE && indirectelem(t))
        *(void **)elem = mr_slot_alloc(MR_ALLOC_ELEM, t->elemsize, t->elemalign, h);
    else if (t->flags & MR_ELEM_NOPOINTERS)
        zero_slot(elem, kind_elemsize(t, kind)); /* a deleted element may be left there */
    memcpy(insertk, key, kind_keysize(t, kind));
    if (kind_hashes(kind))
        kind_bhashes(t, kind, insertb)[insertslot] = (uint32_t)hash;
    set_tophash(h, insertb, insertslot, top, insertb == bmain, bucket);
    h->count++;
done:
    releaseWriting(h);
    return kind_slotelem(t, kind, elem);
}

/* ---- mapdelete -------------------------------------------------------- */

MR_INLINE void mapdelete_body(const mr_maptype *t, mr_map *h, const void *key, uintptr_t pc, int kind)
{
    if (h == NULL)
        return;
    /* Checked before count so a delete racing with a write on an empty map
     * is still seen. */
    uint64_t hash = kind_hash(t, kind, key, h->hash0);
    /* A delete's stores wait for nothing unless its claim is a locked
     * instruction: asked for ahead of a biased claim, the bucket's lines
     * only crowded the misses of the lookup that finds the key (2M- and
     * 4M-key deletes took 10-11 % longer). */
    uint64_t mine = claim_bias_mine(h);
    if (mine == 0)
        prefetch_write_bucket(t, h, hash, false, kind);
    claim_as(h, pc, mine);
    if (h->count == 0)
        goto out;
    uintptr_t bucket = hash & h->mask;
    if (growing(h))
        mr_growWork(t, h, bucket);
    bmap *b = kind_bucketAt(t, kind, h->buckets, bucket);
    bmap *bOrig = b;
    uint64_t top8 = tophash_word(hash);
    for (; b != NULL; b = kind_overflow(t, kind, b)) {
        uint64_t w = load_tophash(b);
        for (uint64_t cand = match_top(w, top8); cand != 0; cand &= cand - 1) {
            uintptr_t i = first_slot(cand);
            void *k = kind_bkey(t, kind, b, i);
            void *k2 = kind_indirectkey(t, kind) ? *(void **)k : k;
            if (!kind_equal(t, kind, key, k2))
                continue;
            void *e = kind_belem(t, kind, b, i);
            if (kind_indirectkey(t, kind)) {
                mr_slot_release(h, MR_ALLOC_KEY, k2, t->keysize, t->keyalign);
                *(void **)k = NULL;
            } else if (!(t->flags & MR_KEY_NOPOINTERS)) {
                /* Go clears only keys that hold pointers (for its GC); a
                 * stale pointer here would keep leaked memory reachable.
                 * Leaving the others cost 2-3 % of a large int64 delete. */
                memset(k, 0, kind_keysize(t, kind));
            }
            if (kind == MR_FAST_NONE && indirectelem(t)) {
                mr_slot_release(h, MR_ALLOC_ELEM, *(void **)e, t->elemsize, t->elemalign);
                *(void **)e = NULL;
            } else if (!(t->flags & MR_ELEM_NOPOINTERS)) {
                zero_slot(e, kind_elemsize(t, kind)); /* a later assign hands out a zero slot */
            }
            /* (Otherwise the assign that reuses the cell zeroes it: the
             * element's line is then on its way for the caller's store,
             * where a delete's store into it was one more miss queued in
             * the store buffer ahead of the next write's claim: 4-8 % of
             * a large delete, measured in one process.) */
            b->tophash[i] = emptyOne;
            h->flags &= (uint8_t)~topsExact; /* (the copy still shows the cell: map_internal.h) */
            /* If the bucket now ends in a bunch of emptyOne states, change
             * those to emptyRest states. */
            if (i == bucketCnt - 1) {
                bmap *ovf = kind_overflow(t, kind, b);
                if (ovf != NULL && ovf->tophash[0] != emptyRest)
                    goto notLast;
            } else if (b->tophash[i + 1] != emptyRest) {
                goto notLast;
            }
            for (;;) {
                b->tophash[i] = emptyRest;
                if (i == 0) {
                    if (b == bOrig)
                        break; /* beginning of initial bucket, we're done. */
                    /* Find previous bucket, continue at its last entry. */
                    bmap *c = b;
                    for (b = bOrig; kind_overflow(t, kind, b) != c; b = kind_overflow(t, kind, b)) {
                    }
                    i = bucketCnt - 1;
                } else {
                    i--;
                }
                if (b->tophash[i] != emptyOne)
                    break;
            }
        notLast:
            h->count--;
            /* Reset the hash seed to make it more difficult for attackers to
             * repeatedly trigger hash collisions (Go issue 25237). */
            if (h->count == 0)
                h->hash0 = mr_fastrand64();
            goto out;
        }
        if (has_empty_rest(w))
            goto out;
    }
out:
    releaseWriting(h);
}

/* ---- evacuate ---------------------------------------------------------
 *
 * Moves one old bucket (and its overflow chain) into the new table during
 * growth; specialised per key kind like the operations above, since every
 * entry is rehashed. */

/* evacDst is an evacuation destination. */
typedef struct evacDst {
    bmap *b;    /* current destination bucket */
    uintptr_t i;/* key/elem index into b */
} evacDst;

MR_INLINE void evacDst_init(evacDst *d, bmap *b)
{
    d->b = b;
    d->i = 0;
}

/* Rehashing a string (or out-of-line) key reads memory far from the
 * bucket, in no useful order: ask for all of a bucket's keys at once so
 * the misses overlap instead of queueing one after another. */
MR_INLINE void prefetch_key_data(const mr_maptype *t, int kind, bmap *b)
{
    for (uintptr_t i = 0; i < bucketCnt; i++) {
        if (b->tophash[i] < minTopHash)
            continue;
        void *k = kind_bkey(t, kind, b, i);
        __builtin_prefetch(kind == MR_FASTSTR ? (const void *)((const mr_string *)k)->ptr : *(void **)k);
    }
}

MR_INLINE void evacuate_body(const mr_maptype *t, mr_map *h, uintptr_t oldbucket, int kind)
{
    const uint32_t keysize = kind_slotkeysize(t, kind), elemsize = kind_elemsize(t, kind);
    bmap *b = kind_bucketAt(t, kind, h->oldbuckets, oldbucket);
    uintptr_t newbit = noldbuckets(h);
    /* Read once, for every entry below: neither changes while a bucket
     * is evacuated. */
    const uint64_t seed = h->hash0;
    const bool sameSize = isSameSizeGrow(h);
    /* The bit that picks an entry's half is bit log2(newbit) of its hash:
     * within the hash a string bucket keeps while the old table has fewer
     * than 2^32 buckets.  Then its strings are not read at all. */
    const bool kept_hash = kind_hashes(kind) && newbit <= ((uintptr_t)1 << 31);
    const bool read_keys = (kind == MR_FASTSTR || kind_indirectkey(t, kind)) && !kept_hash;
    /* Where the keys must be read (out of line, or strings in a table of
     * 2^32 buckets or more), moving the old buckets in order (mr_growWork),
     * ask for the next one's key data now: its misses overlap this
     * bucket's work instead of starting when it begins (2M string inserts
     * into a growing map, before string buckets kept their hashes, one
     * process, best of 8-10 rounds: 166-178 -> 155-158 ns). */
    const bool inorder = oldbucket == h->nevacuate;
    if (read_keys && inorder && oldbucket + 1 < newbit) {
        bmap *next = kind_bucketAt(t, kind, h->oldbuckets, oldbucket + 1);
        if (!evacuated(next))
            prefetch_key_data(t, kind, next);
    }
    /* So a bucket moved in order, after the first, had its keys asked for
     * by the move before it (unless that one was moved out of order: then
     * they are read unasked, a cost of time only).  Asking again was a
     * tenth of the instructions of an evacuation (callgrind, 256K string
     * inserts into a growing map: 45.7 -> 42.6 M in evacuate). */
    bool asked = inorder && oldbucket > 0;
    if (!evacuated(b)) {
        /* xy contains the x and y (low and high) evacuation destinations. */
        evacDst xy[2];
        evacDst_init(&xy[0], kind_bucketAt(t, kind, h->buckets, oldbucket));
        if (!sameSize) {
            /* Only calculate y pointers if we're growing bigger. */
            evacDst_init(&xy[1], kind_bucketAt(t, kind, h->buckets, oldbucket + newbit));
        }
        for (; b != NULL; b = kind_overflow(t, kind, b), asked = false) {
            if (read_keys && !asked)
                prefetch_key_data(t, kind, b);
            for (uintptr_t i = 0; i < bucketCnt; i++) {
                char *k = kind_bkey(t, kind, b, i), *e = kind_belem(t, kind, b, i);
                uint8_t top = b->tophash[i];
                if (isEmpty(top)) {
                    b->tophash[i] = evacuatedEmpty;
                    continue;
                }
                if (top < minTopHash)
                    mr_throw("bad map state");
                void *k2 = kind_indirectkey(t, kind) ? *(void **)k : k;
                uint8_t useY = 0;
                if (!sameSize) {
                    /* Compute hash to make our evacuation decision
                     * (whether we need to send this key/elem to bucket x
                     * or bucket y). */
                    uint64_t hash = kept_hash ? kind_bhashes(t, kind, b)[i] : kind_hash(t, kind, k2, seed);
                    if (kind == MR_FAST_NONE && (t->flags & MR_KEY_NONREFLEXIVE) && !t->equal(k2, k2)) {
                        /* If key != key (NaNs), the hash is not
                         * reproducible and unrelated to its bucket.  Use
                         * the low bit of tophash to decide, and make a new
                         * random tophash so that NaNs spread across the
                         * buckets after several growths. */
                        useY = top & 1;
                        top = tophash(hash);
                    } else if (hash & newbit) {
                        useY = 1;
                    }
                }
                _Static_assert(evacuatedX + 1 == evacuatedY && (evacuatedX ^ 1) == evacuatedY,
                               "bad evacuatedN");
                b->tophash[i] = (uint8_t)(evacuatedX + useY); /* evacuatedX + 1 == evacuatedY */
                evacDst *dst = &xy[useY];                      /* evacuation destination */
                if (dst->i == bucketCnt)
                    evacDst_init(dst, mr_newoverflow(t, h, dst->b));
                dst->b->tophash[dst->i & (bucketCnt - 1)] = top; /* mask dst->i as an optimization, to avoid a bounds check */
                /* Out-of-line keys and elements move by pointer; the old
                 * cell keeps its copy of the pointer for open iterators.
                 * (Go keeps the destination's key and element pointers
                 * too; derived from the index instead, an entry costs two
                 * stack stores and loads fewer: the destination is picked
                 * by a random bit, so the pair lives in memory.) */
                copy_slot(kind_bkey(t, kind, dst->b, dst->i), k, keysize);
                copy_slot(kind_belem(t, kind, dst->b, dst->i), e, elemsize);
                if (kind_hashes(kind))
                    kind_bhashes(t, kind, dst->b)[dst->i] = kind_bhashes(t, kind, b)[i];
                dst->i++;
            }
        }
        sync_tops(t, h, oldbucket);
        if (!sameSize)
            sync_tops(t, h, oldbucket + newbit);
        /* Go clears the old bucket here to help the garbage collector.
         * There is none, and open iterators read the old cells, so the old
         * table is left intact until it is released as a whole. */
    }
    if (oldbucket == h->nevacuate)
        mr_advanceEvacuationMark(t, h, newbit);
}

#endif /* MAPRT_MAP_BODY_H */
