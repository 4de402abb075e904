/*
 * t_iterate — iteration: every entry once, in random order, and Go's rules
 * when the iterating goroutine changes the map (deletes, inserts, updates,
 * growth, clear).
 */
#include "tap.h"

#include <maprt.h>

#include <stdint.h>
#include <string.h>

static const mr_maptype *T = &mr_type_i64_i64;

enum { MAXK = 40000 };
static unsigned char seen[MAXK];

static mr_map *filled(int64_t n)
{
    mr_map *m = mr_makemap(T, 0);
    for (int64_t i = 0; i < n; i++)
        *(int64_t *)mr_mapassign(T, m, &i) = i * 10;
    return m;
}

/* Iterates m fully; counts in seen[]; returns the number produced. */
static long count_all(mr_map *m)
{
    memset(seen, 0, sizeof seen);
    long n = 0;
    mr_mapiter it;
    mr_mapiterinit(T, m, &it);
    while (mr_mapiternext(&it)) {
        int64_t k = *(const int64_t *)it.key;
        if (k >= 0 && k < MAXK)
            seen[k]++;
        n++;
    }
    return n;
}

static bool each_once(int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        if (seen[i] != 1)
            return false;
    return true;
}

static void exactly_once(void)
{
    static const int64_t sizes[] = {0, 1, 7, 8, 9, 53, 1000, 30000};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        mr_map *m = filled(sizes[s]);
        long n = count_all(m);
        ok(n == sizes[s] && each_once(sizes[s]), "%lld entries: iteration produces each exactly once",
           (long long)sizes[s]);
        mr_mapfree(T, m);
    }
    mr_map *m = mr_makemap(T, 0);
    mr_mapiter it;
    mr_mapiterinit(T, m, &it);
    int64_t k = 1;
    *(int64_t *)mr_mapassign(T, m, &k) = 1;
    ok(!mr_mapiternext(&it), "an iteration begun on an empty map yields nothing, even if filled later (as Go)");
    mr_mapfree(T, m);
}

static void randomness(void)
{
    /* One bucket of 8: the random offset decides which comes first. */
    mr_map *m = filled(8);
    int first[8] = {0};
    for (int r = 0; r < 400; r++) {
        mr_mapiter it;
        mr_mapiterinit(T, m, &it);
        mr_mapiternext(&it);
        first[*(const int64_t *)it.key]++;
        mr_mapiterstop(&it);
    }
    int distinct = 0;
    for (int i = 0; i < 8; i++)
        distinct += first[i] > 0;
    ok(distinct == 8, "8 entries, 400 iterations: every entry comes first sometimes (%d of 8)", distinct);
    mr_mapfree(T, m);

    /* Many buckets: the random start bucket and offset. */
    m = filled(1000);
    int64_t prev[1000], cur[1000];
    int differ = 0;
    for (int r = 0; r < 20; r++) {
        mr_mapiter it;
        mr_mapiterinit(T, m, &it);
        int i = 0;
        while (mr_mapiternext(&it))
            cur[i++] = *(const int64_t *)it.key;
        if (r > 0 && memcmp(prev, cur, sizeof cur) != 0)
            differ++;
        memcpy(prev, cur, sizeof cur);
    }
    /* 2^8 start buckets x 8 offsets: two orders coincide by chance with
     * probability 1/2048, so allow for that rather than flake. */
    ok(differ >= 17, "1000 entries: consecutive iterations differ in order (%d of 19 pairs differ)", differ);
    mr_mapfree(T, m);

    /* Two maps with the same content have different seeds, so their
     * buckets, not only their starting points, differ: compare the
     * sequences up to rotation by looking at which key follows key 0. */
    int followers_differ = 0;
    int64_t follower0 = -1;
    for (int r = 0; r < 10; r++) {
        m = filled(1000);
        mr_mapiter it;
        mr_mapiterinit(T, m, &it);
        int64_t last = -1, follower = -1;
        while (mr_mapiternext(&it)) {
            if (last == 0)
                follower = *(const int64_t *)it.key;
            last = *(const int64_t *)it.key;
        }
        if (r == 0)
            follower0 = follower;
        else if (follower != follower0)
            followers_differ++;
        mr_mapfree(T, m);
    }
    ok(followers_differ >= 7, "maps with the same keys lay them out differently (random seed per map): %d of 9",
       followers_differ);
}

