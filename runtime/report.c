/*
 * report.c — writing reports in Go's layout.
 */
#include "report.h"

#include "symbolize.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static _Atomic int reporting;

mr_tblevel mr_traceback_level(void)
{
    static _Atomic int cached = -1;
    int level = atomic_load(&cached);
    if (level >= 0)
        return (mr_tblevel)level;
    const char *v = getenv("GOTRACEBACK");
    level = MR_TB_SINGLE;
    if (v != NULL) {
        if (strcmp(v, "none") == 0 || strcmp(v, "0") == 0)
            level = MR_TB_NONE;
        else if (strcmp(v, "all") == 0 || strcmp(v, "1") == 0)
            level = MR_TB_ALL;
        else if (strcmp(v, "system") == 0 || strcmp(v, "2") == 0)
            level = MR_TB_SYSTEM;
        else if (strcmp(v, "crash") == 0)
            level = MR_TB_CRASH;
    }
    atomic_store(&cached, level);
    return (mr_tblevel)level;
}

/* The thread making the report (its kernel id), 0 before one begins. */
static _Atomic pid_t reporter;
/* Runtime frames and frame bounds shown whatever GOTRACEBACK says: the
 * report is of a failure of the runtime itself (Go's throw). */
static bool show_runtime;

void mr_report_show_runtime(void)
{
    show_runtime = true;
}

bool mr_report_under_way(void)
{
    return atomic_load(&reporting) != 0;
}

bool mr_report_mine(void)
{
    pid_t r = atomic_load(&reporter);
    return r != 0 && r == gettid();
}

void mr_report_begin(void)
{
    if (atomic_load(&reporting) && mr_report_mine())
        return; /* a report that fails on its way: go on with it */
    if (atomic_exchange_explicit(&reporting, 1, memory_order_acq_rel)) {
        /* Another thread is reporting and will end the process. */
        for (;;)
            pause();
    }
    atomic_store(&reporter, gettid());
}

static void write_all(const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = write(STDERR_FILENO, s, n);
        if (w <= 0)
            return;
        s += w;
        n -= (size_t)w;
    }
}

/* Sections are built here and written whole.  Reports are made by one
 * thread at a time (mr_report_begin), so one buffer serves. */
static char section[16384];
static size_t used;

__attribute__((format(printf, 1, 2))) static void add(const char *fmt, ...)
{
    if (used >= sizeof section - 1)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(section + used, sizeof section - used, fmt, ap);
    va_end(ap);
    if (n > 0)
        used += (size_t)n < sizeof section - used ? (size_t)n : sizeof section - used - 1;
}

static void flush(void)
{
    write_all(section, used);
    used = 0;
}

void mr_report_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(section, sizeof section, fmt, ap);
    va_end(ap);
    if (n > 0)
        write_all(section, (size_t)n < sizeof section ? (size_t)n : sizeof section - 1);
}

const char *mr_gstatus_name(int status)
{
    switch (status) {
    case MR_G_SEMACQUIRE: return "semacquire";
    case MR_G_MUTEXLOCK: return "sync.Mutex.Lock";
    case MR_G_DEAD: return "dead";
    default: return "running";
    }
}

/* What a goroutine the runtime thinks is running waits on, read from
 * where its captured stack stopped: the outermost C library call it is
 * blocked in, below the first frame of the program's own.  Go's names where Go has
 * one; documented in the README. */
static const struct {
    const char *func, *status;
} waits[] = {
    {"nanosleep", "sleep"},           {"clock_nanosleep", "sleep"},     {"__clock_nanosleep", "sleep"},
    {"usleep", "sleep"},              {"sleep", "sleep"},               {"pause", "sleep"},
    {"sigsuspend", "sleep"},          {"pthread_join", "pthread_join"}, {"__pthread_clockjoin_ex", "pthread_join"},
    {"pthread_timedjoin_np", "pthread_join"},
    {"pthread_cond_wait", "semacquire"},
    {"pthread_cond_timedwait", "semacquire"},
    {"pthread_cond_clockwait", "semacquire"},
    {"pthread_mutex_lock", "semacquire"},
    {"__pthread_mutex_lock", "semacquire"},
    {"__lll_lock_wait", "semacquire"},
    {"pthread_rwlock_rdlock", "semacquire"},
    {"pthread_rwlock_wrlock", "semacquire"},
    {"pthread_barrier_wait", "semacquire"},
    {"sem_wait", "semacquire"},
    {"sem_timedwait", "semacquire"},
    {"__futex_abstimed_wait_common", "semacquire"},
    {"syscall", "syscall"},
    {"read", "syscall"},              {"__libc_read", "syscall"},       {"write", "syscall"},
    {"__libc_write", "syscall"},      {"poll", "syscall"},              {"ppoll", "syscall"},
    {"select", "syscall"},            {"pselect", "syscall"},           {"epoll_wait", "syscall"},
    {"epoll_pwait", "syscall"},       {"accept", "syscall"},            {"accept4", "syscall"},
    {"connect", "syscall"},           {"recv", "syscall"},              {"recvfrom", "syscall"},
    {"recvmsg", "syscall"},           {"send", "syscall"},              {"sendto", "syscall"},
    {"sendmsg", "syscall"},           {"wait4", "syscall"},             {"waitpid", "syscall"},
    {"waitid", "syscall"},            {"msgrcv", "syscall"},            {"sigwait", "syscall"},
    {"sigwaitinfo", "syscall"},       {"sigtimedwait", "syscall"},      {"flock", "syscall"},
    {"fcntl", "syscall"},             {"__libc_open64", "syscall"},     {"open64", "syscall"},
};

