/*
 * t_race — concurrent misuse is caught every time, correct use never.
 *
 * Each scenario of race_child runs as a child process; fatal errors end
 * the process, so status and stderr are checked from here.  Go's own check
 * is a plain flag and misses races (Appendix A of the spec); the atomic
 * claim must catch these in every one of 20 runs.
 */
#include "child.h"
#include "tap.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { RUNS = 20 };

static char helper[4096];

/* Runs a scenario once; returns the child's first stderr line in `line`. */
static bool run(const char *scenario, child_result *r)
{
    char *argv[] = {helper, (char *)scenario, NULL};
    if (!child_run(argv, 30, r))
        bail("cannot run %s", helper);
    return true;
}

/* The goroutine section whose header line contains `header` (up to the
 * next blank line), copied into buf; "" if there is none. */
static const char *section(const char *err, const char *header, char *buf, size_t n)
{
    buf[0] = '\0';
    const char *h = strstr(err, header);
    if (h == NULL)
        return buf;
    while (h > err && h[-1] != '\n')
        h--;
    const char *end = strstr(h, "\n\n");
    size_t len = end ? (size_t)(end - h) : strlen(h);
    if (len >= n)
        len = n - 1;
    memcpy(buf, h, len);
    buf[len] = '\0';
    return buf;
}

/* Does the section show `func` as its top frame, with its source line in
 * race_child.c? */
static bool top_frame_is(const char *sec, const char *func)
{
    const char *nl = strchr(sec, '\n');
    if (nl == NULL)
        return false;
    char want[128];
    snprintf(want, sizeof want, "\n%s(...)\n\t/", func);
    const char *frame = strstr(sec, want);
    return frame == nl && strstr(frame, "/tests/race_child.c:") != NULL;
}

/* A diagnostic on one TAP line: the child's newlines shown as " | ". */
static void diag_one_line(char *why)
{
    for (char *p = why; *p; p++)
        if (*p == '\n')
            *p = '|';
    diag("%s", why);
}

/* Appended to the descriptions of the runs repeated with MAPRT_BIAS=0. */
static const char *variant = "";

/* Every run exits 2 with `want` as the first line and, for races, both
 * goroutines' real stacks: the one that noticed, [running], first, at
 * `detector`'s map call; the one holding the write claim, caught inside
 * its write, in `writer`.  Reports the first run that did not. */
static void expect_fatal_every_run(const char *scenario, const char *want, const char *detector,
                                   const char *writer)
{
    bool two_sides = writer != NULL;
    int good = 0;
    child_result r;
    char line[256], why[512] = "";
    for (int i = 0; i < RUNS; i++) {
        run(scenario, &r);
        first_line(r.err, line, sizeof line);
        char first[2048], other[2048];
        bool sides = true;
        if (two_sides) {
            section(r.err, "[running]:", first, sizeof first);
            section(r.err, "[running, writing map]:", other, sizeof other);
            /* The noticing goroutine's section comes first. */
            sides = strstr(r.err, "\n\ngoroutine ") + 2 == strstr(r.err, first) &&
                    top_frame_is(first, detector) && top_frame_is(other, writer);
        }
        if (r.status == 2 && strcmp(line, want) == 0 && sides) {
            good++;
        } else if (!why[0]) {
            snprintf(why, sizeof why, "run %d: status %d signal %d, stderr: %.300s", i + 1, r.status,
                     r.signal, r.err);
        }
    }
    ok(good == RUNS, "%s: '%s', exit 2%s, in %d/%d runs%s", scenario, want,
       two_sides ? ", both goroutines' stacks down to the map call" : "", good, RUNS, variant);
    if (why[0])
        diag_one_line(why);
}

/* The line a section names for `func`'s frame ("race_child.c:93"), or "". */
static const char *frame_line(const char *sec, const char *func, char *buf, size_t n)
{
    char want[128];
    snprintf(want, sizeof want, "\n%s(...)\n\t", func);
    const char *f = strstr(sec, want);
    const char *at = f ? strstr(f, "/tests/race_child.c:") : NULL;
    buf[0] = '\0';
    if (at != NULL)
        snprintf(buf, n, "%.*s", (int)strcspn(at + 7, " \n"), at + 7);
    return buf;
}

