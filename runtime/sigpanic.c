/*
 * sigpanic.c — hardware faults as Go reports them.
 *
 * Go turns a fault in a goroutine's own code into a panic (runtime's
 * sigpanic): a nil dereference is "runtime error: invalid memory address
 * or nil pointer dereference", recoverable, and the goroutine's deferred
 * calls run; unrecovered, the panic's lines are followed by
 *
 *     [signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x...]
 *
 * and the stack, and the process exits with 2.  The same fault at an
 * address that is not near nil is "unexpected fault address 0x...",
 * "fatal error: fault": no deferred call runs.  A fault in the runtime
 * itself (here: libmaprt, the C library, the loader, libmaprace.so) is
 * "fatal error: unexpected signal during runtime execution" with the
 * runtime's frames shown — never a panic, since the state it left cannot
 * be trusted to run the program's deferred calls.
 *
 * SIGSEGV, SIGBUS and SIGFPE are taken at load time only where their
 * action is still the default: a handler installed before (a sanitizer's,
 * the program's) is left alone, and one the program installs later
 * replaces this one, as without libmaprt.  Signals sent by a process
 * (kill, raise) are not faults: they get the default action.  The
 * handler runs on the thread's own stack (no SA_ONSTACK): a stack
 * overflow still ends with the kernel's SIGSEGV.
 */
#include "sigpanic.h"

#include "panic.h"
#include "report.h"
#include "sigcontext.h"
#include "symbolize.h"
#include "traceback.h"

#include <dlfcn.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const int fault_signals[] = {SIGSEGV, SIGBUS, SIGFPE};

int mr_signal_line(char *buf, size_t n, int sig, int code, uintptr_t addr, uintptr_t pc)
{
    return mr_format_signal(buf, n, sig, code, addr, pc, "\n");
}

/* The panic Go raises for a fault in the program's code, or NULL when Go
 * makes it a fatal error ("unexpected fault address"). */
static const char *panic_message(int sig, const siginfo_t *info)
{
    uintptr_t addr = (uintptr_t)info->si_addr;
    switch (sig) {
    case SIGSEGV:
        if ((info->si_code == SEGV_MAPERR || info->si_code == SEGV_ACCERR) && addr < 0x1000)
            return "runtime error: invalid memory address or nil pointer dereference";
        return NULL;
    case SIGBUS:
        if (info->si_code == BUS_ADRERR && addr < 0x1000)
            return "runtime error: invalid memory address or nil pointer dereference";
        return NULL;
    case SIGFPE:
        if (info->si_code == FPE_INTDIV)
            return "runtime error: integer divide by zero";
        if (info->si_code == FPE_INTOVF)
            return "runtime error: integer overflow";
        return "runtime error: floating point error";
    default: return NULL;
    }
}

/* Whether pc is in the runtime's code (libmaprt, or a system module),
 * where a fault is the runtime's failure rather than the program's.
 * dladdr is not on POSIX's list, but a synchronous fault interrupted
 * code of this thread, not the loader (whose faults count as system). */
static bool in_runtime(uintptr_t pc)
{
    Dl_info pcinfo, own;
    if (pc == 0 || dladdr((void *)pc, &pcinfo) == 0)
        return false; /* a call through a null pointer, or generated code */
    if (dladdr((void *)&mr_signal_line, &own) != 0 && pcinfo.dli_fbase == own.dli_fbase)
        return true;
    return mr_system_module(pcinfo.dli_fname);
}

/* The report of a runtime fault may need what the fault broke (a heap
 * lock held by the code that faulted, say): if it is not out in a few
 * seconds, the process ends as it would have without libmaprt. */
static int stuck_signal;

static void report_stuck(int alrm)
{
    (void)alrm;
    static const char note[] = "\n(the report could not be completed after the fault)\n";
    (void)!write(STDERR_FILENO, note, sizeof note - 1);
    signal(stuck_signal, SIG_DFL);
    raise(stuck_signal);
    _exit(2);
}

/* Go's throw for a fault: what it says, the signal line, then every
 * goroutine with the runtime's frames and each frame's bounds shown (a
 * throw of the runtime prints as GOTRACEBACK=system does). */
__attribute__((noreturn)) static void fault_fatal(mr_g *g, const mr_stack *st, const char *prefix, const char *msg)
{
    mr_report_begin();
    mr_report_show_runtime();
    char sigline[160];
    mr_signal_line(sigline, sizeof sigline, g->sig, g->sigcode, g->sigaddr, g->sigpc);
    mr_report_printf("%sfatal error: %s\n%s", prefix, msg, sigline);
    bool traceback = mr_traceback_level() != MR_TB_NONE;
    if (traceback) {
        mr_report_section(g, st, NULL, NULL, 0);
        mr_capture_others(500);
        mr_report_others(g, NULL);
    }
    mr_report_goroutine lead = mr_report_entry(g, st, MR_ROLE_DETECTOR);
    mr_report_notify("fatal error", msg, NULL, NULL, NULL, &lead, 1, traceback);
    mr_report_exit();
}

static void on_fault(int sig, siginfo_t *info, void *context)
{
    uintptr_t pc = mr_context_pc(context);
    if (info->si_code <= 0) {
        /* Sent by kill() or raise(): not a fault; the default action. */
        signal(sig, SIG_DFL);
        raise(sig);
        return;
    }
    if (mr_report_mine()) {
        /* The report itself faulted: run the instruction again under the
         * default action. */
        signal(sig, SIG_DFL);
        return;
    }
    mr_stack st;
    if (!mr_capture_context(&st, context))
        mr_capture_self(&st);
    mr_g *g = mr_getg();
    g->sig = sig;
    g->sigcode = info->si_code;
    g->sigaddr = (uintptr_t)info->si_addr;
    g->sigpc = pc;
    if (in_runtime(pc)) {
        stuck_signal = sig;
        signal(SIGALRM, report_stuck);
        alarm(5);
        fault_fatal(g, &st, "", "unexpected signal during runtime execution");
    }
    const char *msg = panic_message(sig, info);
    if (msg == NULL) {
        char prefix[64];
        snprintf(prefix, sizeof prefix, "unexpected fault address 0x%lx\n", (unsigned long)g->sigaddr);
        fault_fatal(g, &st, prefix, "fault");
    }
    /* A panic of this goroutine, raised where the fault was: its deferred
     * calls run from here, and a recovery jumps out of this handler into
     * the recovering function (the signal mask is as it was: SA_NODEFER
     * and an empty sa_mask leave it unchanged). */
    mr_panic_at((mr_value){.kind = MR_VAL_RUNTIME_ERROR, .str = msg}, &st);
}

__attribute__((constructor)) static void take_fault_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof fault_signals / sizeof fault_signals[0]; i++) {
        struct sigaction old;
        if (sigaction(fault_signals[i], NULL, &old) == 0 && !(old.sa_flags & SA_SIGINFO) &&
            old.sa_handler == SIG_DFL)
            sigaction(fault_signals[i], &sa, NULL);
    }
}
