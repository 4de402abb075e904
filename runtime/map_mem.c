/*
 * map_mem.c — the map's memory: allocation, release, parking while
 * iterations are open, the freed-header quarantine, and the zero value.
 *
 * Go's map leaves all of this to the garbage collector.  In C a table,
 * overflow bucket or out-of-line key is freed as soon as no live entry and
 * no open iteration can reach it:
 *   - with no iteration open, released memory is freed at once;
 *   - while one is open (an iterator may still be walking an old table or
 *     looking up a key it saw there), it is parked on the map and freed by
 *     the first growth after every iteration has ended, or by mr_mapfree.
 */
#include "forklock.h"
#include "map_internal.h"
#include "tsan.h"

#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

void *mr_map_alloc(mr_alloc_kind kind, size_t size, mr_map *owner)
{
    void *p = mr_hook_alloc(kind, size, owner);
    if (p == NULL)
        mr_throw("runtime: out of memory");
    return p;
}

/* ---- out-of-line keys and elements ------------------------------------------
 *
 * The allocation hook promises alignment for any standard type (16 bytes
 * here); a key or element type aligned to more (a cache-line-aligned
 * struct, __m256d) gets a larger block, aligned by hand, with the block's
 * own address kept just below the aligned one for its release. */

static size_t slot_extra(size_t align)
{
    return align <= _Alignof(max_align_t) ? 0 : align + sizeof(void *);
}

void *mr_slot_alloc(mr_alloc_kind kind, size_t size, size_t align, mr_map *h)
{
    size_t extra = slot_extra(align);
    void *raw = mr_map_alloc(kind, size + extra, h);
    if (extra == 0)
        return raw;
    uintptr_t p = ((uintptr_t)raw + sizeof(void *) + align - 1) & ~(uintptr_t)(align - 1);
    ((void **)p)[-1] = raw;
    return (void *)p;
}

void mr_slot_release(mr_map *h, mr_alloc_kind kind, void *p, size_t size, size_t align)
{
    size_t extra = slot_extra(align);
    if (p != NULL && extra != 0)
        p = ((void **)p)[-1];
    mr_release(h, kind, p, size + extra);
}

static void park(mr_map *h, mr_alloc_kind kind, void *block, size_t size)
{
    retired *r = &h->parked;
    if (r->len == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 16;
        parked_block *blocks = mr_map_alloc(MR_ALLOC_MAPINFO, cap * sizeof *blocks, h);
        if (r->len)
            memcpy(blocks, r->blocks, r->len * sizeof *blocks);
        mr_hook_free(MR_ALLOC_MAPINFO, r->blocks, r->cap * sizeof *blocks, h);
        r->blocks = blocks;
        r->cap = cap;
    }
    r->blocks[r->len++] = (parked_block){block, size, kind, atomic_load_explicit(&h->iter_epoch, memory_order_acquire)};
    r->bytes += size;
}

/* ---- quarantine of released tables ------------------------------------------
 *
 * mr_mapassign returns a slot that the caller fills after the write claim
 * is released, as Go's compiled code does.  In a program with a race,
 * another goroutine's growth can release that slot's table in between
 * (while the first goroutine is preempted, a whole growth can happen);
 * Go's collector keeps the table alive, and the late store is merely lost.
 * In C it would be a store to freed or unmapped memory: a crash instead of
 * the race report.  So a released table, with its overflow buckets, waits
 * here until TABLE_QUARANTINE later tables have been released (or the
 * byte budget is spent) before it is freed. */

enum { TABLE_QUARANTINE = 16, TABLE_QUARANTINE_BYTES = 32u << 20 };

typedef struct qtable {
    void *array;         /* NULL: a free slot */
    size_t size;         /* bytes of the array */
    uint32_t bucketsize;
    uint8_t b;           /* log2 of its main buckets */
    /* How many separately allocated overflow buckets hang from it (none,
     * the common case: nothing to walk the array for), and, once the
     * array's pages were given back, their list (NULL: found through the
     * array). */
    size_t nsep;
    void **ovf;
    size_t novf;
} qtable;

static pthread_mutex_t tq_lock = PTHREAD_MUTEX_INITIALIZER;
static qtable tq[TABLE_QUARANTINE];
static size_t tq_next, tq_bytes;

/* Calls fn on each separately allocated overflow bucket of a table:
 * preallocated ones lie inside the array. */
