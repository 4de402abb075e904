/*
 * rt.h — libmaprt's services, as libmaprace.so reaches them.
 *
 * libmaprace.so does not link against libmaprt: it is preloaded into every
 * child of a traced program and must stay inert where nothing needs it.
 * In a program built on libmaprt the services are found with dlsym; in a
 * program that only uses GLib's or glibc's tables, libmaprt is loaded on
 * demand (maprace_runtime_load) for its goroutines, stack capture,
 * symbolisation and reports.
 */
#ifndef MAPRACE_RT_H
#define MAPRACE_RT_H

#include <maprt_foreign.h>
#include <maprt_hooks.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct maprace_runtime {
    uint64_t (*goid)(void);
    int (*describe_pc)(uintptr_t pc, int exact, mr_pcinfo *out);
    void (*claim_failed)(mr_table *t, uint64_t seen);
    void (*claim_lost)(mr_table *t, uint64_t seen);
    void (*read_failed)(mr_table *t, uint64_t seen, mr_table_read how);
    void *(*thread_prepare)(uintptr_t createpc);
    void (*thread_abandon)(void *rec);
    void (*thread_begin)(void *rec);
    uint64_t (*goid_of_thread)(int tid); /* (may be NULL: an older libmaprt) */
    int (*tsan_enabled)(void);            /* (may be NULL too) */
    void (*tsan_table)(const void *table, uintptr_t pc, mr_table_op op);
    const void *base; /* where libmaprt is loaded, to know its own calls */
} maprace_runtime;

extern maprace_runtime maprace_rt;

/* Whether tables' operations are told to ThreadSanitizer (its runtime is
 * in the process: maprace --hb), set when libmaprt is found. */
extern bool maprace_tsan;

/* Fills maprace_rt from the libmaprt already in the process; false if
 * there is none (or it lacks a service). */
bool maprace_runtime_find(void);

/* Loads libmaprt: $MAPRACE_RUNTIME, else beside libmaprace.so (installed),
 * else the build tree's runtime/.libs, else the loader's search path.
 * False with a message if none loads. */
bool maprace_runtime_load(char *err, size_t errlen);

/* Is pc inside libmaprt? */
bool maprace_in_runtime(const void *pc);

#endif /* MAPRACE_RT_H */
