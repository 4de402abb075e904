/*
 * g.c — goroutine records: numbering, adoption of threads, the registry
 * of live goroutines, and fastrand seeding.
 */
#include "g.h"
#include "tsan.h"

#include "maprt_hooks.h"

#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

__thread uint64_t mr_tls_goid __attribute__((tls_model("initial-exec")));
__thread uint64_t mr_tls_rand __attribute__((tls_model("initial-exec")));
__thread mr_g *mr_tls_g __attribute__((tls_model("initial-exec")));
__thread struct mr_defer_rec *mr_tls_running __attribute__((tls_model("initial-exec")));

/* Goroutine 1 is the main thread; every other thread takes the next id. */
static _Atomic uint64_t next_goid = 2;

static pthread_mutex_t allg_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t allg_changed = PTHREAD_COND_INITIALIZER;
static mr_g *allg;
static size_t nallg;
static pthread_key_t exit_key;
static pthread_once_t exit_key_once = PTHREAD_ONCE_INIT;

/* (allg_lock held) */
static void unlink_g(mr_g *g)
{
    if (g->prev)
        g->prev->next = g->next;
    else
        allg = g->next;
    if (g->next)
        g->next->prev = g->prev;
    nallg--;
    pthread_cond_broadcast(&allg_changed);
}

void mr_g_unregister(mr_g *g)
{
    mr_quiet_lock(&allg_lock);
    unlink_g(g);
    mr_quiet_unlock(&allg_lock);
}

/* A thread's record leaves the registry when the thread exits. */
static void g_exit(void *p)
{
    mr_g *g = p;
    /* A report holding this record (mr_g_pin, or a capture request)
     * finishes with it first.  The test and the unlinking are one step
     * under the registry's lock, the lock mr_g_pin takes: tested apart, a
     * report could pin the record between them and read it once freed. */
    for (;;) {
        mr_quiet_lock(&allg_lock);
        if (atomic_load(&g->capture) == 0)
            break;
        mr_quiet_unlock(&allg_lock);
        sched_yield();
    }
    atomic_store(&g->status, MR_G_DEAD);
    unlink_g(g);
    mr_quiet_unlock(&allg_lock);
    mr_hook_goroutine_exit(g->goid);
    mr_tls_g = NULL;
    mr_hook_free(MR_ALLOC_GOROUTINE, g, sizeof *g, NULL);
}

static void make_exit_key(void)
{
    pthread_key_create(&exit_key, g_exit);
}

static mr_g *g_alloc(uint64_t goid, uint64_t parent, uintptr_t createpc)
{
    mr_g *g = mr_hook_alloc(MR_ALLOC_GOROUTINE, sizeof *g, NULL);
    if (g == NULL)
        return NULL;
    g->goid = goid;
    g->parent = parent;
    g->createpc = createpc;
    return g;
}

mr_g *mr_g_new(uint64_t parent, uintptr_t createpc)
{
    return g_alloc(atomic_fetch_add_explicit(&next_goid, 1, memory_order_relaxed), parent, createpc);
}

void mr_g_register(mr_g *g)
{
    mr_quiet_lock(&allg_lock);
    g->next = allg;
    if (allg)
        allg->prev = g;
    allg = g;
    nallg++;
    mr_quiet_unlock(&allg_lock);
}

void mr_g_start(mr_g *g)
{
    g->tid = gettid();
    mr_tls_goid = g->goid;
    mr_tls_g = g;
    pthread_once(&exit_key_once, make_exit_key);
    /* The main thread never runs key destructors; other threads do. */
    if (g->goid != 1)
        pthread_setspecific(exit_key, g);
    mr_hook_goroutine_start(g->goid, g->parent, g->createpc);
}

uint64_t mr_goid_assign(void)
{
    mr_g *g = mr_tls_g;
    if (g == NULL) {
        uint64_t id = gettid() == getpid() ? 1 : atomic_fetch_add_explicit(&next_goid, 1, memory_order_relaxed);
        g = g_alloc(id, 0, 0);
        if (g == NULL) {
            /* No memory for a record: the goroutine still gets an id. */
            mr_tls_goid = id;
            return id;
        }
        mr_g_register(g);
        mr_g_start(g);
    }
    mr_tls_goid = g->goid;
    return g->goid;
}

