/*
 * threads.c — the program's own threads as goroutines.
 *
 * pthread_create is interposed so that, once maprace watches the process,
 * every thread the program starts is a numbered goroutine with its creator
 * and the line that created it, as Go's "created by FUNC in goroutine N".
 * libmaprt's own goroutines (mr_go) already are, and go straight through;
 * so does everything while maprace is not watching.
 */
#include "preload.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>

typedef struct start {
    void *(*fn)(void *);
    void *arg;
    void *rec;
} start;

static void *thread_main(void *p)
{
    start s = *(start *)p;
    free(p);
    maprace_rt.thread_begin(s.rec);
    return s.fn(s.arg);
}

int pthread_create(pthread_t *th, const pthread_attr_t *attr, void *(*fn)(void *), void *arg)
{
    static __typeof__(pthread_create) *real;
    if (real == NULL)
        real = (__typeof__(pthread_create) *)dlsym(RTLD_NEXT, "pthread_create");
    void *caller = __builtin_return_address(0);
    if (!maprace_active() || maprace_in_runtime(caller))
        return real(th, attr, fn, arg);
    start *s = malloc(sizeof *s);
    if (s == NULL)
        return real(th, attr, fn, arg);
    *s = (start){fn, arg, maprace_rt.thread_prepare((uintptr_t)caller)};
    int rc = real(th, attr, thread_main, s);
    if (rc != 0) {
        maprace_rt.thread_abandon(s->rec);
        free(s);
    }
    return rc;
}