static const char *stack_wait(const mr_stack *st)
{
    if (st == NULL)
        return NULL;
    const char *found = NULL;
    for (int i = 0; i < st->n && i < 12; i++) {
        mr_symbol s;
        if (!mr_symbolize(st->pc[i], i == st->exact, &s))
            continue;
        if (!s.system && !s.runtime)
            break; /* the program's own frame: what was found below it stands */
        if (!s.system || s.func == NULL)
            continue;
        char name[256];
        const char *func = mr_symbol_name(s.func, name, sizeof name);
        for (size_t w = 0; func != NULL && w < sizeof waits / sizeof waits[0]; w++)
            if (strcmp(func, waits[w].func) == 0) {
                found = waits[w].status; /* the outermost call wins: pthread_join, not its futex */
                break;
            }
    }
    return found;
}

/* A goroutine's status as reports show it. */
static const char *status_of(const mr_g *g, const mr_stack *st)
{
    int status = atomic_load(&g->status);
    const char *wait = status == MR_G_RUNNING ? stack_wait(st) : NULL;
    return wait != NULL ? wait : mr_gstatus_name(status);
}

/* How a stack is walked for printing: whether a frame of the program has
 * been shown yet (Go shows the panic frame only between a deferred call a
 * panic runs and the function that panicked), and whether the last frame
 * was the call that runs a function's deferred calls at its return. */
typedef struct frame_walk {
    bool shown, at_return, in_panic;
} frame_walk;

/* The panic entry points: shown as Go's "panic(...)" frame. */
static bool is_panic_entry(const char *func)
{
    static const char *const entries[] = {"mr_panic",     "mr_panic_str",           "mr_panic_int",
                                          "mr_panic_err", "mr_panic_runtime_error", "mr_panic_nilmap"};
    for (size_t i = 0; func != NULL && i < sizeof entries / sizeof entries[0]; i++)
        if (strcmp(func, entries[i]) == 0)
            return true;
    return false;
}

/* One frame: "func(...)\n\t/file.c:LINE +0xOFF\n".  Returns false at a
 * frame that ends the walk.
 *
 * A function whose deferred calls are running at its return is shown at
 * the line it returns from, as Go shows it: its frame's PC is the return
 * address of the cleanup call (mr_frame_leave_), which compilers place on
 * the MR_FRAME line, while the instruction it returns to is the return's
 * own (the closing brace, or the return statement). */
static bool add_frame(const mr_stack *st, int i, uintptr_t pc, bool system, frame_walk *w)
{
    bool exact = st != NULL && i == st->exact;
    /* GOTRACEBACK=system: the frame's bounds and PC after its line. */
    char bounds[80] = "";
    if (system && st != NULL)
        snprintf(bounds, sizeof bounds, " fp=%#lx sp=%#lx pc=%#lx", (unsigned long)st->fp[i],
                 (unsigned long)st->sp[i], (unsigned long)pc);
    mr_symbol s;
    char name[256];
    bool at_return = w != NULL && w->at_return && !exact;
    /* Returning through MR_RETURN: that line, as Go names a return
     * statement; otherwise the closing brace. */
    for (int r = 0; at_return && st != NULL && r < st->nret; r++)
        if (st->ret[r].frame == i) {
            pc = st->ret[r].pc;
            at_return = false;
        }
    if (!(at_return ? mr_symbolize_return(pc, &s) : mr_symbolize(pc, exact, &s))) {
        if (bounds[0] != '\0')
            add("?(...)\n\t?:0%s\n", bounds);
        else
            add("?(...)\n\t?:0 pc=%#lx\n", (unsigned long)pc);
        return true;
    }
    const char *func = mr_symbol_name(s.func, name, sizeof name);
    if (w != NULL)
        w->at_return = func != NULL && strcmp(func, "mr_frame_leave_") == 0;
    if (s.root && !system)
        return false;
    if (!system && w != NULL && s.runtime && is_panic_entry(func)) {
        if (w->shown && !w->in_panic) /* the panic that runs the deferred call shown above */
            add("panic(...)\n\t%s:%d +%#lx\n", s.file ? s.file : (s.module ? s.module : "?"), s.line,
                (unsigned long)s.funcoff);
        w->in_panic = true;
        return true;
    }
    if ((s.runtime || s.system) && !system)
        return true;
    if (func != NULL && strcmp(func, "__restore_rt") == 0)
        return true;
    if (w != NULL) {
        w->shown = true;
        w->in_panic = false;
    }
    if (func == NULL)
        add("?(...)\n\t%s+%#lx%s\n", s.module ? s.module : "?", (unsigned long)s.modoff, bounds);
    else if (s.file != NULL)
        add("%s(...)\n\t%s:%d +%#lx%s\n", func, s.file, s.line, (unsigned long)s.funcoff, bounds);
    else
        add("%s(...)\n\t%s +%#lx%s\n", func, s.module ? s.module : "?", (unsigned long)s.funcoff, bounds);
    return true;
}

