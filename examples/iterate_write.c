/*
 * iterate_write — one goroutine ranges over a map while another writes it.
 *
 * A metrics reporter walks the counters while workers keep incrementing
 * them.  Expected:
 *
 *     fatal error: concurrent map iteration and map write
 *
 * with the iterating goroutine [running] first.  Exit status 2.
 */
#include <maprt.h>
#include <maprt_go.h>

#include <stdio.h>

static mr_map *counters; /* map[int64]int64 */

static void work(void *arg)
{
    (void)arg;
    for (int64_t i = 0;; i++) {
        int64_t k = i % 500;
        *(int64_t *)mr_mapassign(&mr_type_i64_i64, counters, &k) += 1;
    }
}

int main(void)
{
    printf("iterate_write: reporting counters while a worker updates them...\n");
    fflush(stdout);
    counters = mr_makemap(&mr_type_i64_i64, 0);
    for (int64_t k = 0; k < 500; k++)
        *(int64_t *)mr_mapassign(&mr_type_i64_i64, counters, &k) = 0;
    mr_go(work, NULL);
    for (int round = 0; round < 10000000; round++) {
        int64_t total = 0;
        mr_mapiter it;
        mr_mapiterinit(&mr_type_i64_i64, counters, &it);
        while (mr_mapiternext(&it))
            total += *(int64_t *)it.elem;
        (void)total;
    }
    printf("iterate_write: no report\n");
    return 0;
}
