/*
 * map_iter.c — iteration in random order, as Go's mapiterinit/mapiternext.
 *
 * An iterator walks the table it saw at init, from a random bucket and a
 * random offset within each bucket.  If the map grows meanwhile, it keeps
 * walking the table it began with: entries of buckets not yet evacuated
 * are read from the old table (skipping those that belong to another new
 * bucket), and entries already moved are looked up in the current table,
 * so that a deleted entry is not produced and an updated one is seen with
 * its new element.
 */
#include "map_internal.h"
#include "tsan.h"

/* (ITER_OPEN: open, and the next step may take the common path if the
 * table is still the one the iteration began with: the map's keys and
 * elements are in its cells, and the step is not inside an old bucket.
 * ITER_SLOW: open, but one of those is not so.  ITER_TOLD: open, each step
 * told to ThreadSanitizer.  The last two are states of their own so that
 * the common step tests nothing more.) */
enum { ITER_IDLE = 0, ITER_OPEN = 1, ITER_TOLD = 2, ITER_SLOW = 3 };

void mr_mapiterinit(const mr_maptype *t, mr_map *h, mr_mapiter *it)
{
    if (MR_UNLIKELY(mr_tls_running != NULL))
        mr_hook_defer_touch(h, MR_OP_ITERATE, (uintptr_t)__builtin_return_address(0));
    if (MR_UNLIKELY(mr_tsan_on))
        mr_tsan_iterate(h, (uintptr_t)__builtin_return_address(0));
    *it = (mr_mapiter){.t_ = t, .checkbucket_ = noCheck};
    if (h == NULL)
        return;
    checkNotWriting(h, MR_FAULT_ITERATE);
    if (h->count == 0)
        return;
    it->h_ = h;
    /* Grab snapshot of bucket state. */
    it->b_ = h->B;
    it->buckets_ = h->buckets;
    /* Decide where to start. */
    uint64_t r = mr_fastrand64();
    it->startbucket_ = (uintptr_t)(r & bucketMask(h->B));
    it->offset_ = (uint8_t)((r >> h->B) & (bucketCnt - 1));
    /* Iterator state. */
    it->bucket_ = it->startbucket_;
    /* Remember we have an iterator: what the map releases from now on is
     * parked until it ends.  If the iteration begun last was begun in this
     * same iterator and is still open, it was left without
     * mr_mapiterstop, and is over now: its count passes to this one. */
    void *last = atomic_exchange_explicit(&h->last_iter, (void *)it, memory_order_acq_rel);
    uint32_t open = last != (void *)it ? atomic_fetch_add_explicit(&h->iterators, 1, memory_order_acq_rel) + 1
                                       : atomic_load_explicit(&h->iterators, memory_order_acquire);
    it->epoch_ = atomic_fetch_add_explicit(&h->iter_epoch, 1, memory_order_acq_rel) + 1;
    it->state_ = mr_tsan_on ? ITER_TOLD : t->indirect ? ITER_SLOW : ITER_OPEN;
    /* The only open iteration is this one, begun on the current table:
     * what was parked for earlier ones can go (Go's pop idiom, range,
     * delete, break, leaves each iteration open: without this the map
     * would keep every table it replaced). */
    if (open == 1 && h->parked.len != 0)
        mr_release_parked_if_free(h);
}

void mr_mapiterstop(mr_mapiter *it)
{
    if (it->state_ != ITER_IDLE) {
        void *self = it;
        atomic_compare_exchange_strong_explicit(&it->h_->last_iter, &self, NULL, memory_order_acq_rel,
                                                memory_order_relaxed);
        atomic_fetch_sub_explicit(&it->h_->iterators, 1, memory_order_acq_rel);
    }
    it->state_ = ITER_IDLE;
    it->key = NULL;
    it->elem = NULL;
}

/* The bucket after this one, wrapping around (once) at the table's end. */
MR_INLINE uintptr_t next_bucket(mr_mapiter *it, uintptr_t bucket)
{
    if (++bucket == bucketShift(it->b_)) {
        bucket = 0;
        it->wrapped_ = 1;
    }
    return bucket;
}

/* The end of an iteration, reached by a tail call (see mr_mapiternext). */
static MR_NOINLINE bool iter_end(mr_mapiter *it)
{
    mr_mapiterstop(it);
    return false;
}

/* The cells of b holding an entry, as bits: bit c is cell c. */
MR_INLINE unsigned filled_cells(const bmap *b) { return slot_bits(match_filled(load_tophash(b))); }

