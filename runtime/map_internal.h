/*
 * map_internal.h — the hmap and bucket layout shared by the map's files.
 *
 * Field names and constants follow Go's runtime/map.go so the two can be
 * read side by side.  Differences from Go, all forced by C:
 *   - hashWriting is not a bit in flags but a word of its own, `writer`,
 *     claimed atomically and holding the writer's goroutine id (so a
 *     report can name both sides) or MR_WRITER_FREED after free;
 *   - there is no garbage collector, so memory the map releases while an
 *     iteration is unfinished is parked on a retired list (see retire());
 *   - out-of-line keys and elements are freed on delete, clear and free.
 */
#ifndef MAPRT_MAP_INTERNAL_H
#define MAPRT_MAP_INTERNAL_H

#include "maprt.h"
#include "maprt_hooks.h"
#include "g.h"
#include "mapfatal.h"

#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
/* The tophash masks (below): SSE2 on x86-64 (_mm_cvtsi64_si128 needs a
 * 64-bit register), bit tricks elsewhere or under -DMR_SWAR_TOPHASH. */
#if defined(__SSE2__) && defined(__x86_64__) && !defined(MR_SWAR_TOPHASH)
#define MR_TOPHASH_SSE2 1
#include <emmintrin.h>
#endif

#define MR_INLINE static inline __attribute__((always_inline))
#define MR_NOINLINE __attribute__((noinline))
/* The operations' fast paths start on a cache line of their own: where a
 * hot loop falls relative to 32- and 64-byte boundaries moved a small
 * map's iteration step by 7 % when unrelated code before it in the
 * library grew, so without this a change elsewhere shows up as a change
 * in their speed.  (A few hundred bytes of padding in all.) */
#define MR_HOT_PATH __attribute__((aligned(64)))
#define MR_LIKELY(x) __builtin_expect(!!(x), 1)
#define MR_UNLIKELY(x) __builtin_expect(!!(x), 0)

enum {
    bucketCntBits = 3,
    bucketCnt = 1 << bucketCntBits,
    /* Maximum average load of a bucket that triggers growth is 6.5. */
    loadFactorNum = 13,
    loadFactorDen = 2,
    dataOffset = 8, /* keys start after the 8 tophash bytes */

    /* Possible tophash values; Go reserves a few for special marks. */
    emptyRest = 0,      /* this cell is empty, and so is everything after it */
    emptyOne = 1,       /* this cell is empty */
    evacuatedX = 2,     /* key/elem valid, entry evacuated to first half */
    evacuatedY = 3,     /* same, to the second half of the larger table */
    evacuatedEmpty = 4, /* cell empty, bucket evacuated */
    minTopHash = 5,     /* minimum tophash of a normal filled cell */

    /* h->flags */
    sameSizeGrow = 8, /* the current growth is to a map of the same size */
    topsExact = 16,   /* no delete from the current table yet: its tophash copy is exact */
};

/* Sentinel bucket id for iterators: no bucket has this number. */
#define noCheck UINTPTR_MAX

/* Which specialised body a map type takes (mr_maptype.fastkind), and
 * MR_FASTSTR_SHORT: the string body's lookups of keys of at most
 * MR_SHORT_HASH_MAX bytes, which hash and compare inline (map.c). */
enum { MR_FAST_NONE = 0, MR_FAST32 = 1, MR_FAST64 = 2, MR_FASTSTR = 3, MR_FASTSTR_SHORT = 4 };

/* The element size of every ready-made type of a fast kind: the bodies
 * take it as a constant (map_body.h), maptypes.c checks each definition. */
#define MR_FAST_ELEMSIZE(kind) ((kind) == MR_FAST32 ? 4u : 8u)

/* A string-keyed bucket also keeps each entry's hash, its low 32 bits,
 * between the elements and the overflow pointer (where the generic code,
 * which finds the overflow pointer at the bucket's end, sees padding): a
 * growth then learns which half an entry goes to without reading the
 * string, a cache miss per entry moved in a table beyond the cache.
 * Go's string buckets are 208 bytes, these 240. */
#define MR_STR_HASHES_BYTES (8u * 4u)
#define MR_FAST_EXTRA(kind) ((kind) == MR_FASTSTR || (kind) == MR_FASTSTR_SHORT ? MR_STR_HASHES_BYTES : 0u)

