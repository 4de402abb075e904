/*
 * glib_child — GLib and hsearch_r programs for t_glib.sh, built without
 * anything from maprace (run under maprace, they must be caught).
 *
 *     glib_child MODE
 *
 * writes    two threads insert into one GHashTable, no lock
 * read      one thread inserts, another looks up (keys already there)
 * readgrow  the same, the inserts growing the table under the lookups
 * foreach   one thread inserts, another walks with g_hash_table_foreach
 * iter      one thread inserts, another walks with a GHashTableIter
 * iterstep  a thread inserts one key between two steps of another's
 *           GHashTableIter walk, the two never in the table at once
 * iterexit  the same, and the inserting thread has exited (and been
 *           joined) before the walk takes its next step
 * crash     a lookup crashes inside GLib (a bad key for g_str_hash) while
 *           another thread writes the table without a lock
 * crashlocked  the same crash, the writer kept out by a lock the crashing
 *           thread holds: no race, the fault reported as libmaprt reports any
 * locked    four threads use one table under a GMutex: insert, lookup,
 *           remove, foreach, iterators; then every key is checked
 * gobject   GLib and GObject used by four threads that share no table
 *           (type registration keeps GHashTables of its own)
 * continue  as writes; run with halt_on_error=0: the table stays whole
 * hwrites   two threads enter into one hsearch_r table, no lock
 * hlocked   the same under a mutex
 * churn     tables made, shared under a lock and destroyed, many times
 * apart     two threads insert one key each into a GHashTable 2 ms apart,
 *           no lock (only happens-before sees it: t_hb.sh)
 * apartlocked  the same under a GMutex
 *
 * Lines the test looks for are marked with a comment: LINE(name).
 */
#include <glib-object.h>
#include <glib.h>
#include <pthread.h>
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { KEYS = 100000 };

static GHashTable *shared;
static GMutex mu;
static pthread_barrier_t ready;
static _Atomic int inserted; /* the inserters that are done */
static _Atomic int watching;  /* the reader or walker has begun its loop */
static int reader_mode;
static int reader_grows; /* readgrow: new keys, resizes under the reader */

/* Set once both threads of two() are made: an inserter starts after it,
 * so that main is found waiting in pthread_join, not still creating. */
static volatile int created;

static void *inserter(void *arg)
{
    int base = GPOINTER_TO_INT(arg);
    pthread_barrier_wait(&ready);
    while (!created)
        ;
    while (reader_mode && !watching) /* the reader modes: overlap in time */
        ;
    /* Against a reader, keep writing (for at most ~20 s) until it notices:
     * on a loaded machine a thread can be off the CPU for a whole pass.
     * Two inserters rewrite their keys for a few passes more, for the same
     * reason: with one pass each, in make check -j2 on two CPUs, one of
     * them now and then ran its whole pass while the other waited for a
     * CPU (about one run in 20 went unreported). */
    for (int pass = 0; pass < (reader_mode ? 2000 : 20); pass++)
        for (int i = 1; i <= KEYS; i++)
            g_hash_table_insert(shared, GINT_TO_POINTER(base + i), GINT_TO_POINTER(i)); /* LINE(insert) */
    inserted++;
    return NULL;
}

static void *looker(void *arg)
{
    (void)arg;
    pthread_barrier_wait(&ready);
    long hits = 0;
    watching = 1;
    while (!inserted)
        for (int i = 1; i <= KEYS; i++)
            hits += g_hash_table_lookup(shared, GINT_TO_POINTER(i)) != NULL; /* LINE(lookup) */
    return (void *)hits;
}

static void count_one(gpointer k, gpointer v, gpointer n)
{
    ++*(long *)n;
}

static void *walker(void *arg)
{
    (void)arg;
    pthread_barrier_wait(&ready);
    long n = 0;
    watching = 1;
    while (!inserted)
        g_hash_table_foreach(shared, count_one, &n); /* LINE(foreach) */
    return (void *)n;
}

static void *iterator(void *arg)
{
    (void)arg;
    pthread_barrier_wait(&ready);
    long n = 0;
    watching = 1;
    while (!inserted) {
        GHashTableIter it;
        gpointer k, v;
        g_hash_table_iter_init(&it, shared); /* LINE(iter_init) */
        while (g_hash_table_iter_next(&it, &k, &v)) /* LINE(iter_next) */
            n++;
    }
    return (void *)n;
}

