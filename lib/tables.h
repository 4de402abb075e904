/*
 * tables.h — the detection core for hash tables libmaprt did not make.
 *
 * Each watched table (a GHashTable, an hsearch_r table, ...) has an entry
 * in a side table keyed by its address, holding its write claim (an
 * mr_table, maprt_foreign.h).  The interposer of each table family
 * (glib.c, hsearch.c) wraps the family's entry points with the calls
 * below; everything else — the claim protocol, reports, the race log,
 * options, continue mode — is shared with libmaprt's own maps.
 *
 * The lookup is lock-free: entries are never freed, only marked free and
 * reused, so a lookup racing with a table's destruction reads valid
 * memory.  Only a table's first sighting and its end take a lock.
 */
#ifndef MAPRACE_TABLES_H
#define MAPRACE_TABLES_H

#include "rt.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct __attribute__((aligned(64))) tentry {
    _Atomic(struct tentry *) next; /* in its bucket's chain */
    _Atomic uintptr_t key;         /* the table's address; 0 while free */
    mr_table claim;
    /* Writes so far, stored under the claim (with the last writer and its
     * call site, in the claim): a walk that a whole write slipped into
     * between two elements sees it change, though no check met the write
     * in progress. */
    _Atomic uint64_t writes;
    /* References counted through the interposed constructors, ref and
     * unref: the last unref ends the table.  -1: not known (the table
     * was made before maprace watched, or by a call maprace cannot see). */
    _Atomic long refs;
} tentry;

/* Nesting of interposed calls in this thread: calls a table makes into
 * its own family from inside an interposed call (its internal calls,
 * destroy notifiers, foreach callbacks) go straight through. */
extern __thread int tables_depth __attribute__((tls_model("initial-exec")));
/* This thread's goroutine id, once known. */
extern __thread uint64_t tables_goid __attribute__((tls_model("initial-exec")));

/* The entry of a table, found in its bucket's chain or made on first
 * sight (with an unknown creation); remembered as this thread's last. */
tentry *tables_find_slow(const void *table, const char *type);
/* What tables_find gives when there was no memory for an entry: the table
 * goes unwatched (its writers must not claim this shared entry). */
extern tentry tables_unwatched __attribute__((visibility("hidden")));

/* The table was just made (its reference count is 1); records its
 * creation stack from callsite (the return address in the user's call of
 * the constructor) outwards. */
void tables_made(const void *table, const char *type, uintptr_t callsite);
/* The table is gone (its memory is about to be, or was, released). */
void tables_gone(const void *table);

static inline uint64_t tables_me(void)
{
    uint64_t me = tables_goid;
    if (__builtin_expect(me == 0, 0))
        me = tables_goid = maprace_rt.goid();
    return me;
}

static inline size_t tables_bucket(const void *table)
{
    return (size_t)(((uintptr_t)table >> 4) * 0x9e3779b97f4a7c15ULL >> 48); /* 1 << 16 buckets */
}

extern _Atomic(tentry *) tables_buckets[1 << 16];

/* This thread's last entry: most calls use the table the previous call
 * used.  It is right while its key is the table (entries are never freed,
 * so a stale one is still readable); it starts as an entry whose key is
 * never a table's. */
extern __thread tentry *tables_last_entry __attribute__((tls_model("initial-exec")));

static inline tentry *tables_find(const void *table, const char *type)
{
    tentry *last = tables_last_entry;
    if (__builtin_expect(atomic_load_explicit(&last->key, memory_order_acquire) == (uintptr_t)table, 1))
        return last;
    return tables_find_slow(table, type);
}

/* The claim protocol of maprt_foreign.h: a compare-and-swap, so that no
 * two writers are ever inside the table at once.  (Go's plain
 * check-and-set would be cheaper, but two writers that both pass it
 * corrupt the table, and glibc's heap checks then abort the program
 * before either write ends and reports: measured 1 run in 300 of
 * glib_shared_table.)  The slow path reports, or in continue mode waits
 * for the holder. */
void tables_write_wait(tentry *e, uint64_t me);

/* Tells ThreadSanitizer of an operation on e's table (maprace --hb). */
static inline void tables_tell(const tentry *e, uintptr_t callsite, mr_table_op op)
{
    if (__builtin_expect(maprace_tsan, 0))
        maprace_rt.tsan_table((const void *)atomic_load_explicit(&e->key, memory_order_relaxed), callsite, op);
}

static inline void tables_write_begin(tentry *e, uint64_t me, uintptr_t callsite)
{
    tables_tell(e, callsite, MR_TABLE_OP_WRITE);
    uint64_t seen = 0;
    if (__builtin_expect(!atomic_compare_exchange_strong_explicit(&e->claim.writer, &seen, me, memory_order_acquire,
                                                                  memory_order_relaxed),
                         0))
        tables_write_wait(e, me);
    atomic_store_explicit(&e->writes, atomic_load_explicit(&e->writes, memory_order_relaxed) + 1,
                          memory_order_relaxed);
    atomic_store_explicit(&e->claim.last_writer, me, memory_order_relaxed);
    atomic_store_explicit(&e->claim.last_pc, callsite, memory_order_relaxed);
}

static inline void tables_write_end(tentry *e, uint64_t me)
{
    uint64_t seen = atomic_load_explicit(&e->claim.writer, memory_order_relaxed);
    if (__builtin_expect(seen != me, 0))
        maprace_rt.claim_lost(&e->claim, seen);
    atomic_store_explicit(&e->claim.writer, 0, memory_order_release);
}

static inline void tables_read_check(tentry *e, mr_table_read how)
{
    uint64_t seen = atomic_load_explicit(&e->claim.writer, memory_order_relaxed);
    if (__builtin_expect(seen != 0, 0))
        maprace_rt.read_failed(&e->claim, seen, how);
}

#endif /* MAPRACE_TABLES_H */