/* An 8-byte key's bucket (MR_FAST64: map[int64]int64 and the pointer
 * map) keeps each key beside its element, 16 bytes a pair, where Go's
 * keeps the 8 keys and then the 8 elements.  A lookup into a table far
 * larger than the cache asks for the bucket's first two lines while it
 * reads the tophash copy (map_body.h): in Go's layout the element is on
 * another line than the tophash bytes and its key, the bucket's second or
 * third, so a hit waited for a second miss after the copy; paired, the
 * entries most buckets hold (the first four or more slots) are within
 * those two lines.  The bucket's size is unchanged. */
enum { MR_PAIR_SIZE = 16 };
MR_INLINE bool kind_paired(int kind) { return kind == MR_FAST64; }

/* Go's bmap: tophash[8], then 8 keys, 8 elems and the overflow pointer
 * (or the 8 key/element pairs: kind_paired), packed at offsets the map
 * type computes (a string-keyed bucket has its entries' hashes before the
 * overflow pointer: MR_STR_HASHES_BYTES). */
typedef struct bmap {
    uint8_t tophash[bucketCnt];
} bmap;

/* Slot i's key and element in a paired bucket (kind_paired). */
MR_INLINE void *pair_key(bmap *b, uintptr_t i) { return (char *)b + dataOffset + i * MR_PAIR_SIZE; }
MR_INLINE void *pair_elem(bmap *b, uintptr_t i) { return (char *)pair_key(b, i) + 8; }

/* Blocks released while iterations were open, freed once none are. */
typedef struct parked_block {
    void *p;
    size_t size;
    int kind;       /* mr_alloc_kind */
    uint64_t epoch; /* iterations begun when it was parked: later ones never saw it */
} parked_block;
typedef struct retired {
    size_t len, cap;
    size_t bytes;
    parked_block *blocks;
} retired;

struct mr_map {
    /* The write claim: 0 when free, the writer's goroutine id while a
     * write is in progress, MR_WRITER_FREED once the map was freed.
     * Every operation looks at it first, so it leads the header. */
    _Atomic uint64_t writer;
    /* The goroutine whose writes may take the claim without a locked
     * instruction (map_claim.c): MR_BIAS_UNSET until the first write, MR_BIAS_NONE
     * once a second goroutine has written (or biasing is off). */
    _Atomic uint64_t bias;
    /* The last write's goroutine and the program's call site of it, kept
     * under the claim (two stores to the line the claim is on): a report
     * names where the other writer wrote even when its write is over
     * before its stack can be taken. */
    _Atomic uint64_t last_writer;
    _Atomic uintptr_t last_pc;
    size_t count;        /* # live cells == size of map */
    uint8_t flags;
    uint8_t B;           /* log_2 of # of buckets */
    uint16_t noverflow;  /* approximate number of overflow buckets */
    uint64_t hash0;      /* hash seed */
    void *buckets;       /* array of 2^B buckets (plus preallocated overflow) */
    uint64_t *tops;      /* its main buckets' tophash words side by side, or NULL (array_tops) */
    uintptr_t mask;      /* bucketMask(B), set with B: three instructions fewer an operation */
    void *oldbuckets;    /* previous bucket array of half the size, non-NULL only when growing */
    uintptr_t nevacuate; /* progress counter for evacuation */
    bmap *nextOverflow;  /* free preallocated overflow bucket */
    /* Iterations begun and not yet finished; readers update it, so atomic.
     * (An iteration left without mr_mapiterstop stays counted.) */
    _Atomic uint32_t iterators;
    /* The iterator of the iteration begun last, while it is open: when the
     * next one begins in the same iterator, that one was left without
     * mr_mapiterstop (Go's pop idiom in C) and is over (map_iter.c). */
    _Atomic(void *) last_iter;
    /* Iterations begun so far, and the last of them that may have had
     * parked memory released under it: a safety net (mr_iter_released). */
    _Atomic uint64_t iter_epoch, released_epoch;
    retired parked;
    /* Overflow buckets allocated one by one (not preallocated) hanging
     * from the current table (they are all made for it: inserts and
     * evacuation fill only the current table) and from the old one while
     * growing: a table without any is released without walking its
     * chains for them. */
    size_t nseparate, nseparate_old;
    uint32_t ngrow, nsamesizegrow; /* growths so far, for mr_mapgetstats */
    const mr_maptype *type; /* the type it was made with, for reports and checks */
};