/* ---- the cell queue ------------------------------------------------------
 *
 * The cells of the current bucket still to visit are kept as a queue of
 * 4-bit entries, the next in the low bits: 8 | c for cell c, in the order
 * the iteration visits them (cell offset_ first, then round the
 * bucket), 0 after the last.  Taking one is a shift.  Each step of an
 * iteration loads the queue the step before stored, so its update is the
 * chain that bounds a step: with the cells as a bit set (clear the
 * lowest, two dependent instructions) a step took 12 % longer.
 * cell_queue[offset][bits] is the queue of the cells in a bit set for an
 * iteration that starts at cell offset; the table (8 KB) is built by the
 * compiler.  Entries naming the cell, not its place in the visiting order,
 * spare each step the addition of the offset and each bucket the rotation
 * of its bit set (callgrind, 1000 keys: an int64 step 46.1 -> 43.8
 * instructions, a string step 52.2 -> 49.8). */
#define CQ_POP8(x) (((x) & 1) + ((x) >> 1 & 1) + ((x) >> 2 & 1) + ((x) >> 3 & 1) + \
                    ((x) >> 4 & 1) + ((x) >> 5 & 1) + ((x) >> 6 & 1) + ((x) >> 7 & 1))
/* m's bits rotated so that bit off comes first */
#define CQ_ROT(m, off) ((((m) >> (off)) | ((m) << (8 - (off)))) & 0xffu)
/* the cell visited j-th, when it is in m: at the place of its rank */
#define CQ_CELL(m, off, j)                                                                             \
    ((CQ_ROT(m, off) >> (j) & 1) ? (uint32_t)(8 | (((j) + (off)) & 7))                                  \
                                       << (4 * CQ_POP8(CQ_ROT(m, off) & ((1u << (j)) - 1)))           \
                                 : 0u)
#define CQ(m, off) (CQ_CELL(m, off, 0) | CQ_CELL(m, off, 1) | CQ_CELL(m, off, 2) | CQ_CELL(m, off, 3) | \
                    CQ_CELL(m, off, 4) | CQ_CELL(m, off, 5) | CQ_CELL(m, off, 6) | CQ_CELL(m, off, 7))
#define CQ4(m, off) CQ(m, off), CQ((m) + 1, off), CQ((m) + 2, off), CQ((m) + 3, off)
#define CQ16(m, off) CQ4(m, off), CQ4((m) + 4, off), CQ4((m) + 8, off), CQ4((m) + 12, off)
#define CQ64(m, off) CQ16(m, off), CQ16((m) + 16, off), CQ16((m) + 32, off), CQ16((m) + 48, off)
#define CQ256(off) {CQ64(0u, off), CQ64(64u, off), CQ64(128u, off), CQ64(192u, off)}
static const uint32_t cell_queue[bucketCnt][1u << bucketCnt] = {CQ256(0), CQ256(1), CQ256(2), CQ256(3),
                                                                CQ256(4), CQ256(5), CQ256(6), CQ256(7)};

enum { CELLQ_NEXT = 8 }; /* set in a queue's low entry while a cell is left */

/* The next cell of queue q. */
MR_INLINE unsigned cellq_cell(uint32_t q) { return q & (bucketCnt - 1); }

/* The common case, taken while the table is the one the iteration began
 * with, no growth is under way and the iteration is not inside an old
 * bucket: no cell it reads is marked evacuated, every filled cell is
 * golden data, and no key needs looking up again.  (checkbucket_ is
 * noCheck already, which is why this path was taken.)
 *
 * A bucket's filled cells are found once, when the iteration enters it,
 * and kept in cellq_; a step takes the next one.  Cells filled after that
 * are not visited (Go lets an iteration skip entries added during it);
 * a cell emptied since is skipped, as a deleted entry must not be
 * produced. */
MR_INLINE bool iternext_stable(mr_mapiter *it, const mr_maptype *t, bool maybe_indirect)
{
    bmap *b = it->bptr_;
    uint32_t q = it->cellq_;
    for (;;) {
        while (q & CELLQ_NEXT) {
            uintptr_t offi = cellq_cell(q);
            q >>= 4;
            if (MR_UNLIKELY(b->tophash[offi] < minTopHash))
                continue;
            char *k = bkey(t, b, offi);
            char *e = belem(t, b, offi);
            if (maybe_indirect && t->indirect) {
                k = slotkey(t, k);
                e = slotelem(t, e);
            }
            it->key = k;
            it->elem = e;
            it->cellq_ = q;
            return true;
        }
        if (b != NULL)
            b = overflow(t, b);
        if (b == NULL) {
            uintptr_t bucket = it->bucket_;
            if (bucket == it->startbucket_ && it->wrapped_)
                return iter_end(it);
            b = bucketAt(t, it->buckets_, bucket);
            it->bucket_ = next_bucket(it, bucket);
        }
        q = cell_queue[it->offset_][filled_cells(b)];
        it->bptr_ = b; /* (stored once per bucket, not per step) */
    }
}

