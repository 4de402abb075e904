/*
 * traceback.c — stack capture, from the thread itself or via a signal.
 *
 * The unwinder is libgcc's _Unwind_Backtrace (driven by .eh_frame, so it
 * needs no frame pointers; glibc's backtrace() is built on it), called
 * directly because each frame's call frame address is wanted too: it is
 * the "fp" of Go's GOTRACEBACK=system lines, and the next frame's "sp".
 * libgcc_s is linked, not loaded on first use, so capturing is safe in a
 * signal handler.
 * Other threads are asked with SIGURG, the signal Go itself uses to
 * interrupt goroutines because programs hardly ever use it; the handler is
 * installed only when a report is being made.
 */
#include "traceback.h"

#include "panic.h"
#include "sigcontext.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>
#include <unwind.h>

#define CAPTURE_SIGNAL SIGURG

/* One walk: frames are kept from the first that is not skipped.
 *
 * What _Unwind_GetCFA gives in the callback for a frame is the call
 * frame address the unwinder computed last, its callee's: the frame's own
 * stack pointer at its call (Go's "sp").  The frame's own call frame
 * address (Go's "fp", its caller's sp) comes with the next frame. */
typedef struct walk {
    mr_stack *st;
    int skip;            /* frames to drop first (the capturing functions) */
    uintptr_t from;      /* or, if not 0: drop frames until this
                            interrupted PC, which is kept as exact */
    uintptr_t from_sp;   /* that frame's stack pointer, from the context */
} walk;

static _Unwind_Reason_Code on_frame(struct _Unwind_Context *ctx, void *arg)
{
    walk *w = arg;
    mr_stack *st = w->st;
    int before = 0;
    uintptr_t pc = (uintptr_t)_Unwind_GetIPInfo(ctx, &before);
    uintptr_t sp = (uintptr_t)_Unwind_GetCFA(ctx);
    if (st->n > 0 && w->from == 0 && w->skip == 0)
        st->fp[st->n - 1] = sp;
    if (pc == 0 || st->n == MR_MAXFRAMES)
        return _URC_END_OF_STACK;
    if (w->from != 0) {
        /* (The frame before is the kernel's signal frame: the interrupted
         * one's stack pointer is the context's.) */
        if (pc != w->from || !before)
            return _URC_NO_REASON;
        w->from = 0;
        st->exact = st->n;
        sp = w->from_sp;
    } else if (w->skip > 0) {
        w->skip--;
        return _URC_NO_REASON;
    }
    st->pc[st->n] = pc;
    st->sp[st->n] = sp;
    st->fp[st->n] = 0;
    st->n++;
    return _URC_NO_REASON;
}

__attribute__((noinline)) void mr_capture_self(mr_stack *st)
{
    walk w = {st, 1, 0, 0}; /* the first frame is this function's */
    st->n = 0;
    st->exact = -1;
    _Unwind_Backtrace(on_frame, &w);
    mr_stack_note_returns(st);
}

__attribute__((noinline)) bool mr_capture_context(mr_stack *st, const void *ucontext)
{
    walk w = {st, 0, mr_context_pc(ucontext), mr_context_sp(ucontext)};
    st->n = 0;
    st->exact = -1;
    if (w.from != 0)
        _Unwind_Backtrace(on_frame, &w);
    mr_stack_note_returns(st);
    return st->n > 0;
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
    /* The frames above the interrupted one are this handler and the
     * kernel's signal trampoline: start at the interrupted PC. */
    if (!mr_capture_context(&g->stack, ucontext))
        mr_capture_self(&g->stack);
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