/* ---- the write claim (Go's hashWriting) --------------------------------
 *
 * Go sets and clears a flag bit without atomics and so misses many races;
 * here a writer claims the map with its goroutine id, which no other
 * writer can take while it is held, and the acquire/release pair makes
 * the claim order the writers it separates.  Readers and iterators only
 * load it.
 *
 * Most maps are only ever written by one goroutine.  The first writer
 * takes the map's bias, and from then on its claims are a plain store
 * and a load (no locked instruction: on a small map's write that was a
 * tenth of the time).  Another goroutine's first write revokes the bias
 * and waits until the owner's pending stores are visible (membarrier),
 * so every overlapping pair is still caught: map_claim.c.  With
 * MR_NO_RACE_CHECKS (benchmarks only) every check compiles to nothing. */

/* (Not MR_WRITER_FREED's value: a release compares the claim with the
 * bias, and a freed map's poisoned claim must not pass for its owner's.) */
#define MR_BIAS_NONE (UINT64_MAX - 3)
#define MR_BIAS_REVOKING (UINT64_MAX - 1)
_Static_assert(MR_BIAS_NONE != MR_WRITER_FREED, "a freed map's claim would pass for its owner's");
/* Before the first write.  Not 0, which is also the id of a thread that
 * has none yet: so a bias equal to the writer's id is its own, and the
 * owner's claim tests one thing (claim_bias_mine). */
#define MR_BIAS_UNSET (UINT64_MAX - 2)

/* last_writer while the bias owner is the last writer: its id with this
 * bit, which no compare-and-swap claimer's record of itself has, so that
 * a release can tell whether another writer claimed the map since the
 * bias was taken (mr_claim_check_end).  Readers of it as an id mask it. */
#define MR_LAST_BY_OWNER (UINT64_C(1) << 61)
MR_INLINE uint64_t last_writer_id(uint64_t last) { return last & ~MR_LAST_BY_OWNER; }

/* A write found the bias neither its own nor MR_BIAS_NONE: takes it if
 * no goroutine has it yet (and biasing is on), revokes another's; returns
 * the bias as it now is for this writer, me or MR_BIAS_NONE (map_claim.c). */
__attribute__((noinline, cold)) uint64_t mr_bias_settle(mr_map *h, uint64_t me, uint64_t seen);
/* The claim of a writer that does not own the map's bias, or whose thread
 * has no id yet: settles the bias, then takes the claim as the owner does
 * or by compare-and-swap, and records the writer (map_claim.c). */
__attribute__((noinline)) void mr_claim_slow(mr_map *h);
/* The end of a claim that is not the bias owner's, or was disturbed:
 * compares it with the thread's id and looks at the last writer, and
 * reports a race found (map_claim.c); the caller then releases it. */
__attribute__((noinline)) void mr_claim_check_end(mr_map *h, uint64_t cur);
/* Takes the claim if it is free, revoking another goroutine's bias first;
 * false (and nothing done) if it is held. */
bool mr_claim_try(mr_map *h);

/* The map's bias as it stands for a writer `me`: me (its claims may be
 * plain stores) or MR_BIAS_NONE (compare-and-swap). */
MR_INLINE uint64_t settled_bias(mr_map *h, uint64_t me)
{
    uint64_t bias = atomic_load_explicit(&h->bias, memory_order_relaxed);
    if (MR_UNLIKELY(bias != me && bias != MR_BIAS_NONE))
        bias = mr_bias_settle(h, me, bias);
    return bias;
}

/* The calling goroutine's id if h is biased to it (its claim is then
 * plain stores: claim_biased), else 0, its claim a compare-and-swap or a
 * revocation.  A delete reads it once, before it decides whether to ask
 * for its bucket's lines (only ahead of a locked claim), and hands it to
 * claim_as; reading it twice (the bias, the thread's id from TLS) was 5 of
 * the 26 instructions the checks added to a delete. */
