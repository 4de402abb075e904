/*
 * hookspy — a small LD_PRELOAD interposer of libmaprt's hooks, for t_hooks:
 * it counts every call of every hook (and allocations by kind, and what
 * the report hook was told), then calls the runtime's own body through
 * dlsym(RTLD_NEXT).  If the runtime called any hook directly instead of
 * through the PLT, the counts would fall short.
 */

#include <maprt_hooks.h>

#include <dlfcn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

enum { H_ALLOC, H_FREE, H_MADE, H_FREED, H_TOUCH, H_GSTART, H_GEXIT, H_DSTART, H_DEND, H_REPORT, NHOOKS };
static const char *const names[NHOOKS] = {"alloc", "free", "map_made", "map_freed", "defer_touch",
                                         "goroutine_start", "goroutine_exit", "defer_start", "defer_end",
                                         "report"};
static _Atomic long counts[NHOOKS];
static _Atomic long allocs[16], frees[16], bytes[16];
static _Atomic long touches_by_op[8], defers_by_why[4];
static char report_text[4096];

#define NEXT(name) ((__typeof__(&name))dlsym(RTLD_NEXT, #name))

void *mr_hook_alloc(mr_alloc_kind kind, size_t size, const void *owner)
{
    counts[H_ALLOC]++;
    allocs[kind & 15]++;
    bytes[kind & 15] += (long)size;
    return NEXT(mr_hook_alloc)(kind, size, owner);
}

void mr_hook_free(mr_alloc_kind kind, void *p, size_t size, const void *owner)
{
    counts[H_FREE]++;
    frees[kind & 15]++;
    bytes[kind & 15] -= (long)size;
    NEXT(mr_hook_free)(kind, p, size, owner);
}

void mr_hook_map_made(const struct mr_map *h, const struct mr_maptype *t, uintptr_t pc)
{
    counts[H_MADE]++;
    NEXT(mr_hook_map_made)(h, t, pc);
}

void mr_hook_map_freed(const struct mr_map *h, const struct mr_maptype *t, uintptr_t pc)
{
    counts[H_FREED]++;
    NEXT(mr_hook_map_freed)(h, t, pc);
}

void mr_hook_defer_touch(const struct mr_map *h, mr_mapop op, uintptr_t pc)
{
    counts[H_TOUCH]++;
    touches_by_op[op & 7]++;
    NEXT(mr_hook_defer_touch)(h, op, pc);
}

void mr_hook_goroutine_start(uint64_t goid, uint64_t parent, uintptr_t createpc)
{
    counts[H_GSTART]++;
    NEXT(mr_hook_goroutine_start)(goid, parent, createpc);
}

void mr_hook_goroutine_exit(uint64_t goid)
{
    counts[H_GEXIT]++;
    NEXT(mr_hook_goroutine_exit)(goid);
}

void mr_hook_defer_start(const mr_defer_event *e)
{
    counts[H_DSTART]++;
    defers_by_why[e->why & 3]++;
    NEXT(mr_hook_defer_start)(e);
}

void mr_hook_defer_end(const mr_defer_event *e)
{
    counts[H_DEND]++;
    NEXT(mr_hook_defer_end)(e);
}

void mr_hook_report(const mr_report_event *e)
{
    counts[H_REPORT]++;
    size_t n = 0;
    n += (size_t)snprintf(report_text + n, sizeof report_text - n, "report kind=%s message=%s map=%s goroutines=%d",
                          e->kind, e->message, e->map ? "yes" : "no", e->ngoroutines);
    for (int i = 0; i < e->ngoroutines && n < sizeof report_text - 64; i++)
        n += (size_t)snprintf(report_text + n, sizeof report_text - n, " [%s %s pcs=%s]",
                              e->goroutines[i].role == MR_ROLE_DETECTOR ? "detector"
                              : e->goroutines[i].role == MR_ROLE_WRITER ? "writer"
                                                                        : "other",
                              e->goroutines[i].status, e->goroutines[i].npc > 0 ? "yes" : "no");
    fprintf(stderr, "hookspy: %s\n", report_text);
    NEXT(mr_hook_report)(e);
}

/* Called by the test program (found with dlsym) to print what was seen. */
void hookspy_dump(void);
void hookspy_dump(void)
{
    for (int i = 0; i < NHOOKS; i++)
        printf("%s %ld\n", names[i], (long)counts[i]);
    for (int k = 0; k <= MR_ALLOC_PANIC; k++)
        printf("kind %d allocs %ld frees %ld outstanding_bytes %ld\n", k, (long)allocs[k], (long)frees[k],
               (long)bytes[k]);
    for (int op = 0; op <= MR_OP_FREE; op++)
        printf("touch op %d %ld\n", op, (long)touches_by_op[op]);
    for (int w = 0; w <= MR_WHY_GOEXIT; w++)
        printf("defer why %d %ld\n", w, (long)defers_by_why[w]);
    fflush(stdout);
}

long hookspy_count(const char *name);
long hookspy_count(const char *name)
{
    for (int i = 0; i < NHOOKS; i++)
        if (strcmp(names[i], name) == 0)
            return counts[i];
    return -1;
}
