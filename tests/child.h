/*
 * child.h — run a helper program as a child process and collect what it
 * did: exit status (or signal) and everything it wrote to stderr.  Fatal
 * errors end the process, so they can only be tested from outside it.
 */
#ifndef MAPRACE_CHILD_H
#define MAPRACE_CHILD_H

#include <stdbool.h>
#include <stddef.h>

typedef struct child_result {
    int status;      /* exit status, or -1 if killed by a signal */
    int signal;      /* the signal, if killed */
    bool timed_out;  /* killed by us after the time limit */
    char err[8192];  /* stderr, NUL-terminated, truncated if longer */
    char out[8192];  /* stdout, likewise */
} child_result;

/* Runs argv (argv[0] a path) with a time limit in seconds.  Returns false
 * if it could not be started. */
bool child_run(char *const argv[], int timeout_s, child_result *r);

/* The first line of s, copied into buf. */
const char *first_line(const char *s, char *buf, size_t n);

/* The directory of the running test program, for finding its helpers. */
const char *test_dir(const char *argv0);

#endif /* MAPRACE_CHILD_H */
