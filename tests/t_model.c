/*
 * t_model — the map against a reference model, over long random operation
 * sequences.
 *
 * Three map types: map[int64]int64 (fast path), map[string]int64 (fast
 * path, keys as pointer+length) and a user-defined type whose 160-byte
 * keys and 200-byte elements are stored out of line.  Keys come from a
 * fixed domain of ids so the model is an array indexed by id.  The
 * sequence moves through phases (filling, draining, churning) so that the
 * map grows by doubling and by same-size growth many times; during every
 * growth the whole content is checked after each write, i.e. after every
 * evacuation step.  Iterations, some of which delete and insert as they
 * go, are checked against Go's rules.
 */
#include "tap.h"

#include <maprt.h>

#include <inttypes.h>
#include <stdint.h>
#include <string.h>

/* ---- a deterministic generator (the test must be reproducible) ---------- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}
static uint32_t below(uint32_t n) { return (uint32_t)(rnd() % n); }

/* ---- the key domain, per map type -------------------------------------- */

enum { DOMAIN = 6000 };

struct bigkey {
    int64_t id;
    char pad[152];
};
struct bigelem {
    int64_t v;
    char pad[192];
};
static uint64_t bigkey_hash(const void *k, uint64_t seed)
{
    return mr_hash_bytes(k, sizeof(struct bigkey), seed);
}
static bool bigkey_equal(const void *a, const void *b)
{
    return memcmp(a, b, sizeof(struct bigkey)) == 0;
}
static const mr_maptype big_type =
    MR_MAPTYPE_INIT("map[bigkey]bigelem", struct bigkey, struct bigelem, bigkey_hash, bigkey_equal, 0);

static char strkeys[DOMAIN][24];
static mr_string strkey_of[DOMAIN];

typedef struct kind {
    const char *name;
    const mr_maptype *t;
    /* Writes the key for id into buf (at most 256 bytes), returns it. */
    const void *(*key)(uint32_t id, void *buf);
    /* Reads the id back from a stored key. */
    uint32_t (*id_of)(const void *key);
    void (*set)(void *elem, int64_t v);
    int64_t (*get)(const void *elem);
} kind;

static const void *i64_key(uint32_t id, void *buf)
{
    /* Spread the ids over the int64 range so that hashing matters. */
    int64_t k = (int64_t)(id * 0x9e3779b97f4a7c15ULL);
    memcpy(buf, &k, 8);
    return buf;
}
static uint32_t i64_id(const void *key)
{
    int64_t k;
    memcpy(&k, key, 8);
    /* The inverse of the multiplication above (mod 2^64). */
    return (uint32_t)((uint64_t)k * 0xf1de83e19937733dULL);
}
static void i64_set(void *e, int64_t v) { memcpy(e, &v, 8); }
static int64_t i64_get(const void *e)
{
    int64_t v;
    memcpy(&v, e, 8);
    return v;
}

static const void *str_key(uint32_t id, void *buf)
{
    /* A fresh mr_string over a copy-free pointer: equal keys need not be
     * the same pointer, so use a second buffer half of the time. */
    static char alt[DOMAIN][24];
    mr_string s = strkey_of[id];
    if (rnd() & 1) {
        memcpy(alt[id], s.ptr, s.len + 1);
        s.ptr = alt[id];
    }
    memcpy(buf, &s, sizeof s);
    return buf;
}
static uint32_t str_id(const void *key)
{
    const mr_string *s = key;
    uint32_t id = 0;
    for (size_t i = 2; i < s->len; i++)
        id = id * 10 + (uint32_t)(s->ptr[i] - '0');
    return id;
}

static const void *big_key(uint32_t id, void *buf)
{
    struct bigkey k;
    memset(&k, 0, sizeof k);
    k.id = id;
    snprintf(k.pad, sizeof k.pad, "pad-%u", id);
    memcpy(buf, &k, sizeof k);
    return buf;
}
static uint32_t big_id(const void *key)
{
    const struct bigkey *k = key;
    return (uint32_t)k->id;
}
static void big_set(void *e, int64_t v)
{
    struct bigelem *b = e;
    b->v = v;
    memset(b->pad, (int)(v & 0x7f), sizeof b->pad);
}
static int64_t big_get(const void *e)
{
    const struct bigelem *b = e;
    /* A torn element (pad not matching) reads as a sentinel. */
    for (size_t i = 0; i < sizeof b->pad; i++)
        if (b->pad[i] != (char)(b->v & 0x7f))
            return INT64_MIN;
    return b->v;
}

static const kind kinds[] = {
    {"map[int64]int64", &mr_type_i64_i64, i64_key, i64_id, i64_set, i64_get},
    {"map[string]int64", &mr_type_str_i64, str_key, str_id, i64_set, i64_get},
    {"map[bigkey]bigelem", &big_type, big_key, big_id, big_set, big_get},
};

/* ---- the model ---------------------------------------------------------- */

static bool present[DOMAIN];
static int64_t value[DOMAIN];
static size_t model_len;
static uint32_t live[DOMAIN], live_pos[DOMAIN]; /* the present ids, densely */

