/*
 * defer_writes — deferred cleanups of two goroutines write one map as the
 * goroutines exit.
 *
 * Each session goroutine registers its entries in a shared index and
 * defers their removal.  The cleanups are correct one at a time, but both
 * goroutines finish together, so their deferred calls delete from the map
 * at the same moment — the bug is in code that runs at exit, which is why
 * it hides so well.  Go (and maprace) stops it with
 *
 *     fatal error: concurrent map writes
 *
 * showing both goroutines inside cleanup_sessions, both created by main.
 * Exit status 2.
 */
#include <maprt.h>
#include <maprt_defer.h>
#include <maprt_go.h>

#include <stdio.h>

enum { SESSIONS = 200000 };

static mr_map *index_by_id;          /* map[int64]int64, shared, no lock: the bug */
static mr_waitgroup started = MR_WAITGROUP_INIT, finished = MR_WAITGROUP_INIT;

static void done(void *wg) { mr_wg_done(wg); }

static void cleanup_sessions(void *arg)
{
    int64_t base = (int64_t)(intptr_t)arg;
    for (int64_t id = base; id < base + SESSIONS; id++)
        mr_mapdelete(&mr_type_i64_i64, index_by_id, &id);
}

static void serve(void *arg)
{
    MR_FRAME(return);
    mr_defer(done, &finished);
    mr_defer(cleanup_sessions, arg);     /* remove our sessions when we are done */
    mr_wg_done(&started);
    mr_wg_wait(&started);                /* both goroutines are serving now */
    /* ... serve requests, then return: the deferred cleanup runs */
}

int main(void)
{
    printf("defer_writes: two goroutines remove their sessions in deferred cleanups...\n");
    fflush(stdout);
    index_by_id = mr_makemap(&mr_type_i64_i64, 2 * SESSIONS);
    for (int64_t id = 0; id < 2 * SESSIONS; id++)
        *(int64_t *)mr_mapassign(&mr_type_i64_i64, index_by_id, &id) = id;
    mr_wg_add(&started, 2);
    mr_wg_add(&finished, 2);
    mr_go(serve, (void *)(intptr_t)0);
    mr_go(serve, (void *)(intptr_t)SESSIONS);
    mr_wg_wait(&finished);
    printf("defer_writes: no report (the cleanups did not overlap this time)\n");
    return 0;
}
