/*
 * glib_sync.c — GLib's locks, made visible to ThreadSanitizer.
 *
 * Under maprace --hb, TSan orders the program's operations by the
 * synchronisation it sees: pthread's, which it intercepts.  GLib's GMutex,
 * GRecMutex, GRWLock and GCond are built on futexes in a library TSan did
 * not instrument, so a GHashTable shared under a GMutex would look
 * unsynchronised.  Each lock is interposed here and told to TSan as an
 * acquire after it is taken and a release before it is left (a wait on a
 * GCond leaves and retakes its mutex).  Without TSan, each is one test
 * and a tail call to GLib's.
 */
#include "interpose.h"

#pragma GCC diagnostic ignored "-Wmissing-prototypes"

typedef int gboolean;
typedef long long gint64;
typedef union GMutex GMutex;
typedef struct GRecMutex GRecMutex;
typedef struct GRWLock GRWLock;
typedef struct GCond GCond;

extern void __tsan_acquire(void *addr) __attribute__((weak));
extern void __tsan_release(void *addr) __attribute__((weak));

static inline bool told(void)
{
    return __builtin_expect(maprace_tsan, 0) && __tsan_acquire != NULL && __tsan_release != NULL;
}

/* lock: the real function, then acquire; unlock: release, then the real. */
#define LOCK(type, fn)                                                                                    \
    void fn(type *m)                                                                                      \
    {                                                                                                     \
        REAL(fn);                                                                                         \
        real(m);                                                                                          \
        if (told())                                                                                       \
            __tsan_acquire(m);                                                                            \
    }
#define UNLOCK(type, fn)                                                                                  \
    void fn(type *m)                                                                                      \
    {                                                                                                     \
        REAL(fn);                                                                                         \
        if (told())                                                                                       \
            __tsan_release(m);                                                                            \
        real(m);                                                                                          \
    }
#define TRYLOCK(type, fn)                                                                                 \
    gboolean fn(type *m)                                                                                  \
    {                                                                                                     \
        REAL(fn);                                                                                         \
        gboolean got = real(m);                                                                           \
        if (got && told())                                                                                \
            __tsan_acquire(m);                                                                            \
        return got;                                                                                       \
    }

LOCK(GMutex, g_mutex_lock)
UNLOCK(GMutex, g_mutex_unlock)
TRYLOCK(GMutex, g_mutex_trylock)
LOCK(GRecMutex, g_rec_mutex_lock)
UNLOCK(GRecMutex, g_rec_mutex_unlock)
TRYLOCK(GRecMutex, g_rec_mutex_trylock)
LOCK(GRWLock, g_rw_lock_writer_lock)
UNLOCK(GRWLock, g_rw_lock_writer_unlock)
TRYLOCK(GRWLock, g_rw_lock_writer_trylock)
LOCK(GRWLock, g_rw_lock_reader_lock)
UNLOCK(GRWLock, g_rw_lock_reader_unlock)
TRYLOCK(GRWLock, g_rw_lock_reader_trylock)

void g_cond_wait(GCond *c, GMutex *m)
{
    REAL(g_cond_wait);
    if (told())
        __tsan_release(m);
    real(c, m);
    if (told())
        __tsan_acquire(m);
}

gboolean g_cond_wait_until(GCond *c, GMutex *m, gint64 end_time)
{
    REAL(g_cond_wait_until);
    if (told())
        __tsan_release(m);
    gboolean r = real(c, m, end_time);
    if (told())
        __tsan_acquire(m);
    return r;
}