/* fork: the child has one thread, the one that forked.  The registry's
 * lock is held across the fork so the child gets a consistent list, and
 * in the child the other goroutines' records are dropped: they are not
 * there. */
static void fork_prepare(void)
{
    mr_quiet_lock(&allg_lock);
}

static void fork_parent(void)
{
    mr_quiet_unlock(&allg_lock);
}

static void fork_child(void)
{
    mr_g *self = mr_tls_g;
    for (mr_g *g = allg, *next; g != NULL; g = next) {
        next = g->next;
        if (g != self)
            mr_hook_free(MR_ALLOC_GOROUTINE, g, sizeof *g, NULL);
    }
    allg = self;
    nallg = self != NULL;
    if (self != NULL) {
        self->next = self->prev = NULL;
        self->tid = gettid();
        atomic_store(&self->capture, 0);
    }
    pthread_mutex_init(&allg_lock, NULL);
    pthread_cond_init(&allg_changed, NULL);
}

/* The main thread is goroutine 1 from the start, without any call from
 * the program, so that every report lists it. */
__attribute__((constructor)) static void adopt_main_thread(void)
{
    pthread_atfork(fork_prepare, fork_parent, fork_child);
    if (gettid() == getpid())
        mr_goid_assign();
}

mr_g *mr_getg(void)
{
    if (mr_tls_g == NULL)
        mr_goid_assign();
    return mr_tls_g;
}

void mr_g_each(void (*fn)(mr_g *g, void *arg), void *arg)
{
    /* A report must not hang on a registry that a stopped thread holds. */
    bool locked = false;
    for (int i = 0; i < 100 && !locked; i++) {
        locked = pthread_mutex_trylock(&allg_lock) == 0;
        if (!locked)
            nanosleep(&(struct timespec){0, 1000000}, NULL);
    }
    for (mr_g *g = allg; g != NULL; g = g->next)
        fn(g, arg);
    if (locked)
        mr_quiet_unlock(&allg_lock);
}

uint64_t mr_goid_of_thread(int tid)
{
    uint64_t goid = 0;
    mr_quiet_lock(&allg_lock);
    for (mr_g *g = allg; g != NULL && goid == 0; g = g->next)
        if (g->tid == tid && atomic_load(&g->status) != MR_G_DEAD)
            goid = g->goid;
    mr_quiet_unlock(&allg_lock);
    return goid;
}

mr_g *mr_g_pin(uint64_t goid)
{
    mr_g *found = NULL;
    mr_quiet_lock(&allg_lock);
    for (mr_g *g = allg; g != NULL; g = g->next) {
        int idle = 0;
        if (g->goid == goid && atomic_compare_exchange_strong(&g->capture, &idle, 1))
            found = g;
    }
    mr_quiet_unlock(&allg_lock);
    return found;
}


size_t mr_g_count(void)
{
    mr_quiet_lock(&allg_lock);
    size_t n = nallg;
    mr_quiet_unlock(&allg_lock);
    return n;
}

void mr_g_wait_alone(void)
{
    mr_quiet_lock(&allg_lock);
    while (nallg > 1)
        pthread_cond_wait(&allg_changed, &allg_lock);
    mr_quiet_unlock(&allg_lock);
}

uint64_t mr_fastrand_seed(void)
{
    uint64_t s = 0;
    if (getrandom(&s, sizeof s, GRND_NONBLOCK) != (ssize_t)sizeof s) {
        /* No entropy yet (early boot): time and address still differ
         * between threads and runs, which is all fastrand promises. */
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        s = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ULL ^ (uint64_t)(uintptr_t)&s;
    }
    if (s == 0)
        s = 1;
    mr_tls_rand = s;
    return mr_fastrand64();
}
