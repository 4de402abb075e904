/*
 * sigcontext.h — the interrupted program counter and stack pointer in a
 * signal handler's context, and the fault's line as Go prints it, for the
 * runtime (traceback.c, sigpanic.c) and libmaprace.so's fault handler
 * (lib/fault.c), which cannot call into libmaprt: it is loaded only in
 * processes that use a table.  Not installed.
 */
#ifndef MAPRT_SIGCONTEXT_H
#define MAPRT_SIGCONTEXT_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
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

/* Go's names of the fault signals (its runtime's sigtable). */
static inline const char *mr_signal_name(int sig)
{
    switch (sig) {
    case SIGSEGV: return "SIGSEGV: segmentation violation";
    case SIGBUS: return "SIGBUS: bus error";
    case SIGFPE: return "SIGFPE: floating-point exception";
    default: return "signal";
    }
}

/* "[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x...]"
 * and then tail, into buf; snprintf's result.  Go prints hex with its 0x
 * even for zero: "addr=0x0". */
static inline int mr_format_signal(char *buf, size_t n, int sig, int code, uintptr_t addr, uintptr_t pc,
                                   const char *tail)
{
    return snprintf(buf, n, "[signal %s code=0x%x addr=0x%lx pc=0x%lx]%s", mr_signal_name(sig), (unsigned)code,
                    (unsigned long)addr, (unsigned long)pc, tail);
}

#endif /* MAPRT_SIGCONTEXT_H */