MR_INLINE uint64_t claim_bias_mine(mr_map *h)
{
#ifndef MR_NO_RACE_CHECKS
    uint64_t me = mr_tls_goid;
    /* (Unlikely, or GCC may lay an assign's owner claim out of line: a
     * jump there and one back on every write.) */
    if (MR_UNLIKELY(atomic_load_explicit(&h->bias, memory_order_relaxed) != me))
        return 0;
    /* A bias is never 0, a thread's id before it has one: so the caller's
     * test of the result is this comparison's (two instructions fewer a
     * write). */
    if (me == 0)
        __builtin_unreachable();
    return me;
#else
    (void)h;
    return 1; /* (no claim to lock) */
#endif
}

/* The bias owner's claim: its id stored, nothing else.  A revocation
 * that comes while the store is on its way is found by the release,
 * which then finds the bias no longer its own (map_claim.c). */
MR_INLINE void claim_biased(mr_map *h, uint64_t me) { atomic_store_explicit(&h->writer, me, memory_order_relaxed); }

/* The owner's path is inline: a thread id of 0 (none given yet) is never
 * a bias, so it takes the slow path, which gives it one.  last_writer is
 * not stored on it: it is the owner's, marked MR_LAST_BY_OWNER, from the
 * write that took the bias (mr_bias_settle) until another goroutine
 * revokes it, and every claim after that is a slow one, which stores it.
 * mine: claim_bias_mine(h). */
MR_INLINE void claim_as(mr_map *h, uintptr_t pc, uint64_t mine)
{
#ifndef MR_NO_RACE_CHECKS
    if (MR_LIKELY(mine != 0))
        claim_biased(h, mine);
    else
        mr_claim_slow(h);
    atomic_store_explicit(&h->last_pc, pc, memory_order_relaxed);
#else
    (void)h;
    (void)pc;
    (void)mine;
#endif
}

MR_INLINE void claimWriting(mr_map *h, uintptr_t pc)
{
    claim_as(h, pc, claim_bias_mine(h));
}

/* A release's checks, without the release: releaseWriting's, and a freed
 * map's, whose claim is kept to the end (its word is then poisoned). */
MR_INLINE void releaseWriting_check(mr_map *h)
{
#ifndef MR_NO_RACE_CHECKS
    uint64_t cur = atomic_load_explicit(&h->writer, memory_order_relaxed);
    if (MR_UNLIKELY(cur != atomic_load_explicit(&h->bias, memory_order_relaxed)))
        mr_claim_check_end(h, cur);
#else
    (void)h;
#endif
}

/* The claim word as it is now, which another writer's claim may have
 * replaced (map_claim.c), is compared with the bias: equal, it is the
 * owner's own claim (a claim word holds the bias's id only while the
 * owner writes, and a bias never comes back once revoked), released by a
 * store.  Any other writer's release, an owner's whose bias was revoked
 * during the write, or a disturbed one, is a call that compares it with
 * the thread's id and looks at the last writer (mr_claim_check_end).
 * Comparing with the id instead, kept in a register from the claim, held
 * one more register across the write (callgrind: int64 small delete
 * 125.0 -> 118.0 instructions; reading the id again from TLS here, after
 * a large map's bucket stores, had cost 10-20 % of a 4M-key insert). */
MR_INLINE void releaseWriting(mr_map *h)
{
    releaseWriting_check(h);
#ifndef MR_NO_RACE_CHECKS
    atomic_store_explicit(&h->writer, 0, memory_order_release);
#endif
}

/* The write claim as a reader sees it: nonzero while a write is in
 * progress (the writer's goroutine id) or once the map was freed. */
MR_INLINE uint64_t claimHolder(const mr_map *h)
{
#ifndef MR_NO_RACE_CHECKS
    return atomic_load_explicit(&((mr_map *)h)->writer, memory_order_relaxed);
#else
    (void)h;
    return 0;
#endif
}

MR_INLINE void checkNotWriting(const mr_map *h, mr_mapfault fault)
{
    uint64_t w = claimHolder(h);
    if (MR_UNLIKELY(w != 0))
        mr_map_read_failed(h, w, fault);
}

/* ---- bucket geometry -------------------------------------------------- */

MR_INLINE uintptr_t bucketShift(uint8_t b) { return (uintptr_t)1 << (b & (sizeof(uintptr_t) * 8 - 1)); }
MR_INLINE uintptr_t bucketMask(uint8_t b) { return bucketShift(b) - 1; }

