/*
 * table_pages.c — the memory of large bucket arrays: mapped on their own,
 * on transparent huge pages, and kept a while after they are freed.
 *
 * A table far larger than the cache pays a TLB miss on top of each cache
 * miss on small pages, so an array of 2 MiB or more is a mapping of its
 * own, 2 MiB aligned, offered to huge pages.
 *
 * Why freed arrays are kept.  Memory given back to the kernel and asked for
 * again is zeroed page by page on first touch; on a virtual machine that
 * reports free memory to its host (virtio-balloon free page reporting,
 * common in clouds) each of those pages is also a fault in the host.  On
 * this project's benchmark machine, a 256 MiB mapping touched right after
 * another was unmapped faulted in at 11.8 GB/s, and at 0.5 GB/s when the
 * freed memory had had three seconds to be reported.  Tables come and go
 * in sizes that repeat (a map grows through the same powers of two as the
 * last one like it), so, as a heap keeps freed spans for reuse (Go's
 * runtime hands them back to the system only gradually), the arrays freed
 * last are kept and handed out again, zeroed here, for a table of the
 * same size.
 *
 * What bounds what is kept: at most RETAINED arrays, RETAIN_MAX bytes in
 * all; and any smaller than a table now asked for are unmapped first: a
 * growing map never asks for a smaller size again, so a map growing alone
 * keeps nothing beyond the arrays it holds, and its peak is unchanged.
 */
#include "table_pages.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

enum { HUGE_PAGE = 2u << 20, RETAINED = 2 };
#define RETAIN_MAX ((size_t)512 << 20)

/* A leak checker (LeakSanitizer, in a program built with ASan) looks for
 * pointers in the heap and the stacks, not in private mappings: a table
 * mapped here is named to it as a root region, or every overflow bucket
 * it points to would be reported leaked.  Weak: absent, nothing is done.
 * A kept array is not a root: its stale pointers would hide real leaks. */
extern void __lsan_register_root_region(const void *p, size_t size) __attribute__((weak));
extern void __lsan_unregister_root_region(const void *p, size_t size) __attribute__((weak));

static size_t mapping_size(size_t size)
{
    return (size + HUGE_PAGE - 1) & ~(size_t)(HUGE_PAGE - 1);
}

static void *map_huge(size_t len)
{
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
    return p;
}

static struct kept {
    void *p; /* NULL: a free slot */
    size_t len;
} kept[RETAINED];
static pthread_mutex_t kept_lock = PTHREAD_MUTEX_INITIALIZER;

void *mr_table_pages_alloc(size_t size)
{
    size_t len = mapping_size(size);
    void *p = NULL, *drop[RETAINED];
    size_t droplen[RETAINED];
    int ndrop = 0;
    pthread_mutex_lock(&kept_lock);
    for (int i = 0; i < RETAINED; i++) {
        if (kept[i].p == NULL)
            continue;
        if (p == NULL && kept[i].len == len) {
            p = kept[i].p;
            kept[i].p = NULL;
        } else if (kept[i].len < len) {
            drop[ndrop] = kept[i].p;
            droplen[ndrop++] = kept[i].len;
            kept[i].p = NULL;
        }
    }
    pthread_mutex_unlock(&kept_lock);
    for (int i = 0; i < ndrop; i++)
        munmap(drop[i], droplen[i]);
    if (p != NULL)
        memset(p, 0, size); /* zeroed, as a fresh mapping is */
    else if ((p = map_huge(len)) == NULL)
        return NULL;
    if (__lsan_register_root_region != NULL)
        __lsan_register_root_region(p, len);
    return p;
}

void mr_table_pages_free(void *p, size_t size)
{
    size_t len = mapping_size(size);
    if (__lsan_unregister_root_region != NULL)
        __lsan_unregister_root_region(p, len);
    if (len <= RETAIN_MAX) {
        /* Into a free slot, or in place of the smallest kept array if
         * that is smaller (the larger ones cost more to fault in again),
         * while the total stays within RETAIN_MAX. */
        pthread_mutex_lock(&kept_lock);
        int slot = 0;
        size_t total = 0;
        for (int i = 0; i < RETAINED; i++) {
            total += kept[i].p != NULL ? kept[i].len : 0;
            if (kept[slot].p != NULL && (kept[i].p == NULL || kept[i].len < kept[slot].len))
                slot = i;
        }
        struct kept out = kept[slot];
        if (out.p != NULL)
            total -= out.len;
        if ((out.p == NULL || out.len < len) && total + len <= RETAIN_MAX) {
            kept[slot] = (struct kept){p, len};
            p = out.p;
            len = out.len;
        }
        pthread_mutex_unlock(&kept_lock);
    }
    if (p != NULL)
        munmap(p, len);
}
