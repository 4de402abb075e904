/*
 * sigpanic.h — SIGSEGV, SIGBUS and SIGFPE as Go reports them: a panic for
 * a fault in the program's own code (its deferred calls run, recover
 * stops it), a fatal error for one in the runtime or the C library.
 * The handlers are installed when libmaprt is loaded (sigpanic.c says
 * when not).
 */
#ifndef MAPRT_SIGPANIC_H
#define MAPRT_SIGPANIC_H

#include <stddef.h>
#include <stdint.h>

/* Go's line for a fault, newline included:
 * "[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x4553a2]". */
int mr_signal_line(char *buf, size_t n, int sig, int code, uintptr_t addr, uintptr_t pc);

#endif /* MAPRT_SIGPANIC_H */
