/*
 * g.h — the calling thread's goroutine identity and per-thread randomness.
 *
 * Every thread is a goroutine: the process's main thread is goroutine 1,
 * any other thread is numbered on first use (threads started by the
 * runtime are numbered when they start).  The id lives in initial-exec TLS
 * so the map's write claim can read it with one load.
 */
#ifndef MAPRT_G_H
#define MAPRT_G_H

#include <stdint.h>

extern __thread uint64_t mr_tls_goid __attribute__((tls_model("initial-exec")));
extern __thread uint64_t mr_tls_rand __attribute__((tls_model("initial-exec")));

/* Numbers the calling thread; returns its new id. */
uint64_t mr_goid_assign(void);
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
