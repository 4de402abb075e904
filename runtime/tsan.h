/*
 * tsan.h — map operations told to ThreadSanitizer, when its runtime is in
 * the process (a -fsanitize=thread build, or maprace --hb).
 *
 * The map's write claim sees only operations that overlap in time; TSan
 * decides by happens-before, so it also catches unsynchronised writes
 * that happen not to overlap.  Each map is one object to TSan (Go's race
 * detector treats a map the same way): assign, delete, clear and free are
 * writes of it, access and each iteration step are reads, at the
 * program's call site.  TSan's functions are weak references: without its
 * runtime they are null, mr_tsan_on stays false, and the map's operations
 * pay one load and a branch.
 */
#ifndef MAPRT_TSAN_H
#define MAPRT_TSAN_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

/* Whether ThreadSanitizer's runtime is present (set at load time). */
extern bool mr_tsan_on __attribute__((visibility("hidden")));

/* The map h is written / read / stepped by an iteration, at call site pc
 * (a return address in the program). */
void mr_tsan_made(const void *h); /* TSan's reports call its block a maprace.Map */
void mr_tsan_write(const void *h, uintptr_t pc);
void mr_tsan_read(const void *h, uintptr_t pc);
void mr_tsan_iterate(const void *h, uintptr_t pc);

/* pthread_mutex_lock/unlock for the runtime's own bookkeeping (the
 * goroutine registry, the quarantine of freed maps), hidden from TSan:
 * they order nothing the program asked for, and a goroutine registering
 * after another one exited would otherwise order all their map
 * operations and hide the race between them. */
void mr_quiet_lock(pthread_mutex_t *mu);
void mr_quiet_unlock(pthread_mutex_t *mu);

#endif /* MAPRT_TSAN_H */