/* tophash(hash) in each byte of a word, what match_top compares a
 * bucket's tophash word with: read from a table of the 256 (map.c, where
 * Go's rule, the top byte raised past minTopHash, is written once), one
 * load where computing it was six instructions of a lookup of a few
 * dozen (the shift, minTopHash's test, the multiply that spreads the
 * byte). */
extern const uint64_t mr_tophash_words[256];
MR_INLINE uint64_t tophash_word(uint64_t hash) { return mr_tophash_words[hash >> 56]; }

/* tophash calculates the tophash value for hash: the word's low byte. */
MR_INLINE uint8_t tophash(uint64_t hash) { return (uint8_t)tophash_word(hash); }

MR_INLINE bool isEmpty(uint8_t x) { return x <= emptyOne; }

MR_INLINE bmap *bucketAt(const mr_maptype *t, void *array, uintptr_t i)
{
    return (bmap *)((char *)array + i * t->bucketsize);
}

MR_INLINE void *bkey(const mr_maptype *t, bmap *b, uintptr_t i)
{
    if (kind_paired(t->fastkind))
        return pair_key(b, i);
    return (char *)b + dataOffset + i * t->slotkeysize;
}

MR_INLINE void *belem(const mr_maptype *t, bmap *b, uintptr_t i)
{
    if (kind_paired(t->fastkind))
        return pair_elem(b, i);
    return (char *)b + dataOffset + bucketCnt * t->slotkeysize + i * t->slotelemsize;
}

MR_INLINE bmap **overflowSlot(const mr_maptype *t, bmap *b)
{
    return (bmap **)((char *)b + t->bucketsize - sizeof(void *));
}
MR_INLINE bmap *overflow(const mr_maptype *t, bmap *b) { return *overflowSlot(t, b); }
MR_INLINE void setoverflow(const mr_maptype *t, bmap *b, bmap *ovf) { *overflowSlot(t, b) = ovf; }

MR_INLINE bool indirectkey(const mr_maptype *t) { return t->indirect & 1; }
MR_INLINE bool indirectelem(const mr_maptype *t) { return t->indirect & 2; }

/* The key stored in a slot, following the out-of-line pointer if any. */
MR_INLINE void *slotkey(const mr_maptype *t, void *k)
{
    return indirectkey(t) ? *(void **)k : k;
}
MR_INLINE void *slotelem(const mr_maptype *t, void *e)
{
    return indirectelem(t) ? *(void **)e : e;
}

/* map_grow.c: main and preallocated overflow buckets of a table of 2^b. */
uintptr_t mr_nbuckets_alloc(uint8_t b);

/* ---- the tophash bytes of a bucket, eight at a time ----------------------
 *
 * Go scans a bucket's eight tophash bytes one by one, a branch per slot.
 * Loading them as one word and finding the interesting bytes with
 * bit tricks (SWAR) gives the same answers with a branch per bucket: in a
 * lookup that misses the cache, the difference is most of the time.
 * A mask marks slots for a loop that takes its lowest (first_slot) and
 * clears it (mask &= mask - 1). */

#define MR_LSB 0x0101010101010101ULL

MR_INLINE uint64_t load_tophash(const bmap *b)
{
    uint64_t w;
    memcpy(&w, b->tophash, sizeof w);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    w = __builtin_bswap64(w); /* slot 0 in the low byte, as on little-endian */
#endif
    return w;
}

#ifdef MR_TOPHASH_SSE2
/* With SSE2 (every x86-64), the word goes to a vector register, a byte
 * compare marks the slots and pmovmskb gathers the marks as bit i for
 * slot i: fewer instructions than the bit tricks (callgrind: a lookup's
 * match and its test for emptyRest), and the lowest slot is the mask's
 * lowest bit.  The register's upper eight bytes are zero: a test that
 * zero bytes could pass keeps the low eight bits of the mask. */
MR_INLINE __m128i tophash_vec(uint64_t w) { return _mm_cvtsi64_si128((long long)w); }
MR_INLINE uint64_t slot_marks(__m128i eq) { return (uint64_t)(unsigned)_mm_movemask_epi8(eq); }

/* Slots whose tophash is top, given in every byte of top8 (tophash_word). */
MR_INLINE uint64_t match_top(uint64_t w, uint64_t top8)
{
    return slot_marks(_mm_cmpeq_epi8(tophash_vec(w), tophash_vec(top8))) & 0xff;
}

