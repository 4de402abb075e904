/*
 * panic.c — defer, panic, recover and Goexit, after Go's runtime/panic.go.
 *
 * Each goroutine keeps a stack of frames (one per function that declared
 * MR_FRAME), each with its deferred calls, newest first.  A normal return
 * runs the frame's calls from the cleanup attribute MR_FRAME declares.
 * A panic runs them itself, innermost frame first, popping frames as they
 * run dry; when a deferred call recovers, the panic jumps (siglongjmp) back
 * into the function whose call recovered, which runs its MR_FRAME
 * statement and returns — running its remaining deferred calls on the way,
 * as Go does.  The cleanup attribute alone could not do this: it does not
 * run on longjmp, and on pthread_exit only with -fexceptions.
 */
#include "panic.h"

#include "mapfatal.h"
#include "maprt_hooks.h"
#include "report.h"
#include "sigpanic.h"
#include "symbolize.h"
#include "traceback.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { FRAME_ACTIVE = 0x6d726672, FRAME_DONE = 0x646f6e65 };

static void *xalloc(mr_alloc_kind kind, size_t n, const mr_g *g)
{
    void *p = mr_hook_alloc(kind, n, (const void *)(uintptr_t)(g ? g->goid : 0));
    if (p == NULL)
        mr_throw("runtime: out of memory");
    return p;
}

static void xfree(mr_alloc_kind kind, void *p, size_t n, const mr_g *g)
{
    mr_hook_free(kind, p, n, (const void *)(uintptr_t)(g ? g->goid : 0));
}

static mr_defer_event defer_event(const mr_g *g, const mr_defer_rec *d)
{
    mr_defer_why why = d->panic == NULL ? MR_WHY_RETURN : d->panic->goexit ? MR_WHY_GOEXIT : MR_WHY_PANIC;
    return (mr_defer_event){g->goid, d->fn, d->arg, d->pc, why, d->depth};
}

/* ---- frames and deferred calls ------------------------------------------ */

sigjmp_buf *mr_frame_enter_(mr_frame *f)
{
    mr_g *g = mr_getg();
    f->link_ = g->frames;
    f->defers_ = NULL;
    f->g_ = g;
    f->state_ = FRAME_ACTIVE;
    f->depth_ = f->link_ ? f->link_->depth_ + 1 : 1;
    f->running_ = mr_tls_running; /* restored when a panic recovers into f */
    f->ret_pc_ = 0;
    g->frames = f;
    return &f->jb_;
}

void mr_stack_note_returns(mr_stack *st)
{
    /* A frame's record lies in its function's stack frame; the list is the
     * calling goroutine's own (this may run in a signal handler that
     * interrupted an update of it: the walk is bounded and only reads). */
    mr_g *g = mr_tls_g;
    st->nret = 0;
    int steps = 0;
    for (mr_frame *f = g ? g->frames : NULL; f != NULL && steps < 1000 && st->nret < 4; f = f->link_, steps++) {
        if (f->state_ != FRAME_ACTIVE || f->ret_pc_ == 0)
            continue;
        for (int i = 0; i < st->n; i++)
            if ((uintptr_t)f >= st->sp[i] && (uintptr_t)f < st->fp[i]) {
                st->ret[st->nret].frame = i;
                st->ret[st->nret].pc = f->ret_pc_;
                st->nret++;
                break;
            }
    }
}

__attribute__((noinline)) void mr_frame_returning_(mr_frame *f)
{
    f->ret_pc_ = (uintptr_t)__builtin_return_address(0);
}

void mr_frame_fellthrough_(void)
{
    mr_throw("MR_FRAME: the statement run after a recovered panic must leave the function (return)");
}

