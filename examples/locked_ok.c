/*
 * locked_ok — the false-positive guard: many goroutines share a map under
 * a Mutex, unlocking in deferred calls.  No report, exit status 0.
 */
#include <maprt.h>
#include <maprt_defer.h>
#include <maprt_go.h>

#include <stdio.h>

enum { WORKERS = 8, OPS = 20000 };

static mr_map *totals;
static mr_mutex mu = MR_MUTEX_INIT;
static mr_waitgroup wg = MR_WAITGROUP_INIT;

static void unlock(void *m) { mr_mutex_unlock(m); }
static void done(void *w) { mr_wg_done(w); }

static void add(int64_t k)
{
    MR_FRAME(return);
    mr_mutex_lock(&mu);
    mr_defer(unlock, &mu);
    *(int64_t *)mr_mapassign(&mr_type_i64_i64, totals, &k) += 1;
}

static void worker(void *arg)
{
    MR_FRAME(return);
    mr_defer(done, &wg);
    for (int i = 0; i < OPS; i++)
        add(((int64_t)(intptr_t)arg * 7 + i) % 1000);
}

int main(void)
{
    totals = mr_makemap(&mr_type_i64_i64, 0);
    mr_wg_add(&wg, WORKERS);
    for (intptr_t w = 0; w < WORKERS; w++)
        mr_go(worker, (void *)w);
    mr_wg_wait(&wg);
    int64_t sum = 0;
    mr_mapiter it;
    mr_mapiterinit(&mr_type_i64_i64, totals, &it);
    while (mr_mapiternext(&it))
        sum += *(int64_t *)it.elem;
    printf("locked_ok: %lld increments counted, no report\n", (long long)sum);
    mr_mapfree(&mr_type_i64_i64, totals);
    return sum == (int64_t)WORKERS * OPS ? 0 : 1;
}