/* Empty slots (emptyRest or emptyOne: the values 0 and 1). */
MR_INLINE uint64_t match_empty(uint64_t w)
{
    __m128i v = tophash_vec(w);
    return slot_marks(_mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(1)), v)) & 0xff;
}

/* Does the bucket hold an emptyRest (nothing at higher slots or in
 * overflow buckets)? */
MR_INLINE bool has_empty_rest(uint64_t w)
{
    return (slot_marks(_mm_cmpeq_epi8(tophash_vec(w), _mm_setzero_si128())) & 0xff) != 0;
}

/* Filled slots (tophash minTopHash or more; not the zero upper bytes). */
MR_INLINE uint64_t match_filled(uint64_t w)
{
    __m128i v = tophash_vec(w);
    return slot_marks(_mm_cmpeq_epi8(_mm_max_epu8(v, _mm_set1_epi8(minTopHash)), v));
}

/* A mask's slots as the eight bits of a byte, bit i for slot i. */
MR_INLINE unsigned slot_bits(uint64_t mask) { return (unsigned)mask; }

/* The lowest slot in a mask: tzcnt by hand, since GCC's __builtin_ctzll
 * is an int, which it sign-extends and whose register it clears first
 * (two instructions a slot found, in a lookup of a few dozen).  Encoded
 * as rep bsf, which a processor without BMI1 runs as bsf: the same
 * result for a mask that is not 0. */
MR_INLINE uintptr_t first_slot(uint64_t mask)
{
    uint64_t i;
    __asm__("tzcnt %1, %0" : "=r"(i) : "r"(mask));
    return i;
}

#else
#define MR_LOW7 0x7f7f7f7f7f7f7f7fULL

/* Elsewhere, bit tricks; bit 8*i+7 of a mask stands for slot i.
 *
 * Exactly the zero bytes of x (no false positives, unlike the shorter
 * (x - LSB) & ~x trick). */
MR_INLINE uint64_t zero_bytes(uint64_t x)
{
    return ~(((x & MR_LOW7) + MR_LOW7) | x | MR_LOW7);
}

/* Slots whose tophash is top, given in every byte of top8. */
MR_INLINE uint64_t match_top(uint64_t w, uint64_t top8) { return zero_bytes(w ^ top8); }

/* Empty slots (emptyRest or emptyOne: the values 0 and 1). */
MR_INLINE uint64_t match_empty(uint64_t w) { return zero_bytes(w & ~MR_LSB); }

/* Does the bucket hold an emptyRest (nothing at higher slots or in
 * overflow buckets)? */
MR_INLINE bool has_empty_rest(uint64_t w) { return zero_bytes(w) != 0; }

/* Filled slots (tophash minTopHash or more): for a byte below 0x80, adding
 * 0x80 - minTopHash to its low seven bits sets bit 7 exactly when it is
 * minTopHash or more; a byte from 0x80 up has bit 7 already. */
MR_INLINE uint64_t match_filled(uint64_t w)
{
    return (w | ((w & MR_LOW7) + MR_LSB * (0x80 - minTopHash))) & ~MR_LOW7;
}

/* A mask's slots as the eight bits of a byte, bit i for slot i (bit 8*i+7
 * moves to 56+i: no two products share a bit, so nothing carries). */
MR_INLINE unsigned slot_bits(uint64_t mask)
{
    return (unsigned)(((mask >> 7) * 0x0102040810204080ULL) >> 56);
}

/* The lowest slot in a mask. */
MR_INLINE uintptr_t first_slot(uint64_t mask) { return (unsigned)__builtin_ctzll(mask) >> 3; }
#endif