void mr_defer_(mr_frame *f, void (*fn)(void *), void *arg, const void *copy, size_t size)
{
    mr_g *g = mr_tls_g;
    if (f->state_ != FRAME_ACTIVE || f->g_ != g || g->frames != f)
        mr_throw("defer outside a frame: mr_defer must be called by the function that declared MR_FRAME, "
                 "on its own goroutine, before it returns");
    if (fn == NULL)
        mr_panic_runtime_error("invalid memory address or nil pointer dereference (mr_defer of a NULL function)");
    mr_defer_rec *d = xalloc(MR_ALLOC_DEFER, sizeof *d, g);
    d->fn = fn;
    d->arg = arg;
    d->pc = (uintptr_t)__builtin_return_address(0);
    if (copy != NULL) {
        /* The argument is evaluated now, as Go evaluates a deferred
         * call's arguments at the defer statement. */
        if (size <= sizeof d->inline_copy) {
            memcpy(d->inline_copy, copy, size);
            d->arg = d->inline_copy;
        } else {
            d->heapcopy = xalloc(MR_ALLOC_DEFER, size, g);
            memcpy(d->heapcopy, copy, size);
            d->heapsize = size;
            d->arg = d->heapcopy;
        }
    }
    d->next = f->defers_;
    f->defers_ = d;
}

/* Runs the frame's newest deferred call.  The record is freed before the
 * call (the call may never return: it may panic or Goexit); what the call
 * needs lives in this function's frame meanwhile. */
static void run_one(mr_g *g, mr_frame *f, mr_panic_rec *p)
{
    mr_defer_rec *d = f->defers_;
    f->defers_ = d->next;
    mr_defer_rec local = *d;
    local.panic = p;
    unsigned char big[d->heapsize ? d->heapsize : 1];
    if (d->heapsize) {
        memcpy(big, d->heapcopy, d->heapsize);
        local.arg = big;
        xfree(MR_ALLOC_DEFER, d->heapcopy, d->heapsize, g);
    } else if (d->arg == d->inline_copy) {
        local.arg = local.inline_copy;
    }
    xfree(MR_ALLOC_DEFER, d, sizeof *d, g);
    if (p != NULL)
        p->defer_depth = f->depth_;
    local.depth = f->depth_;
    local.outer = mr_tls_running;
    mr_defer_event e = defer_event(g, &local);
    mr_hook_defer_start(&e);
    mr_tls_running = &local;
    local.fn(local.arg);
    mr_tls_running = local.outer;
    mr_hook_defer_end(&e);
}

/* A recovery abandons the deferred calls running deeper than the frame it
 * returns into (they will never return): they end here. */
static void abandon_running(mr_g *g, mr_defer_rec *until)
{
    for (mr_defer_rec *d = mr_tls_running; d != NULL && d != until; d = d->outer) {
        mr_defer_event e = defer_event(g, d);
        mr_hook_defer_end(&e);
    }
    mr_tls_running = until;
}

void mr_frame_leave_(mr_frame *f)
{
    if (f->state_ != FRAME_ACTIVE)
        return; /* already unwound by a panic or Goexit */
    mr_g *g = f->g_;
    while (f->defers_ != NULL)
        run_one(g, f, NULL);
    /* Frames above this one left without their cleanup (a longjmp of the
     * program's own): they are gone too. */
    while (g->frames != NULL && g->frames != f && g->frames->depth_ > f->depth_) {
        g->frames->state_ = FRAME_DONE;
        g->frames = g->frames->link_;
    }
    g->frames = f->link_;
    f->state_ = FRAME_DONE;
}

/* ---- values -------------------------------------------------------------- */

const char *mr_value_string(mr_value v, char *buf, size_t n)
{
    switch (v.kind) {
    case MR_VAL_NIL: snprintf(buf, n, "nil"); break;
    case MR_VAL_STRING:
    case MR_VAL_RUNTIME_ERROR: snprintf(buf, n, "%s", v.str ? v.str : ""); break;
    case MR_VAL_INT: snprintf(buf, n, "%" PRId64, v.i); break;
    case MR_VAL_ERROR: {
        const char *msg = v.err && v.err->error ? v.err->error(v.err) : NULL;
        snprintf(buf, n, "%s", msg ? msg : "<nil error>");
        break;
    }
    }
    return buf;
}

