/*
 * demo_race — two threads write one map without a lock.
 *
 * Each thread is a goroutine to the runtime.  Both write to the same map;
 * the first write that finds the other's write claim still held ends the
 * program with Go's report, exactly as Go does for the same program:
 *
 *     fatal error: concurrent map writes
 *
 * and exit status 2.  Nothing after the race runs: not the rest of main,
 * not the atexit handlers.
 */
#include <maprt.h>

#include <pthread.h>
#include <stdio.h>

static mr_map *counts; /* map[int64]int64, shared without a lock: the bug */

static void *count_words(void *arg)
{
    int64_t base = (int64_t)(intptr_t)arg;
    for (int64_t i = 0; i < 100000000; i++) {
        int64_t word = base + i % 1000;
        *(int64_t *)mr_mapassign(&mr_type_i64_i64, counts, &word) += 1;
    }
    return NULL;
}

int main(void)
{
    printf("demo_race: two threads increment counters in one map, no lock...\n");
    fflush(stdout);
    counts = mr_makemap(&mr_type_i64_i64, 0);
    pthread_t a, b;
    pthread_create(&a, NULL, count_words, (void *)(intptr_t)0);
    pthread_create(&b, NULL, count_words, (void *)(intptr_t)500);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    printf("demo_race: finished without a report (this should not happen)\n");
    mr_mapfree(&mr_type_i64_i64, counts);
    return 0;
}
