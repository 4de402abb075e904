/*
 * tap.h — a minimal Test Anything Protocol emitter for the test programs.
 *
 *     ok(cond, "what it checks %d", n);
 *     return tap_done();
 *
 * Each check prints "ok N - ..." or "not ok N - ..."; tap_done() prints
 * the plan and returns the exit status for main.
 */
#ifndef MAPRACE_TAP_H
#define MAPRACE_TAP_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

static int tap_n, tap_failed;

__attribute__((format(printf, 2, 3), unused)) static bool ok(bool cond, const char *fmt, ...)
{
    va_list ap;
    printf("%s %d - ", cond ? "ok" : "not ok", ++tap_n);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
    if (!cond)
        tap_failed++;
    return cond;
}

/* A diagnostic line, shown by the harness in the test's log. */
__attribute__((format(printf, 1, 2), unused)) static void diag(const char *fmt, ...)
{
    va_list ap;
    printf("# ");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
}

/* Aborts the test program: something it depends on is broken. */
__attribute__((format(printf, 1, 2), noreturn, unused)) static void bail(const char *fmt, ...)
{
    va_list ap;
    printf("Bail out! ");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
    exit(1);
}

__attribute__((unused)) static int tap_done(void)
{
    printf("1..%d\n", tap_n);
    return tap_failed ? 1 : 0;
}

#endif /* MAPRACE_TAP_H */
