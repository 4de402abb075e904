/*
 * map_grow.c — bucket arrays, overflow buckets, growth and incremental
 * evacuation, as in Go's runtime/map.go.
 *
 * Growth allocates a table twice as large (or, when overflow buckets pile
 * up after many deletes, one of the same size) and then moves the old
 * buckets over a little at a time: each write evacuates the bucket it is
 * about to use and a few more (Go: one more), so no single operation pays
 * for the whole copy.  Reads during growth look in the old table when
 * their bucket has not moved yet.
 */
#include "map_internal.h"

/* Total buckets allocated for a table of 2^b: for b >= 4, Go adds 2^(b-4)
 * preallocated overflow buckets at the end of the array (and the copy of
 * the main buckets' tophash words follows them: map_internal.h). */
uintptr_t mr_nbuckets_alloc(uint8_t b)
{
    uintptr_t n = bucketShift(b);
    if (b >= 4)
        n += bucketShift((uint8_t)(b - 4));
    return n;
}

/* makeBucketArray initializes a backing array for map buckets.  1<<b is
 * the minimum number of buckets to allocate.  dirtyalloc should either be
 * NULL or a bucket array previously allocated by makeBucketArray with the
 * same t and b; it is then cleared and reused. */
void *mr_makeBucketArray(const mr_maptype *t, mr_map *h, uint8_t b, void *dirtyalloc, bmap **nextOverflow)
{
    uintptr_t base = bucketShift(b);
    uintptr_t nbuckets = mr_nbuckets_alloc(b);
    void *buckets;
    if (dirtyalloc == NULL) {
        buckets = mr_map_alloc(MR_ALLOC_BUCKETS, bucket_array_bytes(t, b), h);
    } else {
        buckets = dirtyalloc;
        memset(buckets, 0, bucket_array_bytes(t, b)); /* the buckets and their tophash copy */
    }
    *nextOverflow = NULL;
    if (base != nbuckets) {
        /* We preallocated some overflow buckets.  To keep the overhead of
         * tracking them to a minimum, the last one has a non-nil overflow
         * pointer (the array itself) as a sentinel: newoverflow stops there. */
        *nextOverflow = bucketAt(t, buckets, base);
        bmap *last = bucketAt(t, buckets, nbuckets - 1);
        setoverflow(t, last, (bmap *)buckets);
    }
    return buckets;
}

/* incrnoverflow increments h->noverflow, which counts overflow buckets to
 * trigger same-size growth.  For large maps it counts probabilistically,
 * incrementing with probability 1/(1<<(B-15)), so that it stays a uint16. */
static void incrnoverflow(mr_map *h)
{
    if (h->B < 16) {
        h->noverflow++;
        return;
    }
    uint32_t mask = ((uint32_t)1 << (h->B - 15)) - 1;
    if ((mr_fastrand64() & mask) == 0)
        h->noverflow++;
}

bmap *mr_newoverflow(const mr_maptype *t, mr_map *h, bmap *b)
{
    bmap *ovf;
    if (h->nextOverflow != NULL) {
        /* We have preallocated overflow buckets available. */
        ovf = h->nextOverflow;
        if (overflow(t, ovf) == NULL) {
            /* We're not at the end of the preallocated buckets: bump. */
            h->nextOverflow = (bmap *)((char *)ovf + t->bucketsize);
        } else {
            /* This is the last preallocated bucket.  Reset its sentinel. */
            setoverflow(t, ovf, NULL);
            h->nextOverflow = NULL;
        }
    } else {
        ovf = mr_map_alloc(MR_ALLOC_OVERFLOW, t->bucketsize, h);
        h->nseparate++;
    }
    incrnoverflow(h);
    setoverflow(t, b, ovf);
    return ovf;
}

void mr_hashGrow(const mr_maptype *t, mr_map *h)
{
    /* If we've hit the load factor, get bigger.  Otherwise, there are too
     * many overflow buckets, so keep the same number of buckets and
     * "grow" laterally. */
    uint8_t bigger = 1;
    if (!overLoadFactor(h->count + 1, h->B)) {
        bigger = 0;
        h->flags |= sameSizeGrow;
        h->nsamesizegrow++;
    }
    h->ngrow++;
    /* Memory parked for iterations that have all ended can go now (and
     * past its bound, what iterations left open keep). */
    mr_trim_parked(h);
    void *oldbuckets = h->buckets;
    bmap *nextOverflow;
    void *newbuckets = mr_makeBucketArray(t, h, (uint8_t)(h->B + bigger), NULL, &nextOverflow);
    /* Commit the grow.  The actual copying of the hash table data is done
     * incrementally by growWork() and evacuate(). */
    h->B += bigger;
    h->mask = bucketMask(h->B);
    h->oldbuckets = oldbuckets;
    h->nseparate_old = h->nseparate;
    h->nseparate = 0;
    set_buckets(t, h, newbuckets);
    h->nevacuate = 0;
    h->noverflow = 0;
    h->nextOverflow = nextOverflow;
}

bool mr_bucketEvacuated(const mr_maptype *t, mr_map *h, uintptr_t bucket)
{
    return evacuated(bucketAt(t, h->oldbuckets, bucket));
}

void mr_advanceEvacuationMark(const mr_maptype *t, mr_map *h, uintptr_t newbit)
{
    h->nevacuate++;
    /* Experiments suggest that 1024 is overkill by at least an order of
     * magnitude.  Put it in there as a safeguard anyway, to ensure O(1)
     * behavior. */
    uintptr_t stop = h->nevacuate + 1024;
    if (stop > newbit)
        stop = newbit;
    while (h->nevacuate != stop && mr_bucketEvacuated(t, h, h->nevacuate))
        h->nevacuate++;
    if (h->nevacuate == newbit) { /* newbit == # of oldbuckets */
        /* Growing is all done.  Free old main bucket array (Go leaves
         * this to the garbage collector). */
        uint8_t oldB = isSameSizeGrow(h) ? h->B : (uint8_t)(h->B - 1);
        mr_release_bucket_array(t, h, h->oldbuckets, oldB);
        h->oldbuckets = NULL;
        h->flags &= (uint8_t)~sameSizeGrow;
    }
}

/* Old buckets each write moves in order, besides the one it uses.  Go
 * moves one.  The one a write uses is anywhere in the old table, a cache
 * miss of its own in a table beyond the cache, where the ones in order
 * are read as a stream; the sooner the stream has passed a bucket, the
 * more often a write finds its bucket already moved, which it can tell
 * from nevacuate without reading the old bucket at all.  Measured in one
 * process, 4M int64 / 2M string inserts into a growing map, best of 8
 * rounds, ns/op: Go's way 125 / 195; 8 in order and the test against
 * nevacuate 109 / 176 (and far fewer slow rounds: their median went
 * from about 200 to 120 for int64).  A write still moves at most nine
 * buckets and their overflow chains: the work per write stays bounded. */
enum { EVACUATE_AHEAD = 8 };

void mr_growWork(const mr_maptype *t, mr_map *h, uintptr_t bucket)
{
    /* Make sure we evacuate the oldbucket corresponding to the bucket
     * we're about to use.  Those below nevacuate have all moved. */
    uintptr_t oldbucket = bucket & oldbucketmask(h);
    if (oldbucket >= h->nevacuate)
        mr_evacuate(t, h, oldbucket);
    /* Make progress on growing. */
    for (int i = 0; i < EVACUATE_AHEAD && growing(h); i++)
        mr_evacuate(t, h, h->nevacuate);
}
