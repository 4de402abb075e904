/*
 * records.c — the tables behind records.h: maps by address (chained hash,
 * striped locks: stripes.h), goroutines' running deferred calls by id.
 *
 * Memory comes from malloc, never from libmaprt's allocation hooks, so
 * keeping records cannot recurse into the hooks that feed them.
 */
#include "records.h"

#include "stripes.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

enum { MAP_BUCKETS = 1 << 14, GOROUTINE_SLOTS = 4096 };

static maprec *maps[MAP_BUCKETS];
static size_t bucket_of(const void *map)
{
    uintptr_t a = (uintptr_t)map;
    return (size_t)((a >> 4) ^ (a >> 18)) & (MAP_BUCKETS - 1);
}

static void free_touches(touch *t)
{
    while (t != NULL) {
        touch *next = t->next;
        free(t);
        t = next;
    }
}

static maprec *find(size_t b, const void *map)
{
    for (maprec *r = maps[b]; r != NULL; r = r->next)
        if (r->map == map)
            return r;
    return NULL;
}

void records_map_made(const void *map, const char *type, uint64_t goid, const uintptr_t *pcs, int npc)
{
    size_t b = bucket_of(map);
    pthread_mutex_t *mu = stripe_of(b);
    stripe_lock(mu);
    maprec *r = find(b, map);
    if (r == NULL) {
        r = calloc(1, sizeof *r);
        if (r == NULL) {
            stripe_unlock(mu);
            return;
        }
        r->map = map;
        r->next = maps[b];
        maps[b] = r;
    } else {
        /* A new map at the address of a freed one: start afresh. */
        free_touches(r->touches);
        memset((char *)r + sizeof r->next, 0, sizeof *r - sizeof r->next);
        r->map = map;
    }
    r->type = type;
    r->creator = goid;
    r->ncreate = npc < REC_FRAMES ? npc : REC_FRAMES;
    memcpy(r->create, pcs, (size_t)r->ncreate * sizeof *pcs);
    stripe_unlock(mu);
}

void records_map_freed(const void *map, uint64_t goid, const uintptr_t *pcs, int npc)
{
    size_t b = bucket_of(map);
    pthread_mutex_t *mu = stripe_of(b);
    stripe_lock(mu);
    maprec *r = find(b, map);
    if (r != NULL) {
        r->freed = true;
        r->freer = goid;
        r->nfree = npc < REC_FRAMES ? npc : REC_FRAMES;
        memcpy(r->freepcs, pcs, (size_t)r->nfree * sizeof *pcs);
    }
    stripe_unlock(mu);
}

void records_touch(const void *map, mr_mapop op, uintptr_t pc, const mr_defer_event *e)
{
    if (map == NULL || e == NULL)
        return;
    size_t b = bucket_of(map);
    pthread_mutex_t *mu = stripe_of(b);
    stripe_lock(mu);
    maprec *r = find(b, map);
    if (r != NULL) {
        touch *t = r->touches;
        while (t != NULL && !(t->goid == e->goid && t->fn == e->fn && t->deferpc == e->deferpc && t->why == e->why))
            t = t->next;
        if (t == NULL && (t = calloc(1, sizeof *t)) != NULL) {
            t->goid = e->goid;
            t->fn = e->fn;
            t->deferpc = e->deferpc;
            t->firstpc = pc;
            t->why = e->why;
            t->depth = e->depth;
            t->next = r->touches;
            r->touches = t;
        }
        if (t != NULL)
            t->ops[op <= MR_OP_FREE ? op : 0]++;
    }
    stripe_unlock(mu);
}

void records_with_map(const void *map, void (*fn)(const maprec *rec, void *arg), void *arg)
{
    size_t b = bucket_of(map);
    pthread_mutex_t *mu = stripe_of(b);
    /* A report must not hang on a lock a stopped goroutine holds. */
    bool locked = pthread_mutex_trylock(mu) == 0;
    fn(map ? find(b, map) : NULL, arg);
    if (locked)
        stripe_unlock(mu);
}

/* ---- goroutines' running deferred calls ----------------------------------- */

static _Atomic(running_defers *) goroutines[GOROUTINE_SLOTS];
static __thread running_defers *self;
#define TOMBSTONE ((running_defers *)1) /* a slot whose goroutine ended */

running_defers *records_running_self(uint64_t goid)
{
    if (self != NULL && self->goid == goid)
        return self;
    running_defers *rd = calloc(1, sizeof *rd);
    if (rd == NULL)
        return NULL;
    rd->goid = goid;
    self = rd;
    /* Open addressing by id; a full table only loses the "running" marks. */
    for (size_t i = 0; i < GOROUTINE_SLOTS; i++) {
        size_t slot = (size_t)(goid + i) % GOROUTINE_SLOTS;
        running_defers *cur = atomic_load(&goroutines[slot]);
        if ((cur == NULL || cur == TOMBSTONE) && atomic_compare_exchange_strong(&goroutines[slot], &cur, rd))
            break;
    }
    return rd;
}

running_defers *records_running_of(uint64_t goid)
{
    for (size_t i = 0; i < GOROUTINE_SLOTS; i++) {
        running_defers *rd = atomic_load(&goroutines[(size_t)(goid + i) % GOROUTINE_SLOTS]);
        if (rd == NULL)
            return NULL;
        if (rd != TOMBSTONE && rd->goid == goid)
            return rd;
    }
    return NULL;
}

void records_goroutine_exit(uint64_t goid)
{
    running_defers *rd = self;
    if (rd == NULL || rd->goid != goid)
        return;
    for (size_t i = 0; i < GOROUTINE_SLOTS; i++) {
        size_t slot = (size_t)(goid + i) % GOROUTINE_SLOTS;
        running_defers *cur = rd;
        if (atomic_compare_exchange_strong(&goroutines[slot], &cur, TOMBSTONE))
            break;
        if (cur == NULL)
            break;
    }
    self = NULL;
    free(rd);
}
