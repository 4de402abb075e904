/*
 * fault.c — a crash inside a table family's code during a call on a table
 * that another thread writes, reported as the race it is.
 *
 * A reader that is already inside GLib when a writer resizes the table
 * reads the arrays the writer frees: it may fault before any check sees
 * the writer (readers look at the claim on entry).  When a thread faults
 * (SIGSEGV, SIGBUS) inside the family's code, entered through one of the
 * family's table functions, the table of that call is watched for a
 * moment: if another goroutine writes it meanwhile, the two are not
 * synchronised (a program that locks the table holds the lock while this
 * thread is stopped here), and the fault is reported as "concurrent map
 * read and map write" with both goroutines.  Any other fault goes to the
 * handler that was there before (or the default action) exactly as
 * without maprace: the handler is put back and the faulting instruction
 * runs again.
 */
#include "fault.h"

#include "tables.h"

#include "preload.h"
#include "sigcontext.h"

#include <dlfcn.h>
#include <execinfo.h>
#include <link.h>
#include <signal.h>
#include <string.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

enum { WATCH_MS = 200 };

static uintptr_t code_start, code_end; /* the family's executable segment */
static const char *entry_prefix;       /* its table functions' names begin so */
static const char *family;             /* its tables' type, e.g. "GHashTable" */
static struct sigaction previous[2];
static const int signals[2] = {SIGSEGV, SIGBUS};

static int find_segment(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    uintptr_t inside = *(uintptr_t *)arg;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t start = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X) && inside >= start && inside < start + ph->p_memsz) {
            code_start = start;
            code_end = start + ph->p_memsz;
            return 1;
        }
    }
    return 0;
}

static bool in_code(uintptr_t pc)
{
    return pc >= code_start && pc < code_end;
}

/* Whether the faulting call entered the family's code through one of its
 * table functions: the outermost of the family's frames above the fault
 * is inside an exported function named so. */
static bool in_table_call(uintptr_t pc)
{
    void *frames[64];
    int n = backtrace(frames, 64), i = 0;
    while (i < n && (uintptr_t)frames[i] != pc)
        i++;
    uintptr_t entry = pc;
    for (; i < n && in_code((uintptr_t)frames[i]); i++)
        entry = (uintptr_t)frames[i];
    Dl_info di;
    return dladdr((void *)entry, &di) != 0 && di.dli_sname != NULL &&
           strncmp(di.dli_sname, entry_prefix, strlen(entry_prefix)) == 0;
}

/* The fault, as Go names one, before the race's report. */
static void say_signal(int sig, const siginfo_t *info, uintptr_t pc)
{
    char line[160], tail[48];
    snprintf(tail, sizeof tail, " inside a %s call\n", family);
    int n = mr_format_signal(line, sizeof line, sig, info->si_code, (uintptr_t)info->si_addr, pc, tail);
    if (n > 0)
        (void)!write(2, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

static void on_fault(int sig, siginfo_t *info, void *context)
{
    int i = sig == SIGSEGV ? 0 : 1;
    uintptr_t pc = mr_context_pc(context);
    tentry *e = tables_last_entry; /* the table of this thread's call */
    if (in_code(pc) && maprace_active() && atomic_load(&e->key) != 0 && in_table_call(pc)) {
        uint64_t me = tables_me(), writes = atomic_load_explicit(&e->writes, memory_order_relaxed);
        struct timespec start, now, pause = {0, 1000000};
        clock_gettime(CLOCK_MONOTONIC, &start);
        do {
            /* Another goroutine writing now, or one that has written since
             * (a write is short: looking now and then would miss most). */
            uint64_t w = atomic_load_explicit(&e->claim.writer, memory_order_relaxed);
            if ((w == 0 || w == me) && atomic_load_explicit(&e->writes, memory_order_relaxed) != writes)
                w = atomic_load_explicit(&e->claim.last_writer, memory_order_relaxed);
            if (w != 0 && w != me) {
                say_signal(sig, info, pc);
                maprace_rt.read_failed(&e->claim, w, MR_TABLE_READ); /* returns only if the program goes on */
            }
            nanosleep(&pause, NULL);
            clock_gettime(CLOCK_MONOTONIC, &now);
        } while ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000 < WATCH_MS);
    }
    /* Not a race seen, or the program goes on: as without maprace. */
    sigaction(signals[i], &previous[i], NULL);
}

void fault_watch_code(const void *function, const char *prefix, const char *type)
{
    uintptr_t inside = (uintptr_t)function;
    entry_prefix = prefix;
    family = type;
    if (function == NULL || dl_iterate_phdr(find_segment, &inside) == 0)
        return;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    for (int i = 0; i < 2; i++)
        sigaction(signals[i], &sa, &previous[i]);
}
