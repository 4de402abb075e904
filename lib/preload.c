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
    uint64_t (*goid)(void);
} next;

static bool active;

bool maprace_active(void)
{
    return active;
}
static bool resolved_all;
static pthread_once_t resolve_once = PTHREAD_ONCE_INIT;

#define FIND(field, name) next.field = (__typeof__(next.field))dlsym(RTLD_NEXT, name)

/* libmaprt's constructors may call hooks before this library's constructor
 * has run, so the originals are looked up on first need. */
static void resolve(void)
{
    FIND(report, "mr_hook_report");
    FIND(alloc, "mr_hook_alloc");
    FIND(free, "mr_hook_free");
    FIND(map_made, "mr_hook_map_made");
    FIND(map_freed, "mr_hook_map_freed");
    FIND(defer_touch, "mr_hook_defer_touch");
    FIND(goroutine_start, "mr_hook_goroutine_start");
    FIND(goroutine_exit, "mr_hook_goroutine_exit");
    FIND(defer_start, "mr_hook_defer_start");
    FIND(defer_end, "mr_hook_defer_end");
    next.goid = (uint64_t(*)(void))dlsym(RTLD_DEFAULT, "mr_goid");
    maprace_describe_pc = (int (*)(uintptr_t, int, mr_pcinfo *))dlsym(RTLD_DEFAULT, "mr_describe_pc");
    resolved_all = next.report && next.alloc && next.free && next.map_made && next.map_freed &&
                   next.defer_touch && next.goroutine_start && next.goroutine_exit && next.defer_start &&
                   next.defer_end && next.goid;
}

#define RESOLVE() pthread_once(&resolve_once, resolve)

__attribute__((constructor)) static void maprace_init(void)
{
    RESOLVE();
    if (dlsym(RTLD_NEXT, "mr_hook_report") == NULL)
        return; /* no libmaprt in this process: stay inert, silently */
    if (!resolved_all) {
        fprintf(stderr, "maprace: this libmaprt lacks hooks libmaprace.so needs; maprace is off\n");
        return;
    }
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
    active = true;
}

/* ---- allocation: passed through (maprace keeps its own memory apart) --- */

void *mr_hook_alloc(mr_alloc_kind kind, size_t size, const void *owner)
{
    RESOLVE();
    return next.alloc(kind, size, owner);
}

void mr_hook_free(mr_alloc_kind kind, void *p, size_t size, const void *owner)
{
    RESOLVE();
    next.free(kind, p, size, owner);
}

/* ---- maps ----------------------------------------------------------------- */

static int capture(uintptr_t *pcs, int max)
{
    void *buf[REC_FRAMES + 2];
    int n = backtrace(buf, REC_FRAMES + 2);
    /* Skip this function and the hook itself. */
    int skip = n > 2 ? 2 : n;
    int k = 0;
    for (int i = skip; i < n && k < max; i++)
        pcs[k++] = (uintptr_t)buf[i];
    return k;
}

void mr_hook_map_made(const struct mr_map *h, const struct mr_maptype *t, uintptr_t pc)
{
    RESOLVE();
    if (active) {
        uintptr_t pcs[REC_FRAMES];
        int n = capture(pcs, REC_FRAMES);
        records_map_made(h, t->name, next.goid(), pcs, n);
    }
    next.map_made(h, t, pc);
}

void mr_hook_map_freed(const struct mr_map *h, const struct mr_maptype *t, uintptr_t pc)
{
    RESOLVE();
    if (active) {
        uintptr_t pcs[REC_FRAMES];
        int n = capture(pcs, REC_FRAMES);
        records_map_freed(h, next.goid(), pcs, n);
    }
    next.map_freed(h, t, pc);
}

/* ---- goroutines and deferred calls ------------------------------------------ */

void mr_hook_defer_touch(const struct mr_map *h, mr_mapop op, uintptr_t pc)
{
    RESOLVE();
    if (active) {
        running_defers *rd = records_running_self(next.goid());
        int n = rd ? atomic_load(&rd->n) : 0;
        if (n > 0 && n <= MAX_RUNNING)
            records_touch(h, op, pc, &rd->ev[n - 1]);
    }
    next.defer_touch(h, op, pc);
}

void mr_hook_goroutine_start(uint64_t goid, uint64_t parent, uintptr_t createpc)
{
    RESOLVE();
    next.goroutine_start(goid, parent, createpc);
}

void mr_hook_goroutine_exit(uint64_t goid)
{
    RESOLVE();
    if (active)
        records_goroutine_exit(goid);
    next.goroutine_exit(goid);
}

void mr_hook_defer_start(const mr_defer_event *e)
{
    RESOLVE();
    if (active) {
        running_defers *rd = records_running_self(e->goid);
        if (rd != NULL) {
            int n = atomic_load(&rd->n);
            if (n < MAX_RUNNING)
                rd->ev[n] = *e;
            atomic_store(&rd->n, n + 1);
        }
    }
    next.defer_start(e);
}

void mr_hook_defer_end(const mr_defer_event *e)
{
    RESOLVE();
    if (active) {
        running_defers *rd = records_running_self(e->goid);
        if (rd != NULL && atomic_load(&rd->n) > 0)
            atomic_fetch_sub(&rd->n, 1);
    }
    next.defer_end(e);
}

/* ---- reports ---------------------------------------------------------------- */

void mr_hook_report(const mr_report_event *e)
{
    RESOLVE();
    if (active)
        maprace_report(e);
    next.report(e);
}
