/*
 * mapfatal.c — Go's fatal map errors, reported once, then exit status 2.
 *
 * A fatal error is not a panic: nothing is recovered, no deferred call and
 * no atexit handler runs, and the process ends with status 2 as in Go.
 *
 * The report shows both sides of a race.  The goroutine that noticed
 * prints its own stack.  The one holding the map's write claim is still
 * inside its write, so the reporter marks the claim (MR_WRITER_WATCHED):
 * when the writer finishes the write, its release finds the mark, records
 * its stack right there — the stack it had while writing, from its own
 * thread — and waits for the exit.  If the writer has already moved on,
 * its stack is captured by signal like every other goroutine's.
 */
#include "mapfatal.h"

#include "g.h"
#include "maprt_foreign.h"
#include "map_internal.h"
#include "panic.h"
#include "report.h"
#include "maprt_hooks.h"
#include "traceback.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

/* What a race report needs of the table raced on: its claim word, and how
 * to name it.  An mr_map, or a foreign table (maprt_foreign.h). */
typedef struct race_site {
    _Atomic uint64_t *claim;
    const void *addr;
    const mr_maptype *maptype; /* NULL for a foreign table */
    const char *type;
    /* The last write's goroutine and call site, where kept (NULL if not). */
    const _Atomic uint64_t *last_writer;
    const _Atomic uintptr_t *last_pc;
} race_site;

static race_site map_site(const mr_map *h)
{
    mr_map *m = (mr_map *)h;
    return (race_site){m ? &m->writer : NULL, h, m ? m->type : NULL, m && m->type ? m->type->name : NULL,
                       m ? &m->last_writer : NULL, m ? &m->last_pc : NULL};
}

static race_site table_site(mr_table *t)
{
    return (race_site){&t->writer, t->addr, NULL, t->type, &t->last_writer, &t->last_pc};
}

enum { WRITER_WAIT_MS = 1000, OTHERS_WAIT_MS = 500, CATCH_WRITE_MS = 100 };

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

/* Marks the claim while `holder` holds it, so that the holder hands over
 * its stack from inside the write.  By the time the report starts, the
 * write that was noticed may be over; a goroutine racing on a map usually
 * writes again at once, so keep trying for a little while.
 *
 * The holder releases its claim with a plain store (a second atomic
 * read-modify-write per write would double the checks' cost), so a mark
 * set just as it releases can be overwritten: then the mark is simply set
 * again on a later write.  Returns whether the stack came from inside a
 * write. */
static long ms_since(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (now.tv_sec - start->tv_sec) * 1000 + (now.tv_nsec - start->tv_nsec) / 1000000;
}

/* Whether `holder` holds the claim (marked or not) as it is now. */
static bool claim_held_by(const race_site *site, uint64_t holder)
{
    uint64_t w = atomic_load_explicit(site->claim, memory_order_acquire);
    return w != MR_WRITER_FREED && (w & ~MR_WRITER_WATCHED) == holder;
}

static bool catch_in_write(const race_site *site, mr_g *writer, uint64_t holder)
{
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    /* (The writer was pinned: its capture is 1 already.) */
    for (unsigned tries = 0;; tries++) {
        uint64_t expected = holder;
        if (atomic_compare_exchange_strong(site->claim, &expected, holder | MR_WRITER_WATCHED)) {
            /* Wait for the stack, unless the mark is lost meanwhile (or
             * the write never ends: a user equality function that blocks). */
            while (atomic_load(&writer->capture) != 2 &&
                   atomic_load(site->claim) == (holder | MR_WRITER_WATCHED) &&
                   ms_since(&start) < WRITER_WAIT_MS)
                sched_yield();
            if (atomic_load(&writer->capture) == 2)
                return true;
        } else if (expected == MR_WRITER_FREED) {
            return false;
        }
        if (tries % 1024 == 1023) {
            if (ms_since(&start) >= CATCH_WRITE_MS)
                return false;
            sched_yield();
        }
    }
}

/* The writer's entry for the report hook, with what the report says it
 * was doing: "writing map" when caught inside its write, "wrote map" when
 * gone from it. */
static mr_report_goroutine writer_entry(const mr_g *g, const mr_stack *st, bool in_write)
{
    mr_report_goroutine e = mr_report_entry(g, st, MR_ROLE_WRITER);
    e.doing = in_write ? "writing map" : "wrote map";
    return e;
}

/* The report of a race: the goroutine that noticed, the writer, and (for
 * a fatal report) every other goroutine; then the report hook. */
static void notify(mr_mapfault fault, const race_site *site, const mr_report_goroutine *lead, int nlead,
                   bool others)
{
    mr_report_notify(fault_message(fault), fault_message(fault), (const mr_map *)site->addr, site->maptype,
                     site->type, lead, nlead, others);
}

/* Where the holder made its last write, when the table keeps it and the
 * last write was the holder's: a one-frame stack (a return address). */
