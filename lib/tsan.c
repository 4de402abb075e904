/*
 * tsan.c — ThreadSanitizer's map races, completed as maprace's are.
 *
 * With TSan's runtime in the process (maprace --hb preloads it; or the
 * program was built with -fsanitize=thread), libmaprt tells TSan about
 * every map operation (runtime/tsan.c), and TSan reports two operations
 * on one map that no synchronisation orders, even when they never overlap
 * in time.  TSan prints its report, then calls __tsan_on_report, defined
 * here: for a map race, this adds what TSan cannot know in a program it
 * did not instrument (its stacks are one frame deep there) — the race
 * named as Go names it from both operations, the current goroutine's
 * whole stack, the goroutine of the earlier operation and its call site,
 * the map's creation and its deferred calls' history — and writes the
 * race-log line, kind "... (happens-before)", so maprace-report lists it
 * with the others.  Other TSan reports are left as TSan made them.
 *
 * TSan's report functions are weak references: without TSan, nothing
 * here is ever called.
 */
#include "preload.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

extern int __tsan_get_report_data(void *report, const char **description, int *count, int *stack_count,
                                  int *mop_count, int *loc_count, int *mutex_count, int *thread_count,
                                  int *unique_tid_count, void **sleep_trace, uintptr_t trace_size)
    __attribute__((weak));
extern int __tsan_get_report_mop(void *report, uintptr_t idx, int *tid, void **addr, int *size, int *write,
                                 int *atomic, void **trace, uintptr_t trace_size) __attribute__((weak));
extern int __tsan_get_report_thread(void *report, uintptr_t idx, int *tid, uint64_t *os_id, int *running,
                                    const char **name, int *parent_tid, void **trace, uintptr_t trace_size)
    __attribute__((weak));

/* TSan calls it after printing each report (its own definition is an
 * empty weak one). */
void __tsan_on_report(void *report);

enum { TRACE = 32, OP_NONE = -1, OP_WRITE, OP_READ, OP_ITERATE };

/* One operation of the race, from TSan's report. */
typedef struct op {
    int kind;          /* OP_* */
    int tid;           /* TSan's thread number */
    void *map;
    uintptr_t site;    /* the program's call site (a return address) */
    int n;
    void *trace[TRACE];
} op;

/* Which of libmaprt's annotations a frame is in (runtime/tsan.c). */
static int op_of(uintptr_t pc)
{
    mr_pcinfo pi;
    if (maprace_rt.describe_pc == NULL || !maprace_rt.describe_pc(pc, 0, &pi) || pi.function == NULL)
        return OP_NONE;
    if (strcmp(pi.function, "mr_tsan_write") == 0)
        return OP_WRITE;
    if (strcmp(pi.function, "mr_tsan_read") == 0)
        return OP_READ;
    if (strcmp(pi.function, "mr_tsan_iterate") == 0)
        return OP_ITERATE;
    return OP_NONE;
}

static bool read_op(void *report, int idx, op *o)
{
    int size, write, atomic;
    memset(o->trace, 0, sizeof o->trace);
    if (!__tsan_get_report_mop(report, (uintptr_t)idx, &o->tid, &o->map, &size, &write, &atomic, o->trace, TRACE))
        return false;
    /* Frame 0 is the annotation, frame 1 the program's call of the map
     * operation (a program TSan did not instrument has no more). */
    o->kind = o->trace[0] ? op_of((uintptr_t)o->trace[0]) : OP_NONE;
    o->site = (uintptr_t)o->trace[1];
    for (o->n = 0; o->n < TRACE && o->trace[o->n] != NULL; o->n++)
        ;
    return o->kind != OP_NONE;
}

/* The goroutine on TSan's thread tid, from the report's thread list. */
static uint64_t goroutine_of(void *report, int nthreads, int tid)
{
    for (int i = 0; i < nthreads; i++) {
        int id, running, parent;
        uint64_t os_id;
        const char *name;
        void *trace[1];
        if (__tsan_get_report_thread(report, (uintptr_t)i, &id, &os_id, &running, &name, &parent, trace, 1) &&
            id == tid)
            return maprace_rt.goid_of_thread != NULL ? maprace_rt.goid_of_thread((int)os_id) : 0;
    }
    return 0;
}