/* ---- panicking ----------------------------------------------------------- */

/* The unrecovered end: every panic of the chain, oldest first, then the
 * goroutine's stack where the newest was raised. */
__attribute__((noreturn)) static void fatalpanic(mr_g *g)
{
    mr_report_begin();
    mr_panic_rec *chain[64];
    int n = 0;
    for (mr_panic_rec *p = g->panics; p != NULL && n < 64; p = p->link)
        if (!p->goexit)
            chain[n++] = p;
    char text[8192];
    size_t used = 0;
    for (int i = n - 1; i >= 0; i--) {
        char v[2048];
        int w = snprintf(text + used, sizeof text - used, "%spanic: %s%s\n", i == n - 1 ? "" : "\t",
                         mr_value_string(chain[i]->value, v, sizeof v),
                         chain[i]->recovered ? " [recovered]" : "");
        if (w > 0 && (size_t)w < sizeof text - used)
            used += (size_t)w;
    }
    if (g->sig != 0 && used < sizeof text) {
        /* The panic was raised for a fault: Go's signal line. */
        int w = mr_signal_line(text + used, sizeof text - used, g->sig, g->sigcode, g->sigaddr, g->sigpc);
        if (w > 0 && (size_t)w < sizeof text - used)
            used += (size_t)w;
    }
    text[used] = '\0';
    mr_report_printf("%s", text);
    mr_tblevel level = mr_traceback_level();
    bool all = level >= MR_TB_ALL;
    if (level != MR_TB_NONE && n > 0) {
        mr_report_section(g, &chain[0]->stack, NULL, NULL, 0);
        if (all) {
            mr_capture_others(500);
            mr_report_others(g, NULL);
        }
    }
    /* The hook gets the first line without its "panic: ". */
    char *nl = strchr(text, '\n');
    if (nl != NULL)
        *nl = '\0';
    mr_report_goroutine lead = mr_report_entry(g, n > 0 ? &chain[0]->stack : NULL, MR_ROLE_DETECTOR);
    mr_report_notify("panic", text + strlen("panic: "), NULL, NULL, NULL, &lead, 1, all);
    mr_report_exit();
}

/* Goroutines whose panic is running deferred calls (Go's
 * runningPanicDefers): a program that returns from main meanwhile must
 * not exit 0 before the panic is reported. */
static _Atomic int panic_defers;

static bool in_panic(const mr_g *g)
{
    for (const mr_panic_rec *p = g->panics; p != NULL; p = p->link)
        if (!p->goexit)
            return true;
    return false;
}

/* At exit (main returned, or exit() was called): as Go's runtime.main
 * does, let a panic under way in another goroutine run its deferred calls
 * (for a while), and once a report is being made, wait for it to end the
 * process. */
static void wait_for_panics(void)
{
    mr_g *self = mr_tls_g;
    if (self != NULL && in_panic(self))
        return; /* exit() called by a deferred call of this goroutine's panic */
    for (int i = 0; i < 1000 && atomic_load(&panic_defers) != 0; i++)
        nanosleep(&(struct timespec){0, 1000000}, NULL);
    if (mr_report_under_way() && !mr_report_mine())
        for (;;)
            pause();
}

__attribute__((constructor)) static void register_exit_wait(void)
{
    atexit(wait_for_panics);
}

/* Drops the panic that was just recovered and those it ended (panics whose
 * deferred call it interrupted, unless the recovery happened inside that
 * deferred call: then they go on). */
static void finish_recovered(mr_g *g, mr_panic_rec *p, mr_frame *f)
{
    g->panics = p->link;
    xfree(MR_ALLOC_PANIC, p, sizeof *p, g);
    while (g->panics != NULL && g->panics->aborted) {
        mr_panic_rec *q = g->panics;
        if (f->depth_ > q->defer_depth) {
            q->aborted = false; /* recovered within q's deferred call */
            break;
        }
        g->panics = q->link;
        xfree(MR_ALLOC_PANIC, q, sizeof *q, g);
    }
}