static size_t each_separate_overflow(void *array, size_t size, uint32_t bucketsize, uint8_t b,
                                     void (*fn)(void *ovf, uint32_t bucketsize, void *arg), void *arg)
{
    char *lo = array, *hi = lo + size;
    size_t n = 0;
    for (uintptr_t i = 0; i < bucketShift(b); i++) {
        bmap *ovf = *(bmap **)(lo + (i + 1) * bucketsize - sizeof(void *));
        while (ovf != NULL) {
            bmap *next = *(bmap **)((char *)ovf + bucketsize - sizeof(void *));
            if ((char *)ovf < lo || (char *)ovf >= hi) {
                if (fn)
                    fn(ovf, bucketsize, arg);
                n++;
            }
            ovf = next;
        }
    }
    return n;
}

static void free_overflow(void *ovf, uint32_t bucketsize, void *arg)
{
    (void)arg;
    mr_hook_free(MR_ALLOC_OVERFLOW, ovf, bucketsize, NULL);
}

static void free_table(const qtable *q)
{
    if (q->ovf != NULL) {
        for (size_t i = 0; i < q->novf; i++)
            mr_hook_free(MR_ALLOC_OVERFLOW, q->ovf[i], q->bucketsize, NULL);
        free(q->ovf);
    } else if (q->nsep != 0) {
        each_separate_overflow(q->array, q->size, q->bucketsize, q->b, free_overflow, NULL);
    }
    mr_hook_free(MR_ALLOC_BUCKETS, q->array, q->size, NULL);
}

/* A large table waits in quarantine without its memory: its pages are
 * handed back (a late store faults in a zero page; a late read sees empty
 * buckets), so that the peak memory of a growing map is its two live
 * tables, as in Go, not every table it outgrew.  The separately allocated
 * overflow buckets hanging from it are listed first (their pointers are
 * in those pages); they stay until the table leaves the quarantine. */
enum { GIVE_BACK = 1u << 20 };

static void list_overflow(void *ovf, uint32_t bucketsize, void *arg)
{
    (void)bucketsize;
    qtable *q = arg;
    q->ovf[q->novf++] = ovf;
}

static void give_back_pages(qtable *q)
{
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t lo = ((uintptr_t)q->array + page - 1) & ~(page - 1);
    uintptr_t hi = ((uintptr_t)q->array + q->size) & ~(page - 1);
    if (q->size < GIVE_BACK || hi <= lo)
        return;
    /* (Counted again by the walk that lists them, which sizes the list:
     * the map's count only says whether there are any.) */
    size_t n = q->nsep != 0 ? each_separate_overflow(q->array, q->size, q->bucketsize, q->b, NULL, NULL) : 0;
    if (n != 0) {
        q->ovf = malloc(n * sizeof *q->ovf);
        if (q->ovf == NULL)
            return; /* (kept whole, then) */
        q->novf = 0;
        each_separate_overflow(q->array, q->size, q->bucketsize, q->b, list_overflow, q);
    }
    madvise((void *)lo, hi - lo, MADV_DONTNEED);
}

static void table_quarantine(qtable q)
{
    if (q.size > TABLE_QUARANTINE_BYTES / 2) {
        /* A very large table: keeping it would cost too much memory. */
        free_table(&q);
        return;
    }
    give_back_pages(&q);
    qtable evicted[TABLE_QUARANTINE];
    size_t nevicted = 0;
    mr_quiet_lock(&tq_lock);
    /* Make room: the slot we take, and bytes under the budget, oldest first. */
    for (size_t i = 0; i < TABLE_QUARANTINE && (tq[tq_next].array != NULL || tq_bytes + q.size > TABLE_QUARANTINE_BYTES);
         i++) {
        qtable *old = &tq[(tq_next + i) % TABLE_QUARANTINE];
        if (old->array == NULL)
            continue;
        tq_bytes -= old->size;
        evicted[nevicted++] = *old;
        old->array = NULL;
    }
    tq[tq_next] = q;
    tq_bytes += q.size;
    tq_next = (tq_next + 1) % TABLE_QUARANTINE;
    mr_quiet_unlock(&tq_lock);
    for (size_t i = 0; i < nevicted; i++)
        free_table(&evicted[i]);
}

__attribute__((destructor)) static void drain_table_quarantine(void)
{
    mr_quiet_lock(&tq_lock);
    for (size_t i = 0; i < TABLE_QUARANTINE; i++) {
        if (tq[i].array != NULL)
            free_table(&tq[i]);
        tq[i].array = NULL;
    }
    tq_bytes = 0;
    mr_quiet_unlock(&tq_lock);
}

MR_HELD_ACROSS_FORK(table_quarantine, mr_quiet_lock(&tq_lock), mr_quiet_unlock(&tq_lock))

