/*
 * bench_map — map throughput: libmaprt, with and without its race checks,
 * against GLib's GHashTable.
 *
 *     bench-map TABLE... [small|large]...   TABLE: maprt, nochecks, ghash
 *     bench-map TABLE mem N
 *     bench-map TABLE count                 (under valgrind --tool=callgrind)
 *
 * Prints one line per row: "<row>\t<ns per operation>", where a row is
 * key type, size and operation ("int64 small insert"); with several
 * tables, "<table>\t<row>\t<ns>", their rounds alternating on the same
 * keys, and with both maprt and nochecks, "checks\t<row>\t<ratio>": the
 * median over the rounds of maprt's time over nochecks' in the same round
 * (checks_ratio).  "nochecks" is libmaprt's map compiled with MR_NO_RACE_CHECKS,
 * linked into the same program under other names (bench_maprt.c): the
 * checks' cost is measured in one process, on one machine state, rather
 * than between two programs run at different moments with different code
 * layouts.  run-bench.sh prints the table with the ratios.
 *
 * Setup, made to be fair to GHashTable:
 *   - int64 keys: GHashTable with g_int64_hash/g_int64_equal, its keys
 *     pointing into a preallocated array (no allocation per insert);
 *   - string keys: g_str_hash/g_str_equal over NUL-terminated strings in a
 *     preallocated pool; libmaprt gets mr_strings over the same bytes;
 *   - values are 64-bit integers in both (GINT_TO_POINTER for GLib).
 * small = 1000 entries, in cache, measured over many repetitions; large =
 * 4M entries (int64; 2M strings), well beyond this machine's last-level
 * cache.  Lookups go in a shuffled order, misses use keys never inserted.
 * Each figure is the best of several repetitions.
 *
 * "mem N": the peak resident memory (VmHWM) an int64->int64 table of N
 * entries adds, per entry ("int64 mem N\t<bytes>"); bench_map.go does the
 * same for Go's map.
 *
 * "count": the small rows, a few rounds, each phase's instructions dumped
 * by callgrind under the row's name (a client request), so that
 * run-bench.sh can print instructions per operation: exact where timings
 * on a shared machine are not.
 */
#include "bench.h"

