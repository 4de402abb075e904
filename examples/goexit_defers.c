/*
 * goexit_defers — runtime.Goexit runs the goroutine's deferred calls, last
 * deferred first, across all its frames, then ends only that goroutine;
 * recover returns nil during Goexit.  Prints the calls in LIFO order and
 * "main goes on"; exit status 0.
 */
#include <maprt_defer.h>
#include <maprt_go.h>

#include <stdio.h>

static mr_waitgroup wg = MR_WAITGROUP_INIT;

static void say(void *msg) { printf("%s\n", (const char *)msg); }
static void done(void *arg) { (void)arg; mr_wg_done(&wg); }
static void try_recover(void *arg)
{
    (void)arg;
    printf("recover during Goexit: %s\n", mr_value_is_nil(mr_recover()) ? "nil" : "a value");
}

static void inner(void)
{
    MR_FRAME(return);
    mr_defer(say, "inner: deferred 1");
    mr_defer(try_recover, NULL);
    mr_defer(say, "inner: deferred 2");
    mr_goexit();
}

static void worker(void *arg)
{
    (void)arg;
    MR_FRAME(return);
    mr_defer(done, NULL);
    mr_defer(say, "worker: deferred");
    inner();
    say("not reached");
}

int main(void)
{
    mr_wg_add(&wg, 1);
    mr_go(worker, NULL);
    mr_wg_wait(&wg);
    printf("main goes on\n");
    return 0;
}
