/*
 * glib_shared_table — a pool of worker threads shares a GHashTable cache
 * of rendered pages, without a lock.
 *
 * Each worker looks a page up and, on a miss, renders it and inserts it,
 * evicting a page first when the cache is full (there are more pages
 * than room).  One at a time this is correct; four workers at once
 * corrupt the table: run plainly, the program crashes inside GLib, hangs,
 * or ends with a damaged cache, a little differently every time.  It is
 * an ordinary GLib program with plain pthreads, built without anything
 * from maprace; under
 *
 *     maprace ./glib_shared_table
 *
 * it stops at the first overlap with Go's report, naming the worker's
 * lookup, insert or eviction line, the line that made the table and the
 * lines that started both threads ("created by main in goroutine 1"):
 *
 *     fatal error: concurrent map writes     (or: ... read and map write)
 *
 * Exit status 2.  With the argument "locked" the cache takes a GMutex and
 * the program ends with a full cache, every page in it intact, under
 * maprace too.
 */
#include <glib.h>
#include <stdbool.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

enum { WORKERS = 4, REQUESTS = 50000, PAGES = 20000, CAPACITY = 2000 };

static GHashTable *cache; /* page number -> rendered page; shared */
static GMutex cache_lock;
static gboolean locked;   /* without it: the bug */

static char *render(int page)
{
    return g_strdup_printf("<html>page %d</html>", page);
}

/* The page whose turn it is to leave a full cache: one half the pages
 * away, or any page if that one is not cached. */
static gpointer victim(int page)
{
    gpointer far = GINT_TO_POINTER((page + PAGES / 2) % PAGES + 1);
    if (g_hash_table_contains(cache, far))
        return far;
    GHashTableIter it;
    gpointer k = NULL;
    g_hash_table_iter_init(&it, cache);
    g_hash_table_iter_next(&it, &k, NULL);
    return k;
}

static void cached_page(int page)
{
    gpointer key = GINT_TO_POINTER(page + 1);
    if (locked)
        g_mutex_lock(&cache_lock);
    if (g_hash_table_lookup(cache, key) == NULL) {
        if (g_hash_table_size(cache) >= CAPACITY)
            g_hash_table_remove(cache, victim(page)); /* evict */
        g_hash_table_insert(cache, key, render(page));
    }
    if (locked)
        g_mutex_unlock(&cache_lock);
}

static void *worker(void *arg)
{
    int id = GPOINTER_TO_INT(arg);
    for (int i = 0; i < REQUESTS; i++)
        cached_page((i * 7 + id * 1231) % PAGES);
    return NULL;
}

int main(int argc, char **argv)
{
    locked = argc > 1 && strcmp(argv[1], "locked") == 0;
    printf("glib_shared_table: %d workers share one GHashTable%s...\n", WORKERS, locked ? " under a GMutex" : "");
    fflush(stdout);
    cache = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
    pthread_t th[WORKERS];
    for (int i = 0; i < WORKERS; i++)
        pthread_create(&th[i], NULL, worker, GINT_TO_POINTER(i));
    for (int i = 0; i < WORKERS; i++)
        pthread_join(th[i], NULL);
    /* Every cached page must be its own rendering, and the cache full. */
    int intact = 0, size = (int)g_hash_table_size(cache);
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, cache);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        char *want = render(GPOINTER_TO_INT(k) - 1);
        intact += strcmp(v, want) == 0;
        g_free(want);
    }
    bool good = intact == size && size == CAPACITY;
    printf("glib_shared_table: %d pages cached, %s\n", size, good ? "every one intact" : "the cache is damaged");
    g_hash_table_unref(cache);
    return good ? 0 : 1;
}
