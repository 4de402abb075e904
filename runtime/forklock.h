/*
 * forklock.h — a runtime lock held across fork().
 *
 * A lock that a thread other than the forking one holds at fork() stays
 * locked forever in the child, which has only the forking thread.  Each
 * such lock is taken before fork and released after it, in the parent and
 * in the child:
 *
 *     static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
 *     MR_HELD_ACROSS_FORK(registry, pthread_mutex_lock(&registry_lock),
 *                         pthread_mutex_unlock(&registry_lock))
 *
 * (The lock and unlock are statements, so a lock hidden from
 * ThreadSanitizer, mr_quiet_lock, is held the same way.)
 */
#ifndef MAPRT_FORKLOCK_H
#define MAPRT_FORKLOCK_H

#include <pthread.h>

#define MR_HELD_ACROSS_FORK(tag, lock_stmt, unlock_stmt)                                         \
    static void tag##_lock_for_fork(void) { lock_stmt; }                                         \
    static void tag##_unlock_after_fork(void) { unlock_stmt; }                                   \
    __attribute__((constructor)) static void tag##_hold_across_fork(void)                        \
    {                                                                                            \
        pthread_atfork(tag##_lock_for_fork, tag##_unlock_after_fork, tag##_unlock_after_fork);  \
    }

#endif /* MAPRT_FORKLOCK_H */
