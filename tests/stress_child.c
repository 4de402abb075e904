/*
 * stress_child — eight goroutines panicking and recovering in loops.
 *
 * Each iteration goes through nested frames with deferred calls (some
 * with arguments copied inline, some too large for that), raises a panic
 * of some kind at some depth, recovers it at another, and sometimes raises
 * again from a deferred call.  Counters check that every deferred call ran
 * exactly once and every panic was recovered where it should be.  Run
 * plain (t_stress), under valgrind (no leak) and built with ThreadSanitizer
 * (no race inside the runtime).
 */
#include <maprt.h>
#include <maprt_defer.h>
#include <maprt_go.h>

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { GOROUTINES = 8 };

static int iterations = 3000;
static _Atomic long deferred_runs, recovered, expected_defers, expected_recovers;
static mr_waitgroup wg = MR_WAITGROUP_INIT;

struct big_arg {
    long tag;
    char pad[200];
};

static void count(void *arg)
{
    (void)arg;
    atomic_fetch_add(&deferred_runs, 1);
}

static void count_big(void *arg)
{
    const struct big_arg *b = arg;
    if (b->tag != 12345 || b->pad[199] != 'z') {
        fprintf(stderr, "stress: a copied deferred argument was damaged\n");
        abort();
    }
    atomic_fetch_add(&deferred_runs, 1);
}

static void recover_it(void *arg)
{
    (void)arg;
    atomic_fetch_add(&deferred_runs, 1);
    if (!mr_value_is_nil(mr_recover()))
        atomic_fetch_add(&recovered, 1);
}

static void panic_again(void *arg)
{
    (void)arg;
    atomic_fetch_add(&deferred_runs, 1);
    mr_panic_int(7);
}

static int depth_fn(int depth, int panic_at, int kind)
{
    MR_FRAME(return -1);
    struct big_arg b = {.tag = 12345};
    memset(b.pad, 'z', sizeof b.pad);
    mr_defer(count, NULL);
    mr_defer_copy(count_big, &b, sizeof b);
    atomic_fetch_add(&expected_defers, 2);
    if (depth == panic_at) {
        if (kind == 0)
            mr_panic_str("stress");
        else if (kind == 1) {
            mr_map *nil = NULL;
            int64_t k = 1;
            mr_mapassign(&mr_type_i64_i64, nil, &k);
        } else {
            /* A deferred call that panics while the first panic runs. */
            mr_defer(panic_again, NULL);
            atomic_fetch_add(&expected_defers, 1);
            mr_panic_int(6);
        }
    }
    if (depth < 4)
        return depth_fn(depth + 1, panic_at, kind) + 1;
    return 0;
}

static int catcher(int panic_at, int kind)
{
    MR_FRAME(return -100);
    mr_defer(recover_it, NULL);
    atomic_fetch_add(&expected_defers, 1);
    atomic_fetch_add(&expected_recovers, 1);
    depth_fn(0, panic_at, kind);
    return 0;
}

static void worker(void *arg)
{
    unsigned seed = (unsigned)(uintptr_t)arg;
    MR_FRAME(return);
    mr_defer((void (*)(void *))mr_wg_done, &wg);
    for (int i = 0; i < iterations; i++) {
        seed = seed * 1103515245 + 12345;
        int r = catcher((int)((seed >> 16) % 5), (int)((seed >> 8) % 3));
        if (r != -100) {
            fprintf(stderr, "stress: a recovered panic did not return through MR_FRAME (%d)\n", r);
            abort();
        }
    }
}

int main(int argc, char **argv)
{
    if (argc > 1)
        iterations = atoi(argv[1]);
    mr_wg_add(&wg, GOROUTINES);
    for (uintptr_t i = 0; i < GOROUTINES; i++)
        mr_go(worker, (void *)(i * 7919 + 1));
    mr_wg_wait(&wg);
    /* Let the goroutines finish exiting (runtime.NumGoroutine), so that a
     * leak checker finds no thread half-way out. */
    for (int i = 0; i < 5000 && mr_numgoroutine() > 1; i++)
        usleep(1000);
    long want = atomic_load(&expected_defers), ran = atomic_load(&deferred_runs);
    long rec = atomic_load(&recovered), want_rec = atomic_load(&expected_recovers);
    printf("stress: %d goroutines x %d: %ld/%ld deferred calls ran, %ld/%ld panics recovered\n", GOROUTINES,
           iterations, ran, want, rec, want_rec);
    return ran == want && rec == want_rec ? 0 : 1;
}
