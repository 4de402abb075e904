/*
 * g.h — goroutines as the runtime sees them: one record per thread.
 *
 * Every thread is a goroutine.  The process's main thread is goroutine 1;
 * a thread started with mr_go() gets its record (with its creator and
 * creation site) before it runs; any other thread is adopted, numbered,
 * on first use.  The records of live goroutines are kept in a list so that
 * a report can show every goroutine with its status and stack.
 *
 * The id lives in initial-exec TLS so the map's write claim reads it with
 * one load; the record itself is only needed on slow paths.
 */
#ifndef MAPRT_G_H
#define MAPRT_G_H

#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>

/* What a goroutine is doing, for the "[status]" of a report. */
typedef enum mr_gstatus {
    MR_G_RUNNING = 0,   /* running (or in code the runtime does not know) */
    MR_G_SEMACQUIRE,    /* blocked in WaitGroup.Wait */
    MR_G_MUTEXLOCK,     /* blocked in Mutex.Lock */
    MR_G_DEAD,          /* exiting */
} mr_gstatus;

enum { MR_MAXFRAMES = 64 };

/* A stack captured for a report: return addresses, innermost first, and
 * each frame's bounds as Go's GOTRACEBACK=system prints them (sp the
 * frame's stack pointer, fp its caller's: the DWARF call frame address). */
typedef struct mr_stack {
    int n;              /* number of PCs */
    int exact;          /* index of a PC that is not a return address (an
                           interrupted instruction), or -1 */
    uintptr_t pc[MR_MAXFRAMES];
    uintptr_t sp[MR_MAXFRAMES];
    uintptr_t fp[MR_MAXFRAMES];
    /* Frames of functions returning through MR_RETURN (their deferred
     * calls are running): the frame's index and the MR_RETURN call site. */
    int nret;
    struct {
        int frame;
        uintptr_t pc;
    } ret[4];
} mr_stack;

typedef struct mr_g {
    uint64_t goid;
    pid_t tid;
    _Atomic int status;     /* mr_gstatus */
    uint64_t parent;        /* creating goroutine, 0 if unknown (adopted) */
    uintptr_t createpc;     /* return address in the creating function */
    /* Capture of this goroutine's stack for a report, done by the
     * goroutine itself (0 idle, 1 asked, 2 done). */
    _Atomic int capture;
    mr_stack stack;
    /* defer/panic state (panic.c), touched only by the goroutine itself */
    struct mr_frame *frames;        /* innermost frame with deferred calls */
    struct mr_panic_rec *panics;    /* innermost panic (or Goexit) under way */
    /* The last fault this goroutine took (Go's gp.sig, kept as Go keeps
     * it): printed after the messages of an unrecovered panic. */
    int sig, sigcode;
    uintptr_t sigaddr, sigpc;
    struct mr_g *next, *prev;
} mr_g;

extern __thread uint64_t mr_tls_goid __attribute__((tls_model("initial-exec")));
extern __thread uint64_t mr_tls_rand __attribute__((tls_model("initial-exec")));
extern __thread mr_g *mr_tls_g __attribute__((tls_model("initial-exec")));
/* The deferred call the calling goroutine is running, innermost, or NULL.
 * In TLS of its own because the map's operations test it (one load) to
 * report touches made from deferred calls. */
extern __thread struct mr_defer_rec *mr_tls_running __attribute__((tls_model("initial-exec")));

/* Adopts the calling thread (numbers it, registers its record); returns
 * its id.  Called on a thread's first use. */
uint64_t mr_goid_assign(void);
/* The calling goroutine's record, adopting the thread if needed. */
mr_g *mr_getg(void);
/* Adds a record to the registry of live goroutines: done by mr_go before
 * the thread starts, so the goroutine counts from its creation on. */
void mr_g_register(mr_g *g);
/* Takes a record out of the registry (at its thread's exit). */
void mr_g_unregister(mr_g *g);
/* Binds a registered record to the calling (new) thread. */
void mr_g_start(mr_g *g);
/* Makes a record for a goroutine about to be started by `parent`. */
mr_g *mr_g_new(uint64_t parent, uintptr_t createpc);

/* Calls fn on every live goroutine (under the registry lock; if the lock
 * cannot be had quickly, as when a report interrupts a registration, the
 * list is walked anyway). */
void mr_g_each(void (*fn)(mr_g *g, void *arg), void *arg);
/* The live goroutine with this id, or NULL; it is asked for its stack
 * (capture = 1), which also keeps its record from being freed until
 * capture is back to 0. */
mr_g *mr_g_pin(uint64_t goid);

/* Blocks until the calling goroutine is the only live one (for Goexit in
 * goroutine 1). */
void mr_g_wait_alone(void);
/* How many goroutines are registered. */
size_t mr_g_count(void);

/* Seeds the calling thread's generator; returns a first random value. */
uint64_t mr_fastrand_seed(void);

/* The calling goroutine's id. */
static inline __attribute__((always_inline)) uint64_t mr_getg_id(void)
{
    uint64_t id = mr_tls_goid;
    if (__builtin_expect(id == 0, 0))
        id = mr_goid_assign();
    return id;
}

/* Go's fastrand: a fast, per-thread, non-cryptographic generator
 * (wyrand), seeded from the kernel's entropy on a thread's first use. */
static inline __attribute__((always_inline)) uint64_t mr_fastrand64(void)
{
    uint64_t s = mr_tls_rand;
    if (__builtin_expect(s == 0, 0))
        return mr_fastrand_seed();
    s += 0xa0761d6478bd642fULL;
    mr_tls_rand = s;
    __uint128_t m = (__uint128_t)s * (s ^ 0xe7037ed1a0b428dbULL);
    return (uint64_t)m ^ (uint64_t)(m >> 64);
}

#endif /* MAPRT_G_H */
