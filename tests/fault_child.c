/*
 * fault_child — the runtime under pressure, for t_faults.sh.
 *
 *   fault_child oom        one map grown until memory runs out (run under
 *                          ulimit -v): Go's "fatal error: runtime: out of
 *                          memory" with the goroutine's stack, exit 2
 *   fault_child thousand   1000 goroutines on four maps shared under a
 *                          mutex: no report, every count right
 *   fault_child resume     an iteration left open while the pop idiom
 *                          churns the map past its parked-memory bound,
 *                          then resumed: a fatal error naming it, never a
 *                          read of released memory
 */
#include <maprt.h>
#include <maprt_go.h>

#include <stdio.h>
#include <string.h>

static const mr_maptype *T = &mr_type_i64_i64;

static void grow_forever(void)
{
    mr_map *m = mr_makemap(T, 0);
    for (int64_t k = 0;; k++)
        *(int64_t *)mr_mapassign(T, m, &k) = k; /* LINE(grow) */
}

enum { GOROUTINES = 1000, MAPS = 4, PER = 200 };
static mr_map *maps[MAPS];
static mr_mutex locks[MAPS] = {MR_MUTEX_INIT, MR_MUTEX_INIT, MR_MUTEX_INIT, MR_MUTEX_INIT};
static mr_waitgroup wg = MR_WAITGROUP_INIT;

static void counter(void *arg)
{
    int64_t id = (int64_t)(intptr_t)arg;
    for (int i = 0; i < PER; i++) {
        int m = (int)((id + i) % MAPS);
        int64_t k = i % 50;
        mr_mutex_lock(&locks[m]);
        *(int64_t *)mr_mapassign(T, maps[m], &k) += 1;
        mr_mutex_unlock(&locks[m]);
    }
    mr_wg_done(&wg);
}

static int thousand(void)
{
    for (int m = 0; m < MAPS; m++)
        maps[m] = mr_makemap(T, 0);
    mr_wg_add(&wg, GOROUTINES);
    for (intptr_t g = 0; g < GOROUTINES; g++)
        mr_go(counter, (void *)g);
    mr_wg_wait(&wg);
    int64_t total = 0;
    for (int m = 0; m < MAPS; m++) {
        mr_mapiter it;
        mr_mapiterinit(T, maps[m], &it);
        while (mr_mapiternext(&it))
            total += *(int64_t *)it.elem;
        mr_mapfree(T, maps[m]);
    }
    printf("thousand: %lld increments, %d expected\n", (long long)total, GOROUTINES * PER);
    return total == GOROUTINES * PER ? 0 : 1;
}

static void resume(void)
{
    mr_map *m = mr_makemap(T, 0);
    for (int64_t i = 0; i < 1000; i++)
        *(int64_t *)mr_mapassign(T, m, &i) = i;
    mr_mapiter kept;
    mr_mapiterinit(T, m, &kept);
    mr_mapiternext(&kept);
    for (int round = 0; round < 40; round++) {
        for (int64_t i = 0; i < 20000; i++)
            *(int64_t *)mr_mapassign(T, m, &i) = i;
        mr_mapclear(T, m);
    }
    printf("resuming\n");
    fflush(stdout);
    while (mr_mapiternext(&kept)) /* LINE(resume) */
        ;
    printf("the iteration ended\n");
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    if (strcmp(mode, "oom") == 0)
        grow_forever();
    if (strcmp(mode, "thousand") == 0)
        return thousand();
    if (strcmp(mode, "resume") == 0)
        resume();
    fprintf(stderr, "usage: fault_child oom|thousand|resume\n");
    return 64;
}
