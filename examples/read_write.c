/*
 * read_write — one goroutine reads a map while another writes it.
 *
 * A cache is filled by a refresher goroutine while the main goroutine
 * serves lookups from it, without a lock.  Expected:
 *
 *     fatal error: concurrent map read and map write
 *
 * with the reader [running] first and the writer marked
 * [running, writing map].  Exit status 2.
 */
#include <maprt.h>
#include <maprt_go.h>

#include <stdio.h>

static mr_map *cache; /* map[int64]int64 */

static void refresh(void *arg)
{
    (void)arg;
    for (int64_t gen = 0;; gen++)
        for (int64_t k = 0; k < 1000; k++)
            *(int64_t *)mr_mapassign(&mr_type_i64_i64, cache, &k) = gen;
}

int main(void)
{
    printf("read_write: lookups while a refresher writes the cache...\n");
    fflush(stdout);
    cache = mr_makemap(&mr_type_i64_i64, 1000);
    mr_go(refresh, NULL);
    int64_t hits = 0;
    for (int64_t i = 0; i < 2000000000; i++) {
        int64_t k = i % 1000;
        hits += *(int64_t *)mr_mapaccess1(&mr_type_i64_i64, cache, &k) != 0;
    }
    printf("read_write: no report (%lld hits)\n", (long long)hits);
    return 0;
}
