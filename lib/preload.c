/*
 * preload.c — libmaprace.so: interposes libmaprt's hooks (maprt_hooks.h).
 *
 *     LD_PRELOAD=libmaprace.so ./app        (or: maprace ./app)
 *
 * Each hook records what maprace needs, then calls libmaprt's own body,
 * found with dlsym(RTLD_NEXT).  In a process without libmaprt nothing
 * calls these hooks and the constructor does nothing: LD_PRELOAD is
 * inherited by every child (shells, make, libtool's wrappers), so the
 * library must load and stay silent there.
 */
#include "preload.h"
#include "tables.h"
#include "fault.h"

#include <dlfcn.h>
#include <pthread.h>
#include <execinfo.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

#include <maprt.h>

maprace_options maprace_opts;
int (*maprace_describe_pc)(uintptr_t pc, int exact, mr_pcinfo *out);

/* libmaprt's own bodies of the hooks.  Each is looked up when first
 * needed (NEXT): libmaprt's constructors call hooks before this library's
 * constructor has run, and when libmaprt is loaded on demand its
 * constructors call them from inside dlopen. */
static struct {
    void *(*alloc)(mr_alloc_kind, size_t, const void *);
    void (*free)(mr_alloc_kind, void *, size_t, const void *);
    void (*map_made)(const struct mr_map *, const struct mr_maptype *, uintptr_t);
    void (*map_freed)(const struct mr_map *, const struct mr_maptype *, uintptr_t);
    void (*defer_touch)(const struct mr_map *, mr_mapop, uintptr_t);
    void (*goroutine_start)(uint64_t, uint64_t, uintptr_t);
    void (*goroutine_exit)(uint64_t);
    void (*defer_start)(const mr_defer_event *);
    void (*defer_end)(const mr_defer_event *);
    void (*report)(const mr_report_event *);
} next;

#define NEXT(field, name)                                                                              \
    (next.field != NULL ? next.field                                                                   \
                        : (next.field = (__typeof__(next.field))dlsym(RTLD_NEXT, name)))

_Atomic bool maprace_on;

/* Reads the options and starts watching; a bad option ends the program
 * before it starts, as the sanitizers do. */
static void activate(void)
{
    char err[512];
    bool secure = getauxval(AT_SECURE) != 0;
    if (!maprace_parse_options(getenv("MAPRACE_OPTIONS"), secure, &maprace_opts, err, sizeof err)) {
        fprintf(stderr, "maprace: %s\n", err);
        _exit(1);
    }
    if (maprace_opts.suppressions[0] && !maprace_load_suppressions(maprace_opts.suppressions, err, sizeof err)) {
        fprintf(stderr, "maprace: %s\n", err);
        _exit(1);
    }
    if (maprace_opts.verbosity >= 1 && maprace_opts.log_to_file)
        fprintf(stderr, "maprace: race log: %s.%d.jsonl\n", maprace_opts.log_path, (int)getpid());
    maprace_describe_pc = maprace_rt.describe_pc;
    atomic_store_explicit(&maprace_on, true, memory_order_release);
}

static pthread_once_t load_once = PTHREAD_ONCE_INIT;

static void load_runtime(void)
{
    char err[512];
    if (!maprace_runtime_load(err, sizeof err)) {
        fprintf(stderr, "maprace: %s; hash tables are not watched\n", err);
        return;
    }
    activate();
    /* A crash inside GLib's table code may be a race no check met. */
    void *lookup = dlsym(RTLD_NEXT, "g_hash_table_lookup");
    if (lookup != NULL)
        fault_watch_code(lookup, "g_hash_table_", "GHashTable");
}

bool maprace_watch(void)
{
    if (maprace_active())
        return true;
    pthread_once(&load_once, load_runtime);
    return maprace_active();
}

__attribute__((constructor)) static void maprace_init(void)
{
    /* (A library's constructor may have made a GHashTable already, and
     * so loaded libmaprt and started watching: GObject does.) */
    if (maprace_active())
        return;
    if (dlsym(RTLD_NEXT, "mr_hook_report") != NULL) { /* a program built on libmaprt */
        if (!maprace_runtime_find()) {
            fprintf(stderr, "maprace: this libmaprt lacks services libmaprace.so needs; maprace is off\n");
            return;
        }
        pthread_once(&load_once, activate);
        return;
    }
    /* A program that uses GLib: watch its tables from the start (its
     * main thread becomes goroutine 1).  Anything else stays untouched
     * until it makes a table maprace watches, if ever. */
    if (dlsym(RTLD_NEXT, "g_hash_table_new_full") != NULL)
        maprace_watch();
}

/* ---- allocation: passed through (maprace keeps its own memory apart) --- */

