/*
 * stripes.h — the striped locks of libmaprace.so's side tables (records.c,
 * tables.c): one set for both, held across fork so that the child, whose
 * other threads are gone, never inherits one held half-way.  Only slow
 * paths take them (a table's first sighting and end, a map's records),
 * and never two at once.
 */
#ifndef MAPRACE_STRIPES_H
#define MAPRACE_STRIPES_H

#include <pthread.h>
#include <stddef.h>

/* The lock of hash bucket b of any side table. */
pthread_mutex_t *stripe_of(size_t b);

/* Taking and leaving a stripe: the tool's bookkeeping, hidden from
 * ThreadSanitizer under maprace --hb (two goroutines that touch maps in
 * deferred calls, say, must not be ordered by the detector's own lock). */
void stripe_lock(pthread_mutex_t *mu);
void stripe_unlock(pthread_mutex_t *mu);

#endif /* MAPRACE_STRIPES_H */
