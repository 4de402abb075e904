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
    return tables_find(table, type);
}

static inline void interpose_leave(void)
{
    tables_depth--;
}

/* A write to the table: the claim around `call`. */
#define INTERPOSE_WRITE(table, type, call)                                                                \
    do {                                                                                                  \
        tentry *e_ = interpose_enter(table, type);                                                        \
        if (e_ == NULL) {                                                                                 \
            call;                                                                                         \
        } else {                                                                                          \
            uint64_t me_ = tables_me();                                                                   \
            tables_write_begin(e_, me_);                                                                  \
            call;                                                                                         \
            tables_write_end(e_, me_);                                                                    \
        }                                                                                                 \
        interpose_leave();                                                                                \
    } while (0)

/* A read (how: MR_TABLE_READ, or MR_TABLE_ITERATE for a whole walk):
 * checked before and after, so a write that begins during it is seen. */
#define INTERPOSE_READ(table, type, how, call)                                                            \
    do {                                                                                                  \
        tentry *e_ = interpose_enter(table, type);                                                        \
        if (e_ != NULL)                                                                                   \
            tables_read_check(e_, how);                                                                   \
        call;                                                                                             \
        if (e_ != NULL)                                                                                   \
            tables_read_check(e_, how);                                                                   \
        interpose_leave();                                                                                \
    } while (0)

#endif /* MAPRACE_INTERPOSE_H */