void *mr_hook_alloc(mr_alloc_kind kind, size_t size, const void *owner)
{
    if (NEXT(alloc, "mr_hook_alloc") == NULL) /* (inside libmaprt's dlopen) */
        return calloc(1, size ? size : 1);
    return next.alloc(kind, size, owner);
}

void mr_hook_free(mr_alloc_kind kind, void *p, size_t size, const void *owner)
{
    if (NEXT(free, "mr_hook_free") == NULL)
        free(p);
    else
        next.free(kind, p, size, owner);
}

/* ---- maps ----------------------------------------------------------------- */

__attribute__((noinline)) int maprace_capture(uintptr_t *pcs, int max, int skip)
{
    void *buf[REC_FRAMES + 8];
    int n = backtrace(buf, REC_FRAMES + 8);
    /* Leave out this function and its caller, and what the caller asks. */
    skip += 2;
    int k = 0;
    for (int i = skip; i < n && k < max; i++)
        pcs[k++] = (uintptr_t)buf[i];
    return k;
}

/* The stack from the user's call `pc` (a return address) outwards: the
 * frames between here and there depend on the compiler's inlining. */
static int capture_from(uintptr_t pc, uintptr_t *pcs, int max)
{
    uintptr_t all[REC_FRAMES + 8];
    int n = maprace_capture(all, REC_FRAMES + 8, 0), from = 1; /* (without a match: the hook's caller's caller) */
    for (int i = 0; i < n; i++)
        if (all[i] == pc) {
            from = i;
            break;
        }
    int k = 0;
    for (int i = from; i < n && k < max; i++)
        pcs[k++] = all[i];
    return k;
}

void mr_hook_map_made(const struct mr_map *h, const struct mr_maptype *t, uintptr_t pc)
{
    if (maprace_active()) {
        uintptr_t pcs[REC_FRAMES];
        int n = capture_from(pc, pcs, REC_FRAMES); /* from the call of mr_makemap */
        records_map_made(h, t->name, maprace_rt.goid(), pcs, n);
    }
    if (NEXT(map_made, "mr_hook_map_made") != NULL)
        next.map_made(h, t, pc);
}

void mr_hook_map_freed(const struct mr_map *h, const struct mr_maptype *t, uintptr_t pc)
{
    if (maprace_active()) {
        uintptr_t pcs[REC_FRAMES];
        int n = capture_from(pc, pcs, REC_FRAMES); /* from the call of mr_mapfree */
        records_map_freed(h, maprace_rt.goid(), pcs, n);
    }
    if (NEXT(map_freed, "mr_hook_map_freed") != NULL)
        next.map_freed(h, t, pc);
}

/* ---- goroutines and deferred calls ------------------------------------------ */

void mr_hook_defer_touch(const struct mr_map *h, mr_mapop op, uintptr_t pc)
{
    if (maprace_active()) {
        running_defers *rd = records_running_self(maprace_rt.goid());
        int n = rd ? atomic_load(&rd->n) : 0;
        if (n > 0 && n <= MAX_RUNNING)
            records_touch(h, op, pc, &rd->ev[n - 1]);
    }
    if (NEXT(defer_touch, "mr_hook_defer_touch") != NULL)
        next.defer_touch(h, op, pc);
}

void mr_hook_goroutine_start(uint64_t goid, uint64_t parent, uintptr_t createpc)
{
    if (NEXT(goroutine_start, "mr_hook_goroutine_start") != NULL)
        next.goroutine_start(goid, parent, createpc);
}

void mr_hook_goroutine_exit(uint64_t goid)
{
    if (maprace_active())
        records_goroutine_exit(goid);
    if (NEXT(goroutine_exit, "mr_hook_goroutine_exit") != NULL)
        next.goroutine_exit(goid);
}

void mr_hook_defer_start(const mr_defer_event *e)
{
    if (maprace_active()) {
        running_defers *rd = records_running_self(e->goid);
        if (rd != NULL) {
            int n = atomic_load(&rd->n);
            if (n < MAX_RUNNING)
                rd->ev[n] = *e;
            atomic_store(&rd->n, n + 1);
        }
    }
    if (NEXT(defer_start, "mr_hook_defer_start") != NULL)
        next.defer_start(e);
}

void mr_hook_defer_end(const mr_defer_event *e)
{
    if (maprace_active()) {
        running_defers *rd = records_running_self(e->goid);
        if (rd != NULL && atomic_load(&rd->n) > 0)
            atomic_fetch_sub(&rd->n, 1);
    }
    if (NEXT(defer_end, "mr_hook_defer_end") != NULL)
        next.defer_end(e);
}

/* ---- reports ---------------------------------------------------------------- */

void mr_hook_report(const mr_report_event *e)
{
    if (maprace_active())
        maprace_report(e);
    if (NEXT(report, "mr_hook_report") != NULL)
        next.report(e);
}
