/*
 * glib_shared_table — a pool of worker threads shares a GHashTable cache
 * of rendered pages, without a lock.
 *
 * Each worker looks a page up and, on a miss, renders it and inserts it.
 * One at a time this is correct; four workers at once corrupt the table:
 * run plainly, the program crashes inside GLib, hangs, or silently loses
 * pages, a little differently every time.  It is an ordinary GLib program
 * with plain pthreads, built without anything from maprace; under
 *
 *     maprace ./glib_shared_table
 *
 * it stops at the first overlap with Go's report, naming the worker's
 * lookup or insert line, the line that made the table and the lines that
 * started both threads ("created by main in goroutine 1"):
 *
 *     fatal error: concurrent map writes     (or: ... read and map write)
 *
 * Exit status 2.  With the argument "locked" the cache takes a GMutex and
 * the program reports every page found, under maprace too.
 */
#include <glib.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

enum { WORKERS = 4, REQUESTS = 200000, PAGES = 5000 };

static GHashTable *cache; /* page number -> rendered page; shared */
static GMutex cache_lock;
static gboolean locked;   /* without it: the bug */

static char *render(int page)
{
    return g_strdup_printf("<html>page %d</html>", page);
}

static void cached_page(int page)
{
    gpointer key = GINT_TO_POINTER(page + 1);
    if (locked)
        g_mutex_lock(&cache_lock);
    if (g_hash_table_lookup(cache, key) == NULL)
        g_hash_table_insert(cache, key, render(page));
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
    int found = 0;
    for (int page = 0; page < PAGES; page++)
        found += g_hash_table_lookup(cache, GINT_TO_POINTER(page + 1)) != NULL;
    printf("glib_shared_table: %d of %d pages cached%s\n", found, PAGES,
           found == PAGES ? ", every one found" : ": pages were lost");
    g_hash_table_unref(cache);
    return found == PAGES ? 0 : 1;
}
