/*
 * map_claim.c — the write claim's bias: the slow side of claimWriting.
 *
 * A locked compare-and-swap per write is a tenth of a small map's write
 * time, and most maps are only ever written by the goroutine that made
 * or filled them.  So the first goroutine to write a map owns its bias,
 * and its claims are a store of its id into the claim word, its releases
 * a comparison of the claim word with the bias and a store of 0
 * (map_internal.h).  Another goroutine's first write revokes the bias,
 * once for the map's lifetime:
 *
 *     owner                          revoker
 *     store writer = owner           CAS bias: owner -> REVOKING
 *     (the write)                    membarrier(PRIVATE_EXPEDITED)
 *     load writer, bias (release)    bias = NONE; CAS writer: 0 -> me
 *
 * membarrier makes every running thread of the process pass a full memory
 * barrier before it returns, so either the owner's store is visible to
 * the revoker's compare-and-swap (which then fails: concurrent map writes)
 * or the store comes after the owner's barrier, and with it everything
 * the owner does from then on: its release then loads the bias as
 * revoked.  A release that finds the bias not its own (mr_claim_check_end)
 * passes a fence, so that its claim's store is visible, and looks at the
 * last writer: a revoker that claimed the map since recorded itself there
 * (mr_claim_slow), where the owner's mark is MR_LAST_BY_OWNER (taken with
 * the bias).  So if the revoker's claim came while the owner's store was
 * still on its way, and the two wrote the map at once, one of them
 * reports it:
 *   - the owner's store landed on the revoker's claim: the revoker's
 *     release finds it (or the owner's release, 0) instead of its own id;
 *   - it landed after the revoker's release: the revoker's record is
 *     older than the store, so the owner's fenced look at the last writer
 *     finds it;
 *   - the revoker's record is not yet visible when the owner looks: its
 *     compare-and-swap either failed on the owner's claim, or came before
 *     the owner's store landed, which replaced it, and the revoker's
 *     release finds a claim not its own.
 * (The owner's claim used to look at the bias again after its store, and
 * pass the fence there when it was revoked: a load and a branch on every
 * write where the release's comparison with the bias already finds the
 * revocation.)  From then on every writer of that map compare-and-swaps,
 * as before.  No overlapping pair of writes goes unreported, which a
 * plain store on both sides would allow (each could still be reading its
 * own store from its store buffer when the other checks).
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
                /* The owner's claims do not store it (claimWriting); the
                 * mark tells its releases that no one else has since. */
                atomic_store_explicit(&h->last_writer, want == me ? me | MR_LAST_BY_OWNER : me,
                                      memory_order_relaxed);
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

/* The bias owner's claim, a plain store, whose bias was revoked during
 * the write: once the store is visible, the last writer must still be the
 * owner's mark, or a revoker claimed the map beside this write (see the
 * top of this file). */
static __attribute__((noinline, cold)) void check_revoked_owner(mr_map *h, uint64_t me)
{
    atomic_thread_fence(memory_order_seq_cst);
    uint64_t last = atomic_load_explicit(&h->last_writer, memory_order_relaxed);
    if (last != (me | MR_LAST_BY_OWNER))
        mr_map_claim_lost(h, last_writer_id(last));
}

void mr_claim_check_end(mr_map *h, uint64_t cur)
{
    /* (The thread has its id: its claim gave it one.) */
    uint64_t me = mr_tls_goid;
    if (MR_UNLIKELY(cur != me))
        mr_map_claim_lost(h, cur);
    /* A compare-and-swap claimer recorded itself, and no other writer can
     * since: anything else is an owner's claim (map_claim.c). */
    else if (MR_UNLIKELY(atomic_load_explicit(&h->last_writer, memory_order_relaxed) != me))
        check_revoked_owner(h, me);
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