static bool last_write(const race_site *site, uint64_t holder, mr_stack *out)
{
    if (site->last_pc == NULL || holder == 0 || last_writer_id(atomic_load(site->last_writer)) != holder)
        return false;
    uintptr_t pc = atomic_load(site->last_pc);
    if (pc == 0)
        return false;
    out->n = 1;
    out->exact = -1;
    out->nret = 0;
    out->pc[0] = pc;
    return true;
}

static void print_race(const char *prefix, mr_mapfault fault, const race_site *site, uint64_t holder, mr_g *self,
                       const mr_stack *own, mr_g *writer, bool in_write, bool others)
{
    mr_report_printf("%s%s\n", prefix, fault_message(fault));
    mr_report_goroutine lead[2];
    int nlead = 0;
    lead[nlead++] = mr_report_entry(self, own, MR_ROLE_DETECTOR);
    if (own == NULL) { /* GOTRACEBACK=none */
        notify(fault, site, lead, nlead, false);
        return;
    }
    mr_report_section(self, own, NULL, NULL, 0);
    bool captured = writer != NULL && atomic_load(&writer->capture) == 2;
    /* Unless the writer was caught inside its write, name where it made
     * its last write, where the table keeps it. */
    static mr_stack last; /* (one report at a time) */
    bool known = !(captured && in_write) && last_write(site, holder, &last);
    uintptr_t lastpc = known ? last.pc[0] : 0;
    if (writer != NULL) {
        const char *note = captured ? (known ? "its last write:" : NULL)
                           : known  ? "stack not captured: the goroutine did not answer in time; its last write:"
                                    : "stack not captured: the goroutine did not answer in time";
        mr_report_goroutine *w = &lead[nlead++];
        *w = writer_entry(writer, captured ? &writer->stack : known ? &last : NULL, in_write);
        mr_report_section(writer, captured ? &writer->stack : NULL, w->doing, note, lastpc);
    } else if (holder != 0) {
        mr_g gone = {.goid = holder, .status = MR_G_DEAD}; /* Go's word for an exited goroutine */
        mr_report_goroutine *w = &lead[nlead++];
        *w = writer_entry(&gone, known ? &last : NULL, !known);
        mr_report_section(&gone, NULL, w->doing,
                          known ? "the goroutine has exited since; its last write:" : "the goroutine has exited since",
                          lastpc);
    }
    if (others)
        mr_report_others(self, writer);
    notify(fault, site, lead, nlead, others);
}

static __attribute__((noreturn, noinline)) void race_fatal(mr_mapfault fault, const race_site *site, uint64_t holder)
{
    mr_report_begin();
    mr_g *self = mr_getg();
    bool tracebacks = mr_traceback_level() != MR_TB_NONE;

    /* Catch the writer inside its write. */
    mr_g *writer = holder != 0 && holder != self->goid ? mr_g_pin(holder) : NULL;
    bool in_write = false;
    if (writer != NULL && tracebacks) {
        in_write = catch_in_write(site, writer, holder);
        if (!in_write)
            mr_capture_ask(writer); /* its write is over: ask it by signal */
    }
    mr_stack own;
    if (tracebacks) {
        mr_capture_self(&own);
        mr_capture_others(OTHERS_WAIT_MS);
        /* A writer that answered the signal stays stopped in its handler:
         * if it still holds the claim, its stack was taken inside the
         * write (one stalled in a key's equality, say). */
        if (writer != NULL && !in_write && atomic_load(&writer->capture) == 2 && claim_held_by(site, holder))
            in_write = true;
    }
    print_race("fatal error: ", fault, site, holder, self, tracebacks ? &own : NULL, writer, in_write, true);
    mr_report_exit();
}

void mr_map_fatal(mr_mapfault fault, const mr_map *h, uint64_t holder)
{
    race_site site = map_site(h);
    race_fatal(fault, &site, holder);
}

/* ---- races that may let the program go on ----------------------------------
 *
 * When the race policy hook says so (libmaprace's halt_on_error=0, or
 * suppressions), the stacks of the two sides are taken without stopping
 * anyone and the decide hook says what to do.  One race is handled at a
 * time; a caught writer hands over its stack and goes on. */

static pthread_mutex_t decide_lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic int going_on;

