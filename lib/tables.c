/*
 * tables.c — the side table behind tables.h: watched tables by address.
 */
#include "tables.h"

#include "preload.h"

#include <pthread.h>
#include <stdlib.h>

enum { STRIPES = 64 };

_Atomic(tentry *) tables_buckets[1 << 16];
__thread int tables_depth __attribute__((tls_model("initial-exec")));
__thread uint64_t tables_goid __attribute__((tls_model("initial-exec")));
__thread const void *tables_last __attribute__((tls_model("initial-exec")));
__thread tentry *tables_last_entry __attribute__((tls_model("initial-exec")));

static pthread_mutex_t stripes[STRIPES] = {[0 ... STRIPES - 1] = PTHREAD_MUTEX_INITIALIZER};

/* fork: no stripe is held half-way in the child; and the child's one
 * thread keeps its goroutine id (the runtime keeps its record). */
static void lock_all(void)
{
    for (int i = 0; i < STRIPES; i++)
        pthread_mutex_lock(&stripes[i]);
}

static void unlock_all(void)
{
    for (int i = STRIPES - 1; i >= 0; i--)
        pthread_mutex_unlock(&stripes[i]);
}

__attribute__((constructor)) static void tables_atfork(void)
{
    pthread_atfork(lock_all, unlock_all, unlock_all);
}

/* Under the bucket's stripe: the table's entry, reusing a free one of
 * the chain or adding one; NULL without memory. */
static tentry *entry_locked(size_t b, const void *table, const char *type, bool *fresh)
{
    tentry *free_one = NULL;
    for (tentry *e = atomic_load(&tables_buckets[b]); e != NULL; e = atomic_load(&e->next)) {
        uintptr_t key = atomic_load(&e->key);
        if (key == (uintptr_t)table) {
            *fresh = false;
            return e;
        }
        if (key == 0 && free_one == NULL)
            free_one = e;
    }
    *fresh = true;
    tentry *e = free_one;
    if (e == NULL) {
        e = calloc(1, sizeof *e);
        if (e == NULL)
            return NULL;
        atomic_store(&e->next, atomic_load(&tables_buckets[b]));
        atomic_store_explicit(&tables_buckets[b], e, memory_order_release);
    }
    atomic_store(&e->claim.writer, 0);
    e->claim.addr = table;
    e->claim.type = type;
    atomic_store(&e->refs, -1);
    atomic_store_explicit(&e->key, (uintptr_t)table, memory_order_release);
    return e;
}

/* Out of memory for an entry: the table goes unwatched rather than the
 * program failing; every such table shares this never-claimed word. */
static tentry unwatched;

tentry *tables_find_slow(const void *table, const char *type)
{
    size_t b = tables_bucket(table);
    pthread_mutex_lock(&stripes[b % STRIPES]);
    bool fresh;
    tentry *e = entry_locked(b, table, type, &fresh);
    pthread_mutex_unlock(&stripes[b % STRIPES]);
    return e != NULL ? e : &unwatched;
}

void tables_made(const void *table, const char *type, uintptr_t callsite)
{
    size_t b = tables_bucket(table);
    pthread_mutex_lock(&stripes[b % STRIPES]);
    bool fresh;
    tentry *e = entry_locked(b, table, type, &fresh);
    if (e != NULL) {
        /* A new table at the address of one that ended unseen. */
        atomic_store(&e->claim.writer, 0);
        e->claim.type = type;
        atomic_store(&e->refs, 1);
    }
    pthread_mutex_unlock(&stripes[b % STRIPES]);
    uintptr_t pcs[REC_FRAMES + 8];
    int n = maprace_capture(pcs, REC_FRAMES + 8, 0), from = 0;
    for (int i = 0; i < n; i++)
        if (pcs[i] == callsite) {
            from = i;
            break;
        }
    records_map_made(table, type, tables_me(), pcs + from, n - from < REC_FRAMES ? n - from : REC_FRAMES);
}

void tables_gone(const void *table)
{
    uintptr_t pcs[REC_FRAMES];
    int n = maprace_capture(pcs, REC_FRAMES, 0);
    records_map_freed(table, tables_me(), pcs, n);
    size_t b = tables_bucket(table);
    pthread_mutex_lock(&stripes[b % STRIPES]);
    for (tentry *e = atomic_load(&tables_buckets[b]); e != NULL; e = atomic_load(&e->next))
        if (atomic_load(&e->key) == (uintptr_t)table)
            atomic_store_explicit(&e->key, 0, memory_order_release);
    pthread_mutex_unlock(&stripes[b % STRIPES]);
}