/* ---- the main buckets' tophash words, side by side ---------------------
 *
 * In a table far larger than the cache, a lookup's first miss is its
 * bucket's tophash line, and a lookup of an absent key needs nothing else
 * from the bucket: no byte matches and the bucket ends in emptyRest.  So
 * each bucket array ends with a dense copy of its 2^B main buckets'
 * tophash words (8 bytes a bucket: 8 MB beside the 150 MB of 4M int64
 * entries), small enough to stay in the last-level cache.  A lookup reads
 * the copy: an absent key is usually answered without touching the
 * bucket, and a present one goes straight to its key's line.  The bucket
 * keeps its own tophash bytes, which everything else reads.  The copy may
 * show more than the bucket, never less: an assign stores its cell's byte
 * into both (set_tophash), and the evacuation that fills a new table's
 * buckets copies each main bucket's word over (sync_tops), before the
 * write claim is released; a delete leaves the copy as it was (its
 * store, to a line of its own, cost 8 % of a large delete; 15-20 % when
 * the copy was kept exact), so a cell deleted since is still a candidate
 * there, and a lookup checks the bucket's own byte of a matching key.
 *
 * Until a table's first delete (the flag topsExact, set when the table is
 * made or cleared) the copy is exact, and an assign takes the main
 * bucket's word from it too: a new key is then only stored into the
 * bucket, where the assign waited for the bucket's tophash line (sampled
 * with perf, half of a 2M string insert's time in the assign sat on that
 * load; make bench: 4M int64 inserts 99 -> 88 ns, 2M string inserts
 * 132 -> 113).  Overflow buckets and an old table's buckets are read as
 * before.
 *
 * A table that fits in the cache gains nothing from the copy and pays
 * its stores (an int64 insert into a map of 1000 keys took 8 % longer):
 * tables of fewer than 2^MR_TOPS_MIN_B buckets have none (h->tops NULL). */
#ifndef MR_TOPS_MIN_B
#define MR_TOPS_MIN_B 14 /* 2^14 buckets: megabytes, beyond L2 (tests build with 0) */
#endif

MR_INLINE size_t tops_bytes(uint8_t b)
{
    return b >= MR_TOPS_MIN_B ? bucketShift(b) * sizeof(uint64_t) : 0;
}

MR_INLINE size_t bucket_array_bytes(const mr_maptype *t, uint8_t b)
{
    return mr_nbuckets_alloc(b) * t->bucketsize + tops_bytes(b);
}

MR_INLINE uint64_t *array_tops(const mr_maptype *t, void *array, uint8_t b)
{
    if (b < MR_TOPS_MIN_B)
        return NULL;
    return (uint64_t *)((char *)array + mr_nbuckets_alloc(b) * t->bucketsize);
}

/* Makes array (of 2^h->B buckets) h's table. */
MR_INLINE void set_buckets(const mr_maptype *t, mr_map *h, void *array)
{
    h->buckets = array;
    h->tops = array_tops(t, array, h->B);
    h->flags |= topsExact;
}

/* Whether the current table has a tophash copy and it is exact. */
MR_INLINE bool tops_exact(const mr_map *h)
{
    return h->tops != NULL && (h->flags & topsExact);
}

MR_INLINE void sync_tops(const mr_maptype *t, mr_map *h, uintptr_t bucket)
{
    if (h->tops != NULL)
        h->tops[bucket] = load_tophash(bucketAt(t, h->buckets, bucket));
}

/* Sets slot i's tophash byte in bucket b, and in the copy when b is main
 * bucket `bucket` (is_main): the byte alone, where the whole word read
 * back from the bucket after the byte's store waited for the bucket's
 * line. */
MR_INLINE void set_tophash(mr_map *h, bmap *b, uintptr_t i, uint8_t v, bool is_main, uintptr_t bucket)
{
    b->tophash[i] = v;
    if (is_main && h->tops != NULL)
        ((uint8_t *)&h->tops[bucket])[i] = v;
}

MR_INLINE bool evacuated(bmap *b)
{
    uint8_t h = b->tophash[0];
    return h > emptyOne && h < minTopHash;
}

/* overLoadFactor reports whether count items in 1<<B buckets is over loadFactor. */
MR_INLINE bool overLoadFactor(size_t count, uint8_t B)
{
    return count > bucketCnt && count > loadFactorNum * (bucketShift(B) / loadFactorDen);
}

/* tooManyOverflowBuckets reports whether noverflow buckets is too many for
 * a map with 1<<B buckets ("too many" means about as many as buckets). */
MR_INLINE bool tooManyOverflowBuckets(uint16_t noverflow, uint8_t B)
{
    if (B > 15)
        B = 15;
    return noverflow >= (uint16_t)((uint16_t)1 << (B & 15));
}

MR_INLINE bool growing(const mr_map *h) { return h->oldbuckets != NULL; }
MR_INLINE bool isSameSizeGrow(const mr_map *h) { return h->flags & sameSizeGrow; }
MR_INLINE uintptr_t noldbuckets(const mr_map *h)
{
    uint8_t oldB = h->B;
    if (!isSameSizeGrow(h))
        oldB--;
    return bucketShift(oldB);
}
MR_INLINE uintptr_t oldbucketmask(const mr_map *h) { return noldbuckets(h) - 1; }