/* Every case: iterations begun before a growth, through one, or whose
 * table was replaced.  Go's mapiternext. */
static MR_NOINLINE bool iternext_general(mr_mapiter *it)
{
    mr_map *h = it->h_;
    const mr_maptype *t = it->t_;
    /* Parked memory this iteration may read was released (its bound was
     * passed): end with an error rather than read it. */
    if (MR_UNLIKELY(it->epoch_ <= atomic_load_explicit(&h->released_epoch, memory_order_acquire)))
        mr_iter_released(it);
    uintptr_t bucket = it->bucket_;
    bmap *b = it->bptr_;
    /* (The next cell to look at: the first still to visit, if any.) */
    uintptr_t i = it->cellq_ & CELLQ_NEXT ? (cellq_cell(it->cellq_) - it->offset_) & (bucketCnt - 1) : bucketCnt;
    uintptr_t checkBucket = it->checkbucket_;

next:
    if (b == NULL) {
        if (bucket == it->startbucket_ && it->wrapped_) {
            /* End of iteration. */
            mr_mapiterstop(it);
            return false;
        }
        if (growing(h) && it->b_ == h->B) {
            /* Iterator was started in the middle of a grow, and the grow
             * isn't done yet.  If the bucket we're looking at hasn't been
             * filled in yet (i.e. the old bucket hasn't been evacuated)
             * then we need to iterate through the old bucket and only
             * return the ones that will be migrated to this bucket. */
            uintptr_t oldbucket = bucket & oldbucketmask(h);
            b = bucketAt(t, h->oldbuckets, oldbucket);
            if (!evacuated(b)) {
                checkBucket = bucket;
            } else {
                b = bucketAt(t, it->buckets_, bucket);
                checkBucket = noCheck;
            }
        } else {
            b = bucketAt(t, it->buckets_, bucket);
            checkBucket = noCheck;
        }
        bucket = next_bucket(it, bucket);
        i = 0;
    }
    for (; i < bucketCnt; i++) {
        uintptr_t offi = (i + it->offset_) & (bucketCnt - 1);
        uint8_t top = b->tophash[offi];
        if (isEmpty(top) || top == evacuatedEmpty)
            /* An empty cell, or one evacuated after the iterator started
             * with nothing in it: nothing to return. */
            continue;
        void *k = slotkey(t, bkey(t, b, offi));
        void *e = belem(t, b, offi);
        bool reflexive = !(t->flags & MR_KEY_NONREFLEXIVE) || t->equal(k, k);
        if (checkBucket != noCheck && !isSameSizeGrow(h)) {
            /* Special case: iterator was started during a grow to a larger
             * size and the grow is not done yet.  We're working on a
             * bucket whose oldbucket has not been evacuated yet.  Or at
             * least, it wasn't evacuated when we started the bucket.  So
             * we're iterating through the oldbucket, skipping any keys that
             * will go to the other new bucket (each oldbucket expands to
             * two buckets during a grow). */
            if (reflexive) {
                /* If the item in the oldbucket is not destined for the
                 * current new bucket in the iteration, skip it. */
                uint64_t hash = t->hash(k, h->hash0);
                if ((hash & bucketMask(it->b_)) != checkBucket)
                    continue;
            } else {
                /* Hash isn't repeatable if k != k (NaNs).  We need a
                 * repeatable and randomish choice of which direction to
                 * send NaNs during evacuation.  We'll use the low bit of
                 * tophash to decide which way NaNs go. */
                if ((checkBucket >> (it->b_ - 1)) != (uintptr_t)(top & 1))
                    continue;
            }
        }
        if ((top != evacuatedX && top != evacuatedY) || !reflexive) {
            /* This is the golden data, we can return it.  OR key != key,
             * so the entry can't be deleted or updated, so we can just
             * return it.  That's lucky for us because when key != key we
             * can't look it up successfully. */
            it->key = k;
            it->elem = slotelem(t, e);
        } else {
            /* The hash table has grown since the iterator was started.
             * The golden data for this key is now somewhere else.  Check
             * the current hash table for the data.  This code handles the
             * case where the key has been deleted, updated, or deleted and
             * reinserted.  NOTE: we need to regrab the key as it has
             * potentially been updated to an equal() but not identical key
             * (e.g. +0.0 vs -0.0). */
            void *re;
            void *rk = mr_mapaccessK(t, h, k, &re);
            if (rk == NULL)
                continue; /* key has been deleted */
            it->key = rk;
            it->elem = re;
        }
        it->bucket_ = bucket;
        it->bptr_ = b;
        /* (every later cell: the places after i in the visiting order, as cells) */
        unsigned later = (((1u << bucketCnt) - 1) << (i + 1)) & ((1u << bucketCnt) - 1), off = it->offset_;
        it->cellq_ = cell_queue[off][(later << off | later >> (bucketCnt - off)) & ((1u << bucketCnt) - 1)];
        it->checkbucket_ = checkBucket;
        if (it->state_ != ITER_TOLD)
            it->state_ = checkBucket == noCheck && !t->indirect ? ITER_OPEN : ITER_SLOW;
        return true;
    }
    b = overflow(t, b);
    i = 0;
    goto next;
}

