/*
 * go_child — Go's defer/panic/recover/Goexit facts as scenarios, run as
 * child processes by t_defer (each prints what it does on stdout; reports
 * go to stderr).
 */
#include <maprt.h>
#include <maprt_defer.h>
#include <maprt_go.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void say(void *msg)
{
    printf("%s\n", (const char *)msg);
    fflush(stdout);
}

static void say_int(void *p)
{
    printf("arg %d\n", *(int *)p);
    fflush(stdout);
}

/* ---- defer ------------------------------------------------------------------ */

static int lifo(int path)
{
    MR_FRAME(return -1);
    mr_defer(say, "defer 1");
    mr_defer(say, "defer 2");
    if (path == 1)
        return 1;
    mr_defer(say, "defer 3");
    if (path == 2)
        return 2;
    for (int i = 0; i < 3; i++) {
        if (i == 1)
            return 10 + i;
    }
    return 0;
}

static void args_at_defer_time(void)
{
    MR_FRAME(return);
    int x = 1;
    mr_defer_copy(say_int, &x, sizeof x);
    x = 2;
    mr_defer_copy(say_int, &x, sizeof x);
    x = 3;
}

/* ---- recover ---------------------------------------------------------------- */

static void recoverer(void *arg)
{
    (void)arg;
    mr_value r = mr_recover();
    char buf[128];
    printf("recovered: %s (kind %d)\n", mr_value_is_nil(r) ? "nil" : mr_value_string(r, buf, sizeof buf), r.kind);
    fflush(stdout);
}

/* noinline: an inlined helper is indistinguishable from the deferred
 * function itself (see maprt_defer.h). */
__attribute__((noinline)) static void recover_in_helper_inner(void)
{
    mr_value r = mr_recover();
    printf("helper's recover: %s\n", mr_value_is_nil(r) ? "nil" : "a value");
    fflush(stdout);
}

static void recover_via_helper(void *arg)
{
    (void)arg;
    recover_in_helper_inner();
}

static int panics_and_recovers(void)
{
    MR_FRAME(return -1);
    mr_defer(say, "f: first deferred (runs last)");
    mr_defer(recoverer, NULL);
    mr_defer(say, "f: deferred after recoverer (runs first)");
    mr_panic_str("boom");
    return 0;
}

static int nilmap_recovered(void)
{
    MR_FRAME(return -7);
    mr_defer(recoverer, NULL);
    mr_map *m = NULL;
    int64_t k = 1;
    *(int64_t *)mr_mapassign(&mr_type_i64_i64, m, &k) = 1;
    return 0;
}

static void repanic(void *arg)
{
    (void)arg;
    mr_value r = mr_recover();
    mr_panic(r);
}

static void second_panic(void *arg)
{
    (void)arg;
    mr_panic_str("second");
}

struct my_error {
    mr_error err;
    int code;
};
static const char *my_error_message(const mr_error *e)
{
    static char buf[64];
    snprintf(buf, sizeof buf, "custom failure %d", ((const struct my_error *)e)->code);
    return buf;
}

/* ---- goroutines ------------------------------------------------------------- */

static mr_waitgroup wg = MR_WAITGROUP_INIT;

static void done(void *arg)
{
    mr_wg_done(arg);
}

static void goexit_inner(void)
{
    MR_FRAME(return);
    mr_defer(say, "inner deferred");
    mr_defer(recoverer, NULL); /* during Goexit, recover gives nil */
    mr_goexit();
}

static void goexit_goroutine(void *arg)
{
    (void)arg;
    MR_FRAME(return);
    mr_defer(done, &wg);
    mr_defer(say, "outer deferred");
    goexit_inner();
    say("not reached");
}

static void slow_goroutine(void *arg)
{
    (void)arg;
    usleep(100000);
    say("other goroutine done");
}

static void panicking_goroutine(void *arg)
{
    (void)arg;
    MR_FRAME(return);
    mr_defer(say, "goroutine deferred");
    mr_panic_str("goroutine boom");
}

static mr_map *shared;
static mr_mutex mu = MR_MUTEX_INIT;

static void racing_writer(void *arg)
{
    int64_t base = (int64_t)(intptr_t)arg;
    for (uint64_t i = 0;; i++) {
        int64_t k = base + (int64_t)(i % 64);
        *(int64_t *)mr_mapassign(&mr_type_i64_i64, shared, &k) = (int64_t)i;
    }
}

static void racing_with_recover(void *arg)
{
    MR_FRAME(return);
    mr_defer(say, "deferred in racing goroutine (must not run)");
    mr_defer(recoverer, NULL);
    racing_writer(arg);
}

static void blocked_on_wait(void *arg)
{
    (void)arg;
    static mr_waitgroup never = MR_WAITGROUP_INIT;
    mr_wg_add(&never, 1);
    mr_wg_done(&wg);
    mr_wg_wait(&never);
    say("not reached"); /* (also keeps the wait from being a tail call) */
}

static void blocked_on_mutex(void *arg)
{
    (void)arg;
    mr_wg_done(&wg);
    mr_mutex_lock(&mu);
    say("not reached");
}