/* ---- shared by the map's files ----------------------------------------- */

/* map_grow.c: growth and evacuation. */
void *mr_makeBucketArray(const mr_maptype *t, mr_map *h, uint8_t b, void *dirtyalloc, bmap **nextOverflow);
void mr_growWork(const mr_maptype *t, mr_map *h, uintptr_t bucket);
void mr_advanceEvacuationMark(const mr_maptype *t, mr_map *h, uintptr_t newbit);
bool mr_bucketEvacuated(const mr_maptype *t, mr_map *h, uintptr_t bucket);
/* map.c: evacuate, specialised per key kind (map_body.h). */
void mr_evacuate(const mr_maptype *t, mr_map *h, uintptr_t oldbucket);
void mr_hashGrow(const mr_maptype *t, mr_map *h);
bmap *mr_newoverflow(const mr_maptype *t, mr_map *h, bmap *b);

/* map.c */
void *mr_mapaccessK(const mr_maptype *t, mr_map *h, const void *key, void **elem);

/* map_mem.c: allocation, release and quarantine.  Allocation goes through
 * the allocation hook, is zeroed, and is fatal on exhaustion. */
void *mr_map_alloc(mr_alloc_kind kind, size_t size, mr_map *owner);
/* Frees a block the map no longer uses, or parks it while iterations are
 * open (an iterator may still look at it).  Called holding the claim. */
void mr_release(mr_map *h, mr_alloc_kind kind, void *block, size_t size);
/* An out-of-line key or element: allocated and released aligned as its
 * type requires (align: _Alignof the type, 0 for at most 8). */
void *mr_slot_alloc(mr_alloc_kind kind, size_t size, size_t align, mr_map *h);
void mr_slot_release(mr_map *h, mr_alloc_kind kind, void *p, size_t size, size_t align);
/* Frees all parked blocks. */
void mr_release_parked(mr_map *h);
/* From an iteration that is the map's only open one: frees the parked
 * blocks, unless the map is being written. */
void mr_release_parked_if_free(mr_map *h);
/* After a table was released: frees the parked blocks if no iteration is
 * open. */
void mr_trim_parked(mr_map *h);
/* An iteration resumed after the map released memory it may read. */
__attribute__((noreturn, cold)) void mr_iter_released(const mr_mapiter *it);
/* Releases a bucket array of 2^b buckets and its separately allocated
 * overflow buckets (not the entries' out-of-line keys and elements). */
void mr_release_bucket_array(const mr_maptype *t, mr_map *h, void *array, uint8_t b);
/* Releases only the separately allocated overflow buckets of an array. */
void mr_release_overflow(const mr_maptype *t, mr_map *h, void *array, uint8_t b);
/* Releases the out-of-line keys and elements of every live entry. */
void mr_release_entries(const mr_maptype *t, mr_map *h);
/* Marks every cell of an array and its chains emptyRest. */
void mr_mark_buckets_empty(const mr_maptype *t, void *array, uint8_t b);
/* Poisons a freed header and keeps it a while before freeing it. */
void mr_quarantine_header(mr_map *h);
/* The zero value returned by access of an absent key; read-only memory. */
void *mr_zero_value(const mr_maptype *t);
/* Its static block, for elements up to MR_ZEROVAL_SIZE bytes: the common
 * case needs no call (zero_value_of). */
enum { MR_ZEROVAL_SIZE = 1024 };
extern const unsigned char mr_zeroVal[MR_ZEROVAL_SIZE];
MR_INLINE void *zero_value_of(const mr_maptype *t)
{
    return MR_LIKELY(t->elemsize <= MR_ZEROVAL_SIZE) ? (void *)mr_zeroVal : mr_zero_value(t);
}

/* Whether the calling thread's last lookup in a table beyond the cache
 * found its key: the next one asks for its bucket's lines early only if
 * so (mapaccess_body).  A prediction, per thread so that readers never
 * write a line other threads read. */
extern __thread uint8_t mr_tls_lookup_hit __attribute__((tls_model("initial-exec")));

#endif /* MAPRT_MAP_INTERNAL_H */
