/*
 * hash.h — the seeded hashes behind the ready-made map types.
 *
 * Fixed 8-byte keys use one folded multiply (the key and the map's random
 * seed, times a constant; the 128-bit product's halves xor-ed): cheap
 * enough to inline into the map's fast paths, and seeded so that bucket
 * placement differs between maps.  Strings of up to 32 bytes (most map
 * keys) use wyhash's construction, two or three such multiplies, as Go's
 * runtime does where it has no AES (memhashFallback); longer ones use XXH3
 * (libxxhash), whose wide paths win there.
 */
#ifndef MAPRT_HASH_H
#define MAPRT_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

static inline __attribute__((always_inline)) uint64_t mr_mix(uint64_t a, uint64_t b)
{
    __uint128_t r = (__uint128_t)a * b;
    return (uint64_t)r ^ (uint64_t)(r >> 64);
}

enum { MR_SHORT_HASH_MAX = 32 };
#define MR_HASH_P0 0xa0761d6478bd642fULL
#define MR_HASH_P1 0xe7037ed1a0b428dbULL

/*
 * An 8-byte key's hash is on every lookup's chain of dependent loads
 * (the key, its hash, the bucket's tophash word, the bucket), and that
 * chain is what a large map's lookups overlap: the wyhash pair of folded
 * multiplies this used to be (two multiplies one after the other, 16
 * instructions) took 4-13 % longer per int64 lookup into a 4M-key map
 * than this one (a 5-instruction fold), measured in one process, and
 * 6-14 % longer on a map of 1000 keys.  The multiplier is odd, so the
 * low half is a bijection of the key's low bits and the high half mixes
 * every bit into every other: keys that differ only in their high bits
 * (i << 32) still spread over the buckets, and every single-bit change
 * of the key moves about half of the hash's bits (t_hash).
 */
static inline __attribute__((always_inline)) uint64_t mr_hash64_inline(uint64_t v, uint64_t seed)
{
    return mr_mix(v ^ seed, MR_HASH_P0);
}

static inline __attribute__((always_inline)) uint64_t mr_read64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static inline __attribute__((always_inline)) uint64_t mr_read32(const unsigned char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

/*
 * Why not XXH3 for every length: a string key's hash sits on the lookup's
 * chain of dependent misses (the key's bytes, then the bucket), and on
 * 21-byte keys XXH3's seeded entry point, an out-of-line call, cost 14
 * instructions more than this (callgrind: 164 against 150 per small-map
 * lookup, harness included; an inlined XXH3 saved only 4).  Inserts into
 * a 2M-key map got 10 % faster, deletes 4 %, small-map operations 6 %.
 *
 * Every byte is read (the two reads of a range overlap when n is not a
 * multiple of their size) and the length is mixed in, so "ab" and "ab\0"
 * differ.  The seed goes into both operands of each multiply: a key whose
 * bytes cancel one operand to zero would need the seed to be known.
 */
static inline __attribute__((always_inline)) uint64_t mr_hash_short(const void *p, size_t n, uint64_t seed)
{
    const unsigned char *c = p;
    uint64_t s = seed ^ MR_HASH_P1, a, b;
    if (n > 16) {
        s = mr_mix(mr_read64(c) ^ s ^ MR_HASH_P0, mr_read64(c + 8) ^ s);
        a = mr_read64(c + n - 16);
        b = mr_read64(c + n - 8);
    } else if (n >= 8) {
        a = mr_read64(c);
        b = mr_read64(c + n - 8);
    } else if (n >= 4) {
        a = mr_read32(c);
        b = mr_read32(c + n - 4);
    } else if (n > 0) {
        a = (uint64_t)c[0] << 16 | (uint64_t)c[n >> 1] << 8 | c[n - 1];
        b = 0;
    } else {
        a = b = 0;
    }
    return mr_mix(MR_HASH_P1 ^ n, mr_mix(a ^ s ^ MR_HASH_P0, b ^ s));
}

static inline __attribute__((always_inline)) uint64_t mr_hashbytes_inline(const void *p, size_t n,
                                                                          uint64_t seed)
{
    if (__builtin_expect(n > MR_SHORT_HASH_MAX, 0))
        return XXH3_64bits_withSeed(p, n, seed);
    return mr_hash_short(p, n, seed);
}

/* Whether n <= MR_SHORT_HASH_MAX bytes are equal, compared inline with
 * the hash's overlapping reads: no call to memcmp (map_body.h). */
static inline __attribute__((always_inline)) int mr_short_equal(const void *p, const void *q, size_t n)
{
    const unsigned char *a = p, *b = q;
    if (n > 16)
        return ((mr_read64(a) ^ mr_read64(b)) | (mr_read64(a + 8) ^ mr_read64(b + 8)) |
                (mr_read64(a + n - 16) ^ mr_read64(b + n - 16)) | (mr_read64(a + n - 8) ^ mr_read64(b + n - 8))) == 0;
    if (n >= 8)
        return ((mr_read64(a) ^ mr_read64(b)) | (mr_read64(a + n - 8) ^ mr_read64(b + n - 8))) == 0;
    if (n >= 4)
        return ((mr_read32(a) ^ mr_read32(b)) | (mr_read32(a + n - 4) ^ mr_read32(b + n - 4))) == 0;
    if (n == 0)
        return 1;
    return a[0] == b[0] && a[n >> 1] == b[n >> 1] && a[n - 1] == b[n - 1];
}

#endif /* MAPRT_HASH_H */
