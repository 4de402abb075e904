/*
 * glib.c — GLib's GHashTable, watched in unmodified programs.
 *
 * Every exported GHashTable entry point is interposed (GLib's symbols are
 * unversioned, so the next definition is found with dlsym(RTLD_NEXT)).
 * Writers hold the table's claim for the length of the call; lookups
 * check it on entry, as Go's mapaccess does, and are tail-called; walks
 * (foreach, find, iterators, get_keys) check it and the table's write
 * count before every element, as Go's range does.
 *
 * What cannot be seen: GLib binds its own internal calls directly
 * (g_hash_table_new calls g_hash_table_new_full without the PLT, and
 * GLib's private tables are used only that way), and a statically linked
 * GLib is never interposed.  Tables made before maprace was watching are
 * watched from their first interposed use, without a creation site.
 *
 * GLib's headers are not needed: the types below are GLib's ABI.
 */
#include "interpose.h"

#include <stddef.h>

typedef struct _GHashTable GHashTable;
typedef struct _GList GList;
typedef int gboolean;
typedef unsigned int guint;
typedef void *gpointer;
typedef const void *gconstpointer;
typedef guint (*GHashFunc)(gconstpointer key);
typedef gboolean (*GEqualFunc)(gconstpointer a, gconstpointer b);
typedef void (*GDestroyNotify)(gpointer data);
typedef void (*GHFunc)(gpointer key, gpointer value, gpointer user_data);
typedef gboolean (*GHRFunc)(gpointer key, gpointer value, gpointer user_data);
/* GHashTableIter: opaque, but GLib's RealIter begins with the table. */
typedef struct GHashTableIter {
    GHashTable *table;
    gpointer dummy2, dummy3;
    int dummy4;
    gboolean dummy5;
    gpointer dummy6;
} GHashTableIter;

/* Each definition below is GLib's own prototype, without GLib's header. */
#pragma GCC diagnostic ignored "-Wmissing-prototypes"

static const char GHASH[] = "GHashTable";

#define WRITE(t, call) INTERPOSE_WRITE(t, GHASH, call)
#define WALK(t, call) INTERPOSE_READ(t, GHASH, MR_TABLE_ITERATE, call)

/* ---- constructors, references, the end ------------------------------------- */

static GHashTable *made(GHashTable *t, void *callsite)
{
    if (t != NULL && tables_depth == 1 && (maprace_active() || maprace_watch()))
        tables_made(t, GHASH, (uintptr_t)callsite);
    return t;
}

GHashTable *g_hash_table_new(GHashFunc hash, GEqualFunc equal)
{
    REAL(g_hash_table_new);
    tables_depth++;
    GHashTable *t = made(real(hash, equal), __builtin_return_address(0));
    tables_depth--;
    return t;
}

GHashTable *g_hash_table_new_full(GHashFunc hash, GEqualFunc equal, GDestroyNotify kfree, GDestroyNotify vfree)
{
    REAL(g_hash_table_new_full);
    tables_depth++;
    GHashTable *t = made(real(hash, equal, kfree, vfree), __builtin_return_address(0));
    tables_depth--;
    return t;
}

GHashTable *g_hash_table_new_similar(GHashTable *other)
{
    REAL(g_hash_table_new_similar);
    tables_depth++;
    GHashTable *t = made(real(other), __builtin_return_address(0));
    tables_depth--;
    return t;
}

GHashTable *g_hash_table_ref(GHashTable *t)
{
    REAL(g_hash_table_ref);
    tentry *e = interpose_enter(t, GHASH);
    GHashTable *r = real(t);
    if (e != NULL) {
        long n = atomic_load(&e->refs);
        while (n > 0 && !atomic_compare_exchange_weak(&e->refs, &n, n + 1))
            ;
    }
    interpose_leave();
    return r;
}

/* Drops one counted reference; true if it was the last (the table ends). */
static bool drop_ref(tentry *e)
{
    long n = atomic_load(&e->refs);
    while (n > 0 && !atomic_compare_exchange_weak(&e->refs, &n, n - 1))
        ;
    return n == 1;
}

void g_hash_table_unref(GHashTable *t)
{
    REAL(g_hash_table_unref);
    tentry *e = interpose_enter(t, GHASH);
    if (e == NULL) {
        real(t);
    } else if (drop_ref(e)) {
        /* The last reference: the table is emptied and freed, a write. */
        uint64_t me = tables_me();
        tables_write_begin(e, me, CALLSITE);
        real(t);
        tables_write_end(e, me);
        tables_gone(t);
    } else {
        real(t);
    }
    interpose_leave();
}

void g_hash_table_destroy(GHashTable *t)
{
    REAL(g_hash_table_destroy);
    tentry *e = interpose_enter(t, GHASH);
    if (e == NULL) {
        real(t);
    } else {
        uint64_t me = tables_me();
        bool last = drop_ref(e);
        tables_write_begin(e, me, CALLSITE);
        real(t);
        tables_write_end(e, me);
        if (last)
            tables_gone(t);
    }
    interpose_leave();
}