static void delete_during(void)
{
    /* Delete every even key not yet reached at the first step. */
    mr_map *m = filled(5000);
    memset(seen, 0, sizeof seen);
    static unsigned char deleted[MAXK];
    memset(deleted, 0, sizeof deleted);
    mr_mapiter it;
    mr_mapiterinit(T, m, &it);
    bool first = true, bad = false;
    while (mr_mapiternext(&it)) {
        int64_t k = *(const int64_t *)it.key;
        seen[k]++;
        bad |= deleted[k] || *(int64_t *)it.elem != k * 10;
        if (first) {
            for (int64_t d = 0; d < 5000; d += 2)
                if (d != k) {
                    mr_mapdelete(T, m, &d);
                    deleted[d] = 1;
                }
            first = false;
        }
    }
    bool odd_once = true;
    for (int64_t i = 1; i < 5000; i += 2)
        odd_once &= seen[i] == 1;
    ok(!bad && odd_once, "deleted entries not yet reached are not produced; the rest are, once");
    mr_mapfree(T, m);

    /* Delete the current entry at every step: the map empties. */
    m = filled(3000);
    long n = 0;
    mr_mapiterinit(T, m, &it);
    while (mr_mapiternext(&it)) {
        int64_t k = *(const int64_t *)it.key;
        mr_mapdelete(T, m, &k);
        n++;
    }
    ok(n == 3000 && mr_maplen(m) == 0, "deleting the current entry each step: all 3000 produced, map empty");
    mr_mapfree(T, m);
}

static void insert_during(void)
{
    /* Inserts grow the map several times over during the iteration. */
    mr_map *m = filled(100);
    memset(seen, 0, sizeof seen);
    int64_t next = 100;
    mr_mapiter it;
    mr_mapiterinit(T, m, &it);
    bool bad = false;
    while (mr_mapiternext(&it)) {
        int64_t k = *(const int64_t *)it.key;
        bad |= k < 0 || k >= MAXK || seen[k]++ || *(int64_t *)it.elem != k * 10;
        for (int j = 0; j < 50 && next < MAXK; j++, next++)
            *(int64_t *)mr_mapassign(T, m, &next) = next * 10;
    }
    mr_mapstats st;
    mr_mapgetstats(m, &st);
    ok(!bad && each_once(100) && st.growths >= 5,
       "inserting during iteration (%zu growths): originals once each, new ones at most once", st.growths);
    mr_mapfree(T, m);
}

/* A map of keys 0..*n-1 (elements k*10), filled until a growth to at
 * least 2^minB buckets has just begun. */
static mr_map *caught_mid_growth(uint8_t minB, int64_t *n)
{
    mr_map *m = mr_makemap(T, 0);
    mr_mapstats st;
    *n = 0;
    do {
        *(int64_t *)mr_mapassign(T, m, n) = *n * 10;
        ++*n;
        mr_mapgetstats(m, &st);
    } while (!(st.growing && st.B >= minB));
    return m;
}

static void during_growth(void)
{
    /* Stop inserting right after a growth begins, then iterate. */
    int64_t n;
    mr_map *m = caught_mid_growth(10, &n);
    mr_mapstats st;
    mr_mapgetstats(m, &st);
    ok(st.growing && st.nevacuate < st.oldbuckets, "setup: map of %lld entries caught mid-growth (B=%u)",
       (long long)n, st.B);
    long got = count_all(m);
    ok(got == n && each_once(n), "iteration begun mid-growth produces each of %lld entries once", (long long)n);

    /* Begin mid-growth, then finish the growth by writing as we go, and
     * update entries not reached yet: they must show their new value. */
    mr_mapiter it;
    mr_mapiterinit(T, m, &it);
    memset(seen, 0, sizeof seen);
    bool bad = false, updated = false;
    int64_t extra = n;
    while (mr_mapiternext(&it)) {
        int64_t k = *(const int64_t *)it.key;
        /* Entries of the original n were all updated after the first step. */
        int64_t want = k < n && updated ? k * 10 + 1 : k * 10;
        bad |= k < 0 || k >= MAXK || seen[k]++ != 0 || *(int64_t *)it.elem != want;
        if (!updated) {
            for (int64_t u = 0; u < n; u++)
                if (u != k)
                    *(int64_t *)mr_mapassign(T, m, &u) = u * 10 + 1;
            *(int64_t *)mr_mapassign(T, m, &k) = k * 10 + 1;
            updated = true;
        }
        for (int j = 0; j < 4 && extra < MAXK; j++, extra++)
            *(int64_t *)mr_mapassign(T, m, &extra) = extra * 10;
    }
    mr_mapgetstats(m, &st);
    ok(!bad && each_once(n), "growth finishing during iteration: each entry once, with its updated value");
    mr_mapfree(T, m);
}

/* An iteration begun mid-growth whose first step is inside an old bucket
 * (walked with a filter: only the entries bound for the new bucket being
 * visited), with the growth finished right after that step: the rest of
 * that old bucket must still be walked with its filter, although the
 * table now looks stable.  Any one map may have nothing left to produce
 * in that bucket, so many are tried. */
