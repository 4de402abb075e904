/*
 * preload.h — shared by the parts of libmaprace.so.
 */
#ifndef MAPRACE_PRELOAD_H
#define MAPRACE_PRELOAD_H

#include "options.h"
#include "records.h"
#include "rt.h"

#include <maprt_hooks.h>

#include <stdatomic.h>
#include <stdbool.h>

extern maprace_options maprace_opts;

/* libmaprt's services, found with dlsym (NULL in a process without it). */
extern int (*maprace_describe_pc)(uintptr_t pc, int exact, mr_pcinfo *out);

/* The enriched section on stderr and the log line (report.c). */
void maprace_report(const mr_report_event *e);
/* The same, with preface (text) printed before the table's history. */
void maprace_report_with(const mr_report_event *e, const char *preface);
/* Go's two-line frames of pcs, tab-indented, the runtime's and the C
 * library's hidden, at most max of them, into out; returns the length. */
size_t maprace_frames_text(char *out, size_t cap, const uintptr_t *pcs, int n, int max);

/* Is maprace watching this process (libmaprt present, options good)?
 * Set once, before any table is watched; read on every interposed call. */
extern _Atomic bool maprace_on;
static inline bool maprace_active(void)
{
    return atomic_load_explicit(&maprace_on, memory_order_acquire);
}

/* Makes sure maprace watches this process, loading libmaprt if the
 * program did not link it; false if it cannot (said once on stderr). */
bool maprace_watch(void);

/* The caller's caller's stack, return addresses innermost first (skip:
 * further frames to leave out). */
int maprace_capture(uintptr_t *pcs, int max, int skip);

/* policy.c: reads a suppressions file; false with a message on error. */
bool maprace_load_suppressions(const char *path, char *err, size_t errlen);

#endif /* MAPRACE_PRELOAD_H */
