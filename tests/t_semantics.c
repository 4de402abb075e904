/*
 * t_semantics — Go's map rules, one by one.
 *
 * The nil map (NULL), zero values, assignment returning a zeroed slot,
 * overwrite, delete, clear, len, size hints, string keys that are not
 * copied, user-defined types (out of line, NaN keys, +0/-0 keys), and the
 * read-only zero value.  Errors that end the process are checked in child
 * processes (see t_race for the concurrent ones).
 */
#include "child.h"
#include "tap.h"

#include <maprt.h>

#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

static const mr_maptype *I64 = &mr_type_i64_i64;
static const mr_maptype *STR = &mr_type_str_i64;

static bool all_zero(const void *p, size_t n)
{
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i++)
        if (c[i])
            return false;
    return true;
}

static void nil_map(void)
{
    mr_map *m = NULL;
    int64_t k = 5;
    bool found = true;
    ok(*(int64_t *)mr_mapaccess1(I64, m, &k) == 0, "nil map: access yields the zero value");
    int64_t *v = mr_mapaccess2(I64, m, &k, &found);
    ok(v != NULL && *v == 0 && !found, "nil map: comma-ok access says absent, zero value");
    ok(mr_maplen(m) == 0, "nil map: len is 0");
    mr_mapdelete(I64, m, &k);
    ok(true, "nil map: delete is a no-op (returned)");
    mr_mapclear(I64, m);
    mr_mapfree(I64, m);
    ok(true, "nil map: clear and free are no-ops");
    mr_mapiter it;
    mr_mapiterinit(I64, m, &it);
    int n = 0;
    while (mr_mapiternext(&it))
        n++;
    ok(n == 0 && it.key == NULL, "nil map: iteration yields nothing");
    mr_mapstats st;
    mr_mapgetstats(m, &st);
    ok(st.count == 0 && st.B == 0, "nil map: stats are empty");
}

static void basics(void)
{
    mr_map *m = mr_makemap(I64, 0);
    ok(m != NULL && mr_maplen(m) == 0, "make: empty map, len 0");
    int64_t k = 7;
    bool found = true;
    int64_t *v = mr_mapaccess2(I64, m, &k, &found);
    ok(!found && *v == 0, "empty map: absent key reads zero, ok false");

    int64_t *slot = mr_mapassign(I64, m, &k);
    ok(*slot == 0, "assign: a new key's slot starts at zero (m[k] += 1 works)");
    *slot += 41;
    *(int64_t *)mr_mapassign(I64, m, &k) += 1;
    ok(*(int64_t *)mr_mapaccess1(I64, m, &k) == 42 && mr_maplen(m) == 1,
       "assign: the same key twice updates one entry");

    mr_mapdelete(I64, m, &k);
    v = mr_mapaccess2(I64, m, &k, &found);
    ok(!found && *v == 0 && mr_maplen(m) == 0, "delete: the key is gone, len 0");
    mr_mapdelete(I64, m, &k);
    ok(mr_maplen(m) == 0, "delete: deleting an absent key is a no-op");
    ok(*(int64_t *)mr_mapassign(I64, m, &k) == 0, "assign after delete: the slot is zero again");

    for (int64_t i = 0; i < 100000; i++)
        *(int64_t *)mr_mapassign(I64, m, &i) = i * 3;
    bool good = mr_maplen(m) == 100000;
    for (int64_t i = 0; i < 100000 && good; i++)
        good = *(int64_t *)mr_mapaccess2(I64, m, &i, &found) == i * 3 && found;
    ok(good, "100000 keys: every value survives growth");
    mr_mapstats st;
    mr_mapgetstats(m, &st);
    ok(st.B >= 14 && st.growths >= 14, "100000 keys: the table doubled (B=%u, %zu growths)", st.B, st.growths);

    mr_mapclear(I64, m);
    good = mr_maplen(m) == 0;
    for (int64_t i = 0; i < 100000 && good; i++)
        good = !(mr_mapaccess2(I64, m, &i, &found), found);
    ok(good, "clear: no key remains, len 0");
    mr_mapgetstats(m, &st);
    ok(st.B >= 14, "clear: the buckets are kept (B=%u)", st.B);
    *(int64_t *)mr_mapassign(I64, m, &k) = 9;
    ok(*(int64_t *)mr_mapaccess1(I64, m, &k) == 9 && mr_maplen(m) == 1, "clear: the map is usable afterwards");
    mr_mapfree(I64, m);
}