void mr_release(mr_map *h, mr_alloc_kind kind, void *block, size_t size)
{
    if (block == NULL)
        return;
    if (atomic_load_explicit(&h->iterators, memory_order_acquire) != 0)
        park(h, kind, block, size);
    else
        mr_hook_free(kind, block, size, h);
}

void mr_release_parked(mr_map *h)
{
    retired *r = &h->parked;
    uint64_t last = 0; /* the last iteration that can have seen a block */
    for (size_t i = 0; i < r->len; i++) {
        mr_hook_free((mr_alloc_kind)r->blocks[i].kind, r->blocks[i].p, r->blocks[i].size, h);
        if (r->blocks[i].epoch > last)
            last = r->blocks[i].epoch;
    }
    if (last > atomic_load_explicit(&h->released_epoch, memory_order_relaxed))
        atomic_store_explicit(&h->released_epoch, last, memory_order_release);
    if (r->blocks != NULL)
        mr_hook_free(MR_ALLOC_MAPINFO, r->blocks, r->cap * sizeof *r->blocks, h);
    *r = (retired){0};
}

void mr_release_parked_if_free(mr_map *h)
{
#ifndef MR_NO_RACE_CHECKS
    /* The write claim keeps writers, and other iterations doing the same,
     * away from the parked list; a map being written is left as it is. */
    if (!mr_claim_try(h))
        return;
    mr_release_parked(h);
    atomic_store_explicit(&h->writer, 0, memory_order_release);
#else
    (void)h; /* (benchmarks only: no claim to exclude writers with) */
#endif
}

void mr_trim_parked(mr_map *h)
{
    if (h->parked.len != 0 && atomic_load_explicit(&h->iterators, memory_order_acquire) == 0)
        mr_release_parked(h);
}

/* An iteration that resumes after the memory it reads was released can
 * only be one the map took for over: its iterator was copied elsewhere
 * and the original begun again.  It ends here rather than read freed
 * memory. */
void mr_iter_released(const mr_mapiter *it)
{
    static char msg[256];
    snprintf(msg, sizeof msg,
             "map iteration %p resumed after its map %p released the tables it was reading "
             "(an iterator copied, and the original begun again, or stopped)",
             (const void *)it, (void *)it->h_);
    mr_throw(msg);
}

static void release_overflow_one(void *ovf, uint32_t bucketsize, void *h)
{
    mr_release(h, MR_ALLOC_OVERFLOW, ovf, bucketsize);
}

/* The count of separately allocated overflow buckets of one of the map's
 * two tables. */
static size_t *separate_count(mr_map *h, const void *array)
{
    if (array == h->buckets)
        return &h->nseparate;
    if (array == h->oldbuckets)
        return &h->nseparate_old;
    mr_throw("runtime: releasing a bucket array the map does not own");
}

void mr_release_overflow(const mr_maptype *t, mr_map *h, void *array, uint8_t b)
{
    size_t *n = separate_count(h, array);
    if (*n == 0)
        return;
    *n -= each_separate_overflow(array, mr_nbuckets_alloc(b) * t->bucketsize, t->bucketsize, b,
                                 release_overflow_one, h);
}

void mr_release_bucket_array(const mr_maptype *t, mr_map *h, void *array, uint8_t b)
{
    size_t size = bucket_array_bytes(t, b);
    if (atomic_load_explicit(&h->iterators, memory_order_acquire) != 0) {
        /* An open iteration may read it: parked with the map. */
        mr_release_overflow(t, h, array, b);
        mr_release(h, MR_ALLOC_BUCKETS, array, size);
        return;
    }
    /* The table goes to the quarantine whole, overflow chains included;
     * one without separately allocated overflow buckets (the common case
     * for large tables, with their preallocated ones) is never walked. */
    size_t *n = separate_count(h, array);
    size_t nsep = *n;
    *n = 0;
    table_quarantine((qtable){array, size, t->bucketsize, b, nsep, NULL, 0});
}

/* Out-of-line keys and elements of the live cells of one table: cells
 * marked evacuated handed their pointers to the new table. */
static void release_table_entries(const mr_maptype *t, mr_map *h, void *array, uint8_t b)
{
    for (uintptr_t i = 0; i < bucketShift(b); i++) {
        for (bmap *bk = bucketAt(t, array, i); bk != NULL; bk = overflow(t, bk)) {
            for (uintptr_t j = 0; j < bucketCnt; j++) {
                if (bk->tophash[j] < minTopHash)
                    continue;
                if (indirectkey(t)) {
                    mr_slot_release(h, MR_ALLOC_KEY, *(void **)bkey(t, bk, j), t->keysize, t->keyalign);
                    *(void **)bkey(t, bk, j) = NULL;
                }
                if (indirectelem(t)) {
                    mr_slot_release(h, MR_ALLOC_ELEM, *(void **)belem(t, bk, j), t->elemsize, t->elemalign);
                    *(void **)belem(t, bk, j) = NULL;
                }
            }
        }
    }
}

