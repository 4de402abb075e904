/*
 * go.c — starting goroutines, and the WaitGroup and Mutex they wait on.
 *
 * These are thin layers over pthreads whose one job beyond the obvious is
 * to keep each goroutine's record right: who created it and where (for
 * "created by"), and what it is blocked on (for its "[status]").
 */
#include "maprt_go.h"

#include "g.h"
#include "mapfatal.h"
#include "maprt_foreign.h"
#include "maprt_hooks.h"
#include "panic.h"

#include <stdlib.h>

typedef struct start {
    mr_g *g;
    void (*fn)(void *);
    void *arg;
} start;

static void *goroutine_main(void *p)
{
    start s = *(start *)p;
    mr_hook_free(MR_ALLOC_GOROUTINE, p, sizeof s, NULL);
    mr_g_start(s.g);
    s.fn(s.arg);
    return NULL; /* the record leaves the registry in g.c's thread-exit hook */
}

uint64_t mr_go(void (*fn)(void *), void *arg)
{
    mr_g *parent = mr_getg();
    mr_g *g = mr_g_new(parent ? parent->goid : mr_getg_id(),
                       (uintptr_t)__builtin_return_address(0));
    start *s = mr_hook_alloc(MR_ALLOC_GOROUTINE, sizeof *s, NULL);
    if (g == NULL || s == NULL)
        mr_throw("runtime: out of memory");
    *s = (start){g, fn, arg};
    uint64_t id = g->goid;
    mr_g_register(g);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_t th;
    int rc = pthread_create(&th, &attr, goroutine_main, s);
    pthread_attr_destroy(&attr);
    if (rc != 0)
        mr_throw("runtime: failed to create new OS thread");
    return id;
}

uint64_t mr_goid(void)
{
    return mr_getg_id();
}

size_t mr_numgoroutine(void)
{
    return mr_g_count();
}

static void set_status(int status)
{
    mr_g *g = mr_getg();
    if (g != NULL)
        atomic_store(&g->status, status);
}

void mr_wg_add(mr_waitgroup *wg, long delta)
{
    pthread_mutex_lock(&wg->mu_);
    wg->n_ += delta;
    long n = wg->n_;
    if (n == 0)
        pthread_cond_broadcast(&wg->cv_);
    pthread_mutex_unlock(&wg->mu_);
    if (n < 0)
        mr_panic_plain("sync: negative WaitGroup counter");
}

void mr_wg_done(mr_waitgroup *wg)
{
    mr_wg_add(wg, -1);
}

void mr_wg_wait(mr_waitgroup *wg)
{
    pthread_mutex_lock(&wg->mu_);
    if (wg->n_ > 0) {
        set_status(MR_G_SEMACQUIRE);
        while (wg->n_ > 0)
            pthread_cond_wait(&wg->cv_, &wg->mu_);
        set_status(MR_G_RUNNING);
    }
    pthread_mutex_unlock(&wg->mu_);
}

void mr_mutex_lock(mr_mutex *m)
{
    pthread_mutex_lock(&m->mu_);
    if (m->locked_) {
        set_status(MR_G_MUTEXLOCK);
        m->waiters_++;
        while (m->locked_)
            pthread_cond_wait(&m->cv_, &m->mu_);
        m->waiters_--;
        set_status(MR_G_RUNNING);
    }
    m->locked_ = true;
    pthread_mutex_unlock(&m->mu_);
}

bool mr_mutex_trylock(mr_mutex *m)
{
    pthread_mutex_lock(&m->mu_);
    bool got = !m->locked_;
    m->locked_ = true;
    pthread_mutex_unlock(&m->mu_);
    return got;
}

void mr_mutex_unlock(mr_mutex *m)
{
    pthread_mutex_lock(&m->mu_);
    bool was = m->locked_;
    m->locked_ = false;
    if (was && m->waiters_ > 0)
        pthread_cond_signal(&m->cv_);
    pthread_mutex_unlock(&m->mu_);
    if (!was)
        mr_throw("sync: unlock of unlocked mutex");
}

/* ---- threads the program starts itself (maprt_foreign.h) ------------------ */

void *mr_thread_prepare(uintptr_t createpc)
{
    mr_g *g = mr_g_new(mr_getg_id(), createpc);
    if (g != NULL)
        mr_g_register(g); /* it counts from its creation on, as mr_go's */
    return g;
}

void mr_thread_abandon(void *rec)
{
    mr_g *g = rec;
    if (g == NULL)
        return;
    /* It never ran: take it out again, as its thread's exit would. */
    mr_g_unregister(g);
    mr_hook_free(MR_ALLOC_GOROUTINE, g, sizeof *g, NULL);
}

void mr_thread_begin(void *rec)
{
    if (rec != NULL)
        mr_g_start(rec);
}