static void hints(void)
{
    mr_map *m = mr_makemap(I64, 1000);
    mr_mapstats st;
    mr_mapgetstats(m, &st);
    /* 1000 entries at load factor 6.5 need 2^8 buckets (1000 > 6.5*128). */
    ok(st.B == 8, "make with hint 1000: B=8 as in Go (got %u)", st.B);
    for (int64_t i = 0; i < 1000; i++)
        *(int64_t *)mr_mapassign(I64, m, &i) = i;
    mr_mapgetstats(m, &st);
    ok(st.growths == 0, "hint 1000: 1000 inserts need no growth");
    mr_mapfree(I64, m);
    m = mr_makemap(I64, 8);
    mr_mapgetstats(m, &st);
    ok(st.B == 0, "make with hint 8: one bucket (B=0)");
    mr_mapfree(I64, m);
    m = mr_makemap(I64, SIZE_MAX);
    ok(m != NULL && mr_maplen(m) == 0, "make with an impossible hint: ignored, as Go does");
    mr_mapfree(I64, m);
}

static void strings(void)
{
    mr_map *m = mr_makemap(STR, 0);
    char a[] = "hello", b[] = "hello";
    mr_string ka = {a, 5}, kb = {b, 5}, kc = {"help", 4}, empty = {"", 0};
    *(int64_t *)mr_mapassign(STR, m, &ka) = 1;
    bool found;
    ok(*(int64_t *)mr_mapaccess2(STR, m, &kb, &found) == 1 && found,
       "string keys compare by content, not by pointer");
    *(int64_t *)mr_mapassign(STR, m, &kc) = 2;
    *(int64_t *)mr_mapassign(STR, m, &empty) = 3;
    ok(mr_maplen(m) == 3 && *(int64_t *)mr_mapaccess1(STR, m, &empty) == 3, "the empty string is a key");
    mr_mapiter it;
    mr_mapiterinit(STR, m, &it);
    const char *stored = NULL;
    while (mr_mapiternext(&it)) {
        const mr_string *s = it.key;
        if (s->len == 5)
            stored = s->ptr;
    }
    ok(stored == a, "string keys: the map keeps the caller's pointer, bytes are not copied");
    mr_string prefix = {"hell", 4};
    ok(!(mr_mapaccess2(STR, m, &prefix, &found), found), "a prefix is a different key");
    mr_mapfree(STR, m);
}

/* Every byte of a string key counts at every length, on both sides of the
 * short keys' inline hash and compare (up to 32 bytes): a lookup through
 * a copy of the key (another pointer) finds it, one with any one byte
 * changed does not. */
static void string_bytes(void)
{
    enum { MAXLEN = 40 };
    static char stored[MAXLEN + 1][MAXLEN];
    char probe[MAXLEN];
    int wrong = 0, lookups = 0;
    mr_map *m = mr_makemap(STR, 0);
    for (size_t n = 0; n <= MAXLEN; n++) {
        for (size_t i = 0; i < n; i++)
            stored[n][i] = (char)('a' + (i * 7 + n) % 26);
        mr_string k = {stored[n], n};
        *(int64_t *)mr_mapassign(STR, m, &k) = (int64_t)n + 1;
    }
    for (size_t n = 0; n <= MAXLEN; n++) {
        memcpy(probe, stored[n], n);
        mr_string copy = {probe, n};
        bool found;
        int64_t v = *(int64_t *)mr_mapaccess2(STR, m, &copy, &found);
        wrong += !found || v != (int64_t)n + 1;
        lookups++;
        for (size_t i = 0; i < n; i++) {
            probe[i] ^= 0x20;
            mr_mapaccess2(STR, m, &copy, &found);
            wrong += found;
            lookups++;
            probe[i] ^= 0x20;
        }
    }
    ok(wrong == 0, "string keys of 0 to %d bytes: a copy finds its key, one with any byte changed does not (%d of %d wrong)",
       MAXLEN, wrong, lookups);
    mr_mapfree(STR, m);
}

/* A user type with keys and elements larger than 128 bytes: stored out of
 * line, as Go does. */
struct wide {
    char bytes[300];
};
static uint64_t wide_hash(const void *k, uint64_t seed) { return mr_hash_bytes(k, sizeof(struct wide), seed); }
static bool wide_equal(const void *a, const void *b) { return memcmp(a, b, sizeof(struct wide)) == 0; }
static const mr_maptype wide_type = MR_MAPTYPE_INIT("map[wide]wide", struct wide, struct wide, wide_hash, wide_equal, 0);

/* Over-aligned keys are stored out of line too. */
typedef struct {
    _Alignas(32) int64_t v;
} aligned32;
static uint64_t a32_hash(const void *k, uint64_t seed) { return mr_hash_u64((uint64_t)((const aligned32 *)k)->v, seed); }
static bool a32_equal(const void *a, const void *b) { return ((const aligned32 *)a)->v == ((const aligned32 *)b)->v; }
static const mr_maptype a32_type = MR_MAPTYPE_INIT("map[a32]int64", aligned32, int64_t, a32_hash, a32_equal, 0);
static uint64_t i64_hash(const void *k, uint64_t seed) { return mr_hash_u64(*(const uint64_t *)k, seed); }
static bool i64_equal(const void *a, const void *b) { return *(const int64_t *)a == *(const int64_t *)b; }

