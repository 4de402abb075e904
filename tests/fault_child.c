/*
 * fault_child — the runtime under pressure, for t_faults.sh.
 *
 *   fault_child oom        one map grown until memory runs out (run under
 *                          ulimit -v): Go's "fatal error: runtime: out of
 *                          memory" with the goroutine's stack, exit 2
 *   fault_child thousand   1000 goroutines on four maps shared under a
 *                          mutex: no report, every count right
 *   fault_child handlers   a program with SIGURG and SIGSEGV handlers of its
 *                          own and a goroutine that blocks every signal,
 *                          two goroutines writing until reported: the
 *                          report is complete (the blocked goroutine
 *                          noted), the program's handlers run before and,
 *                          when it goes on, after it
 *   fault_child resume     an iteration kept open while the map grows and
 *                          is cleared 40 times, then resumed: it ends
 *                          normally (Go's rules), nothing freed under it
 */
#include <maprt.h>
#include <maprt_go.h>

#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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

static volatile sig_atomic_t urgs, segvs;
static sigjmp_buf recovered;
static _Atomic int blocked;
static mr_waitgroup ready = MR_WAITGROUP_INIT, writers = MR_WAITGROUP_INIT;
static mr_map *raced;

static void on_urg(int sig)
{
    (void)sig;
    urgs++;
}

static void on_segv(int sig)
{
    (void)sig;
    segvs++;
    siglongjmp(recovered, 1);
}

static void blocker(void *arg)
{
    (void)arg;
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    blocked = 1;
    for (;;)
        sleep(1);
}

/* The two racers write until each has seen the other's writes go on
 * beside its own for a while (a fixed number of writes can fall whole
 * into one racer's time slice on a loaded machine, with no overlap to
 * catch).  A report ends the process; when the program goes on after it
 * (halt_on_error=0), or after 20 s with none, they stop. */
static _Atomic int64_t racer_progress[2];
static _Atomic int racers_done;

static void racer(void *arg)
{
    int me = (int)(intptr_t)arg, seen_other = 0;
    int64_t base = me * 200000, other_last = 0;
    mr_wg_done(&ready);
    mr_wg_wait(&ready);
    time_t give_up = time(NULL) + 20;
    for (int64_t i = 1;; i++) {
        int64_t k = base + i % 200000;
        *(int64_t *)mr_mapassign(T, raced, &k) = k; /* LINE(racer) */
        if (i % 1024 != 0)
            continue;
        atomic_store(&racer_progress[me], i);
        int64_t other = atomic_load(&racer_progress[!me]);
        seen_other += other != other_last;
        other_last = other;
        if (seen_other >= 64 && i >= 200000)
            atomic_store(&racers_done, 1);
        if (atomic_load(&racers_done) || time(NULL) >= give_up)
            break;
    }
    mr_wg_done(&writers);
}

static int handlers(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_urg;
    sigaction(SIGURG, &sa, NULL);
    sa.sa_handler = on_segv;
    sigaction(SIGSEGV, &sa, NULL);
    raise(SIGURG);
    volatile int *volatile bad = (volatile int *)16;
    if (sigsetjmp(recovered, 1) == 0)
        *bad = 1; /* the program's own fault, its own handler */
    printf("before: %d SIGURG, %d SIGSEGV handled by the program\n", (int)urgs, (int)segvs);
    fflush(stdout);
    mr_go(blocker, NULL);
    while (!blocked)
        usleep(1000);
    raced = mr_makemap(T, 0);
    mr_wg_add(&ready, 2);
    mr_wg_add(&writers, 2);
    mr_go(racer, (void *)(intptr_t)0);
    mr_go(racer, (void *)(intptr_t)1);
    mr_wg_wait(&writers);
    raise(SIGURG); /* (the program went on: its handler still runs) */
    printf("after: %d SIGURG handled by the program\n", (int)urgs);
    return 0;
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
    exit(0);
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
    if (strcmp(mode, "handlers") == 0)
        return handlers();
    fprintf(stderr, "usage: fault_child oom|thousand|resume|handlers\n");
    return 64;
}
