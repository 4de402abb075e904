/*
 * nil_map_assign — assignment to a nil map panics (it is not a fatal
 * error, and it is recoverable).
 *
 *     nil_map_assign            panic: assignment to entry in nil map
 *                               (the function's deferred call runs first), exit 2
 *     nil_map_assign recover    a deferred call recovers the runtime error;
 *                               the function returns normally, exit 0
 */
#include <maprt.h>
#include <maprt_defer.h>

#include <stdio.h>
#include <string.h>

static void note(void *msg) { printf("%s\n", (const char *)msg); }

static void recover_and_report(void *arg)
{
    (void)arg;
    mr_value r = mr_recover();
    char buf[128];
    if (!mr_value_is_nil(r))
        printf("recovered: %s\n", mr_value_string(r, buf, sizeof buf));
}

static int store(mr_map *m, int64_t k, int64_t v, int recover)
{
    MR_FRAME(return -1);
    mr_defer(note, "store: deferred call ran");
    if (recover)
        mr_defer(recover_and_report, NULL);
    *(int64_t *)mr_mapassign(&mr_type_i64_i64, m, &k) = v; /* m is nil */
    return 0;
}

int main(int argc, char **argv)
{
    int recover = argc > 1 && strcmp(argv[1], "recover") == 0;
    mr_map *m = NULL; /* var m map[int64]int64 */
    int rc = store(m, 1, 2, recover);
    printf("store returned %d\n", rc);
    return 0;
}