static void model_set(uint32_t id, int64_t v)
{
    if (!present[id]) {
        present[id] = true;
        live_pos[id] = (uint32_t)model_len;
        live[model_len++] = id;
    }
    value[id] = v;
}

static void model_del(uint32_t id)
{
    if (!present[id])
        return;
    present[id] = false;
    uint32_t last = live[--model_len];
    live[live_pos[id]] = last;
    live_pos[last] = live_pos[id];
}

static void model_clear(void)
{
    memset(present, 0, sizeof present);
    model_len = 0;
}

/* A random id: usually a present one when the map is not empty. */
static uint32_t pick_id(void)
{
    if (model_len > 0 && below(4) != 0)
        return live[below((uint32_t)model_len)];
    return below(DOMAIN);
}

static char failure[512];
#define FAIL(...) (failure[0] ? (void)0 : (void)snprintf(failure, sizeof failure, __VA_ARGS__))

/* Checks every id of the domain and an iteration against the model. */
static void check_all(const kind *k, mr_map *m, const char *when)
{
    char buf[256];
    if (mr_maplen(m) != model_len)
        FAIL("%s: len %zu, model %zu", when, mr_maplen(m), model_len);
    for (uint32_t id = 0; id < DOMAIN && !failure[0]; id++) {
        bool ok;
        void *e = mr_mapaccess2(k->t, m, k->key(id, buf), &ok);
        if (ok != present[id])
            FAIL("%s: id %u present=%d, model %d", when, id, ok, present[id]);
        else if (ok && k->get(e) != value[id])
            FAIL("%s: id %u value %" PRId64 ", model %" PRId64, when, id, k->get(e), value[id]);
        else if (!ok && k->get(mr_mapaccess1(k->t, m, k->key(id, buf))) != 0)
            FAIL("%s: absent id %u does not read as zero", when, id);
    }
    static unsigned char seen[DOMAIN];
    memset(seen, 0, sizeof seen);
    size_t n = 0;
    mr_mapiter it;
    mr_mapiterinit(k->t, m, &it);
    while (mr_mapiternext(&it)) {
        uint32_t id = k->id_of(it.key);
        if (id >= DOMAIN || !present[id] || seen[id]++ || k->get(it.elem) != value[id])
            FAIL("%s: iteration produced id %u wrongly", when, id);
        n++;
    }
    if (n != model_len)
        FAIL("%s: iteration produced %zu entries, model %zu", when, n, model_len);
}

/* An iteration that deletes and inserts as it goes.  Go's rules: an entry
 * is produced at most once; if produced, it is in the map at that moment
 * with its current element; an entry present throughout is produced. */
static void check_iteration_with_changes(const kind *k, mr_map *m)
{
    char buf[256];
    static unsigned char seen[DOMAIN], touched[DOMAIN], at_start[DOMAIN];
    memset(seen, 0, sizeof seen);
    memset(touched, 0, sizeof touched);
    memcpy(at_start, present, sizeof at_start);
    mr_mapiter it;
    mr_mapiterinit(k->t, m, &it);
    while (mr_mapiternext(&it) && !failure[0]) {
        uint32_t id = k->id_of(it.key);
        if (id >= DOMAIN || seen[id]++)
            FAIL("iteration with changes: id %u produced twice without being deleted in between", id);
        else if (!present[id] || k->get(it.elem) != value[id])
            FAIL("iteration with changes: id %u produced but absent or stale", id);
        /* One change per entry produced, balanced so the map keeps its size. */
        for (int j = 0; j < 1; j++) {
            uint32_t other = below(2) ? pick_id() : below(DOMAIN);
            touched[other] = 1;
            if (rnd() % 2 && present[other]) {
                mr_mapdelete(k->t, m, k->key(other, buf));
                model_del(other);
                /* Inserted again, it is a new entry, which may be produced. */
                seen[other] = 0;
            } else {
                int64_t v = (int64_t)rnd() >> 1;
                k->set(mr_mapassign(k->t, m, k->key(other, buf)), v);
                model_set(other, v);
            }
        }
    }
    for (uint32_t id = 0; id < DOMAIN && !failure[0]; id++)
        if (at_start[id] && !touched[id] && !seen[id])
            FAIL("iteration with changes: id %u present throughout but not produced", id);
}

/* One random operation on m, mirrored in the model.  `target` is the size
 * the sequence hovers around: below it inserts dominate, above it deletes. */
static void random_op(const kind *k, mr_map *m, size_t target, long op)
{
    char buf[256];
    uint32_t r = below(1000);
    uint32_t insert_pct = model_len < target ? 70 : 30;
    if (r < 1) {
        mr_mapclear(k->t, m);
        model_clear();
    } else if (r < 3) {
        check_iteration_with_changes(k, m);
    } else if (r < 600) {
        if (below(100) < insert_pct) {
            uint32_t id = below(2) ? below(DOMAIN) : pick_id(); /* new or update */
            int64_t v = (int64_t)rnd() >> 1;
            k->set(mr_mapassign(k->t, m, k->key(id, buf)), v);
            model_set(id, v);
        } else {
            uint32_t id = pick_id();
            mr_mapdelete(k->t, m, k->key(id, buf));
            model_del(id);
        }
    } else {
        uint32_t id = pick_id();
        bool ok;
        void *e = mr_mapaccess2(k->t, m, k->key(id, buf), &ok);
        if (ok != present[id] || (ok && k->get(e) != value[id]))
            FAIL("op %ld: lookup of id %u disagrees with the model", op, id);
    }
}

