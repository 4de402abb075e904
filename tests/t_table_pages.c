/*
 * t_table_pages — the default allocation hook's large bucket arrays
 * (runtime/table_pages.c): a freed array is handed out again, zeroed, for
 * a table of the same size; at most two are kept, never one smaller than
 * a table asked for since, and never past the bound on what is kept.
 *
 * Whether an array was given back to the system is read from the mapping
 * itself: msync on an address no longer mapped fails with ENOMEM.
 */
#include "tap.h"

#include <maprt_hooks.h>

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#define MB ((size_t)1 << 20)

static void *take(size_t size)
{
    void *p = mr_hook_alloc(MR_ALLOC_BUCKETS, size, NULL);
    if (p == NULL)
        bail("no memory for a table of %zu bytes", size);
    return p;
}

static void give(void *p, size_t size)
{
    mr_hook_free(MR_ALLOC_BUCKETS, p, size, NULL);
}

static bool mapped(void *p, size_t size)
{
    return msync(p, size, MS_ASYNC) == 0 || errno != ENOMEM;
}

static bool zeroed(const unsigned char *p, size_t size)
{
    for (size_t i = 0; i < size; i++)
        if (p[i] != 0)
            return false;
    return true;
}

static void *churn(void *arg)
{
    size_t size = (size_t)(uintptr_t)arg;
    bool good = true;
    for (int i = 0; i < 200; i++) {
        unsigned char *p = take(size);
        good &= p[0] == 0 && p[size / 2] == 0 && p[size - 1] == 0;
        memset(p, 0x5a, size);
        give(p, size);
    }
    return (void *)(uintptr_t)good;
}

int main(void)
{
    /* Sizes that are not whole 2 MiB pages: the mapping is rounded up,
     * the zeroing covers what was asked for. */
    size_t a = 6 * MB + 4096, b = 10 * MB + 100, c = 14 * MB;

    unsigned char *p = take(a);
    ok(((uintptr_t)p & (2 * MB - 1)) == 0 && zeroed(p, a), "a large table: 2 MiB aligned, zeroed");
    memset(p, 0xab, a);
    give(p, a);
    unsigned char *q = take(a);
    ok(q == p && zeroed(q, a), "freed, then asked for at the same size: the same array, zeroed again");

    /* Two kept, each for its own size. */
    unsigned char *r = take(b);
    memset(q, 1, a);
    memset(r, 2, b);
    give(q, a);
    give(r, b);
    ok(mapped(q, a) && mapped(r, b), "two arrays freed: both kept");
    unsigned char *r2 = take(b), *q2 = take(a);
    ok(r2 == r && q2 == q && zeroed(r2, b) && zeroed(q2, a), "each handed out again for its own size, zeroed");

    /* A third one freed takes the place of the smallest. */
    unsigned char *s = take(c);
    give(q2, a);
    give(r2, b);
    give(s, c);
    ok(!mapped(q2, a) && mapped(r2, b) && mapped(s, c), "a third freed: the smallest kept array is unmapped");

    /* A larger table asked for: the smaller kept ones go (a growing map
     * never asks for them again, and must not keep them to its peak). */
    size_t d = 20 * MB;
    unsigned char *t = take(d);
    ok(t != r2 && t != s && !mapped(r2, b) && !mapped(s, c),
       "a larger table asked for: the smaller kept arrays are unmapped, none is handed out for it");
    give(t, d);

    /* Past the bound on what is kept (untouched, so only address space). */
    size_t huge = 600 * MB;
    unsigned char *u = take(huge);
    give(u, huge);
    ok(!mapped(u, huge), "an array larger than the bound on what is kept: unmapped at once");

    /* From several threads at once, each asking for its own size. */
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&th[i], NULL, churn, (void *)(uintptr_t)((4 + 2 * (size_t)i) * MB));
    bool good = true;
    for (int i = 0; i < 4; i++) {
        void *res;
        pthread_join(th[i], &res);
        good &= res != NULL;
    }
    ok(good, "four threads taking and freeing arrays 200 times each: every one handed out zeroed");
    return tap_done();
}