/* iterstep: the insert falls whole between two steps of the walk (a
 * barrier orders them); GLib forbids any write during a walk but through
 * the iterator, so it is the walk's race whatever orders the two. */
static void *stepper(void *arg)
{
    (void)arg;
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, shared);
    g_hash_table_iter_next(&it, &k, &v);
    pthread_barrier_wait(&ready); /* the walk has begun */
    pthread_barrier_wait(&ready); /* the insert is over */
    long n = 0;
    while (g_hash_table_iter_next(&it, &k, &v)) /* LINE(iter_step) */
        n++;
    return (void *)n;
}

static void *step_inserter(void *arg)
{
    (void)arg;
    pthread_barrier_wait(&ready);
    g_hash_table_insert(shared, GINT_TO_POINTER(KEYS + 1), NULL); /* LINE(step_insert) */
    pthread_barrier_wait(&ready);
    return NULL;
}

/* The table the stepper walks, and the barrier its two waits meet. */
static void make_walked_table(void)
{
    shared = g_hash_table_new(g_direct_hash, g_direct_equal);
    for (int i = 1; i <= 100; i++)
        g_hash_table_insert(shared, GINT_TO_POINTER(i), GINT_TO_POINTER(i));
    pthread_barrier_init(&ready, NULL, 2);
}

static int iter_step(void)
{
    make_walked_table();
    pthread_t ta, tb;
    pthread_create(&ta, NULL, stepper, NULL);
    pthread_create(&tb, NULL, step_inserter, NULL);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    return 0;
}

/* iterexit: the stepper's two barriers are met by the inserter (the walk
 * has begun) and then by main, once the inserter has exited. */
static void *exiting_inserter(void *arg)
{
    (void)arg;
    pthread_barrier_wait(&ready);
    g_hash_table_insert(shared, GINT_TO_POINTER(KEYS + 1), NULL); /* LINE(exit_insert) */
    return NULL;
}

static int iter_exit(void)
{
    make_walked_table();
    pthread_t ta, tb;
    pthread_create(&ta, NULL, stepper, NULL);
    pthread_create(&tb, NULL, exiting_inserter, NULL);
    pthread_join(tb, NULL);
    pthread_barrier_wait(&ready); /* the inserter is gone: the walk goes on */
    pthread_join(ta, NULL);
    return 0;
}

/* crash, crashlocked: a crash inside a table call. */
static int crash_locked;

static void *string_writer(void *arg)
{
    (void)arg;
    char key[32];
    watching = 1;
    for (unsigned i = 0;; i++) {
        snprintf(key, sizeof key, "k%u", i % 1000);
        if (crash_locked)
            g_mutex_lock(&mu);
        g_hash_table_replace(shared, g_strdup(key), NULL); /* LINE(string_write) */
        if (crash_locked)
            g_mutex_unlock(&mu);
        else
            usleep(1000); /* mostly between writes: the lookup gets in, and faults */
    }
    return NULL;
}

static int crash(int locked)
{
    crash_locked = locked;
    shared = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    pthread_t t;
    pthread_create(&t, NULL, string_writer, NULL);
    while (!watching)
        ;
    if (locked)
        g_mutex_lock(&mu);
    /* A pointer that is no string: g_str_hash faults on it, inside GLib. */
    return g_hash_table_lookup(shared, (const char *)16) != NULL; /* LINE(bad_lookup) */
}

static int two(void *(*a)(void *), void *(*b)(void *))
{
    shared = g_hash_table_new(g_direct_hash, g_direct_equal); /* LINE(new) */
    /* Against a reader the inserter rewrites keys already there: a race
     * still, but no resize, whose freed arrays could crash the reader
     * inside GLib before any check sees the writer. */
    for (int i = 1; reader_mode && !reader_grows && i <= KEYS; i++)
        g_hash_table_insert(shared, GINT_TO_POINTER(i), GINT_TO_POINTER(i));
    pthread_barrier_init(&ready, NULL, 2);
    pthread_t ta, tb;
    pthread_create(&ta, NULL, a, GINT_TO_POINTER(0)); /* LINE(create_a) */
    pthread_create(&tb, NULL, b, GINT_TO_POINTER(KEYS)); /* LINE(create_b) */
    created = 1;
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    return 0;
}

