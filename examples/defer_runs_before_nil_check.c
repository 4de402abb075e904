/*
 * defer_runs_before_nil_check — a function taking a pointer to a map
 * variable defers a print, then returns early when the pointer is nil:
 * the deferred call still runs (every return runs them).
 * Prints "deferred", exit status 0.
 */
#include <maprt.h>
#include <maprt_defer.h>

#include <stdio.h>

static void print(void *msg) { printf("%s\n", (const char *)msg); }

static void update(mr_map **m)
{
    MR_FRAME(return);
    mr_defer(print, "deferred");
    if (m == NULL)
        return;
    int64_t k = 1;
    *(int64_t *)mr_mapassign(&mr_type_i64_i64, *m, &k) = 1;
}

int main(void)
{
    update(NULL);
    return 0;
}