/* A race of a few writes per goroutine: the other writer's write is over
 * (its goroutine often gone) before the report can take its stack, yet the
 * report names where it wrote, kept with the map's write claim. */
static void expect_other_writer_named(void)
{
    int good = 0;
    child_result r;
    char why[1024] = "";
    for (int i = 0; i < RUNS; i++) {
        run("short", &r);
        char line[256], own[2048], other[2048], l1[64], l2[64];
        first_line(r.err, line, sizeof line);
        section(r.err, "[running]:", own, sizeof own);
        section(r.err, ", writing map]:", other, sizeof other);
        if (other[0] == '\0')
            section(r.err, ", wrote map]:", other, sizeof other);
        frame_line(own, "short_writer", l1, sizeof l1);
        frame_line(other, "short_writer", l2, sizeof l2);
        if (r.status == 2 && strcmp(line, "fatal error: concurrent map writes") == 0 && l1[0] && strcmp(l1, l2) == 0)
            good++;
        else if (!why[0])
            snprintf(why, sizeof why, "run %d: status %d, lines '%s' '%s', stderr: %.400s", i + 1, r.status, l1, l2,
                     r.err);
    }
    ok(good == RUNS, "short: ten writes per goroutine, the other writer's call site named (its live stack or its last write) in %d/%d runs%s",
       good, RUNS, variant);
    if (why[0])
        diag_one_line(why);
}

static void expect_fatal_once(const char *scenario, const char *want, int status)
{
    child_result r;
    char line[256];
    run(scenario, &r);
    first_line(r.err, line, sizeof line);
    ok(r.status == status && strcmp(line, want) == 0 && !strstr(r.out, "not reached"),
       "%s: '%s' and exit %d (got '%s', exit %d)", scenario, want, status, line, r.status);
}

/* An iteration open when another goroutine's write begins, and a step
 * taken while that write is still inside the map (stalled in the key
 * type's equality): the step reports it, with the writer's stack inside
 * its write. */
static void expect_iteration_step_checked(void)
{
    child_result r;
    char line[256], writer[2048];
    run("iterstep", &r);
    first_line(r.err, line, sizeof line);
    section(r.err, ", writing map]:", writer, sizeof writer);
    ok(r.status == 2 && strcmp(line, "fatal error: concurrent map iteration and map write") == 0 &&
           strstr(writer, "\nstalling_equal(...)\n") != NULL && !strstr(r.out, "not reached"),
       "iterstep: a step of an open iteration during another goroutine's write: '%s', the writer shown "
       "[writing map] in the key's equality, exit %d",
       line, r.status);
    if (r.status != 2 || writer[0] == '\0')
        diag_one_line(r.err);
}

