/*
 * bench_glib — a race-free, GHashTable-heavy program, the yardstick for
 * what libmaprace.so costs an unmodified GLib program (make bench).
 *
 *     bench_glib [SCALE]
 *
 * Four threads, each with a table of its own (insert, lookup hit and
 * miss, replace, remove, a foreach), and one table shared by all under a
 * GMutex.  Prints the wall time in milliseconds.  SCALE (default 1)
 * multiplies the work; the slow tools get a smaller one.
 */
#include <glib.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

enum { THREADS = 4, KEYS = 50000 };

static GHashTable *shared;
static GMutex shared_lock;
static int scale = 1;

static void sum_value(gpointer k, gpointer v, gpointer acc)
{
    *(long *)acc += GPOINTER_TO_INT(v);
}

static void *work(void *arg)
{
    long acc = 0;
    for (int round = 0; round < 4 * scale; round++) {
        GHashTable *own = g_hash_table_new(g_direct_hash, g_direct_equal);
        for (int i = 1; i <= KEYS; i++)
            g_hash_table_insert(own, GINT_TO_POINTER(i), GINT_TO_POINTER(i));
        for (int pass = 0; pass < 4; pass++)
            for (int i = 1; i <= KEYS; i++)
                acc += GPOINTER_TO_INT(g_hash_table_lookup(own, GINT_TO_POINTER(i + pass * KEYS / 2)));
        for (int i = 1; i <= KEYS; i += 2)
            g_hash_table_replace(own, GINT_TO_POINTER(i), GINT_TO_POINTER(-i));
        g_hash_table_foreach(own, sum_value, &acc);
        for (int i = 1; i <= KEYS; i++)
            g_hash_table_remove(own, GINT_TO_POINTER(i));
        g_hash_table_unref(own);
        for (int i = 0; i < KEYS / 50; i++) {
            g_mutex_lock(&shared_lock);
            g_hash_table_insert(shared, GINT_TO_POINTER(i + 1), arg);
            acc += g_hash_table_contains(shared, GINT_TO_POINTER(i / 2 + 1));
            g_mutex_unlock(&shared_lock);
        }
    }
    return (void *)acc;
}

int main(int argc, char **argv)
{
    if (argc > 1)
        scale = atoi(argv[1]) > 0 ? atoi(argv[1]) : 1;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    shared = g_hash_table_new(g_direct_hash, g_direct_equal);
    pthread_t th[THREADS];
    for (long i = 0; i < THREADS; i++)
        pthread_create(&th[i], NULL, work, (void *)i);
    long total = 0;
    for (int i = 0; i < THREADS; i++) {
        void *r;
        pthread_join(th[i], &r);
        total += (long)r;
    }
    g_hash_table_unref(shared);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("%.1f\n", (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6);
    fprintf(stderr, "bench_glib: checksum %ld\n", total);
    return 0;
}