static void growth_done_inside_old_bucket(void)
{
    enum { MAPS = 50 };
    int good = 0, inside = 0;
    for (int trial = 0; trial < MAPS; trial++) {
        int64_t n;
        mr_map *m = caught_mid_growth(8, &n);
        mr_mapstats st;
        mr_mapiter it;
        mr_mapiterinit(T, m, &it);
        memset(seen, 0, sizeof seen);
        bool first = true, bad = false;
        while (mr_mapiternext(&it)) {
            int64_t k = *(const int64_t *)it.key;
            bad |= k < 0 || k >= n || seen[k]++ != 0;
            if (first) {
                first = false;
                inside += it.checkbucket_ != (uintptr_t)-1;
                for (int64_t u = 0; u < n; u++) /* (each write moves old buckets) */
                    *(int64_t *)mr_mapassign(T, m, &u) = u;
                mr_mapgetstats(m, &st);
                bad |= st.growing;
            }
        }
        good += !bad && each_once(n);
        mr_mapfree(T, m);
    }
    ok(good == MAPS && inside > MAPS / 2,
       "growth finished while the iteration is inside an old bucket (%d of %d maps): each entry once in %d",
       inside, MAPS, good);
}

static void clear_and_stop(void)
{
    mr_map *m = filled(2000);
    mr_mapiter it;
    mr_mapiterinit(T, m, &it);
    long n = 0;
    while (mr_mapiternext(&it)) {
        if (++n == 10)
            mr_mapclear(T, m);
    }
    ok(n == 10, "clear during iteration: nothing is produced after it (%ld produced)", n);

    /* An open iteration keeps what the map releases; stopping it lets the
     * next growth free it. */
    mr_mapfree(T, m);
    m = filled(1000);
    mr_mapiterinit(T, m, &it);
    mr_mapiternext(&it);
    for (int64_t i = 1000; i < 8000; i++)
        *(int64_t *)mr_mapassign(T, m, &i) = i;
    mr_mapstats st;
    mr_mapgetstats(m, &st);
    size_t parked_open = st.parked;
    mr_mapiterstop(&it);
    ok(!mr_mapiternext(&it), "mr_mapiterstop: the iteration is over");
    for (int64_t i = 8000; i < 30000; i++)
        *(int64_t *)mr_mapassign(T, m, &i) = i;
    mr_mapgetstats(m, &st);
    ok(parked_open > 0 && st.parked == 0,
       "released tables are parked while an iteration is open (%zu), freed after it stops (%zu)", parked_open,
       st.parked);
    mr_mapfree(T, m);
}

/* Go's pop idiom — range, delete, break — in C leaves every iteration
 * open.  Rounds of it with clears must keep the map's parked memory
 * bounded (it grew by a table per round, 135 MiB after 30 rounds). */
static void pop_idiom_bounded(void)
{
    mr_map *m = mr_makemap(T, 0);
    size_t most = 0, table = 0;
    for (int round = 0; round < 30; round++) {
        for (int64_t i = 0; i < 20000; i++)
            *(int64_t *)mr_mapassign(T, m, &i) = i;
        /* (The last round's last pop is still open: the tables this fill
         * and the clear replaced are parked now.) */
        mr_mapstats st;
        mr_mapgetstats(m, &st);
        for (int pop = 0; pop < 50; pop++) {
            mr_mapiter it; /* never stopped */
            mr_mapiterinit(T, m, &it);
            if (mr_mapiternext(&it))
                mr_mapdelete(T, m, it.key);
        }
        table = ((size_t)1 << st.B) * (8 + 8 * 8 + 8 * 8 + 8);
        if (st.parkedbytes > most)
            most = st.parkedbytes;
        mr_mapclear(T, m);
    }
    ok(most > 0 && most <= 4 * table + (1u << 20) + table,
       "the pop idiom with clears, 30 rounds: parked memory peaks at %zu bytes (table %zu), bounded", most, table);
    mr_mapfree(T, m);
}

static int64_t first_key(mr_map *m)
{
    MR_RANGE(T, m, it)
        return *(const int64_t *)it.key; /* the iteration ends with the return */
    return -1;
}

/* MR_RANGE ends its iteration however the loop is left. */
static void range_macro(void)
{
    mr_map *m = filled(5000);
    long n = 0;
    MR_RANGE(T, m, it)
        n += *(const int64_t *)it.key == *(int64_t *)it.elem / 10;
    MR_RANGE(T, m, it) {
        if (*(const int64_t *)it.key >= 0)
            break;
    }
    bool got = first_key(m) >= 0;
    /* No iteration is open now: what a clear and a growth release is freed. */
    mr_mapclear(T, m);
    for (int64_t i = 0; i < 20000; i++)
        *(int64_t *)mr_mapassign(T, m, &i) = i;
    mr_mapstats st;
    mr_mapgetstats(m, &st);
    ok(n == 5000 && got && st.parked == 0,
       "MR_RANGE: every entry once; left by break and by return, no iteration stays open (parked %zu)", st.parked);
    mr_mapfree(T, m);
}

int main(void)
{
    exactly_once();
    pop_idiom_bounded();
    range_macro();
    randomness();
    delete_during();
    insert_during();
    during_growth();
    growth_done_inside_old_bucket();
    clear_and_stop();
    return tap_done();
}