void mr_report_section(const mr_g *g, const mr_stack *st, const char *extra, const char *note, uintptr_t lastpc)
{
    bool system = show_runtime || mr_traceback_level() >= MR_TB_SYSTEM;
    frame_walk walk = {false, false, false};
    add("\ngoroutine %llu [%s%s%s]:\n", (unsigned long long)g->goid, status_of(g, st),
        extra ? ", " : "", extra ? extra : "");
    if (st != NULL)
        for (int i = 0; i < st->n; i++)
            if (!add_frame(st, i, st->pc[i], system, &walk))
                break;
    if (note != NULL)
        add("\t(%s)\n", note);
    if (lastpc != 0)
        add_frame(NULL, 0, lastpc, true, NULL);
    if (g->createpc != 0) {
        mr_symbol s;
        char name[256];
        const char *func = NULL;
        if (mr_symbolize(g->createpc, false, &s))
            func = mr_symbol_name(s.func, name, sizeof name);
        add("created by %s in goroutine %llu\n", func ? func : "?", (unsigned long long)g->parent);
        if (s.file != NULL)
            add("\t%s:%d +%#lx\n", s.file, s.line, (unsigned long)s.funcoff);
        else
            add("\t%s +%#lx\n", s.module ? s.module : "?", (unsigned long)s.funcoff);
    }
    flush();
}

typedef struct skip2 {
    const mr_g *a, *b;
} skip2;

static void report_other(mr_g *g, void *arg)
{
    skip2 *sk = arg;
    if (g == sk->a || g == sk->b || atomic_load(&g->status) == MR_G_DEAD)
        return;
    if (atomic_load(&g->capture) == 2)
        mr_report_section(g, &g->stack, NULL, NULL, 0);
    else
        mr_report_section(g, NULL, NULL, "stack not captured: the goroutine did not answer in time", 0);
}

void mr_report_others(const mr_g *skip1, const mr_g *skip_2)
{
    skip2 sk = {skip1, skip_2};
    mr_g_each(report_other, &sk);
}

mr_report_goroutine mr_report_entry(const mr_g *g, const mr_stack *st, mr_role role)
{
    return (mr_report_goroutine){
        .goid = g->goid,
        .status = status_of(g, st),
        .role = role,
        .npc = st ? st->n : 0,
        .exact = st ? st->exact : -1,
        .pc = st ? st->pc : NULL,
        .parent = g->parent,
        .createpc = g->createpc,
        .doing = NULL,
    };
}

enum { MAX_REPORTED = 256 };
static mr_report_goroutine reported[MAX_REPORTED];
static int nreported;

static void add_other(mr_g *g, void *arg)
{
    (void)arg;
    if (nreported >= MAX_REPORTED || atomic_load(&g->status) == MR_G_DEAD)
        return;
    for (int i = 0; i < nreported; i++)
        if (reported[i].goid == g->goid)
            return;
    bool captured = atomic_load(&g->capture) == 2;
    reported[nreported++] = mr_report_entry(g, captured ? &g->stack : NULL, MR_ROLE_OTHER);
}

void mr_report_notify(const char *kind, const char *message, const struct mr_map *map,
                      const struct mr_maptype *maptype, const char *tabletype, const mr_report_goroutine *lead,
                      int nlead, bool others)
{
    nreported = 0;
    for (int i = 0; i < nlead && nreported < MAX_REPORTED; i++)
        reported[nreported++] = lead[i];
    if (others)
        mr_g_each(add_other, NULL);
    mr_report_event e = {kind, message, map, maptype, nreported, reported, tabletype};
    mr_hook_report(&e);
}

void mr_report_exit(void)
{
    /* Go's output is unbuffered; C's stdout is not.  Flush what the
     * program printed, unless another thread holds the stream (it may be
     * stopped for the report): never wait for it. */
    if (ftrylockfile(stdout) == 0) {
        fflush_unlocked(stdout);
        funlockfile(stdout);
    }
    if (mr_traceback_level() == MR_TB_CRASH) {
        signal(SIGABRT, SIG_DFL);
        abort();
    }
    _exit(2);
}
