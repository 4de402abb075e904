/*
 * hooks.c — the default bodies of the runtime's hooks (maprt_hooks.h).
 *
 * Every one is the plain behaviour.  They are kept in this one file, with
 * default visibility, and the runtime calls them only through their
 * exported names, so that a library loaded with LD_PRELOAD replaces them
 * (this file must never be built with -Bsymbolic, -fno-semantic-
 * interposition or LTO; t_hooks proves that an interposer sees every call).
 */
#include "maprt_hooks.h"
#include "table_pages.h"

#include <stdlib.h>

void *mr_hook_alloc(mr_alloc_kind kind, size_t size, const void *owner)
{
    (void)owner;
    if (kind == MR_ALLOC_BUCKETS && size >= MR_TABLE_PAGES_MIN)
        return mr_table_pages_alloc(size); /* huge pages; freed ones reused */
    return calloc(1, size ? size : 1);
}

void mr_hook_free(mr_alloc_kind kind, void *p, size_t size, const void *owner)
{
    (void)owner;
    if (p == NULL)
        return;
    if (kind == MR_ALLOC_BUCKETS && size >= MR_TABLE_PAGES_MIN)
        mr_table_pages_free(p, size);
    else
        free(p);
}

void mr_hook_map_made(const struct mr_map *h, const struct mr_maptype *t, uintptr_t pc)
{
    (void)h, (void)t, (void)pc;
}

void mr_hook_map_freed(const struct mr_map *h, const struct mr_maptype *t, uintptr_t pc)
{
    (void)h, (void)t, (void)pc;
}

void mr_hook_defer_touch(const struct mr_map *h, mr_mapop op, uintptr_t pc)
{
    (void)h, (void)op, (void)pc;
}

void mr_hook_goroutine_start(uint64_t goid, uint64_t parent, uintptr_t createpc)
{
    (void)goid, (void)parent, (void)createpc;
}

void mr_hook_goroutine_exit(uint64_t goid)
{
    (void)goid;
}

void mr_hook_defer_start(const mr_defer_event *e)
{
    (void)e;
}

void mr_hook_defer_end(const mr_defer_event *e)
{
    (void)e;
}

int mr_hook_race_policy(void)
{
    return MR_RACE_HALT;
}

int mr_hook_race_decide(const mr_report_event *e)
{
    (void)e;
    return MR_RACE_REPORT_HALT;
}

void mr_hook_report(const mr_report_event *e)
{
    (void)e;
}
