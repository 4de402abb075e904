/*
 * tsan.c — telling ThreadSanitizer about map operations (tsan.h).
 *
 * Three tags of TSan's "external object" API, one per kind of operation,
 * all of object type "maprace.Map", so that TSan's header names the race
 * as Go does when the operation that finds it is a read ("concurrent map
 * read and map write"), an iteration step ("concurrent map iteration and
 * map write") or a write ("concurrent map writes": TSan names a report
 * after the access that found it, so a write that finds an earlier read
 * is headed so too; libmaprace.so's section names the pair exactly, from
 * the frames below, which are these three functions').
 *
 * The runtime's own synchronisation needs no annotation: goroutines are
 * threads made with pthread_create, WaitGroup and Mutex are pthread mutexes
 * and condition variables, all of which TSan intercepts; and the write
 * claim's atomics, in code TSan does not instrument, stay invisible to it,
 * as they must (they would order the very writes that race).
 */
#include "tsan.h"

#include "maprt.h"
#include "maprt_foreign.h"

#include <stddef.h>

extern void __tsan_init(void) __attribute__((weak));
extern void *__tsan_external_register_tag(const char *object_type) __attribute__((weak));
extern void __tsan_external_register_header(void *tag, const char *header) __attribute__((weak));
extern void __tsan_external_read(void *addr, void *caller_pc, void *tag) __attribute__((weak));
extern void __tsan_external_write(void *addr, void *caller_pc, void *tag) __attribute__((weak));
extern void __tsan_external_assign_tag(void *addr, void *tag) __attribute__((weak));
extern void __tsan_func_entry(void *call_pc) __attribute__((weak));
/* TSan's runtime takes no argument; GCC's builtin of the same name, seen
 * when this file is itself built with -fsanitize=thread, takes a pointer
 * (ignored): declare it the way the compiler knows it. */
#ifdef __SANITIZE_THREAD__
extern void __tsan_func_exit(void *unused) __attribute__((weak));
#define TSAN_FUNC_EXIT() __tsan_func_exit(NULL)
#else
extern void __tsan_func_exit(void) __attribute__((weak));
#define TSAN_FUNC_EXIT() __tsan_func_exit()
#endif
extern void AnnotateIgnoreSyncBegin(const char *file, int line) __attribute__((weak));
extern void AnnotateIgnoreSyncEnd(const char *file, int line) __attribute__((weak));

bool mr_tsan_on;

enum { TAG_WRITE, TAG_READ, TAG_ITERATE, NTAGS };
static void *tags[NTAGS];

__attribute__((constructor)) static void tsan_register(void)
{
    if (__tsan_external_register_tag == NULL || __tsan_external_register_header == NULL ||
        __tsan_external_read == NULL || __tsan_external_write == NULL || __tsan_func_entry == NULL ||
        __tsan_func_exit == NULL)
        return;
    /* Preloaded (maprace --hb), TSan may not have started yet. */
    if (__tsan_init != NULL)
        __tsan_init();
    static const char *const headers[NTAGS] = {"concurrent map writes", "concurrent map read and map write",
                                               "concurrent map iteration and map write"};
    for (int i = 0; i < NTAGS; i++) {
        tags[i] = __tsan_external_register_tag("maprace.Map");
        __tsan_external_register_header(tags[i], headers[i]);
    }
    mr_tsan_on = AnnotateIgnoreSyncBegin != NULL && AnnotateIgnoreSyncEnd != NULL;
}

/* The program's call site goes on TSan's shadow stack as a frame of its
 * own (__tsan_func_entry), and TSan is given no caller: given one, it
 * would drop the access when the caller lies in a module it did not
 * instrument and maprace --hb runs TSan with ignore_noninstrumented_modules
 * (so that its interceptors do not check every memcpy and memset of a
 * program it cannot see into, which costs more than all the maps).
 *
 * Each function is the top frame of its accesses in TSan's reports
 * (noinline, and the empty asm keeps the last call from becoming a tail
 * call), which is how libmaprace.so tells a read from an iteration step. */
#define NOT_TAIL() __asm__ volatile("" ::: "memory")

#define TELL(tell, h, pc, tag)                                                 \
    do {                                                                       \
        __tsan_func_entry((void *)(pc));                                       \
        tell((void *)(h), NULL, tags[tag]);                                    \
        TSAN_FUNC_EXIT();                                                      \
    } while (0)

void mr_tsan_made(const void *h)
{
    if (__tsan_external_assign_tag != NULL)
        __tsan_external_assign_tag((void *)h, tags[TAG_WRITE]);
}

__attribute__((noinline)) void mr_tsan_write(const void *h, uintptr_t pc)
{
    if (h != NULL)
        TELL(__tsan_external_write, h, pc, TAG_WRITE);
    NOT_TAIL();
}

__attribute__((noinline)) void mr_tsan_read(const void *h, uintptr_t pc)
{
    if (h != NULL)
        TELL(__tsan_external_read, h, pc, TAG_READ);
    NOT_TAIL();
}

__attribute__((noinline)) void mr_tsan_iterate(const void *h, uintptr_t pc)
{
    if (h != NULL)
        TELL(__tsan_external_read, h, pc, TAG_ITERATE);
    NOT_TAIL();
}

int mr_tsan_enabled(void)
{
    return mr_tsan_on;
}

void mr_tsan_table(const void *table, uintptr_t pc, mr_table_op op)
{
    if (!mr_tsan_on)
        return;
    if (op == MR_TABLE_OP_WRITE)
        mr_tsan_write(table, pc);
    else if (op == MR_TABLE_OP_READ)
        mr_tsan_read(table, pc);
    else
        mr_tsan_iterate(table, pc);
}

/* (When libmaprt itself is built with -fsanitize=thread, to check the
 * runtime, TSan sees its memory accesses and must see its locks too.) */
#if defined(__SANITIZE_THREAD__)
#define QUIET false
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define QUIET false
#endif
#endif
#ifndef QUIET
#define QUIET mr_tsan_on
#endif

/* op(mu), with TSan not recording the synchronisation it makes. */
static void quietly(int (*op)(pthread_mutex_t *), pthread_mutex_t *mu)
{
    if (!QUIET) {
        op(mu);
        return;
    }
    AnnotateIgnoreSyncBegin(__FILE__, __LINE__);
    op(mu);
    AnnotateIgnoreSyncEnd(__FILE__, __LINE__);
}

void mr_quiet_lock(pthread_mutex_t *mu)
{
    quietly(pthread_mutex_lock, mu);
}

void mr_quiet_unlock(pthread_mutex_t *mu)
{
    quietly(pthread_mutex_unlock, mu);
}
