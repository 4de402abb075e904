/*
 * sigcontext.h — the interrupted program counter and stack pointer in a
 * signal handler's context, for the runtime's stack captures (traceback.c) and
 * libmaprace.so's fault handler (lib/fault.c).  Not installed.
 */
#ifndef MAPRT_SIGCONTEXT_H
#define MAPRT_SIGCONTEXT_H

#include <stdint.h>
#include <ucontext.h>

/* 0 where this machine's context layout is unknown (never matched). */
static inline uintptr_t mr_context_pc(const void *context)
{
    const ucontext_t *uc = context;
#if defined(__x86_64__)
    return (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
#elif defined(__aarch64__)
    return (uintptr_t)uc->uc_mcontext.pc;
#else
    (void)uc;
    return 0;
#endif
}

static inline uintptr_t mr_context_sp(const void *context)
{
    const ucontext_t *uc = context;
#if defined(__x86_64__)
    return (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];
#elif defined(__aarch64__)
    return (uintptr_t)uc->uc_mcontext.sp;
#else
    (void)uc;
    return 0;
#endif
}

#endif /* MAPRT_SIGCONTEXT_H */