/* A panic (or Goexit) raised where stack at says, or by the caller when
 * at is NULL. */
__attribute__((noreturn)) static void gopanic(mr_value v, bool goexit, const mr_stack *at)
{
    mr_g *g = mr_getg();
    mr_panic_rec *p = xalloc(MR_ALLOC_PANIC, sizeof *p, g);
    p->value = v;
    p->goexit = goexit;
    p->link = g->panics;
    if (at != NULL)
        p->stack = *at;
    else
        mr_capture_self(&p->stack);
    /* A panic raised by a deferred call that an earlier panic is running
     * ends that earlier panic's turn. */
    if (mr_tls_running != NULL && mr_tls_running->panic != NULL)
        mr_tls_running->panic->aborted = true;
    if (!goexit && !in_panic(g))
        atomic_fetch_add(&panic_defers, 1);
    g->panics = p;

    for (;;) {
        mr_frame *f = g->frames;
        if (f == NULL)
            break;
        if (f->defers_ == NULL) {
            /* This function's calls have all run: it is unwound. */
            f->state_ = FRAME_DONE;
            g->frames = f->link_;
            continue;
        }
        run_one(g, f, p);
        if (p->recovered) {
            /* (Before the panics go: the abandoned calls' events say
             * which panic ran them.) */
            abandon_running(g, f->running_);
            finish_recovered(g, p, f);
            if (!in_panic(g))
                atomic_fetch_sub(&panic_defers, 1);
            siglongjmp(f->jb_, 1);
        }
    }
    if (!goexit)
        fatalpanic(g);

    /* Goexit: every deferred call has run. */
    g->panics = p->link;
    xfree(MR_ALLOC_PANIC, p, sizeof *p, g);
    if (g->goid == 1) {
        /* The program goes on until the other goroutines end. */
        mr_g_wait_alone();
        mr_report_begin();
        mr_report_printf("fatal error: no goroutines (main called runtime.Goexit) - deadlock!\n");
        mr_report_exit();
    }
    pthread_exit(NULL);
}

void mr_panic_at(mr_value v, const mr_stack *at)
{
    gopanic(v, false, at);
}

void mr_panic(mr_value v)
{
    gopanic(v, false, NULL);
}

void mr_panic_str(const char *msg)
{
    gopanic((mr_value){.kind = MR_VAL_STRING, .str = msg}, false, NULL);
}

void mr_panic_int(int64_t i)
{
    gopanic((mr_value){.kind = MR_VAL_INT, .i = i}, false, NULL);
}

void mr_panic_err(const mr_error *err)
{
    gopanic((mr_value){.kind = MR_VAL_ERROR, .err = err}, false, NULL);
}

void mr_panic_plain(const char *msg)
{
    gopanic((mr_value){.kind = MR_VAL_STRING, .str = msg}, false, NULL);
}

void mr_panic_runtime_error(const char *msg)
{
    gopanic((mr_value){.kind = MR_VAL_RUNTIME_ERROR, .str = msg}, false, NULL);
}

void mr_goexit(void)
{
    gopanic((mr_value){0}, true, NULL);
}

/* recover(): only a deferred call that a panic is running may stop it, and
 * only by calling recover itself — not from a helper it calls.  The caller
 * is known by its return address, checked against the deferred function's
 * entry (from the symbol tables; without symbols the check is skipped). */
__attribute__((noinline)) mr_value mr_recover(void)
{
    mr_g *g = mr_tls_g;
    mr_value nil = {0};
    mr_defer_rec *running = mr_tls_running;
    if (g == NULL || running == NULL)
        return nil;
    mr_panic_rec *p = running->panic;
    if (p == NULL || p->goexit || p->recovered || p != g->panics)
        return nil;
    uintptr_t entry;
    uintptr_t ra = (uintptr_t)__builtin_return_address(0);
    if (mr_function_entry(ra, &entry) && entry != (uintptr_t)running->fn)
        return nil;
    p->recovered = true;
    return p->value;
}