static void user_types(void)
{
    ok(wide_type.indirect == 3 && wide_type.slotkeysize == sizeof(void *) &&
           wide_type.bucketsize == 8 + 16 * sizeof(void *) + sizeof(void *),
       "MR_MAPTYPE_INIT: 300-byte keys and elements go out of line");
    ok(a32_type.indirect == 1, "MR_MAPTYPE_INIT: a 32-byte-aligned key goes out of line");
    mr_map *m = mr_makemap(&wide_type, 0);
    struct wide k, *e;
    bool good = true;
    for (int i = 0; i < 2000; i++) {
        memset(&k, 0, sizeof k);
        snprintf(k.bytes, sizeof k.bytes, "wide-%d", i);
        e = mr_mapassign(&wide_type, m, &k);
        good &= all_zero(e, sizeof *e);
        memset(e->bytes, i & 0x7f, sizeof e->bytes);
    }
    ok(good, "user type: each new element slot is zeroed");
    good = mr_maplen(m) == 2000;
    for (int i = 0; i < 2000 && good; i++) {
        memset(&k, 0, sizeof k);
        snprintf(k.bytes, sizeof k.bytes, "wide-%d", i);
        bool found;
        e = mr_mapaccess2(&wide_type, m, &k, &found);
        good = found && e->bytes[0] == (i & 0x7f) && e->bytes[299] == (i & 0x7f);
    }
    ok(good, "user type: 2000 out-of-line entries survive growth");
    memset(&k, 0, sizeof k);
    e = mr_mapaccess1(&wide_type, m, &k);
    ok(all_zero(e, sizeof *e), "user type: an absent key reads as a zero element");
    mr_mapfree(&wide_type, m);

    m = mr_makemap(&a32_type, 0);
    aligned32 ka = {.v = 11};
    *(int64_t *)mr_mapassign(&a32_type, m, &ka) = 5;
    ok(*(int64_t *)mr_mapaccess1(&a32_type, m, &ka) == 5, "over-aligned keys work");
    mr_mapfree(&a32_type, m);
}

/* A 24-byte element without pointers, inline in the bucket. */
struct triple {
    int64_t a, b, c;
};
static const mr_maptype triple_type = MR_MAPTYPE_INIT("map[int64]triple", int64_t, struct triple, i64_hash,
                                                      i64_equal, MR_KEY_NOPOINTERS | MR_ELEM_NOPOINTERS);

/* With MR_ELEM_NOPOINTERS a delete leaves the element's bytes in the
 * cell and the assign that reuses the cell zeroes it: every slot a new
 * key gets must still read zero, whether the cell was emptied alone, at
 * the end of a run (emptyRest) or in an overflow bucket. */
static void reused_cells(void)
{
    enum { n = 5000 };
    const mr_maptype *types[] = {I64, STR, &triple_type};
    char (*names)[16] = malloc((size_t)n * sizeof *names);
    mr_string *sk = malloc((size_t)n * sizeof *sk);
    for (int i = 0; i < n; i++) {
        snprintf(names[i], sizeof names[i], "reuse-%d", i);
        sk[i] = (mr_string){names[i], strlen(names[i])};
    }
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
        const mr_maptype *T = types[t];
        mr_map *m = mr_makemap(T, 0);
        int64_t keys[n];
        int dirty = 0;
        for (int round = 0; round < 3; round++) {
            /* Fill with non-zero elements, then empty in a scrambled
             * order, then refill the same keys the other way round. */
            for (int i = 0; i < n; i++) {
                keys[i] = round % 2 ? n - 1 - i : i;
                void *key = T == STR ? (void *)&sk[keys[i]] : (void *)&keys[i];
                void *e = mr_mapassign(T, m, key);
                dirty += !all_zero(e, T->elemsize);
                memset(e, 0xa5, T->elemsize);
            }
            for (int i = 0; i < n; i++) {
                int64_t k = (int64_t)((i * 7919L) % n);
                mr_mapdelete(T, m, T == STR ? (void *)&sk[k] : (void *)&k);
            }
        }
        ok(mr_maplen(m) == 0 && dirty == 0, "%s: %d new keys in deleted cells all got a zero element (%d did not)",
           T->name, 3 * n, dirty);
        mr_mapfree(T, m);
    }
    free(sk);
    free(names);
}

