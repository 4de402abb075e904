/*
 * traceback.c — stack capture, from the thread itself or via a signal.
 *
 * The unwinder is glibc's backtrace() (libgcc's, driven by .eh_frame, so it
 * needs no frame pointers).  Its first use loads libgcc_s, which is not
 * safe in a signal handler, so a constructor warms it up at load time.
 * Other threads are asked with SIGURG, the signal Go itself uses to
 * interrupt goroutines because programs hardly ever use it; the handler is
 * installed only when a report is being made.
 */
#include "traceback.h"

#include "sigcontext.h"

#include <errno.h>
#include <execinfo.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#define CAPTURE_SIGNAL SIGURG

__attribute__((constructor)) static void warm_up_unwinder(void)
{
    void *pc[2];
    backtrace(pc, 2);
}

static void copy_stack(mr_stack *st, void *const *pc, int n, int exact)
{
    if (n > MR_MAXFRAMES)
        n = MR_MAXFRAMES;
    for (int i = 0; i < n; i++)
        st->pc[i] = (uintptr_t)pc[i];
    st->n = n;
    st->exact = exact;
}

__attribute__((noinline)) void mr_capture_self(mr_stack *st)
{
    void *pc[MR_MAXFRAMES + 1];
    int n = backtrace(pc, MR_MAXFRAMES + 1);
    /* pc[0] is in this function. */
    copy_stack(st, pc + 1, n > 0 ? n - 1 : 0, -1);
}

/* The program's own handler of the capture signal, if it had one when
 * the runtime took the signal over: signals that are not the runtime's
 * requests are passed on to it. */
static struct sigaction program_action;

static void pass_on(int sig, siginfo_t *si, void *ucontext)
{
    if (program_action.sa_flags & SA_SIGINFO) {
        if (program_action.sa_sigaction != NULL)
            program_action.sa_sigaction(sig, si, ucontext);
    } else if (program_action.sa_handler != SIG_DFL && program_action.sa_handler != SIG_IGN &&
               program_action.sa_handler != NULL) {
        program_action.sa_handler(sig); /* (SIGURG's default is to ignore it) */
    }
}

static void capture_handler(int sig, siginfo_t *si, void *ucontext)
{
    int saved_errno = errno;
    mr_g *g = mr_tls_g;
    if (g == NULL || atomic_load(&g->capture) != 1) {
        errno = saved_errno;
        pass_on(sig, si, ucontext);
        return;
    }
    void *pc[MR_MAXFRAMES + 8];
    int n = backtrace(pc, MR_MAXFRAMES + 8);
    /* The frames above the interrupted one are this handler and the
     * kernel's signal trampoline: start at the interrupted PC. */
    uintptr_t ip = mr_context_pc(ucontext);
    int start = 0, exact = -1;
    for (int i = 0; i < n; i++) {
        if ((uintptr_t)pc[i] == ip) {
            start = i;
            exact = 0;
            break;
        }
    }
    copy_stack(&g->stack, pc + start, n - start, exact);
    atomic_store(&g->capture, 2);
    /* The process is ending: stay stopped, as Go stops the world, so
     * that nothing this goroutine does (returning from main, say) can end
     * the process before the report is out. */
    for (;;)
        pause();
}

/* Takes the capture signal over for a report (the program may have set
 * a handler of its own since the last one: it is kept, to pass on). */
static void install_handler(void)
{
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = capture_handler;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (sigaction(CAPTURE_SIGNAL, &sa, &old) == 0 && !((old.sa_flags & SA_SIGINFO) && old.sa_sigaction == capture_handler))
        program_action = old;
}

void mr_capture_ask(mr_g *g)
{
    install_handler();
    if (g->tid == 0 || syscall(SYS_tgkill, getpid(), g->tid, CAPTURE_SIGNAL) != 0)
        atomic_store(&g->capture, 0);
}

static void ask(mr_g *g, void *arg)
{
    (void)arg;
    if (g == mr_tls_g || g->tid == 0 || atomic_load(&g->status) == MR_G_DEAD || atomic_load(&g->capture) != 0)
        return;
    atomic_store(&g->capture, 1);
    if (syscall(SYS_tgkill, getpid(), g->tid, CAPTURE_SIGNAL) != 0)
        atomic_store(&g->capture, 0);
}

static void count_pending(mr_g *g, void *arg)
{
    if (atomic_load(&g->capture) == 1)
        ++*(int *)arg;
}

void mr_capture_others(int timeout_ms)
{
    install_handler();
    mr_g_each(ask, NULL);
    for (int waited = 0; waited < timeout_ms; waited++) {
        int pending = 0;
        mr_g_each(count_pending, &pending);
        if (pending == 0)
            return;
        nanosleep(&(struct timespec){0, 1000000}, NULL);
    }
}