static void race_decide(mr_mapfault fault, const race_site *site, uint64_t holder)
{
    pthread_mutex_lock(&decide_lock);
    mr_g *self = mr_getg();
    mr_g *writer = holder != 0 && holder != self->goid ? mr_g_pin(holder) : NULL;
    bool in_write = writer != NULL && catch_in_write(site, writer, holder);
    mr_stack own;
    mr_capture_self(&own);
    mr_report_goroutine lead[2];
    int nlead = 0;
    lead[nlead++] = mr_report_entry(self, &own, MR_ROLE_DETECTOR);
    if (writer != NULL)
        lead[nlead++] = writer_entry(writer, in_write ? &writer->stack : NULL, in_write);
    mr_report_event e = {fault_message(fault), fault_message(fault), (const mr_map *)site->addr, site->maptype,
                         nlead, lead, site->type};
    int decision = mr_hook_race_decide(&e);
    if (decision == MR_RACE_REPORT_HALT) {
        mr_report_begin();
        bool tracebacks = mr_traceback_level() != MR_TB_NONE;
        if (tracebacks)
            mr_capture_others(OTHERS_WAIT_MS);
        print_race("fatal error: ", fault, site, holder, self, tracebacks ? &own : NULL, writer, in_write, true);
        mr_report_exit();
    }
    if (decision == MR_RACE_REPORT_CONTINUE && mr_traceback_level() != MR_TB_NONE)
        print_race("warning: ", fault, site, holder, self, &own, writer, in_write, false);
    else if (decision == MR_RACE_REPORT_CONTINUE)
        print_race("warning: ", fault, site, holder, self, NULL, writer, in_write, false);
    if (writer != NULL)
        atomic_store(&writer->capture, 0);
    pthread_mutex_unlock(&decide_lock);
}

/* Going on after a race: wait until the holder has finished its write, so
 * that what the caller does next does not meet a half-done one. */
static void wait_for_holder(const race_site *site, uint64_t holder)
{
    while (holder != 0 && claim_held_by(site, holder))
        sched_yield();
}

/* A race: fatal, unless the race policy lets the program go on. */
static void site_race(mr_mapfault fault, const race_site *site, uint64_t holder)
{
    if (mr_hook_race_policy() != MR_RACE_DECIDE)
        race_fatal(fault, site, holder);
    atomic_store(&going_on, 1);
    race_decide(fault, site, holder);
    wait_for_holder(site, holder);
}

/* A fatal error of the runtime itself: the message and this goroutine. */
void mr_throw(const char *msg)
{
    mr_report_begin();
    mr_g *self = mr_getg();
    mr_stack own;
    mr_capture_self(&own);
    mr_report_printf("fatal error: %s\n", msg);
    if (mr_traceback_level() != MR_TB_NONE)
        mr_report_section(self, &own, NULL, NULL, 0);
    mr_report_goroutine lead = mr_report_entry(self, &own, MR_ROLE_DETECTOR);
    mr_report_notify("fatal error", msg, NULL, NULL, NULL, &lead, 1, false);
    mr_report_exit();
}

void mr_panic_nilmap(void)
{
    /* A panic, not a fatal error: recoverable, deferred calls run. */
    mr_panic_runtime_error("assignment to entry in nil map");
}

/* ---- the entry points: the map's, and foreign tables' ----------------------- */

static void site_claim_failed(const race_site *site, uint64_t observed)
{
    if (observed == MR_WRITER_FREED)
        race_fatal(MR_FAULT_FREED, site, 0);
    site_race(MR_FAULT_WRITES, site, observed & ~MR_WRITER_WATCHED);
}

static void site_claim_lost(const race_site *site, uint64_t observed)
{
    mr_g *g = mr_tls_g;
    if (observed == (mr_tls_goid | MR_WRITER_WATCHED) && g != NULL) {
        /* A report about this write is being made: hand it the stack we
         * have inside the write; then wait for the exit, or go on if the
         * race policy lets the program go on. */
        if (atomic_load(&g->capture) == 1) {
            mr_capture_self(&g->stack);
            atomic_store(&g->capture, 2);
        }
        if (atomic_load(&going_on))
            return;
        for (;;)
            pause();
    }
    if (observed == MR_WRITER_FREED)
        race_fatal(MR_FAULT_FREED, site, 0);
    /* Someone released or took our claim: another writer ran unchecked. */
    site_race(MR_FAULT_WRITES, site, observed & ~MR_WRITER_WATCHED);
}

static void site_read_failed(const race_site *site, uint64_t observed, mr_mapfault fault)
{
    if (observed == MR_WRITER_FREED)
        race_fatal(MR_FAULT_FREED, site, 0);
    site_race(fault, site, observed & ~MR_WRITER_WATCHED);
}

void mr_map_claim_failed(const mr_map *h, uint64_t observed)
{
    race_site site = map_site(h);
    site_claim_failed(&site, observed);
}

void mr_map_claim_lost(const mr_map *h, uint64_t observed)
{
    race_site site = map_site(h);
    site_claim_lost(&site, observed);
}

void mr_map_read_failed(const mr_map *h, uint64_t observed, mr_mapfault fault)
{
    race_site site = map_site(h);
    site_read_failed(&site, observed, fault);
}

void mr_table_claim_failed(mr_table *t, uint64_t seen)
{
    race_site site = table_site(t);
    site_claim_failed(&site, seen);
}

void mr_table_claim_lost(mr_table *t, uint64_t seen)
{
    race_site site = table_site(t);
    site_claim_lost(&site, seen);
}

void mr_table_read_failed(mr_table *t, uint64_t seen, mr_table_read how)
{
    race_site site = table_site(t);
    site_read_failed(&site, seen, how == MR_TABLE_ITERATE ? MR_FAULT_ITERATE : MR_FAULT_READ);
}
