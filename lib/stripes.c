/*
 * stripes.c — the side tables' striped locks (see stripes.h).
 */
#include "stripes.h"

/* ThreadSanitizer's (maprace --hb): weak, null without it. */
extern void AnnotateIgnoreSyncBegin(const char *file, int line) __attribute__((weak));
extern void AnnotateIgnoreSyncEnd(const char *file, int line) __attribute__((weak));

/* op(mu), with TSan (if present) not recording the synchronisation. */
static void quietly(int (*op)(pthread_mutex_t *), pthread_mutex_t *mu)
{
    if (AnnotateIgnoreSyncBegin == NULL || AnnotateIgnoreSyncEnd == NULL) {
        op(mu);
        return;
    }
    AnnotateIgnoreSyncBegin(__FILE__, __LINE__);
    op(mu);
    AnnotateIgnoreSyncEnd(__FILE__, __LINE__);
}

void stripe_lock(pthread_mutex_t *mu)
{
    quietly(pthread_mutex_lock, mu);
}

void stripe_unlock(pthread_mutex_t *mu)
{
    quietly(pthread_mutex_unlock, mu);
}

enum { STRIPES = 64 };

static pthread_mutex_t stripes[STRIPES] = {[0 ... STRIPES - 1] = PTHREAD_MUTEX_INITIALIZER};

pthread_mutex_t *stripe_of(size_t b)
{
    return &stripes[b % STRIPES];
}

static void lock_all(void)
{
    for (int i = 0; i < STRIPES; i++)
        pthread_mutex_lock(&stripes[i]);
}

static void unlock_all(void)
{
    for (int i = STRIPES - 1; i >= 0; i--)
        pthread_mutex_unlock(&stripes[i]);
}

__attribute__((constructor)) static void stripes_atfork(void)
{
    pthread_atfork(lock_all, unlock_all, unlock_all);
}
