/*
 * interpose.h — what every interposed table family shares: finding the
 * real function, and entering and leaving a watched call.
 */
#ifndef MAPRACE_INTERPOSE_H
#define MAPRACE_INTERPOSE_H

#include "preload.h"
#include "tables.h"

#include <dlfcn.h>

/* Declares `real`, the next definition of the function being defined. */
#define REAL(fn)                                                                                          \
    static __typeof__(fn) *real;                                                                          \
    if (__builtin_expect(real == NULL, 0))                                                                \
    real = (__typeof__(fn) *)dlsym(RTLD_NEXT, #fn)

/* Enters an interposed call on `table`: its entry, or NULL when the call
 * is to go straight through (maprace is off, or this is a call the
 * family makes from inside another: see tables_depth).  Every enter is
 * paired with a leave. */
static inline tentry *interpose_enter(const void *table, const char *type)
{
    if (tables_depth++ > 0 || table == NULL)
        return NULL;
    if (__builtin_expect(!maprace_active(), 0) && !maprace_watch())
        return NULL;
    tentry *e = tables_find(table, type);
    return __builtin_expect(e == &tables_unwatched, 0) ? NULL : e;
}

static inline void interpose_leave(void)
{
    tables_depth--;
}

/* The user's call of the interposed function being defined (used in its
 * own body: the interposer is called straight from the program). */
#define CALLSITE ((uintptr_t)__builtin_return_address(0))

/* A write to the table: the claim around `call`. */
#define INTERPOSE_WRITE(table, type, call)                                                                \
    do {                                                                                                  \
        tentry *e_ = interpose_enter(table, type);                                                        \
        if (e_ == NULL) {                                                                                 \
            call;                                                                                         \
        } else {                                                                                          \
            uint64_t me_ = tables_me();                                                                   \
            tables_write_begin(e_, me_, CALLSITE);                                                                \
            call;                                                                                         \
            tables_write_end(e_, me_);                                                                    \
        }                                                                                                 \
        interpose_leave();                                                                                \
    } while (0)

/* A lookup on `table`, checked on entry as Go's mapaccess is; the caller
 * then tail-calls the real function.  The common case, the table this
 * thread used last and no write in progress, is decided inline; entries
 * are cached only while maprace is on, so it needs no other test.
 * (Under ThreadSanitizer nothing is cached: every lookup is told to it
 * on the slow path.)
 * Nothing is marked as nested: a lookup calls only the table's hash and
 * equal functions, and a family's own calls from inside another
 * interposed call still go straight through (tables_depth > 0). */
void interpose_lookup_slow(const void *table, const char *type, uintptr_t callsite);

static inline void interpose_lookup(const void *table, const char *type, uintptr_t callsite)
{
    tentry *e = tables_last_entry;
    if (__builtin_expect(atomic_load_explicit(&e->key, memory_order_acquire) != (uintptr_t)table ||
                             atomic_load_explicit(&e->claim.writer, memory_order_relaxed) != 0,
                         0))
        interpose_lookup_slow(table, type, callsite);
}

/* A read (how: MR_TABLE_READ, or MR_TABLE_ITERATE for a whole walk):
 * checked before and after, so a write that begins during it is seen. */
#define INTERPOSE_READ(table, type, how, call)                                                            \
    do {                                                                                                  \
        tentry *e_ = interpose_enter(table, type);                                                        \
        if (e_ != NULL) {                                                                                 \
            tables_tell(e_, CALLSITE, (how) == MR_TABLE_ITERATE ? MR_TABLE_OP_ITERATE : MR_TABLE_OP_READ); \
            tables_read_check(e_, how);                                                                   \
        }                                                                                                 \
        call;                                                                                             \
        if (e_ != NULL)                                                                                   \
            tables_read_check(e_, how);                                                                   \
        interpose_leave();                                                                                \
    } while (0)

#endif /* MAPRACE_INTERPOSE_H */
