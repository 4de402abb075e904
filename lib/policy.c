/*
 * policy.c — what libmaprace.so does with a race: halt (Go's way, the
 * default), or with halt_on_error=0 report each distinct race once and go
 * on; suppressed races pass silently.  At the end of a run that reported
 * races, a summary, and the exit status becomes `exitcode` (default 66,
 * as TSan's) if the program otherwise succeeded.
 *
 * Suppressions file: one pattern a line, "race:FUNCTION" (shell-style
 * wildcards), matched against every function in the two goroutines'
 * stacks; '#' starts a comment.
 */
#include "preload.h"
#include "suppressions.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { MAX_SIGNATURES = 4096 };

static suppressions suppressed_functions;
static uint64_t signatures[MAX_SIGNATURES];
static int nsignatures;
static _Atomic long races_seen, races_reported, races_suppressed;

bool maprace_load_suppressions(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        snprintf(err, errlen, "cannot read the suppressions file %s: %s", path, strerror(errno));
        return false;
    }
    bool good = suppressions_read(f, path, &suppressed_functions, err, errlen);
    fclose(f);
    return good;
}

/* Whether a race may let the program go on: halt_on_error=0, or
 * suppressions. */
static bool may_go_on(void)
{
    return maprace_opts.halt_on_error == 0 || suppressed_functions.n > 0;
}

int mr_hook_race_policy(void)
{
    if (maprace_active() && may_go_on())
        return MR_RACE_DECIDE;
    int (*next)(void) = (int (*)(void))dlsym(RTLD_NEXT, "mr_hook_race_policy");
    return next ? next() : MR_RACE_HALT;
}

static bool suppressed(const mr_report_event *e)
{
    for (int g = 0; g < e->ngoroutines; g++)
        for (int i = 0; i < e->goroutines[g].npc; i++) {
            mr_pcinfo pi;
            if (maprace_describe_pc == NULL ||
                !maprace_describe_pc(e->goroutines[g].pc[i], i == e->goroutines[g].exact, &pi) || !pi.function)
                continue;
            if (suppressions_match(&suppressed_functions, pi.function))
                return true;
        }
    return false;
}

/* A race's signature: its kind and the first frame the user sees in each
 * of the two goroutines. */
static uint64_t signature(const mr_report_event *e)
{
    uint64_t h = 1469598103934665603ULL;
    for (const char *k = e->kind; *k; k++)
        h = (h ^ (unsigned char)*k) * 1099511628211ULL;
    for (int g = 0; g < e->ngoroutines; g++) {
        uintptr_t top = 0;
        for (int i = 0; i < e->goroutines[g].npc && top == 0; i++) {
            mr_pcinfo pi;
            if (maprace_describe_pc && maprace_describe_pc(e->goroutines[g].pc[i], i == e->goroutines[g].exact, &pi) &&
                !pi.runtime && !pi.system)
                top = e->goroutines[g].pc[i];
        }
        h = (h ^ top) * 1099511628211ULL;
    }
    return h;
}

int mr_hook_race_decide(const mr_report_event *e)
{
    if (!maprace_active()) {
        int (*next)(const mr_report_event *) =
            (int (*)(const mr_report_event *))dlsym(RTLD_NEXT, "mr_hook_race_decide");
        return next ? next(e) : MR_RACE_REPORT_HALT;
    }
    /* The runtime asks one race at a time. */
    races_seen++;
    if (suppressed(e)) {
        races_suppressed++;
        return MR_RACE_SKIP;
    }
    if (maprace_opts.halt_on_error)
        return MR_RACE_REPORT_HALT;
    uint64_t sig = signature(e);
    for (int i = 0; i < nsignatures; i++)
        if (signatures[i] == sig)
            return MR_RACE_SKIP;
    if (nsignatures < MAX_SIGNATURES)
        signatures[nsignatures++] = sig;
    races_reported++;
    return MR_RACE_REPORT_CONTINUE;
}

/* ---- the end of the run ------------------------------------------------------ */

static int final_status(int status)
{
    if (races_reported == 0 && races_suppressed == 0)
        return status;
    char msg[512];
    int n = snprintf(msg, sizeof msg, "maprace: %ld distinct race%s reported (%ld occurrence%s, %ld suppressed)\n",
                     (long)races_reported, races_reported == 1 ? "" : "s", (long)races_seen,
                     races_seen == 1 ? "" : "s", (long)races_suppressed);
    if (n > 0)
        (void)!write(2, msg, (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1);
    return status == 0 && races_reported > 0 ? maprace_opts.exitcode : status;
}

/* A program ends by returning from main or by calling exit: both are
 * caught, so that a run with races does not look like a success. */
void exit(int status)
{
    void (*real_exit)(int) = (void (*)(int))dlsym(RTLD_NEXT, "exit");
    if (maprace_active())
        status = final_status(status);
    real_exit(status);
    _exit(status); /* not reached */
}

typedef int (*main_fn)(int, char **, char **);
static main_fn real_main;

static int main_wrapper(int argc, char **argv, char **envp)
{
    int status = real_main(argc, argv, envp);
    return maprace_active() ? final_status(status) : status;
}

int __libc_start_main(main_fn main, int argc, char **argv, void (*init)(void), void (*fini)(void),
                      void (*rtld_fini)(void), void *stack_end);
int __libc_start_main(main_fn main, int argc, char **argv, void (*init)(void), void (*fini)(void),
                      void (*rtld_fini)(void), void *stack_end)
{
    int (*next)(main_fn, int, char **, void (*)(void), void (*)(void), void (*)(void), void *) =
        (int (*)(main_fn, int, char **, void (*)(void), void (*)(void), void (*)(void), void *))dlsym(
            RTLD_NEXT, "__libc_start_main");
    real_main = main;
    return next(main_wrapper, argc, argv, init, fini, rtld_fini, stack_end);
}
