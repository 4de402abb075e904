/*
 * short_race — two goroutines each write a shared map a handful of times,
 * without a lock.  It is a data race (nothing orders the two goroutines'
 * writes), but the writes are so few and so short that they rarely
 * overlap in time: the map's write claim, like Go's hashWriting flag,
 * only sees writes that overlap, so a run usually ends quietly,
 *
 *     short_race: 20 entries                     exit status 0,
 *
 * and now and then with "fatal error: concurrent map writes" (exit 2;
 * 2-10 runs in 200 here).  Go behaves the same; only a happens-before
 * detector (ThreadSanitizer, go run -race) reports this race every time:
 *
 *     maprace --hb ./short_race          reported in every run, exit 66
 */
#include <maprt.h>
#include <maprt_go.h>

#include <stdio.h>

static const mr_maptype *T = &mr_type_i64_i64;
static mr_map *shared;
static mr_waitgroup wg = MR_WAITGROUP_INIT;

static void writer(void *arg)
{
    int64_t base = (int64_t)(intptr_t)arg;
    for (int64_t k = base; k < base + 10; k++)
        *(int64_t *)mr_mapassign(T, shared, &k) = k; /* the race: no lock */
    mr_wg_done(&wg);
}

int main(void)
{
    shared = mr_makemap(T, 0);
    mr_wg_add(&wg, 2);
    mr_go(writer, (void *)(intptr_t)0);
    mr_go(writer, (void *)(intptr_t)100);
    mr_wg_wait(&wg);
    printf("short_race: %zu entries\n", mr_maplen(shared));
    mr_mapfree(T, shared);
    return 0;
}
