/*
 * t_hash — the seeded hashes (mr_hash_bytes, mr_hash_u64) that the ready-
 * made map types use: every input byte and bit counts, the length counts,
 * the seed counts, and keys spread evenly over buckets and tophash bytes;
 * and the short keys' inline comparison.  Lengths run from 0 to 64,
 * across the short-string path (up to 32 bytes) and XXH3 beyond it.
 */
#include "tap.h"

#include <maprt.h>
#include "hash.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

enum { MAXLEN = 64 };

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void fill(unsigned char *buf, size_t n)
{
    for (size_t i = 0; i < n; i++)
        buf[i] = (unsigned char)rnd();
}

/* Flipping any one input bit changes about half the output bits: over
 * every bit of every length, the mean stays near 32 and no single input
 * bit moves fewer than a quarter of them on average. */
static void avalanche(void)
{
    enum { TRIALS = 24 };
    unsigned char buf[MAXLEN + 1];
    double total = 0, worst = 64;
    long flips = 0;
    size_t worst_len = 0, worst_bit = 0;
    int unchanged = 0;
    for (size_t n = 1; n <= MAXLEN; n++) {
        for (size_t bit = 0; bit < n * 8; bit++) {
            long moved = 0;
            for (int t = 0; t < TRIALS; t++) {
                fill(buf, n);
                uint64_t seed = rnd(), h = mr_hash_bytes(buf, n, seed);
                buf[bit / 8] ^= (unsigned char)(1u << (bit % 8));
                uint64_t g = mr_hash_bytes(buf, n, seed);
                unchanged += g == h;
                moved += __builtin_popcountll(g ^ h);
            }
            double mean = (double)moved / TRIALS;
            if (mean < worst) {
                worst = mean;
                worst_len = n;
                worst_bit = bit;
            }
            total += (double)moved;
            flips += TRIALS;
        }
    }
    ok(unchanged == 0, "mr_hash_bytes: no single-bit change of a 1..%d-byte key leaves the hash unchanged (%d did)",
       MAXLEN, unchanged);
    double mean = total / (double)flips;
    ok(mean > 31 && mean < 33, "mr_hash_bytes: a single-bit change moves %.2f of 64 output bits on average", mean);
    ok(worst >= 16, "mr_hash_bytes: the weakest input bit (length %zu, bit %zu) still moves %.1f output bits", worst_len,
       worst_bit, worst);

    total = 0;
    unchanged = 0;
    for (int bit = 0; bit < 64; bit++)
        for (int t = 0; t < 256; t++) {
            uint64_t v = rnd(), seed = rnd(), h = mr_hash_u64(v, seed), g = mr_hash_u64(v ^ (1ull << bit), seed);
            unchanged += g == h;
            total += __builtin_popcountll(g ^ h);
        }
    mean = total / (64.0 * 256);
    ok(unchanged == 0 && mean > 31 && mean < 33,
       "mr_hash_u64: every single-bit change moves the hash (%d did not), %.2f bits on average", unchanged, mean);
}

/* A key and the same bytes with a zero byte appended are different keys;
 * the seed changes every hash. */
static void length_and_seed(void)
{
    unsigned char buf[MAXLEN + 1];
    int same_len = 0, same_seed = 0, differ = 0;
    for (int t = 0; t < 64; t++)
        for (size_t n = 0; n < MAXLEN; n++) {
            fill(buf, n);
            buf[n] = 0;
            uint64_t seed = rnd(), h = mr_hash_bytes(buf, n, seed);
            same_len += h == mr_hash_bytes(buf, n + 1, seed);
            same_seed += h == mr_hash_bytes(buf, n, seed ^ 1) || h == mr_hash_bytes(buf, n, ~seed);
            differ += h != mr_hash_bytes(buf, n, seed);
        }
    ok(same_len == 0, "mr_hash_bytes: a trailing zero byte changes the hash at every length 0..%d (%d did not)",
       MAXLEN - 1, same_len);
    ok(same_seed == 0, "mr_hash_bytes: another seed changes the hash at every length (%d did not)", same_seed);
    ok(differ == 0, "mr_hash_bytes: the same key and seed hash the same");
}

/* Pearson's chi-square of counts[0..bins) against an even spread. */
static double chi_square(const unsigned *counts, size_t bins, size_t keys)
{
    double expect = (double)keys / (double)bins, x = 0;
    for (size_t i = 0; i < bins; i++)
        x += ((double)counts[i] - expect) * ((double)counts[i] - expect) / expect;
    return x;
}

/* Keys as programs make them (a prefix and a counter, or short numbers as
 * text) spread over 2^16 buckets (the low bits) and over the 256 tophash
 * values (the top byte) as evenly as random numbers would: the chi-square
 * statistic within five standard deviations of its mean. */