/* Is the table the one the iteration began with, and no growth under way? */
MR_INLINE bool table_unchanged(const mr_mapiter *it, const mr_map *h)
{
    return h->buckets == it->buckets_ && h->oldbuckets == NULL;
}

/* The same, and the write claim w free, tested at once: the claim or-ed
 * into the test of oldbuckets adds one instruction to a step where a test
 * of its own added three. */
MR_INLINE bool table_unchanged_unclaimed(const mr_mapiter *it, const mr_map *h, uint64_t w)
{
    return h->buckets == it->buckets_ && (w | (uintptr_t)h->oldbuckets) == 0;
}

/* The step once the claim was looked at: the common case inline, every
 * other by a tail call. */
MR_INLINE bool iternext_after_check(mr_mapiter *it)
{
    mr_map *h = it->h_;
    /* (checkbucket_ set means the current bucket is an old one, walked
     * with a filter, even if the growth has finished since.) */
    if (MR_LIKELY(table_unchanged(it, h) && it->checkbucket_ == noCheck))
        return iternext_stable(it, it->t_, true); /* (the live table only: nothing parked is read) */
    return iternext_general(it);
}

/* A step of an iteration that is over (or never began), one told to
 * ThreadSanitizer, or one that cannot take the common path. */
static __attribute__((noinline, cold)) bool iternext_unusual(mr_mapiter *it, uintptr_t pc)
{
    if (it->state_ == ITER_IDLE) {
        it->key = NULL;
        it->elem = NULL;
        return false;
    }
    if (it->state_ == ITER_TOLD)
        mr_tsan_iterate(it->h_, pc);
    checkNotWriting(it->h_, MR_FAULT_ITERATE);
    return iternext_after_check(it);
}

/* A step that found the write claim held: the report, which returns only
 * if the policy lets the program go on, then the step. */
static __attribute__((noinline, cold)) bool iternext_seen_writer(mr_mapiter *it, uint64_t w)
{
    mr_map_read_failed(it->h_, w, MR_FAULT_ITERATE);
    return iternext_after_check(it);
}

/* A step whose first look found the table changed, growing or claimed
 * (table_unchanged_unclaimed): the claim looked at again.  Free now, and
 * the table unchanged and not growing after all, the first look can only
 * have failed on the claim, held by a write that has ended since (only a
 * write changes the buckets): that write's goroutine is the last writer,
 * and the step overlapped it. */
static MR_NOINLINE bool iternext_not_stable(mr_mapiter *it)
{
    mr_map *h = it->h_;
    uint64_t w = claimHolder(h);
    if (MR_UNLIKELY(w == 0 && table_unchanged(it, h)))
        w = last_writer_id(atomic_load_explicit(&h->last_writer, memory_order_relaxed));
    if (MR_UNLIKELY(w != 0))
        return iternext_seen_writer(it, w);
    return iternext_general(it);
}

/* Everything but the common case is a tail call to a function of its own,
 * so that the common case (iternext_stable, inline) saves no registers:
 * an iteration step is a few nanoseconds, and six pushes and pops were a
 * good part of them.  The claim is not kept for the test after the common
 * one (iternext_not_stable looks again): kept, it was copied before the
 * or, one more instruction a step. */
MR_HOT_PATH bool mr_mapiternext(mr_mapiter *it)
{
    if (MR_UNLIKELY(it->state_ != ITER_OPEN))
        return iternext_unusual(it, (uintptr_t)__builtin_return_address(0));
    mr_map *h = it->h_;
    if (MR_LIKELY(table_unchanged_unclaimed(it, h, claimHolder(h))))
        return iternext_stable(it, it->t_, false); /* (ITER_OPEN: cells hold keys and elements) */
    return iternext_not_stable(it);
}