/* ---- correct programs ----------------------------------------------------------- */

static void *locked_worker(void *arg)
{
    int id = GPOINTER_TO_INT(arg);
    for (int i = 0; i < 20000; i++) {
        gpointer k = GINT_TO_POINTER(id * 100000 + i + 1);
        g_mutex_lock(&mu);
        g_hash_table_insert(shared, k, k);
        if (g_hash_table_lookup(shared, k) != k)
            abort();
        if (i % 3 == 0)
            g_hash_table_remove(shared, k);
        if (i % 5000 == 0) {
            long n = 0;
            g_hash_table_foreach(shared, count_one, &n);
            GHashTableIter it;
            gpointer kk, vv;
            g_hash_table_iter_init(&it, shared);
            while (g_hash_table_iter_next(&it, &kk, &vv))
                n--;
            if (n != 0)
                abort();
        }
        g_mutex_unlock(&mu);
    }
    return NULL;
}

static int locked(void)
{
    shared = g_hash_table_new(g_direct_hash, g_direct_equal);
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&th[i], NULL, locked_worker, GINT_TO_POINTER(i));
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    unsigned want = 4 * (20000 - (20000 + 2) / 3), have = g_hash_table_size(shared);
    printf("locked: %u keys, %u expected\n", have, want);
    g_hash_table_unref(shared);
    return have == want ? 0 : 1;
}

static void *gobject_worker(void *arg)
{
    char name[32];
    snprintf(name, sizeof name, "ChildType%d", GPOINTER_TO_INT(arg));
    GType t = g_type_register_static_simple(G_TYPE_OBJECT, name, sizeof(GObjectClass), NULL, sizeof(GObject),
                                            NULL, 0);
    for (int i = 0; i < 2000; i++) {
        GObject *o = g_object_new(t, NULL);
        g_object_set_data(o, "n", GINT_TO_POINTER(i));
        g_object_unref(o);
        GHashTable *own = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        g_hash_table_insert(own, g_strdup(name), NULL);
        g_hash_table_destroy(own);
        (void)g_quark_from_string(name);
    }
    return NULL;
}

static int gobject(void)
{
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&th[i], NULL, gobject_worker, GINT_TO_POINTER(i));
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    printf("gobject: done\n");
    return 0;
}

static int keep_going(void)
{
    two(inserter, inserter);
    int missing = 0;
    for (int i = 1; i <= 2 * KEYS; i++)
        missing += g_hash_table_lookup(shared, GINT_TO_POINTER(i)) == NULL;
    printf("continue: %u keys, %d missing\n", g_hash_table_size(shared), missing);
    return 0;
}

static void *churn_worker(void *arg)
{
    (void)arg;
    for (int round = 0; round < 2000; round++) {
        g_mutex_lock(&mu);
        if (shared == NULL || round % 7 == 0) {
            if (shared != NULL)
                g_hash_table_unref(shared);
            shared = g_hash_table_new(g_direct_hash, g_direct_equal);
        }
        g_hash_table_ref(shared);
        GHashTable *t = shared;
        g_hash_table_insert(t, GINT_TO_POINTER(round + 1), NULL);
        g_mutex_unlock(&mu);
        g_mutex_lock(&mu);
        g_hash_table_remove(t, GINT_TO_POINTER(round + 1));
        g_mutex_unlock(&mu);
        g_hash_table_unref(t);
    }
    return NULL;
}

static int churn(void)
{
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&th[i], NULL, churn_worker, NULL);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    g_hash_table_unref(shared);
    printf("churn: done\n");
    return 0;
}

/* ---- hsearch_r ---------------------------------------------------------------------- */

static struct hsearch_data htab;
static char hkeys[2][KEYS / 4][16];
static int hsearch_locked;