/* ---- writes ----------------------------------------------------------------- */

gboolean g_hash_table_insert(GHashTable *t, gpointer key, gpointer value)
{
    REAL(g_hash_table_insert);
    gboolean r;
    WRITE(t, r = real(t, key, value));
    return r;
}

gboolean g_hash_table_replace(GHashTable *t, gpointer key, gpointer value)
{
    REAL(g_hash_table_replace);
    gboolean r;
    WRITE(t, r = real(t, key, value));
    return r;
}

gboolean g_hash_table_add(GHashTable *t, gpointer key)
{
    REAL(g_hash_table_add);
    gboolean r;
    WRITE(t, r = real(t, key));
    return r;
}

gboolean g_hash_table_remove(GHashTable *t, gconstpointer key)
{
    REAL(g_hash_table_remove);
    gboolean r;
    WRITE(t, r = real(t, key));
    return r;
}

void g_hash_table_remove_all(GHashTable *t)
{
    REAL(g_hash_table_remove_all);
    WRITE(t, real(t));
}

gboolean g_hash_table_steal(GHashTable *t, gconstpointer key)
{
    REAL(g_hash_table_steal);
    gboolean r;
    WRITE(t, r = real(t, key));
    return r;
}

void g_hash_table_steal_all(GHashTable *t)
{
    REAL(g_hash_table_steal_all);
    WRITE(t, real(t));
}

gboolean g_hash_table_steal_extended(GHashTable *t, gconstpointer key, gpointer *stolen_key, gpointer *stolen_value)
{
    REAL(g_hash_table_steal_extended);
    gboolean r;
    WRITE(t, r = real(t, key, stolen_key, stolen_value));
    return r;
}

guint g_hash_table_foreach_remove(GHashTable *t, GHRFunc fn, gpointer data)
{
    REAL(g_hash_table_foreach_remove);
    guint r;
    WRITE(t, r = real(t, fn, data));
    return r;
}

guint g_hash_table_foreach_steal(GHashTable *t, GHRFunc fn, gpointer data)
{
    REAL(g_hash_table_foreach_steal);
    guint r;
    WRITE(t, r = real(t, fn, data));
    return r;
}

void g_hash_table_iter_remove(GHashTableIter *it)
{
    REAL(g_hash_table_iter_remove);
    WRITE(it->table, real(it));
}

void g_hash_table_iter_replace(GHashTableIter *it, gpointer value)
{
    REAL(g_hash_table_iter_replace);
    WRITE(it->table, real(it, value));
}

void g_hash_table_iter_steal(GHashTableIter *it)
{
    REAL(g_hash_table_iter_steal);
    WRITE(it->table, real(it));
}

/* ---- reads ------------------------------------------------------------------ */

gpointer g_hash_table_lookup(GHashTable *t, gconstpointer key)
{
    REAL(g_hash_table_lookup);
    interpose_lookup(t, GHASH, CALLSITE);
    return real(t, key);
}

gboolean g_hash_table_lookup_extended(GHashTable *t, gconstpointer key, gpointer *orig_key, gpointer *value)
{
    REAL(g_hash_table_lookup_extended);
    interpose_lookup(t, GHASH, CALLSITE);
    return real(t, key, orig_key, value);
}

gboolean g_hash_table_contains(GHashTable *t, gconstpointer key)
{
    REAL(g_hash_table_contains);
    interpose_lookup(t, GHASH, CALLSITE);
    return real(t, key);
}

guint g_hash_table_size(GHashTable *t)
{
    REAL(g_hash_table_size);
    interpose_lookup(t, GHASH, CALLSITE);
    return real(t);
}

/* ---- walks: checked before every element -------------------------------------- */

typedef struct walk {
    tentry *e;
    gpointer fn, data;
    uint64_t writes; /* the table's writes when the walk began */
} walk;

/* A write in progress, or one made by another thread since the walk
 * began (a whole insert can fit between two elements).  The check is
 * inline (walk_check): it runs before every element. */
static __attribute__((noinline)) void walk_changed(tentry *e, uint64_t *walk_writes)
{
    tables_read_check(e, MR_TABLE_ITERATE);
    uint64_t writes = atomic_load_explicit(&e->writes, memory_order_relaxed);
    if (writes != *walk_writes) {
        uint64_t who = atomic_load_explicit(&e->claim.last_writer, memory_order_relaxed);
        if (who != tables_me())
            maprace_rt.read_failed(&e->claim, who, MR_TABLE_ITERATE);
        *walk_writes = writes; /* (continue mode goes on) */
    }
}

