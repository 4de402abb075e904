/*
 * mapfatal.c — Go's fatal map errors, reported once, then exit status 2.
 *
 * A fatal error is not a panic: nothing is recovered, no deferred call and
 * no atexit handler runs, and the process ends with status 2 as in Go.
 * When several threads fail at once, the first one reports and the others
 * wait for the exit, so the report is never interleaved.
 */
#include "mapfatal.h"

#include "g.h"
#include "map_internal.h"

#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static _Atomic int dying;

/* Only the first failing thread reports; the others park until it exits. */
static void start_dying(void)
{
    if (atomic_exchange_explicit(&dying, 1, memory_order_acq_rel)) {
        for (;;)
            pause();
    }
}

static void write_all(const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = write(STDERR_FILENO, s, n);
        if (w <= 0)
            return;
        s += w;
        n -= (size_t)w;
    }
}

static const char *fault_message(mr_mapfault fault)
{
    switch (fault) {
    case MR_FAULT_WRITES: return "concurrent map writes";
    case MR_FAULT_READ: return "concurrent map read and map write";
    case MR_FAULT_ITERATE: return "concurrent map iteration and map write";
    case MR_FAULT_FREED: return "map used after free";
    }
    return "map error";
}

void mr_map_fatal(mr_mapfault fault, const mr_map *h, uint64_t holder)
{
    start_dying();
    char buf[1024];
    uint64_t me = mr_getg_id();
    /* The header of a freed map is quarantined, never unmapped, so its
     * type pointer can still be read. */
    const char *tname = h && h->type && h->type->name ? h->type->name : "map";
    int n = snprintf(buf, sizeof buf,
                     "fatal error: %s\n\ngoroutine %llu [running]:\n\t(noticed on %s %p)\n",
                     fault_message(fault), (unsigned long long)me, tname, (const void *)h);
    if (holder != 0 && holder != MR_WRITER_FREED && n > 0 && (size_t)n < sizeof buf)
        n += snprintf(buf + n, sizeof buf - (size_t)n,
                      "\ngoroutine %llu [running, writing map]:\n\t(held the write claim on %p)\n",
                      (unsigned long long)holder, (const void *)h);
    if (n > (int)sizeof buf - 1)
        n = (int)sizeof buf - 1;
    if (n > 0)
        write_all(buf, (size_t)n);
    _exit(2);
}

void mr_throw(const char *msg)
{
    start_dying();
    char buf[512];
    int n = snprintf(buf, sizeof buf, "fatal error: %s\n\ngoroutine %llu [running]:\n", msg,
                     (unsigned long long)mr_getg_id());
    if (n > (int)sizeof buf - 1)
        n = (int)sizeof buf - 1;
    write_all(buf, (size_t)n);
    _exit(2);
}

void mr_panic_nilmap(void)
{
    start_dying();
    char buf[256];
    int n = snprintf(buf, sizeof buf,
                     "panic: assignment to entry in nil map\n\ngoroutine %llu [running]:\n",
                     (unsigned long long)mr_getg_id());
    write_all(buf, (size_t)n);
    _exit(2);
}

void mr_map_claim_failed(const mr_map *h, uint64_t observed)
{
    if (observed == MR_WRITER_FREED)
        mr_map_fatal(MR_FAULT_FREED, h, 0);
    mr_map_fatal(MR_FAULT_WRITES, h, observed);
}

void mr_map_claim_lost(const mr_map *h, uint64_t observed)
{
    if (observed == MR_WRITER_FREED)
        mr_map_fatal(MR_FAULT_FREED, h, 0);
    /* Someone released or took our claim: another writer ran unchecked. */
    mr_map_fatal(MR_FAULT_WRITES, h, observed);
}

void mr_map_read_failed(const mr_map *h, uint64_t observed, mr_mapfault fault)
{
    if (observed == MR_WRITER_FREED)
        mr_map_fatal(MR_FAULT_FREED, h, 0);
    mr_map_fatal(fault, h, observed);
}
