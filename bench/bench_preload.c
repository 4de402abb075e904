/*
 * bench_preload — a map-heavy, multi-threaded, race-free program, to
 * measure what LD_PRELOAD=libmaprace.so costs (run-preload-bench.sh).
 *
 *     bench_preload work      8 goroutines: private maps (insert, lookup,
 *                             delete, iterate), a shared map under a mutex,
 *                             deferred calls that touch maps; prints ms
 *     bench_preload start     makes one map and exits (start-up cost)
 */
#include <maprt.h>
#include <maprt_defer.h>
#include <maprt_go.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

static const mr_maptype *T = &mr_type_i64_i64;
static mr_map *shared;
static mr_mutex mu = MR_MUTEX_INIT;
static mr_waitgroup wg = MR_WAITGROUP_INIT;

static void unlock(void *m) { mr_mutex_unlock(m); }
static void done(void *w) { mr_wg_done(w); }

static void add_shared(int64_t k)
{
    MR_FRAME(return);
    mr_mutex_lock(&mu);
    mr_defer(unlock, &mu);
    *(int64_t *)mr_mapassign(T, shared, &k) += 1;
}

static void worker(void *arg)
{
    MR_FRAME(return);
    mr_defer(done, &wg);
    int64_t seed = (int64_t)(intptr_t)arg;
    for (int round = 0; round < 40; round++) {
        mr_map *m = mr_makemap(T, 0);
        for (int64_t i = 0; i < 20000; i++) {
            int64_t k = (i * 2654435761 + seed) & 0xfffff;
            *(int64_t *)mr_mapassign(T, m, &k) = i;
        }
        int64_t sum = 0;
        for (int64_t i = 0; i < 40000; i++) {
            int64_t k = (i * 40503 + seed) & 0xfffff;
            sum += *(int64_t *)mr_mapaccess1(T, m, &k);
        }
        mr_mapiter it;
        mr_mapiterinit(T, m, &it);
        while (mr_mapiternext(&it))
            sum += *(int64_t *)it.elem;
        for (int64_t i = 0; i < 20000; i += 2) {
            int64_t k = (i * 2654435761 + seed) & 0xfffff;
            mr_mapdelete(T, m, &k);
        }
        mr_mapfree(T, m);
        add_shared(sum & 1023);
    }
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "start") == 0) {
        mr_map *m = mr_makemap(T, 0);
        int64_t k = 1;
        *(int64_t *)mr_mapassign(T, m, &k) = 1;
        mr_mapfree(T, m);
        return 0;
    }
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    shared = mr_makemap(T, 0);
    mr_wg_add(&wg, 8);
    for (intptr_t i = 0; i < 8; i++)
        mr_go(worker, (void *)(i * 7919));
    mr_wg_wait(&wg);
    clock_gettime(CLOCK_MONOTONIC, &b);
    printf("%.2f\n", (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6);
    return 0;
}
