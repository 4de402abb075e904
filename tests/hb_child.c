/*
 * hb_child — map uses that never overlap in time, for t_hb.sh: the write
 * claim cannot see them; happens-before (maprace --hb) must see exactly
 * the unsynchronised ones.
 *
 *     hb_child apart      two threads write a map 2 ms apart, no lock
 *                         (2 ms after the first operation is over, in
 *                         every scenario)
 *     hb_child mutex      the same under a mutex: ordered
 *     hb_child joined     the second thread starts after the first was
 *                         joined: ordered
 *     hb_child deferred   a goroutine's deferred cleanup deletes from the
 *                         map; main reads it 2 ms later, unsynchronised
 *     hb_child iterate    main ranges over the map 2 ms after a thread
 *                         wrote it, unsynchronised
 */
#include <maprt.h>
#include <maprt_defer.h>
#include <maprt_go.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static const mr_maptype *T = &mr_type_i64_i64;
static mr_map *m;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static int locked;

static void pause_ms(long ms)
{
    struct timespec ts = {0, ms * 1000000};
    nanosleep(&ts, NULL);
}

/* The first operation of a pair is over.  A sleep alone does not say so
 * on a loaded machine (the first thread may not have run yet), and any
 * synchronisation TSan can see would order the two operations; so the
 * second waits for this flag, which TSan does not see (this program is
 * not instrumented), then 2 ms more. */
static _Atomic int first_done;

static void first_over(void)
{
    atomic_store_explicit(&first_done, 1, memory_order_relaxed);
}

static void after_first(void)
{
    while (!atomic_load_explicit(&first_done, memory_order_relaxed))
        pause_ms(1);
    pause_ms(2);
}

static void *writer(void *arg)
{
    int64_t k = (int64_t)(intptr_t)arg;
    if (k > 0)
        after_first();
    if (locked)
        pthread_mutex_lock(&mu);
    *(int64_t *)mr_mapassign(T, m, &k) = k; /* LINE(write) */
    if (locked)
        pthread_mutex_unlock(&mu);
    if (k == 0)
        first_over();
    return NULL;
}

static void pair(int join_between)
{
    pthread_t a, b;
    pthread_create(&a, NULL, writer, (void *)(intptr_t)0);
    if (join_between)
        pthread_join(a, NULL);
    pthread_create(&b, NULL, writer, (void *)(intptr_t)1);
    if (!join_between)
        pthread_join(a, NULL);
    pthread_join(b, NULL);
}

static void drop_session(void *arg)
{
    (void)arg;
    int64_t k = 7;
    mr_mapdelete(T, m, &k); /* LINE(deferred_delete) */
    first_over();
}

static void session(void *arg)
{
    (void)arg;
    MR_FRAME(return);
    mr_defer(drop_session, NULL);
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    m = mr_makemap(T, 0); /* LINE(make) */
    int64_t seven = 7;
    *(int64_t *)mr_mapassign(T, m, &seven) = 7;
    if (strcmp(mode, "apart") == 0) {
        pair(0);
    } else if (strcmp(mode, "mutex") == 0) {
        locked = 1;
        pair(0);
    } else if (strcmp(mode, "joined") == 0) {
        pair(1);
    } else if (strcmp(mode, "deferred") == 0) {
        mr_go(session, NULL);
        after_first();
        bool ok;
        mr_mapaccess2(T, m, &seven, &ok); /* LINE(read) */
        pause_ms(20); /* (the goroutine ends before main) */
    } else if (strcmp(mode, "iterate") == 0) {
        pthread_t a;
        pthread_create(&a, NULL, writer, (void *)(intptr_t)0);
        after_first();
        mr_mapiter it;
        mr_mapiterinit(T, m, &it); /* LINE(range) */
        while (mr_mapiternext(&it))
            ;
        pthread_join(a, NULL);
    } else {
        fprintf(stderr, "usage: hb_child apart|mutex|joined|deferred|iterate\n");
        return 64;
    }
    printf("hb_child: %zu entries\n", mr_maplen(m));
    return 0;
}