int main(int argc, char **argv)
{
    snprintf(helper, sizeof helper, "%s/race_child", test_dir(argv[0]));

    expect_fatal_every_run("writes", "fatal error: concurrent map writes", "writer", "writer");
    /* On one CPU the writers only overlap when one is preempted inside a
     * write; the claim still catches it. */
    expect_fatal_every_run("writes-1cpu", "fatal error: concurrent map writes", "writer", "writer");
    /* A map's first writer claims it without a locked instruction until
     * another goroutine writes (map_claim.c): the race is caught when that
     * second writer arrives in the middle of the owner's writes.  (Both
     * stacks inside their writes are the business of "writes" above.) */
    expect_fatal_every_run("biased", "fatal error: concurrent map writes", NULL, NULL);
    expect_fatal_every_run("readwrite", "fatal error: concurrent map read and map write", "reader", "writer");
    /* The writer owning the map's bias claims with plain stores
     * (map_internal.h); a report's mark must still stop it in its write:
     * a release that stored 0 without looking let it go in 8 of 20 runs. */
    expect_fatal_every_run("readowner", "fatal error: concurrent map read and map write", "reader", "writer");
    expect_fatal_every_run("iterwrite", "fatal error: concurrent map iteration and map write", "iterator", "writer");
    expect_other_writer_named();

    /* The report is one piece: one first line, one "fatal error". */
    child_result r;
    run("writes", &r);
    const char *second = strstr(r.err + 1, "fatal error:");
    ok(second == NULL, "writes: exactly one report even with two threads failing");
    char sec[2048];
    section(r.err, "goroutine 1 [", sec, sizeof sec);
    ok(strstr(sec, "\nmain(...)\n\t/") != NULL,
       "every goroutine is listed: goroutine 1 (main, which never touched the map) with its stack");

    /* GOTRACEBACK, with Go's meanings. */
    setenv("GOTRACEBACK", "none", 1);
    run("writes", &r);
    ok(r.status == 2 && strcmp(r.err, "fatal error: concurrent map writes\n") == 0,
       "GOTRACEBACK=none: the message line only");
    setenv("GOTRACEBACK", "system", 1);
    run("writes", &r);
    ok(r.status == 2 && strstr(r.err, "\nrace_fatal(...)\n\t/") != NULL,
       "GOTRACEBACK=system: the runtime's own frames are shown");
    setenv("GOTRACEBACK", "crash", 1);
    run("writes", &r);
    ok(r.status == -1 && r.signal == SIGABRT && strstr(r.err, "[running, writing map]:") != NULL,
       "GOTRACEBACK=crash: the report, then abort (signal %d)", r.signal);
    unsetenv("GOTRACEBACK");
    run("writes", &r);
    ok(strstr(r.err, "mr_mapassign") == NULL, "default GOTRACEBACK: runtime frames hidden");

    /* A fatal error runs nothing else: not even atexit handlers. */
    run("atexit", &r);
    ok(r.status == 2 && strstr(r.err, "atexit handler ran") == NULL,
       "atexit: fatal error exits 2 without running atexit handlers");

    /* The false-positive guard: a mutex makes sharing correct. */
    int clean = 0;
    for (int i = 0; i < RUNS; i++) {
        run("locked", &r);
        if (r.status == 0 && r.err[0] == '\0' && strstr(r.out, "locked: done"))
            clean++;
        else if (clean == i)
            diag("locked run %d: status %d, stderr: %.300s", i + 1, r.status, r.err);
    }
    ok(clean == RUNS, "locked: eight goroutines under a mutex, no report in %d/%d runs", clean, RUNS);

    /* The bias itself: main's after its write, nobody's once another
     * goroutine has written; after 256 revocations new maps are not
     * biased.  With MAPRT_BIAS=0 nothing is, and races are caught all
     * the same (every claim a compare-and-swap). */
    run("bias", &r);
    ok(r.status == 0 && r.err[0] == '\0' && strstr(r.out, "bias: main 1, after another goroutine 0\n") &&
           strstr(r.out, "300 maps handed over: the first biased to 1, the last to 0\n"),
       "bias: taken by a map's first writer, revoked by the second, no longer taken after 256 revocations");
    if (r.status != 0 || !strstr(r.out, "the last to 0"))
        diag("status %d, out: %.300s, err: %.300s", r.status, r.out, r.err);
    setenv("MAPRT_BIAS", "0", 1);
    variant = " (MAPRT_BIAS=0)";
    run("bias", &r);
    ok(r.status == 0 && strstr(r.out, "bias: main 0, after another goroutine 0\n") &&
           strstr(r.out, "the first biased to 0, the last to 0\n"),
       "MAPRT_BIAS=0: no map is biased");
    expect_fatal_every_run("writes", "fatal error: concurrent map writes", "writer", "writer");
    expect_fatal_every_run("biased", "fatal error: concurrent map writes", NULL, NULL);
    expect_other_writer_named();
    unsetenv("MAPRT_BIAS");
    variant = "";

    expect_iteration_step_checked();
    /* A table beyond the cache has lookups of their own, which test the
     * claim with the old buckets (map.c): a read during a write there is
     * reported as anywhere. */
    expect_fatal_once("dense-read", "fatal error: concurrent map read and map write", 2);
    /* The bias owner's claim is a plain store: a revoker can claim, write
     * and release while it is still on its way.  The owner's release then
     * finds the bias revoked and the revoker recorded (map_claim.c). */
    expect_fatal_once("late-owner-store", "fatal error: concurrent map writes", 2);
    expect_fatal_once("nilassign", "panic: assignment to entry in nil map", 2);
    expect_fatal_once("uaf-read", "fatal error: map used after free", 2);
    expect_fatal_once("uaf-write", "fatal error: map used after free", 2);
    expect_fatal_once("uaf-iter", "fatal error: map used after free", 2);
    expect_fatal_once("doublefree", "fatal error: map used after free", 2);
    return tap_done();
}
