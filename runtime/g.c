/*
 * g.c — goroutine numbering for threads, and fastrand seeding.
 */
#include "g.h"

#include <stdatomic.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

__thread uint64_t mr_tls_goid __attribute__((tls_model("initial-exec")));
__thread uint64_t mr_tls_rand __attribute__((tls_model("initial-exec")));

/* Goroutine 1 is the main thread; every other thread takes the next id. */
static _Atomic uint64_t next_goid = 2;

uint64_t mr_goid_assign(void)
{
    uint64_t id;
    if (gettid() == getpid())
        id = 1;
    else
        id = atomic_fetch_add_explicit(&next_goid, 1, memory_order_relaxed);
    mr_tls_goid = id;
    return id;
}

uint64_t mr_fastrand_seed(void)
{
    uint64_t s = 0;
    if (getrandom(&s, sizeof s, GRND_NONBLOCK) != (ssize_t)sizeof s) {
        /* No entropy yet (early boot): time and address still differ
         * between threads and runs, which is all fastrand promises. */
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        s = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ULL ^ (uint64_t)(uintptr_t)&s;
    }
    if (s == 0)
        s = 1;
    mr_tls_rand = s;
    return mr_fastrand64();
}
