/*
 * map_claim.c — the write claim's bias: the slow side of claimWriting.
 *
 * A locked compare-and-swap per write is a tenth of a small map's write
 * time, and most maps are only ever written by the goroutine that made
 * or filled them.  So the first goroutine to write a map owns its bias,
 * and its claims are a store of its id into the claim word followed by a
 * load of the bias (map_internal.h).  Another goroutine's first write
 * revokes the bias, once for the map's lifetime:
 *
 *     owner                          revoker
 *     store writer = owner           CAS bias: owner -> REVOKING
 *     (compiler barrier)             membarrier(PRIVATE_EXPEDITED)
 *     load bias                      bias = NONE; CAS writer: 0 -> me
 *
 * membarrier makes every running thread of the process pass a full memory
 * barrier before it returns, so either the owner's store is visible to
 * the revoker's compare-and-swap (which then fails: concurrent map writes)
 * or the owner's load comes after it and sees the revocation.  In that
 * second case the revoker may have claimed the map meanwhile (the owner's
 * store then replaced its claim, and its release reports the race) or
 * will find the store when it claims; the owner holds the claim like any
 * writer, after a fence that makes its store visible before it reads the
 * map.  Without that second look (its three instructions are a good part
 * of what the checks add to a write), a revoker whose barrier fell between
 * the owner's first look and its store could claim, write and release
 * while the store still sat in the owner's store buffer and the owner
 * read the map: an overlap that no release would report.  From then on
 * every writer of that map compare-and-swaps, as before.  No overlapping pair of writes goes unreported, which a plain
 * store on both sides would allow (each could still be reading its own
 * store from its store buffer when the other checks).
 *
 * A revocation costs a system call that interrupts the CPUs running the
 * process's other threads (about 1 µs when the owner sleeps, tens of µs
 * when it runs, on a virtual machine).  A program that hands many maps
 * from goroutine to goroutine stops paying it after MAX_REVOCATIONS:
 * maps first written after that are never biased.  Without membarrier
 * (an old kernel, a seccomp filter), or with MAPRT_BIAS=0 in the
 * environment, no map is biased and every claim is a compare-and-swap.
 *
 * Nor when a race may let the program go on (mr_hook_race_policy says
 * MR_RACE_DECIDE: libmaprace's halt_on_error=0 or suppressions).  The
 * owner's store can land over a revoker's claim taken just after the
 * barrier, and both then write the map until one of them releases: the
 * pair is reported, but only after it has run, which ends the process in
 * Go's mode and corrupts the map in that one.  A compare-and-swap claim
 * makes the second writer wait for the first before it touches the map.
 */
#include "forklock.h"
#include "map_internal.h"

#include <linux/membarrier.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

enum { MAX_REVOCATIONS = 256 };

/* Revocations one at a time, and none across fork: a child forked while
 * another thread was between REVOKING and NONE would wait forever. */
static pthread_mutex_t revoke_lock = PTHREAD_MUTEX_INITIALIZER;
MR_HELD_ACROSS_FORK(revoke, pthread_mutex_lock(&revoke_lock), pthread_mutex_unlock(&revoke_lock))

enum { BIAS_UNKNOWN, BIAS_ON, BIAS_OFF };
static _Atomic int bias_state;
static _Atomic unsigned revocations;

static long membarrier(int cmd) { return syscall(SYS_membarrier, cmd, 0, 0); }

static int bias_setup(void)
{
    const char *env = getenv("MAPRT_BIAS");
    if (env != NULL && strcmp(env, "0") == 0)
        return BIAS_OFF;
    if (mr_hook_race_policy() == MR_RACE_DECIDE)
        return BIAS_OFF;
    long cmds = membarrier(MEMBARRIER_CMD_QUERY);
    if (cmds < 0 || !(cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED))
        return BIAS_OFF;
    return membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) == 0 ? BIAS_ON : BIAS_OFF;
}

static bool bias_enabled(void)
{
    int s = atomic_load_explicit(&bias_state, memory_order_acquire);
    if (s == BIAS_UNKNOWN) {
        s = bias_setup(); /* (two threads may both set up: the same answer) */
        atomic_store_explicit(&bias_state, s, memory_order_release);
    }
    return s == BIAS_ON && atomic_load_explicit(&revocations, memory_order_relaxed) < MAX_REVOCATIONS;
}

/* Every running thread of the process passes a full barrier. */
static void barrier_all_threads(void)
{
    if (membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) == 0)
        return;
    /* A child of fork may not inherit the registration: register again. */
    if (membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) == 0 && membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) == 0)
        return;
    /* The global barrier needs no registration (and waits longer). */
    if (membarrier(MEMBARRIER_CMD_GLOBAL) == 0)
        return;
    mr_throw("membarrier failed: a map's write bias cannot be revoked safely");
}

uint64_t mr_bias_settle(mr_map *h, uint64_t me, uint64_t seen)
{
    for (;;) {
        if (seen == me || seen == MR_BIAS_NONE)
            return seen;
        if (seen == MR_BIAS_UNSET) { /* the map's first write */
            uint64_t want = bias_enabled() ? me : MR_BIAS_NONE;
            if (atomic_compare_exchange_strong_explicit(&h->bias, &seen, want, memory_order_acq_rel,
                                                        memory_order_acquire)) {
                /* The owner's claims do not store it (claimWriting). */
                atomic_store_explicit(&h->last_writer, me, memory_order_relaxed);
                return want;
            }
            continue;
        }
        if (seen == MR_BIAS_REVOKING) { /* another writer is revoking it: wait for the barrier */
            sched_yield();
            seen = atomic_load_explicit(&h->bias, memory_order_acquire);
            continue;
        }
        /* Another goroutine's bias: revoke it. */
        pthread_mutex_lock(&revoke_lock);
        bool won = atomic_compare_exchange_strong_explicit(&h->bias, &seen, MR_BIAS_REVOKING, memory_order_acq_rel,
                                                           memory_order_acquire);
        if (won) {
            barrier_all_threads();
            atomic_fetch_add_explicit(&revocations, 1, memory_order_relaxed);
            atomic_store_explicit(&h->bias, MR_BIAS_NONE, memory_order_release);
        }
        pthread_mutex_unlock(&revoke_lock);
        if (won)
            return MR_BIAS_NONE;
    }
}

void mr_claim_slow(mr_map *h)
{
    uint64_t me = mr_getg_id();
    if (settled_bias(h, me) == me) {
        claim_biased(h, me);
        return;
    }
    uint64_t expected = 0;
    while (MR_UNLIKELY(!atomic_compare_exchange_strong_explicit(&h->writer, &expected, me, memory_order_acquire,
                                                                memory_order_relaxed))) {
        /* Returns only if the error was handled and the holder is done. */
        mr_map_claim_failed(h, expected);
        expected = 0;
    }
    atomic_store_explicit(&h->last_writer, me, memory_order_relaxed);
}

void mr_release_slow(mr_map *h, uint64_t cur)
{
    /* (The thread has its id: its claim gave it one.) */
    if (MR_UNLIKELY(cur != mr_tls_goid))
        mr_map_claim_lost(h, cur);
    atomic_store_explicit(&h->writer, 0, memory_order_release);
}

/* The claim for housekeeping outside a write (releasing parked memory):
 * like a non-owner's write, it revokes another goroutine's bias first. */
bool mr_claim_try(mr_map *h)
{
    uint64_t me = mr_getg_id();
    settled_bias(h, me);
    uint64_t free_claim = 0;
    return atomic_compare_exchange_strong_explicit(&h->writer, &free_claim, me, memory_order_acquire,
                                                   memory_order_relaxed);
}
