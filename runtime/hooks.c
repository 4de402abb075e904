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

#include <stdlib.h>
#include <sys/mman.h>

/* Tables from this size up are mapped on their own, 2 MiB aligned, and
 * offered to transparent huge pages: a lookup in a table far larger than
 * the cache otherwise pays a TLB miss on top of the cache miss. */
enum { HUGE_PAGE = 2u << 20, HUGE_TABLE = 2u << 20 };

/* A leak checker (LeakSanitizer, in a program built with ASan) looks for
 * pointers in the heap and the stacks, not in private mappings: a table
 * mapped here is named to it as a root region, or every overflow bucket
 * it points to would be reported leaked.  Weak: absent, nothing is done. */
extern void __lsan_register_root_region(const void *p, size_t size) __attribute__((weak));
extern void __lsan_unregister_root_region(const void *p, size_t size) __attribute__((weak));

static size_t mapping_size(size_t size)
{
    return (size + HUGE_PAGE - 1) & ~(size_t)(HUGE_PAGE - 1);
}

static void *map_huge(size_t size)
{
    size_t len = mapping_size(size);
    char *raw = mmap(NULL, len + HUGE_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED)
        return NULL;
    char *p = (char *)(((uintptr_t)raw + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
    if (p > raw)
        munmap(raw, (size_t)(p - raw));
    if (raw + len + HUGE_PAGE > p + len)
        munmap(p + len, (size_t)(raw + len + HUGE_PAGE - (p + len)));
#ifdef MADV_HUGEPAGE
    madvise(p, len, MADV_HUGEPAGE); /* advice only: fine if refused */
#endif
    if (__lsan_register_root_region != NULL)
        __lsan_register_root_region(p, len);
    return p;
}

void *mr_hook_alloc(mr_alloc_kind kind, size_t size, const void *owner)
{
    (void)owner;
    if (kind == MR_ALLOC_BUCKETS && size >= HUGE_TABLE)
        return map_huge(size);
    return calloc(1, size ? size : 1);
}

void mr_hook_free(mr_alloc_kind kind, void *p, size_t size, const void *owner)
{
    (void)owner;
    if (p == NULL)
        return;
    if (kind == MR_ALLOC_BUCKETS && size >= HUGE_TABLE) {
        if (__lsan_unregister_root_region != NULL)
            __lsan_unregister_root_region(p, mapping_size(size));
        munmap(p, mapping_size(size));
    } else
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
