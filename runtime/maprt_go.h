/*
 * maprt_go.h — goroutines, WaitGroup and Mutex for C.
 *
 * Every thread is a goroutine to the runtime: the main thread is goroutine
 * 1 from the start, a thread the program made itself is numbered the first
 * time it uses the runtime, and mr_go() starts a new one whose report
 * sections end with Go's "created by FUNC in goroutine N" and its line.
 *
 *     static void worker(void *arg) { ... }
 *
 *     mr_waitgroup wg = MR_WAITGROUP_INIT;
 *     mr_wg_add(&wg, 2);
 *     mr_go(worker, &wg);             // go worker(&wg)
 *     mr_go(worker, &wg);
 *     mr_wg_wait(&wg);                // the workers call mr_wg_done(&wg)
 *
 * As in Go, when main returns the program ends, running goroutines or not.
 * A goroutine blocked in mr_wg_wait or mr_mutex_lock shows as
 * [semacquire] or [sync.Mutex.Lock] in reports.
 */
#ifndef MAPRT_GO_H
#define MAPRT_GO_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef MR_API
#define MR_API __attribute__((visibility("default")))
#endif

/* go fn(arg): starts a goroutine; returns its id.  Failing to start a
 * thread is a fatal error, as running out of memory is in Go. */
MR_API uint64_t mr_go(void (*fn)(void *), void *arg);

/* The calling goroutine's id. */
MR_API uint64_t mr_goid(void);

/* runtime.NumGoroutine(): goroutines that exist now (started with mr_go
 * and not yet ended, plus the threads the runtime has numbered). */
MR_API size_t mr_numgoroutine(void);

/* sync.WaitGroup. */
typedef struct mr_waitgroup {
    pthread_mutex_t mu_;
    pthread_cond_t cv_;
    long n_;
} mr_waitgroup;
#define MR_WAITGROUP_INIT {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0}

/* Adds delta to the counter; a negative counter panics, as in Go
 * ("sync: negative WaitGroup counter"). */
MR_API void mr_wg_add(mr_waitgroup *wg, long delta);
MR_API void mr_wg_done(mr_waitgroup *wg);
/* Blocks until the counter is zero. */
MR_API void mr_wg_wait(mr_waitgroup *wg);

/* sync.Mutex: any goroutine may unlock it; unlocking an unlocked mutex is
 * Go's "fatal error: sync: unlock of unlocked mutex". */
typedef struct mr_mutex {
    pthread_mutex_t mu_;
    pthread_cond_t cv_;
    bool locked_;
    unsigned waiters_;
} mr_mutex;
#define MR_MUTEX_INIT {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, 0}

MR_API void mr_mutex_lock(mr_mutex *m);
MR_API bool mr_mutex_trylock(mr_mutex *m);
MR_API void mr_mutex_unlock(mr_mutex *m);

#ifdef __cplusplus
}
#endif
#endif /* MAPRT_GO_H */