static const char *race_kind(const op *a, const op *b)
{
    if (a->kind == OP_WRITE && b->kind == OP_WRITE)
        return "concurrent map writes (happens-before)";
    if (a->kind == OP_ITERATE || b->kind == OP_ITERATE)
        return "concurrent map iteration and map write (happens-before)";
    return "concurrent map read and map write (happens-before)";
}

__attribute__((format(printf, 4, 5))) static void append(char *buf, size_t cap, size_t *len, const char *fmt, ...)
{
    if (*len >= cap - 1)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *len, cap - *len, fmt, ap);
    va_end(ap);
    if (n > 0)
        *len += (size_t)n < cap - *len ? (size_t)n : cap - *len - 1;
}

static const char *op_name(int kind)
{
    return kind == OP_WRITE ? "write" : kind == OP_READ ? "read" : "iteration";
}

void __tsan_on_report(void *report)
{
    const char *description;
    int count, nstacks, nmops, nlocs, nmutexes, nthreads, nunique;
    void *sleep[1];
    if (!maprace_active() || __tsan_get_report_data == NULL || __tsan_get_report_mop == NULL ||
        __tsan_get_report_thread == NULL ||
        !__tsan_get_report_data(report, &description, &count, &nstacks, &nmops, &nlocs, &nmutexes, &nthreads,
                                &nunique, sleep, 1) ||
        nmops < 2)
        return;
    static op now, before; /* (TSan reports one race at a time) */
    if (!read_op(report, 0, &now) || !read_op(report, 1, &before))
        return; /* not a map race */
    const char *kind = race_kind(&now, &before);

    /* This goroutine's whole stack, from its call of the map operation. */
    uintptr_t all[REC_FRAMES + 8], pcs[REC_FRAMES];
    int nall = maprace_capture(all, REC_FRAMES + 8, 0), from = -1, n = 0;
    for (int i = 0; i < nall && from < 0; i++)
        if (all[i] == now.site)
            from = i;
    for (int i = from < 0 ? 0 : from; i < nall && n < REC_FRAMES; i++)
        pcs[n++] = all[i];
    if (from < 0) { /* (the unwinder did not reach it: TSan's frame will do) */
        pcs[0] = now.site;
        n = 1;
    }
    uint64_t me = maprace_rt.goid(), other = goroutine_of(report, nthreads, before.tid);

    static char preface[8192], frames[4096];
    size_t len = 0;
    append(preface, sizeof preface, &len,
           "\nmaprace: %s: the %s and an earlier %s of map %p are ordered by no synchronisation\n"
           "maprace: goroutine %llu, the %s:\n",
           kind, op_name(now.kind), op_name(before.kind), now.map, (unsigned long long)me, op_name(now.kind));
    maprace_frames_text(frames, sizeof frames, pcs, n, REC_FRAMES);
    append(preface, sizeof preface, &len, "%s", frames);
    if (other != 0)
        append(preface, sizeof preface, &len, "maprace: goroutine %llu, the earlier %s, at:\n",
               (unsigned long long)other, op_name(before.kind));
    else
        append(preface, sizeof preface, &len, "maprace: the earlier %s (by a goroutine that has exited since), at:\n",
               op_name(before.kind));
    maprace_frames_text(frames, sizeof frames, &before.site, 1, 1);
    append(preface, sizeof preface, &len, "%s", frames);

    mr_report_goroutine lead[2] = {
        {.goid = me, .status = "running", .role = MR_ROLE_DETECTOR, .npc = n, .exact = -1, .pc = pcs},
        {.goid = other, .status = other ? "running" : "exited", .role = MR_ROLE_WRITER, .npc = 1, .exact = -1,
         .pc = &before.site},
    };
    mr_report_event e = {kind, kind, (const struct mr_map *)now.map, NULL, 2, lead, NULL};
    maprace_report_with(&e, preface);
}
