/*
 * tables.c — the side table behind tables.h: watched tables by address.
 */
#include "tables.h"

#include "interpose.h"

#include "preload.h"
#include "stripes.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

_Atomic(tentry *) tables_buckets[1 << 16];
__thread int tables_depth __attribute__((tls_model("initial-exec")));
__thread uint64_t tables_goid __attribute__((tls_model("initial-exec")));
static tentry no_entry; /* key 0: no table's */
__thread tentry *tables_last_entry __attribute__((tls_model("initial-exec"))) = &no_entry;

void tables_write_wait(tentry *e, uint64_t me)
{
    uint64_t seen = 0;
    while (!atomic_compare_exchange_strong_explicit(&e->claim.writer, &seen, me, memory_order_acquire,
                                                    memory_order_relaxed)) {
        maprace_rt.claim_failed(&e->claim, seen); /* returns only if the program goes on, the holder done */
        seen = 0;
    }
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
        /* A cache line of its own: the claims of two threads' tables
         * must not share one, or their compare-and-swaps contend. */
        if (posix_memalign((void **)&e, 64, sizeof *e) != 0)
            return NULL;
        memset(e, 0, sizeof *e);
        atomic_store(&e->next, atomic_load(&tables_buckets[b]));
        atomic_store_explicit(&tables_buckets[b], e, memory_order_release);
    }
    atomic_store(&e->claim.writer, 0);
    atomic_store(&e->claim.last_writer, 0);
    atomic_store(&e->claim.last_pc, 0);
    e->claim.addr = table;
    e->claim.type = type;
    atomic_store(&e->refs, -1);
    atomic_store_explicit(&e->key, (uintptr_t)table, memory_order_release);
    return e;
}

/* Out of memory for an entry: the table goes unwatched rather than the
 * program failing; every such table shares this never-claimed word. */
tentry tables_unwatched;

/* The entry this thread used last, for interpose_lookup's inline test;
 * not under ThreadSanitizer, whose lookups must all reach the slow path
 * to be told. */
static tentry *remember(tentry *e)
{
    if (!maprace_tsan)
        tables_last_entry = e;
    return e;
}

tentry *tables_find_slow(const void *table, const char *type)
{
    size_t b = tables_bucket(table);
    for (tentry *e = atomic_load_explicit(&tables_buckets[b], memory_order_acquire); e != NULL;
         e = atomic_load_explicit(&e->next, memory_order_acquire))
        if (atomic_load_explicit(&e->key, memory_order_acquire) == (uintptr_t)table)
            return remember(e);
    stripe_lock(stripe_of(b));
    bool fresh;
    tentry *e = entry_locked(b, table, type, &fresh);
    stripe_unlock(stripe_of(b));
    return e != NULL ? remember(e) : &tables_unwatched;
}

void tables_made(const void *table, const char *type, uintptr_t callsite)
{
    size_t b = tables_bucket(table);
    stripe_lock(stripe_of(b));
    bool fresh;
    tentry *e = entry_locked(b, table, type, &fresh);
    if (e != NULL) {
        /* A new table at the address of one that ended unseen. */
        atomic_store(&e->claim.writer, 0);
        e->claim.type = type;
        atomic_store(&e->refs, 1);
    }
    stripe_unlock(stripe_of(b));
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
    stripe_lock(stripe_of(b));
    for (tentry *e = atomic_load(&tables_buckets[b]); e != NULL; e = atomic_load(&e->next))
        if (atomic_load(&e->key) == (uintptr_t)table)
            atomic_store_explicit(&e->key, 0, memory_order_release);
    stripe_unlock(stripe_of(b));
}

void interpose_lookup_slow(const void *table, const char *type, uintptr_t callsite)
{
    if (tables_depth > 0 || table == NULL)
        return;
    if (!maprace_active() && !maprace_watch())
        return;
    tentry *e = tables_find(table, type);
    if (e != &tables_unwatched)
        tables_tell(e, callsite, MR_TABLE_OP_READ);
    tables_read_check(e, MR_TABLE_READ);
}