static inline void walk_check(walk *w)
{
    if (__builtin_expect(atomic_load_explicit(&w->e->claim.writer, memory_order_relaxed) != 0 ||
                             atomic_load_explicit(&w->e->writes, memory_order_relaxed) != w->writes,
                         0))
        walk_changed(w->e, &w->writes);
}

static void each_element(gpointer key, gpointer value, gpointer p)
{
    walk *w = p;
    walk_check(w);
    ((GHFunc)w->fn)(key, value, w->data);
}

static gboolean find_element(gpointer key, gpointer value, gpointer p)
{
    walk *w = p;
    walk_check(w);
    return ((GHRFunc)w->fn)(key, value, w->data);
}

void g_hash_table_foreach(GHashTable *t, GHFunc fn, gpointer data)
{
    REAL(g_hash_table_foreach);
    tentry *e = interpose_enter(t, GHASH);
    if (e == NULL || fn == NULL) {
        real(t, fn, data);
    } else {
        walk w = {e, (gpointer)fn, data, atomic_load_explicit(&e->writes, memory_order_relaxed)};
        tables_tell(e, CALLSITE, MR_TABLE_OP_ITERATE);
        walk_check(&w);
        real(t, each_element, &w);
        walk_check(&w);
    }
    interpose_leave();
}

gpointer g_hash_table_find(GHashTable *t, GHRFunc fn, gpointer data)
{
    REAL(g_hash_table_find);
    gpointer r;
    tentry *e = interpose_enter(t, GHASH);
    if (e == NULL || fn == NULL) {
        r = real(t, fn, data);
    } else {
        walk w = {e, (gpointer)fn, data, atomic_load_explicit(&e->writes, memory_order_relaxed)};
        tables_tell(e, CALLSITE, MR_TABLE_OP_ITERATE);
        walk_check(&w);
        r = real(t, find_element, &w);
        walk_check(&w);
    }
    interpose_leave();
    return r;
}

GList *g_hash_table_get_keys(GHashTable *t)
{
    REAL(g_hash_table_get_keys);
    GList *r;
    WALK(t, r = real(t));
    return r;
}

gpointer *g_hash_table_get_keys_as_array(GHashTable *t, guint *length)
{
    REAL(g_hash_table_get_keys_as_array);
    gpointer *r;
    WALK(t, r = real(t, length));
    return r;
}

GList *g_hash_table_get_values(GHashTable *t)
{
    REAL(g_hash_table_get_values);
    GList *r;
    WALK(t, r = real(t));
    return r;
}

/* GHashTableIter walks: the iterator is the program's memory, so the
 * write count each walk began with is kept in a few slots per thread
 * (a walk is almost always stepped by the thread that began it).  A walk
 * whose slot was reused, or stepped by another thread, keeps the check
 * of the claim alone. */
enum { ITER_SLOTS = 8 };
static __thread struct iter_slot {
    const GHashTableIter *it;
    tentry *e;
    uint64_t writes;
} iter_slots[ITER_SLOTS] __attribute__((tls_model("initial-exec")));
static __thread unsigned iter_next_slot __attribute__((tls_model("initial-exec")));

static struct iter_slot *iter_slot_of(const GHashTableIter *it, const tentry *e)
{
    for (int i = 0; i < ITER_SLOTS; i++)
        if (iter_slots[i].it == it && iter_slots[i].e == e)
            return &iter_slots[i];
    return NULL;
}

void g_hash_table_iter_init(GHashTableIter *it, GHashTable *t)
{
    REAL(g_hash_table_iter_init);
    tentry *e = interpose_enter(t, GHASH);
    if (e != NULL) {
        tables_tell(e, CALLSITE, MR_TABLE_OP_ITERATE);
        tables_read_check(e, MR_TABLE_ITERATE);
    }
    real(it, t);
    if (e != NULL) {
        struct iter_slot *slot = iter_slot_of(it, e);
        if (slot == NULL)
            slot = &iter_slots[iter_next_slot++ % ITER_SLOTS];
        *slot = (struct iter_slot){it, e, atomic_load_explicit(&e->writes, memory_order_relaxed)};
    }
    interpose_leave();
}

gboolean g_hash_table_iter_next(GHashTableIter *it, gpointer *key, gpointer *value)
{
    REAL(g_hash_table_iter_next);
    gboolean r;
    tentry *e = interpose_enter(it->table, GHASH);
    if (e != NULL) {
        tables_tell(e, CALLSITE, MR_TABLE_OP_ITERATE);
        struct iter_slot *slot = iter_slot_of(it, e);
        if (slot != NULL)
            walk_changed(e, &slot->writes);
        else
            tables_read_check(e, MR_TABLE_ITERATE);
    }
    r = real(it, key, value);
    if (e != NULL && !r) {
        struct iter_slot *slot = iter_slot_of(it, e);
        if (slot != NULL)
            slot->it = NULL; /* the walk is over */
    }
    interpose_leave();
    return r;
}