/* A map used as a queue: insert a fresh key, delete the oldest.  Its size
 * stays put, but the keys wander through the buckets and leave overflow
 * buckets behind: the workload that makes Go grow a map sideways. */
static void queue_op(const kind *k, mr_map *m, size_t size, long op)
{
    char buf[256];
    uint32_t in = (uint32_t)(op % DOMAIN), out = (uint32_t)((op + DOMAIN - (long)size) % DOMAIN);
    int64_t v = (int64_t)rnd() >> 1;
    k->set(mr_mapassign(k->t, m, k->key(in, buf)), v);
    model_set(in, v);
    if (op % 97 == 0) {
        bool ok;
        uint32_t id = pick_id();
        void *e = mr_mapaccess2(k->t, m, k->key(id, buf), &ok);
        if (ok != present[id] || (ok && k->get(e) != value[id]))
            FAIL("queue op %ld: lookup of id %u disagrees with the model", op, id);
    }
    if ((long)size <= op) {
        mr_mapdelete(k->t, m, k->key(out, buf));
        model_del(out);
    }
}

static void run_kind(const kind *k, long ops, long epoch_len)
{
    failure[0] = '\0';
    long growth_checks = 0, grows = 0, samesize = 0, epochs = 0;
    long op = 0, extra = 0;
    /* The map's hash seed is random, so whether its growths are sideways
     * is too: when the epochs drew no same-size growth (the 160-byte-key
     * type, about one full run in thirty), queue epochs on small maps are
     * added, up to twenty, so that every full run covers it. */
    while ((op < ops || (samesize == 0 && extra < 20 && epoch_len >= 30000)) && !failure[0]) {
        bool more = op >= ops;
        if (more) {
            ops += epoch_len;
            extra++;
        }
        /* An epoch: a fresh map hovering around a random size, so that
         * small maps (which grow sideways often) and large ones both get
         * their turn. */
        model_clear();
        size_t target = more ? 64 : (size_t)4 << below(11);
        if (target > DOMAIN)
            target = DOMAIN;
        mr_map *m = mr_makemap(k->t, below(2) ? 0 : below((uint32_t)target + 1));
        epochs++;
        bool queue = more || epochs % 3 == 1;
        for (long n = 0; n < epoch_len && op < ops && !failure[0]; n++, op++) {
            if (queue)
                queue_op(k, m, target * 3 / 2, n);
            else
                random_op(k, m, target, op);
            mr_mapstats st;
            mr_mapgetstats(m, &st);
            if (st.growing) {
                /* After every evacuation step the whole content must be
                 * intact (bounded, to keep the test's time in check). */
                if (growth_checks < 20000) {
                    check_all(k, m, "during growth");
                    growth_checks++;
                }
            }
        }
        check_all(k, m, queue ? "end of queue epoch" : "end of random epoch");
        mr_mapstats st;
        mr_mapgetstats(m, &st);
        if (getenv("MODEL_DEBUG")) diag("epoch %s target %zu len %zu B %u noverflow %u growths %zu", queue ? "queue" : "random", target, st.count, st.B, st.noverflow, st.growths);
        grows += (long)st.growths;
        samesize += (long)st.samesizegrowths;
        mr_mapfree(k->t, m);
    }
    ok(!failure[0],
       "%s: %ld random operations in %ld maps agree with the model (%ld growths, %ld same-size, %ld checks during growth)%s%s",
       k->name, ops, epochs, grows, samesize, growth_checks, failure[0] ? ": " : "", failure);
    if (epoch_len < 30000) /* a shortened run (MODEL_SCALE) need not cover every growth */
        ok(true, "%s: growth coverage # SKIP checked in full runs only", k->name);
    else
        ok(grows > 20 && samesize > 0, "%s: the maps grew by doubling and by same-size growth", k->name);
}

int main(void)
{
    for (uint32_t i = 0; i < DOMAIN; i++) {
        int n = snprintf(strkeys[i], sizeof strkeys[i], "k-%u", i);
        strkey_of[i] = (mr_string){strkeys[i], (size_t)n};
    }
    /* MODEL_SCALE=N divides the operation counts (for runs under valgrind). */
    long scale = getenv("MODEL_SCALE") ? atol(getenv("MODEL_SCALE")) : 1;
    if (scale < 1)
        scale = 1;
    long epoch_len = 30000 / scale < 1500 ? 1500 : 30000 / scale;
    run_kind(&kinds[0], 2000000 / scale, epoch_len);
    run_kind(&kinds[1], 1500000 / scale, epoch_len);
    run_kind(&kinds[2], 600000 / scale, epoch_len);
    return tap_done();
}