#include <glib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#else
#define CALLGRIND_ZERO_STATS
#define CALLGRIND_DUMP_STATS_AT(name) ((void)(name))
#endif

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static uint64_t rng = 88172645463325252ULL;
static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* ---- key sets ------------------------------------------------------------
 *
 * The key arrays are offered to transparent huge pages, as Go's runtime
 * does with its heap (where bench_map.go's keys live): on a machine where
 * a TLB miss is dear (a virtual machine's nested page walk), keys on small
 * pages would add the same cost to every table's row, and more than the
 * tables' own differences on the large rows. */

static void *must(void *p)
{
    if (p == NULL) {
        fprintf(stderr, "bench-map: out of memory\n");
        exit(2);
    }
    return p;
}

static void *bench_alloc(size_t size)
{
    enum { HUGE = 2u << 20 };
    size_t len = (size + HUGE - 1) & ~(size_t)(HUGE - 1);
    void *p = NULL;
    if (posix_memalign(&p, HUGE, len) != 0)
        p = NULL;
    must(p);
    madvise(p, len, MADV_HUGEPAGE); /* advice: fine if refused */
    return p;
}

static void make_keys(keyset *ks, size_t n, bool strings)
{
    memset(ks, 0, sizeof *ks);
    ks->n = n;
    ks->ints = bench_alloc(n * sizeof *ks->ints);
    ks->miss_ints = bench_alloc(n * sizeof *ks->miss_ints);
    ks->order = bench_alloc(n * sizeof *ks->order);
    for (size_t i = 0; i < n; i++) {
        /* Odd keys inserted, even keys missed: never equal. */
        ks->ints[i] = (int64_t)(rnd() | 1);
        ks->miss_ints[i] = (int64_t)(rnd() & ~(uint64_t)1);
        ks->order[i] = i;
    }
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = rnd() % (i + 1), t = ks->order[i];
        ks->order[i] = ks->order[j];
        ks->order[j] = t;
    }
    if (!strings)
        return;
    ks->strs = bench_alloc(n * sizeof *ks->strs);
    ks->miss_strs = bench_alloc(n * sizeof *ks->miss_strs);
    ks->mstrs = bench_alloc(n * sizeof *ks->mstrs);
    ks->miss_mstrs = bench_alloc(n * sizeof *ks->miss_mstrs);
    char *pool = bench_alloc(n * 2 * 24);
    for (size_t i = 0; i < n; i++) {
        char *s = pool + i * 48, *m = s + 24;
        int len = snprintf(s, 24, "user:%016llx", (unsigned long long)ks->ints[i]);
        snprintf(m, 24, "user:%016llx", (unsigned long long)ks->miss_ints[i]);
        ks->strs[i] = s;
        ks->miss_strs[i] = m;
        ks->mstrs[i] = (mr_string){s, (size_t)len};
        ks->miss_mstrs[i] = (mr_string){m, (size_t)len};
    }
}

/* ---- the two implementations, behind one small interface --------------- */

enum op { INSERT, HIT, MISS, DELETE, ITERATE, NOPS };
static const char *op_names[NOPS] = {"insert", "lookup-hit", "lookup-miss", "delete", "iterate"};

static void *gh_make(bool strings)
{
    return strings ? g_hash_table_new(g_str_hash, g_str_equal) : g_hash_table_new(g_int64_hash, g_int64_equal);
}
static void gh_insert_all(void *m, const keyset *ks, bool strings)
{
    if (strings)
        for (size_t i = 0; i < ks->n; i++)
            g_hash_table_insert(m, ks->strs[i], GINT_TO_POINTER((gint)i));
    else
        for (size_t i = 0; i < ks->n; i++)
            g_hash_table_insert(m, &ks->ints[i], GINT_TO_POINTER((gint)i));
}
static int64_t gh_lookup_all(void *m, const keyset *ks, bool strings, bool miss)
{
    int64_t s = 0;
    if (strings) {
        char *const *keys = miss ? ks->miss_strs : ks->strs;
        for (size_t i = 0; i < ks->n; i++)
            s += GPOINTER_TO_INT(g_hash_table_lookup(m, keys[ks->order[i]]));
    } else {
        const int64_t *keys = miss ? ks->miss_ints : ks->ints;
        for (size_t i = 0; i < ks->n; i++)
            s += GPOINTER_TO_INT(g_hash_table_lookup(m, &keys[ks->order[i]]));
    }
    return s;
}
static void gh_remove_all(void *m, const keyset *ks, bool strings)
{
    if (strings)
        for (size_t i = 0; i < ks->n; i++)
            g_hash_table_remove(m, ks->strs[ks->order[i]]);
    else
        for (size_t i = 0; i < ks->n; i++)
            g_hash_table_remove(m, &ks->ints[ks->order[i]]);
}
static int64_t gh_iterate(void *m, bool strings)
{
    GHashTableIter it;
    gpointer k, v;
    int64_t sum = 0;
    g_hash_table_iter_init(&it, m);
    while (g_hash_table_iter_next(&it, &k, &v))
        sum += GPOINTER_TO_INT(v);
    return sum;
}
static void gh_destroy(void *m, bool strings)
{
    g_hash_table_destroy(m);
}
static const impl ghash_impl = {gh_make, gh_insert_all, gh_lookup_all, gh_remove_all, gh_iterate, gh_destroy};

/* ---- measurement --------------------------------------------------------- */

/* In count mode, each phase's instructions go to a callgrind dump named
 * "<row> <ops>". */
static bool counting;
static const char *count_prefix;

static void phase_begin(void)
{
    if (counting)
        CALLGRIND_ZERO_STATS;
}

static void phase_end(int o, size_t ops)
{
    if (!counting)
        return;
    char name[128];
    snprintf(name, sizeof name, "%s %s %zu", count_prefix, op_names[o], ops);
    CALLGRIND_DUMP_STATS_AT(name);
}

static volatile int64_t sink;

/* One round over a keyset: build, look up hits and misses, iterate,
 * delete; each phase's time per operation into per[]. */
static void round_once(const impl *im, const keyset *ks, bool strings, double per[NOPS])
{
    size_t n = ks->n;
    double t[NOPS + 1];
    int64_t s = 0;
    void *m = im->make(strings);
    phase_begin();
    t[0] = now_ns();
    im->insert_all(m, ks, strings);
    t[1] = now_ns();
    phase_end(INSERT, n);
    phase_begin();
    s += im->lookup_all(m, ks, strings, false);
    t[2] = now_ns();
    phase_end(HIT, n);
    phase_begin();
    t[2] = now_ns();
    s += im->lookup_all(m, ks, strings, true);
    t[3] = now_ns();
    phase_end(MISS, n);
    phase_begin();
    t[3] = now_ns();
    im->remove_all(m, ks, strings);
    t[4] = now_ns();
    phase_end(DELETE, n);
    double d[NOPS] = {t[1] - t[0], t[2] - t[1], t[3] - t[2], t[4] - t[3], 0};
    /* Iterate a freshly built table (the one above is empty now). */
    im->insert_all(m, ks, strings);
    int reps = n < 100000 ? 20 : 1;
    phase_begin();
    double ti = now_ns();
    for (int r = 0; r < reps; r++)
        s += im->iterate(m, strings);
    d[ITERATE] = (now_ns() - ti) / reps;
    phase_end(ITERATE, n * (size_t)reps);
    im->destroy(m, strings);
    sink += s;
    for (int o = 0; o < NOPS; o++)
        per[o] = d[o] / (double)n;
}

/* The tables measured together: their rounds alternate on the same keys,
 * so that a stretch of slow memory on a shared machine falls on all of
 * them alike.  Where a table's round falls matters too, so every place
 * comes to each table in turn: the rounds go through the rotations of the
 * order given and then those of its reverse (m n g, n g m, g m n, m g n,
 * g n m, n m g for three tables), six rounds in which each table runs
 * first, second and third twice and follows each other table two or three
 * times.  Run with one build of the map in both columns, rounds that kept
 * the order given (the reverse for every other round, the first table
 * first throughout) read the first table's large inserts 1-6 % slower
 * than the second's, and its misses up to 13 %: the process's first
 * round of a key set, which only the first table ran first, took up to
 * three times as long as the others (the kernel zeroing, and the host
 * providing, the memory its table grew into). */
typedef struct contender {
    const char *name;
    const impl *im;
    double best[NOPS];
    double *per[NOPS]; /* each round's time per operation */
} contender;

/* Which table runs j-th in round r (see above). */
static int round_place(int r, int j, int nc)
{
    int k = r % nc;
    if ((r / nc) % 2 == 0)
        return (k + j) % nc; /* a rotation of the order given */
    return ((nc - k) % nc - j + nc) % nc; /* one of its reverse */
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The race checks' cost on a row: the median, over the rounds, of the
 * checked map's time over the unchecked one's in the same round.  Each
 * table's best round is what its own column shows, but the ratio of two
 * bests follows two separate strokes of luck: run with one build in both
 * columns, the bests of 4 processes of 6 rounds read up to 11 % apart
 * (4M-key misses), where the paired rounds' median stayed within 1.5 %
 * on every row but the inserts, whose time is up to half page faults
 * (the kernel's and the host's, 4 to 140 ns an insert from one round to
 * the next): within 6 %. */
static double checks_ratio(const contender *with, const contender *without, int o, int rounds)
{
    double *r = must(malloc((size_t)rounds * sizeof *r));
    for (int i = 0; i < rounds; i++)
        r[i] = with->per[o][i] / without->per[o][i];
    qsort(r, (size_t)rounds, sizeof *r, cmp_double);
    double med = rounds % 2 ? r[rounds / 2] : (r[rounds / 2 - 1] + r[rounds / 2]) / 2;
    free(r);
    return med;
}

static const contender *find_contender(const contender *c, int nc, const char *name)
{
    for (int j = 0; j < nc; j++)
        if (strcmp(c[j].name, name) == 0)
            return &c[j];
    return NULL;
}

static void bench(contender *c, int nc, const char *keyname, bool strings, const char *sizename, size_t n,
                  int rounds)
{
    keyset ks;
    make_keys(&ks, n, strings);
    char prefix[64];
    snprintf(prefix, sizeof prefix, "%s %s", keyname, sizename);
    count_prefix = prefix;
    for (int j = 0; j < nc; j++)
        for (int o = 0; o < NOPS; o++) {
            c[j].best[o] = 0;
            c[j].per[o] = must(calloc((size_t)rounds, sizeof(double)));
        }
    for (int r = 0; r < rounds; r++)
        for (int j = 0; j < nc; j++) {
            contender *x = &c[round_place(r, j, nc)];
            double per[NOPS];
            round_once(x->im, &ks, strings, per);
            for (int o = 0; o < NOPS; o++) {
                x->per[o][r] = per[o];
                if (r == 0 || per[o] < x->best[o])
                    x->best[o] = per[o];
            }
        }
    const contender *with = find_contender(c, nc, "maprt"), *without = find_contender(c, nc, "nochecks");
    for (int j = 0; j < nc; j++)
        for (int o = 0; o < NOPS; o++) {
            if (nc > 1)
                printf("%s\t", c[j].name);
            printf("%s %s %s\t%.2f\n", keyname, sizename, op_names[o], c[j].best[o]);
        }
    if (with != NULL && without != NULL)
        for (int o = 0; o < NOPS; o++)
            printf("checks\t%s %s %s\t%.4f\n", keyname, sizename, op_names[o], checks_ratio(with, without, o, rounds));
    for (int j = 0; j < nc; j++)
        for (int o = 0; o < NOPS; o++)
            free(c[j].per[o]);
    fflush(stdout);
}

/* Peak resident set (VmHWM), in bytes. */
static long long peak_rss(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long long kb = 0;
    while (f != NULL && fgets(line, sizeof line, f) != NULL)
        if (sscanf(line, "VmHWM: %lld kB", &kb) == 1)
            break;
    if (f != NULL)
        fclose(f);
    return kb * 1024;
}

static void mem(const impl *im, size_t n)
{
    keyset ks;
    make_keys(&ks, n, false);
    long long before = peak_rss();
    void *m = im->make(false);
    im->insert_all(m, &ks, false);
    long long after = peak_rss();
    printf("int64 mem %zu\t%.1f\n", n, (double)(after - before) / (double)n);
    im->destroy(m, false);
}

static const impl *find_impl(const char *name)
{
    if (strcmp(name, "maprt") == 0)
        return &maprt_impl;
    if (strcmp(name, "ghash") == 0)
        return &ghash_impl;
    if (strcmp(name, "nochecks") == 0)
        return &nochecks_maprt_impl; /* NULL where the copy is not linked in */
    return NULL;
}

static int usage(const char *argv0)
{
    fprintf(stderr,
            "usage: %s TABLE... [small] [large]   TABLE: maprt, nochecks or ghash\n"
            "       %s TABLE mem N\n"
            "       %s TABLE count                (under valgrind --tool=callgrind)\n",
            argv0, argv0, argv0);
    return 2;
}

int main(int argc, char **argv)
{
    contender c[3];
    int nc = 0, argi = 1;
    for (; argi < argc; argi++) {
        const impl *im = find_impl(argv[argi]);
        if (im == NULL && strcmp(argv[argi], "nochecks") == 0) {
            fprintf(stderr, "%s: this build has no copy of the map without the race checks\n", argv[0]);
            return usage(argv[0]);
        }
        if (im == NULL)
            break;
        if (nc == 3)
            return usage(argv[0]);
        c[nc].name = argv[argi];
        c[nc++].im = im;
    }
    if (nc == 0)
        return usage(argv[0]);
    if (argc - argi == 2 && strcmp(argv[argi], "mem") == 0 && nc == 1) {
        mem(c[0].im, (size_t)strtoull(argv[argi + 1], NULL, 10));
        return 0;
    }
    if (argc - argi == 1 && strcmp(argv[argi], "count") == 0 && nc == 1) {
        counting = true;
        bench(c, 1, "int64", false, "small", 1000, 3);
        bench(c, 1, "string", true, "small", 1000, 3);
        return 0;
    }
    bool small = argi == argc, large = argi == argc;
    for (int i = argi; i < argc; i++) {
        if (strcmp(argv[i], "small") == 0)
            small = true;
        else if (strcmp(argv[i], "large") == 0)
            large = true;
        else
            return usage(argv[0]);
    }
    fprintf(stderr, "bench-map:");
    for (int j = 0; j < nc; j++)
        fprintf(stderr, " %s", c[j].name);
    fprintf(stderr, "\n");
    if (small) {
        bench(c, nc, "int64", false, "small", 1000, 3000);
        bench(c, nc, "string", true, "small", 1000, 3000);
    }
    if (large) {
        bench(c, nc, "int64", false, "large", 4u << 20, 6);
        bench(c, nc, "string", true, "large", 2u << 20, 6);
    }
    return 0;
}
