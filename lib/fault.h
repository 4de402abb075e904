/*
 * fault.h — faults inside a table family's code during another thread's
 * write, reported as races (fault.c).
 */
#ifndef MAPRACE_FAULT_H
#define MAPRACE_FAULT_H

/* Watches the executable segment that holds `function` (one of the
 * family's table functions, whose names all begin with `prefix`; `type`
 * names its tables; both strings live as long as the process): installs
 * the SIGSEGV and SIGBUS handlers. */
void fault_watch_code(const void *function, const char *prefix, const char *type);

#endif /* MAPRACE_FAULT_H */