void mr_release_entries(const mr_maptype *t, mr_map *h)
{
    if (!t->indirect)
        return;
    if (h->buckets != NULL)
        release_table_entries(t, h, h->buckets, h->B);
    if (h->oldbuckets != NULL)
        release_table_entries(t, h, h->oldbuckets, isSameSizeGrow(h) ? h->B : (uint8_t)(h->B - 1));
}

void mr_mark_buckets_empty(const mr_maptype *t, void *array, uint8_t b)
{
    for (uintptr_t i = 0; i < bucketShift(b); i++)
        for (bmap *bk = bucketAt(t, array, i); bk != NULL; bk = overflow(t, bk))
            memset(bk->tophash, emptyRest, sizeof bk->tophash);
    if (tops_bytes(b) != 0)
        memset(array_tops(t, array, b), emptyRest, tops_bytes(b));
}

/* ---- quarantine of freed headers --------------------------------------
 *
 * A freed header keeps its poisoned write claim (MR_WRITER_FREED) while it
 * sits here, so any use of it is reported as "map used after free" rather
 * than reading memory that malloc gave to someone else.  The oldest header
 * is really freed when a new one arrives at a full quarantine. */

enum { QUARANTINE = 4096 };
static pthread_mutex_t quarantine_lock = PTHREAD_MUTEX_INITIALIZER;
static mr_map *quarantine[QUARANTINE];
static size_t quarantine_next;

/* Held across fork, so the child's quarantine is consistent. */
MR_HELD_ACROSS_FORK(quarantine, pthread_mutex_lock(&quarantine_lock), pthread_mutex_unlock(&quarantine_lock))

void mr_quarantine_header(mr_map *h)
{
    /* No claim of the freed map may be a plain store (over the poison). */
    atomic_store_explicit(&h->bias, MR_BIAS_NONE, memory_order_relaxed);
    atomic_store_explicit(&h->writer, MR_WRITER_FREED, memory_order_release);
    pthread_mutex_lock(&quarantine_lock);
    mr_map *evicted = quarantine[quarantine_next];
    quarantine[quarantine_next] = h;
    quarantine_next = (quarantine_next + 1) % QUARANTINE;
    pthread_mutex_unlock(&quarantine_lock);
    if (evicted != NULL)
        mr_hook_free(MR_ALLOC_MAP, evicted, sizeof *evicted, NULL);
}

/* At exit the quarantined headers are freed, so leak checkers see none. */
__attribute__((destructor)) static void drain_quarantine(void)
{
    pthread_mutex_lock(&quarantine_lock);
    for (size_t i = 0; i < QUARANTINE; i++) {
        if (quarantine[i] != NULL)
            mr_hook_free(MR_ALLOC_MAP, quarantine[i], sizeof *quarantine[i], NULL);
        quarantine[i] = NULL;
    }
    pthread_mutex_unlock(&quarantine_lock);
}

/* ---- the zero value ----------------------------------------------------
 *
 * Access of an absent key returns a pointer to zeroes, never NULL.  The
 * zeroes are read-only, so a program that writes through that pointer
 * crashes at the write instead of corrupting every later lookup. */

const unsigned char mr_zeroVal[MR_ZEROVAL_SIZE] __attribute__((aligned(64)));
static _Atomic(void *) bigzero;
static _Atomic size_t bigzero_size;
static pthread_mutex_t bigzero_lock = PTHREAD_MUTEX_INITIALIZER;

void *mr_zero_value(const mr_maptype *t)
{
    size_t need = t->elemsize;
    if (need <= sizeof mr_zeroVal)
        return (void *)mr_zeroVal;
    if (atomic_load_explicit(&bigzero_size, memory_order_acquire) >= need)
        return atomic_load_explicit(&bigzero, memory_order_relaxed);
    /* Larger elements get read-only zero pages, grown as needed and never
     * unmapped: a pointer handed out earlier stays valid. */
    pthread_mutex_lock(&bigzero_lock);
    if (atomic_load_explicit(&bigzero_size, memory_order_relaxed) < need) {
        void *p = mmap(NULL, need, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
            mr_throw("runtime: out of memory");
        atomic_store_explicit(&bigzero, p, memory_order_relaxed);
        atomic_store_explicit(&bigzero_size, need, memory_order_release);
    }
    pthread_mutex_unlock(&bigzero_lock);
    return atomic_load_explicit(&bigzero, memory_order_relaxed);
}
