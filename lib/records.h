/*
 * records.h — what libmaprace.so remembers about maps and goroutines.
 *
 * Per map (live, and freed until its address is reused): its type, where
 * and by which goroutine it was made, where it was freed, and every
 * deferred call that touched it (goroutine, function, where deferred, why
 * it ran, operations and counts).  Per goroutine: the deferred calls it is
 * running now, so a report can mark the touches that are under way.
 */
#ifndef MAPRACE_RECORDS_H
#define MAPRACE_RECORDS_H

#include <maprt_hooks.h>

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

enum { REC_FRAMES = 16, MAX_RUNNING = 32 };

typedef struct touch {
    struct touch *next;
    uint64_t goid;
    void (*fn)(void *);
    uintptr_t deferpc;    /* where it was deferred */
    uintptr_t firstpc;    /* the first map operation's call site */
    mr_defer_why why;
    int depth;
    uint64_t ops[MR_OP_FREE + 1];
} touch;

typedef struct maprec {
    struct maprec *next;
    const void *map;
    const char *type;
    uint64_t creator;
    int ncreate;
    uintptr_t create[REC_FRAMES];
    bool freed;
    uint64_t freer;
    int nfree;
    uintptr_t freepcs[REC_FRAMES];
    touch *touches;
} maprec;

/* The deferred calls a goroutine is running, innermost last. */
typedef struct running_defers {
    uint64_t goid;
    _Atomic int n;
    mr_defer_event ev[MAX_RUNNING];
} running_defers;

void records_map_made(const void *map, const char *type, uint64_t goid, const uintptr_t *pcs, int npc);
void records_map_freed(const void *map, uint64_t goid, const uintptr_t *pcs, int npc);
void records_touch(const void *map, mr_mapop op, uintptr_t pc, const mr_defer_event *running);

/* The calling goroutine's running deferred calls (made on first use). */
running_defers *records_running_self(uint64_t goid);
/* Any goroutine's, or NULL. */
running_defers *records_running_of(uint64_t goid);
void records_goroutine_exit(uint64_t goid);

/* Calls fn with the record of map under its lock (rec NULL if none). */
void records_with_map(const void *map, void (*fn)(const maprec *rec, void *arg), void *arg);

#endif /* MAPRACE_RECORDS_H */