/* A goroutine that blocks the capture signal cannot be asked for its
 * stack: the report must note it and not wait forever. */
static void deaf_goroutine(void *arg)
{
    (void)arg;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGURG);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    mr_wg_done(&wg);
    for (;;)
        pause();
}

static mr_frame *stale_frame;
static void leaves_frame(void)
{
    MR_FRAME(return);
    stale_frame = &mr_frame_;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: go_child SCENARIO\n");
        return 64;
    }
    const char *s = argv[1];
    if (strcmp(s, "lifo") == 0) {
        for (int path = 1; path <= 3; path++)
            printf("returned %d\n", lifo(path));
    } else if (strcmp(s, "args") == 0) {
        args_at_defer_time();
    } else if (strcmp(s, "panic-str") == 0 || strcmp(s, "panic-int") == 0 || strcmp(s, "panic-err") == 0) {
        MR_FRAME(return 0);
        mr_defer(say, "main deferred");
        static struct my_error e = {{my_error_message}, 7};
        if (s[6] == 's')
            mr_panic_str("boom");
        else if (s[6] == 'i')
            mr_panic_int(42);
        else
            mr_panic_err(&e.err);
    } else if (strcmp(s, "recover") == 0) {
        printf("f returned %d\n", panics_and_recovers());
        printf("main goes on\n");
    } else if (strcmp(s, "recover-helper") == 0) {
        MR_FRAME(return 0);
        mr_defer(recover_via_helper, NULL);
        mr_panic_str("boom");
    } else if (strcmp(s, "recover-normal") == 0) {
        mr_value r = mr_recover();
        printf("recover outside a deferred call: %s\n", mr_value_is_nil(r) ? "nil" : "a value");
        MR_FRAME(return 0);
        mr_defer(recoverer, NULL); /* runs at normal return: nil */
        return 0;
    } else if (strcmp(s, "nested") == 0) {
        MR_FRAME(return 0);
        mr_defer(say, "outer deferred");
        mr_defer(second_panic, NULL);
        mr_panic_str("first");
    } else if (strcmp(s, "repanic") == 0) {
        MR_FRAME(return 0);
        mr_defer(repanic, NULL);
        mr_panic_str("boom");
    } else if (strcmp(s, "nilmap-recover") == 0) {
        printf("f returned %d\n", nilmap_recovered());
    } else if (strcmp(s, "nilmap-panic") == 0) {
        MR_FRAME(return 0);
        mr_defer(say, "main deferred");
        mr_map *m = NULL;
        int64_t k = 1;
        mr_mapassign(&mr_type_i64_i64, m, &k);
    } else if (strcmp(s, "goexit") == 0) {
        mr_wg_add(&wg, 1);
        mr_go(goexit_goroutine, NULL);
        mr_wg_wait(&wg);
        printf("main goes on\n");
    } else if (strcmp(s, "goexit-main") == 0) {
        MR_FRAME(return 0);
        mr_defer(say, "main deferred");
        mr_go(slow_goroutine, NULL);
        mr_goexit();
    } else if (strcmp(s, "panic-goroutine") == 0) {
        MR_FRAME(return 0);
        mr_defer(say, "main deferred (must not run)");
        mr_go(panicking_goroutine, NULL);
        sleep(10);
    } else if (strcmp(s, "fatal-no-defers") == 0) {
        shared = mr_makemap(&mr_type_i64_i64, 0);
        mr_go(racing_with_recover, (void *)(intptr_t)0);
        mr_go(racing_with_recover, (void *)(intptr_t)32);
        sleep(10);
    } else if (strcmp(s, "statuses") == 0) {
        shared = mr_makemap(&mr_type_i64_i64, 0);
        mr_mutex_lock(&mu);
        mr_wg_add(&wg, 2);
        mr_go(blocked_on_wait, NULL);
        mr_go(blocked_on_mutex, NULL);
        mr_wg_wait(&wg);
        usleep(50000); /* let them block */
        mr_go(racing_writer, (void *)(intptr_t)0);
        mr_go(racing_writer, (void *)(intptr_t)32);
        sleep(10);
    } else if (strcmp(s, "deaf") == 0) {
        shared = mr_makemap(&mr_type_i64_i64, 0);
        mr_wg_add(&wg, 1);
        mr_go(deaf_goroutine, NULL);
        mr_wg_wait(&wg);
        mr_go(racing_writer, (void *)(intptr_t)0);
        mr_go(racing_writer, (void *)(intptr_t)32);
        sleep(10);
    } else if (strcmp(s, "stale-frame") == 0) {
        leaves_frame();
        mr_defer_(stale_frame, say, "x", NULL, 0);
    } else if (strcmp(s, "unlock-unlocked") == 0) {
        mr_mutex m = MR_MUTEX_INIT;
        mr_mutex_unlock(&m);
    } else if (strcmp(s, "wg-negative") == 0) {
        mr_waitgroup w = MR_WAITGROUP_INIT;
        mr_wg_done(&w);
    } else {
        fprintf(stderr, "go_child: unknown scenario '%s'\n", s);
        return 64;
    }
    return 0;
}