/* float64 keys, with Go's rules: NaN != NaN, +0 == -0. */
static uint64_t f64_hash(const void *k, uint64_t seed)
{
    double d = *(const double *)k;
    if (d == 0)
        d = 0; /* +0 and -0 hash alike */
    if (d != d) /* NaN: a random hash, as in Go */
        return mr_hash_u64((uint64_t)(uintptr_t)k ^ (uint64_t)rand(), seed);
    uint64_t bits;
    memcpy(&bits, &d, 8);
    return mr_hash_u64(bits, seed);
}
static bool f64_equal(const void *a, const void *b) { return *(const double *)a == *(const double *)b; }
static const mr_maptype f64_type = MR_MAPTYPE_INIT("map[float64]int64", double, int64_t, f64_hash, f64_equal,
                                                   MR_KEY_NONREFLEXIVE | MR_KEY_NEEDUPDATE);

static void float_keys(void)
{
    mr_map *m = mr_makemap(&f64_type, 0);
    double nan = NAN, pz = 0.0, nz = -0.0;
    for (int i = 0; i < 100; i++)
        *(int64_t *)mr_mapassign(&f64_type, m, &nan) = i;
    ok(mr_maplen(m) == 100, "NaN keys: each assignment adds an entry (len %zu)", mr_maplen(m));
    bool found;
    mr_mapaccess2(&f64_type, m, &nan, &found);
    ok(!found, "NaN keys: a lookup never finds one");
    mr_mapdelete(&f64_type, m, &nan);
    ok(mr_maplen(m) == 100, "NaN keys: delete removes nothing");
    /* Grow with NaNs in the table, iterating part way through. */
    mr_mapiter it;
    mr_mapiterinit(&f64_type, m, &it);
    int seen = 0;
    int64_t sum = 0;
    while (mr_mapiternext(&it)) {
        seen++;
        sum += *(int64_t *)it.elem;
        if (seen == 10)
            for (double d = 1; d <= 400; d++)
                *(int64_t *)mr_mapassign(&f64_type, m, &d) = 0;
    }
    ok(seen >= 100 && sum == 4950, "NaN keys: iteration through growth produces each NaN once (%d seen)", seen);
    mr_mapclear(&f64_type, m);
    ok(mr_maplen(m) == 0, "NaN keys: clear removes them");

    *(int64_t *)mr_mapassign(&f64_type, m, &pz) = 1;
    *(int64_t *)mr_mapassign(&f64_type, m, &nz) = 2;
    ok(mr_maplen(m) == 1 && *(int64_t *)mr_mapaccess1(&f64_type, m, &pz) == 2, "+0 and -0 are one key");
    mr_mapiterinit(&f64_type, m, &it);
    mr_mapiternext(&it);
    ok(signbit(*(const double *)it.key), "assigning -0 over +0 updates the stored key (Go's needkeyupdate)");
    mr_mapiterstop(&it);
    mr_mapfree(&f64_type, m);
}

/* What ends the process, checked from outside. */
static void fatal_cases(const char *dir)
{
    char helper[4096];
    snprintf(helper, sizeof helper, "%s/race_child", dir);
    static const struct {
        const char *scenario, *first_line;
    } cases[] = {
        /* The zero value is read-only: writing it faults, far from nil,
         * which Go (and libmaprt) report as a fatal error. */
        {"zero-write", NULL},
        {"badtype", "fatal error: mr_makemap: inconsistent map type (define it with MR_MAPTYPE_INIT)"},
        {"wrongtype-free", "fatal error: mr_mapfree: map freed with a different map type than it was made with"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *argv[] = {helper, (char *)cases[i].scenario, NULL};
        child_result r;
        char line[256];
        if (!child_run(argv, 30, &r))
            bail("cannot run %s", helper);
        first_line(r.err, line, sizeof line);
        if (cases[i].first_line == NULL)
            ok(r.status == 2 && strncmp(line, "unexpected fault address 0x", 27) == 0 && strstr(r.err, "\nfatal error: fault\n[signal SIGSEGV: segmentation violation code=0x2 ") != NULL,
               "%s: writing through the zero value faults: '%s', fatal error: fault, exit 2 (%d, signal %d)",
               cases[i].scenario, line, r.status, r.signal);
        else
            ok(r.status == 2 && strcmp(line, cases[i].first_line) == 0, "%s: '%s', exit 2 (got '%s', %d)",
               cases[i].scenario, cases[i].first_line, line, r.status);
    }
}

int main(int argc, char **argv)
{
    (void)argc;
    nil_map();
    basics();
    hints();
    strings();
    string_bytes();
    user_types();
    reused_cells();
    float_keys();
    fatal_cases(test_dir(argv[0]));
    return tap_done();
}
