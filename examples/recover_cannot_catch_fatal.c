/*
 * recover_cannot_catch_fatal — concurrent map writes inside a function
 * with a recovering deferred call: a fatal error is not a panic, recover
 * cannot stop it, and no deferred call runs.
 *
 *     fatal error: concurrent map writes        exit status 2,
 *                                               "recovered"/"deferred" never printed
 */
#include <maprt.h>
#include <maprt_defer.h>
#include <maprt_go.h>

#include <stdio.h>
#include <unistd.h>

static mr_map *m;

static void try_recover(void *arg)
{
    (void)arg;
    if (!mr_value_is_nil(mr_recover()))
        printf("recovered (this must not happen)\n");
    printf("deferred call ran (this must not happen)\n");
}

static void writer(void *arg)
{
    MR_FRAME(return);
    mr_defer(try_recover, NULL);
    for (int64_t i = 0;; i++) {
        int64_t k = (int64_t)(intptr_t)arg + i % 100;
        *(int64_t *)mr_mapassign(&mr_type_i64_i64, m, &k) = i;
    }
}

int main(void)
{
    m = mr_makemap(&mr_type_i64_i64, 0);
    mr_go(writer, (void *)(intptr_t)0);
    mr_go(writer, (void *)(intptr_t)50);
    sleep(30);
    return 0;
}
