/*
 * hash.h — the seeded hashes behind the ready-made map types.
 *
 * Strings use XXH3 (libxxhash, inlined from its header).  Fixed 8-byte
 * keys use a wyhash-style multiply-fold mixer: two 64x64->128 multiplies,
 * cheap enough to inline into the map's fast paths, and with the map's
 * random seed mixed in so that bucket placement differs between maps.
 */
#ifndef MAPRT_HASH_H
#define MAPRT_HASH_H

#include <stddef.h>
#include <stdint.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

static inline __attribute__((always_inline)) uint64_t mr_mix(uint64_t a, uint64_t b)
{
    __uint128_t r = (__uint128_t)a * b;
    return (uint64_t)r ^ (uint64_t)(r >> 64);
}

static inline __attribute__((always_inline)) uint64_t mr_hash64_inline(uint64_t v, uint64_t seed)
{
    const uint64_t p0 = 0xa0761d6478bd642fULL, p1 = 0xe7037ed1a0b428dbULL;
    return mr_mix(p1 ^ 8, mr_mix(v ^ p0, v ^ seed ^ p1));
}

static inline __attribute__((always_inline)) uint64_t mr_hashbytes_inline(const void *p, size_t n,
                                                                          uint64_t seed)
{
    return XXH3_64bits_withSeed(p, n, seed);
}

#endif /* MAPRT_HASH_H */
