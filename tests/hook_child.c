/*
 * hook_child — does a known set of things, so that t_hooks can compare
 * what hookspy (LD_PRELOAD) saw with what happened.
 *
 *   hook_child events   maps, goroutines, deferred calls, touches; dumps
 *   hook_child race     two goroutines race: the report hook is called
 */

#include <maprt.h>
#include <maprt_defer.h>
#include <maprt_go.h>

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const mr_maptype *T = &mr_type_i64_i64;
static mr_map *m1;
static mr_waitgroup wg = MR_WAITGROUP_INIT;

static void touch_twice(void *arg)
{
    int64_t k = (int64_t)(intptr_t)arg;
    *(int64_t *)mr_mapassign(T, m1, &k) = k; /* touch 1: assign */
    mr_mapdelete(T, m1, &k);                  /* touch 2: delete */
}

static void recover_it(void *arg)
{
    (void)arg;
    mr_recover();
}

static void with_defers(void)
{
    MR_FRAME(return);
    mr_defer(touch_twice, (void *)1);
    mr_defer(touch_twice, (void *)2);
    mr_defer(touch_twice, (void *)3);
}

static int panics(void)
{
    MR_FRAME(return -1);
    mr_defer(recover_it, NULL);
    mr_panic_str("x");
}

static void goroutine(void *arg)
{
    (void)arg;
    mr_wg_done(&wg);
}

static void racer(void *arg)
{
    for (int64_t i = 0;; i++) {
        int64_t k = (int64_t)(intptr_t)arg + i % 64;
        *(int64_t *)mr_mapassign(T, m1, &k) = i;
    }
}

int main(int argc, char **argv)
{
    void (*dump)(void) = (void (*)(void))dlsym(RTLD_DEFAULT, "hookspy_dump");
    long (*count)(const char *) = (long (*)(const char *))dlsym(RTLD_DEFAULT, "hookspy_count");
    if (dump == NULL || count == NULL) {
        fprintf(stderr, "hook_child: run me with LD_PRELOAD=libhookspy.so\n");
        return 64;
    }
    m1 = mr_makemap(T, 0);
    if (argc > 1 && strcmp(argv[1], "race") == 0) {
        mr_go(racer, (void *)0);
        mr_go(racer, (void *)32);
        sleep(20);
        return 3;
    }
    mr_map *m2 = mr_makemap(T, 100);
    mr_map *m3 = mr_makemap(&mr_type_str_i64, 0);
    for (int64_t i = 0; i < 1000; i++) /* growth: bucket arrays, overflow buckets */
        *(int64_t *)mr_mapassign(T, m2, &i) = i;
    int64_t k = 5;
    (void)mr_mapaccess1(T, m1, &k);  /* outside deferred calls: no touch */
    with_defers();                   /* 3 deferred calls, 6 touches */
    (void)panics();                  /* 1 deferred call run by a panic */
    mr_wg_add(&wg, 2);
    mr_go(goroutine, NULL);
    mr_go(goroutine, NULL);
    mr_wg_wait(&wg);
    for (int i = 0; i < 2000 && count("goroutine_exit") < 2; i++)
        usleep(1000);
    mr_mapfree(T, m2);
    mr_mapfree(&mr_type_str_i64, m3);
    dump();
    return 0;
}
