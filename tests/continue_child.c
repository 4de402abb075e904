/*
 * continue_child — workloads for the preload's tests (t_preload.sh).
 *
 *   continue_child race    two goroutines insert disjoint key ranges into
 *                          one map, unsynchronised, then check the map:
 *                          under halt_on_error=0 the writers wait for each
 *                          other, so every entry must be there
 *   continue_child churn   eight goroutines make, fill and free many maps,
 *                          correctly: no report
 *   continue_child fork    fork while goroutines use maps; the child uses
 *                          maps too and exits 0
 *   continue_child linger  as race, then sleeps a minute (to be killed
 *                          after its report)
 *   continue_child bias    one write to a new map; prints whether the
 *                          map is now biased to its writer
 *   continue_child manymaps SECONDS
 *                          four goroutines race on 2000 shared maps for
 *                          SECONDS (make stress, under halt_on_error=0)
 */
#include <maprt.h>
#include <maprt_go.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

enum { PER_WRITER = 200000 };

static const mr_maptype *T = &mr_type_i64_i64;
static mr_map *shared;
static mr_waitgroup wg = MR_WAITGROUP_INIT, ready = MR_WAITGROUP_INIT;

static void insert_range(void *arg)
{
    int64_t base = (int64_t)(intptr_t)arg;
    mr_wg_done(&ready);
    mr_wg_wait(&ready); /* start together, so the writes overlap */
    /* Five passes (the later ones rewrite their keys): in make check -j2
     * on two CPUs one writer could run a single pass whole while the
     * other waited for a CPU, and nothing overlapped. */
    for (int pass = 0; pass < 5; pass++)
        for (int64_t k = base; k < base + PER_WRITER; k++)
            *(int64_t *)mr_mapassign(T, shared, &k) = k * 2;
    mr_wg_done(&wg);
}

static void churn(void *arg)
{
    (void)arg;
    for (int round = 0; round < 300; round++) {
        mr_map *m = mr_makemap(T, (size_t)round % 50);
        for (int64_t k = 0; k < 200; k++)
            *(int64_t *)mr_mapassign(T, m, &k) = k;
        for (int64_t k = 0; k < 200; k += 3)
            mr_mapdelete(T, m, &k);
        mr_mapfree(T, m);
    }
    mr_wg_done(&wg);
}

static volatile int stop;
static void busy(void *arg)
{
    (void)arg;
    mr_map *m = mr_makemap(T, 0);
    for (int64_t i = 0; !stop; i++) {
        int64_t k = i % 1000;
        *(int64_t *)mr_mapassign(T, m, &k) = i;
    }
    mr_wg_done(&wg);
}

enum { MANY = 2000 };
static mr_map *many[MANY];
static volatile int many_stop;
static _Atomic long many_ops;

static void many_worker(void *arg)
{
    uint64_t x = (uint64_t)(intptr_t)arg * 0x9e3779b97f4a7c15u + 1;
    long ops = 0;
    while (!many_stop) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        int64_t k = (int64_t)(x % 500);
        mr_map *m = many[(x >> 20) % MANY];
        if (x & 1)
            *(int64_t *)mr_mapassign(T, m, &k) = k;
        else
            mr_mapdelete(T, m, &k);
        ops++;
    }
    many_ops += ops;
    mr_wg_done(&wg);
}

static int manymaps(int seconds)
{
    for (int i = 0; i < MANY; i++)
        many[i] = mr_makemap(T, 0);
    mr_wg_add(&wg, 4);
    for (intptr_t g = 0; g < 4; g++)
        mr_go(many_worker, (void *)(g + 1));
    sleep((unsigned)seconds);
    many_stop = 1;
    mr_wg_wait(&wg);
    printf("manymaps: %ld operations on %d maps\n", (long)many_ops, MANY);
    return 0;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    if (strcmp(mode, "race") == 0 || strcmp(mode, "linger") == 0) {
        shared = mr_makemap(T, 0);
        mr_wg_add(&wg, 2);
        mr_wg_add(&ready, 2);
        mr_go(insert_range, (void *)(intptr_t)0);
        mr_go(insert_range, (void *)(intptr_t)PER_WRITER);
        mr_wg_wait(&wg);
        /* Every key is there: insertions are made under the claim.  (A
         * value stored through the returned slot after a racing growth
         * moved its entry can be lost, as in Go: the store is the
         * caller's, after the claim is released.) */
        bool good = mr_maplen(shared) == 2 * PER_WRITER;
        for (int64_t k = 0; k < 2 * PER_WRITER && good; k++) {
            bool ok;
            mr_mapaccess2(T, shared, &k, &ok);
            good = ok;
        }
        printf("map %s: %zu entries\n", good ? "consistent" : "CORRUPTED", mr_maplen(shared));
        if (strcmp(mode, "linger") == 0)
            sleep(60);
        return good ? 0 : 1;
    }
    if (strcmp(mode, "churn") == 0) {
        mr_wg_add(&wg, 8);
        for (int i = 0; i < 8; i++)
            mr_go(churn, NULL);
        mr_wg_wait(&wg);
        printf("churn: done\n");
        return 0;
    }
    if (strcmp(mode, "fork") == 0) {
        mr_wg_add(&wg, 4);
        for (int i = 0; i < 4; i++)
            mr_go(busy, NULL);
        usleep(20000);
        int failures = 0;
        for (int i = 0; i < 20; i++) {
            pid_t pid = fork();
            if (pid == 0) {
                mr_map *m = mr_makemap(T, 0);
                for (int64_t k = 0; k < 1000; k++)
                    *(int64_t *)mr_mapassign(T, m, &k) = k;
                mr_mapfree(T, m);
                _exit(mr_numgoroutine() == 1 ? 0 : 3);
            }
            int st;
            waitpid(pid, &st, 0);
            failures += !(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        }
        stop = 1;
        mr_wg_wait(&wg);
        printf("fork: %d of 20 children failed\n", failures);
        return failures ? 1 : 0;
    }
    if (strcmp(mode, "bias") == 0) {
        mr_map *m = mr_makemap(T, 0);
        int64_t k = 1;
        *(int64_t *)mr_mapassign(T, m, &k) = k;
        mr_mapstats st;
        mr_mapgetstats(m, &st);
        printf("biased: %s\n", st.bias != 0 ? "yes" : "no");
        mr_mapfree(T, m);
        return 0;
    }
    if (strcmp(mode, "manymaps") == 0)
        return manymaps(argc > 2 ? atoi(argv[2]) : 30);
    fprintf(stderr, "usage: continue_child race|churn|fork|linger|bias|manymaps [SECONDS]\n");
    return 64;
}