static void spread(const char *what, const char *fmt)
{
    enum { BITS = 16, KEYS = 4 << BITS };
    static unsigned low[1u << BITS], top[256];
    memset(low, 0, sizeof low);
    memset(top, 0, sizeof top);
    uint64_t seed = rnd();
    for (unsigned i = 0; i < KEYS; i++) {
        char key[64];
        int n = snprintf(key, sizeof key, fmt, i);
        uint64_t h = mr_hash_bytes(key, (size_t)n, seed);
        low[h & ((1u << BITS) - 1)]++;
        top[h >> 56]++;
    }
    double dof = (1u << BITS) - 1, x = chi_square(low, 1u << BITS, KEYS);
    ok(fabs(x - dof) < 5 * sqrt(2 * dof), "%s: bucket spread chi-square %.0f (expected %.0f +- %.0f)", what, x, dof,
       5 * sqrt(2 * dof));
    dof = 255;
    x = chi_square(top, 256, KEYS);
    ok(fabs(x - dof) < 5 * sqrt(2 * dof), "%s: tophash spread chi-square %.0f (expected %.0f +- %.0f)", what, x, dof,
       5 * sqrt(2 * dof));
}

/* Integer keys as programs make them (counters, ids in the high bits,
 * aligned addresses) hashed by mr_hash_u64 into 2^16 buckets: no bucket
 * or tophash value gets more than chance would give (the chi-square is
 * at most five standard deviations above its mean; a multiply spreads an
 * arithmetic sequence more evenly than chance, which is fine), and two
 * keys in one bucket share their tophash byte about as often as random
 * bytes would (1 in 256), so that a lookup's candidates stay rare. */
static void spread_u64(const char *what, int shift, uint64_t step)
{
    enum { BITS = 16, KEYS = 4 << BITS };
    static unsigned low[1u << BITS], top[256];
    static uint8_t seen[1u << BITS][256];
    memset(low, 0, sizeof low);
    memset(top, 0, sizeof top);
    memset(seen, 0, sizeof seen);
    uint64_t seed = rnd();
    double pairs = 0, same_top = 0;
    for (uint64_t i = 0; i < KEYS; i++) {
        uint64_t h = mr_hash_u64((i * step) << shift, seed);
        unsigned b = (unsigned)(h & ((1u << BITS) - 1)), t = (unsigned)(h >> 56);
        pairs += low[b];
        same_top += seen[b][t];
        seen[b][t]++;
        low[b]++;
        top[t]++;
    }
    double dof = (1u << BITS) - 1, x = chi_square(low, 1u << BITS, KEYS);
    ok(x - dof < 5 * sqrt(2 * dof), "mr_hash_u64, %s: bucket spread chi-square %.0f (at most %.0f)", what, x,
       dof + 5 * sqrt(2 * dof));
    dof = 255;
    x = chi_square(top, 256, KEYS);
    ok(x - dof < 5 * sqrt(2 * dof), "mr_hash_u64, %s: tophash spread chi-square %.0f (at most %.0f)", what, x,
       dof + 5 * sqrt(2 * dof));
    double rate = same_top / pairs;
    ok(rate < 2.0 / 256, "mr_hash_u64, %s: keys sharing a bucket share the tophash byte at a rate of %.5f (chance: %.5f)",
       what, rate, 1.0 / 256);
}

/* The short keys' inline comparison (hash.h): equal bytes at another
 * address compare equal, and any one bit changed makes them differ. */
static void short_equal(void)
{
    unsigned char a[MR_SHORT_HASH_MAX], b[MR_SHORT_HASH_MAX];
    int wrong = 0, compared = 0;
    for (size_t n = 0; n <= MR_SHORT_HASH_MAX; n++) {
        fill(a, n);
        memcpy(b, a, n);
        wrong += !mr_short_equal(a, b, n);
        compared++;
        for (size_t i = 0; i < n; i++) {
            for (int bit = 0; bit < 8; bit++) {
                b[i] ^= (unsigned char)(1u << bit);
                wrong += mr_short_equal(a, b, n);
                compared++;
                b[i] ^= (unsigned char)(1u << bit);
            }
        }
    }
    ok(wrong == 0, "short keys (0 to %d bytes): equal copies compare equal, any one bit changed differs (%d of %d wrong)",
       (int)MR_SHORT_HASH_MAX, wrong, compared);
}

int main(void)
{
    avalanche();
    length_and_seed();
    short_equal();
    spread("decimal keys (1-6 bytes)", "%u");
    spread("\"key:\" and a counter (5-11 bytes)", "key:%u");
    spread("\"user:\" and 16 hex digits (21 bytes)", "user:%016x");
    spread("a 40-byte prefix and a counter (XXH3)", "/var/lib/maprace/sessions/0000000000000/%u");
    spread_u64("a counter", 0, 1);
    spread_u64("a counter in the high half (i << 32)", 32, 1);
    spread_u64("16-byte aligned addresses", 4, 1);
    spread_u64("page addresses", 12, 1);
    spread_u64("multiples of 1000003", 0, 1000003);
    return tap_done();
}