static void *hloader(void *arg)
{
    int id = GPOINTER_TO_INT(arg) ? 1 : 0;
    for (int i = 0; i < KEYS / 4; i++)
        snprintf(hkeys[id][i], sizeof hkeys[id][i], "k%d-%d", id, i);
    pthread_barrier_wait(&ready);
    /* Unlocked, enter the keys again and again (for at most a few
     * seconds) until the two threads overlap: on a loaded machine one
     * may run a whole pass while the other is off the CPU. */
    for (int pass = 0; pass < (hsearch_locked ? 1 : 1000); pass++)
        for (int i = 0; i < KEYS / 4; i++) {
            ENTRY e = {hkeys[id][i], NULL}, *out;
            if (hsearch_locked)
                g_mutex_lock(&mu);
            hsearch_r(e, ENTER, &out, &htab); /* LINE(hsearch_enter) */
            if (hsearch_locked)
                g_mutex_unlock(&mu);
        }
    return NULL;
}

static int hsearch_two(int with_lock)
{
    hsearch_locked = with_lock;
    if (!hcreate_r(KEYS, &htab)) /* LINE(hcreate) */
        return 1;
    pthread_barrier_init(&ready, NULL, 2);
    pthread_t ta, tb;
    pthread_create(&ta, NULL, hloader, GINT_TO_POINTER(0));
    pthread_create(&tb, NULL, hloader, GINT_TO_POINTER(1));
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    int found = 0;
    for (int id = 0; id < 2; id++)
        for (int i = 0; i < KEYS / 4; i++) {
            ENTRY e = {hkeys[id][i], NULL}, *out;
            found += hsearch_r(e, FIND, &out, &htab);
        }
    printf("hsearch: %d of %d found\n", found, KEYS / 2);
    hdestroy_r(&htab);
    return 0;
}

/* apart, apartlocked: writes that never overlap in time. */
static GMutex apart_lock;
static int apart_locked;

static void *apart_writer(void *arg)
{
    int k = GPOINTER_TO_INT(arg);
    if (k > 1)
        g_usleep(2000);
    if (apart_locked)
        g_mutex_lock(&apart_lock);
    g_hash_table_insert(shared, GINT_TO_POINTER(k), GINT_TO_POINTER(k)); /* LINE(apart_insert) */
    if (apart_locked)
        g_mutex_unlock(&apart_lock);
    return NULL;
}

static int apart(int locked_out)
{
    apart_locked = locked_out;
    shared = g_hash_table_new(g_direct_hash, g_direct_equal); /* LINE(apart_new) */
    pthread_t a, b;
    pthread_create(&a, NULL, apart_writer, GINT_TO_POINTER(1));
    pthread_create(&b, NULL, apart_writer, GINT_TO_POINTER(2));
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    printf("apart: %u keys\n", g_hash_table_size(shared));
    return 0;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    setvbuf(stdout, NULL, _IONBF, 0);
    if (strcmp(mode, "writes") == 0)
        return two(inserter, inserter);
    reader_mode = strcmp(mode, "read") == 0 || strcmp(mode, "readgrow") == 0 || strcmp(mode, "foreach") == 0 || strcmp(mode, "iter") == 0;
    if (strcmp(mode, "read") == 0)
        return two(inserter, looker);
    if (strcmp(mode, "readgrow") == 0) { /* the inserter grows the table */
        reader_grows = 1;
        return two(inserter, looker);
    }
    if (strcmp(mode, "foreach") == 0)
        return two(inserter, walker);
    if (strcmp(mode, "iter") == 0)
        return two(inserter, iterator);
    if (strcmp(mode, "crash") == 0 || strcmp(mode, "crashlocked") == 0)
        return crash(strcmp(mode, "crashlocked") == 0);
    if (strcmp(mode, "iterstep") == 0)
        return iter_step();
    if (strcmp(mode, "iterexit") == 0)
        return iter_exit();
    if (strcmp(mode, "locked") == 0)
        return locked();
    if (strcmp(mode, "gobject") == 0)
        return gobject();
    if (strcmp(mode, "continue") == 0)
        return keep_going();
    if (strcmp(mode, "churn") == 0)
        return churn();
    if (strcmp(mode, "apart") == 0 || strcmp(mode, "apartlocked") == 0)
        return apart(strcmp(mode, "apartlocked") == 0);
    if (strcmp(mode, "hwrites") == 0)
        return hsearch_two(0);
    if (strcmp(mode, "hlocked") == 0)
        return hsearch_two(1);
    fprintf(stderr, "glib_child: unknown mode '%s'\n", mode);
    return 64;
}
