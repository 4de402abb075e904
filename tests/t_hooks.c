/*
 * t_hooks — an interposer loaded with LD_PRELOAD (hookspy) sees every call
 * of every hook: the counts must match what hook_child did.  This is what
 * would break if libmaprt were built with -Bsymbolic,
 * -fno-semantic-interposition, hidden hooks or LTO that inlines them.
 */
#include "child.h"
#include "tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static long value(const char *out, const char *key)
{
    char pat[128];
    snprintf(pat, sizeof pat, "%s ", key);
    for (const char *p = out; (p = strstr(p, pat)) != NULL; p++)
        if (p == out || p[-1] == '\n')
            return atol(p + strlen(pat));
    return -1;
}

/* From the line "kind K allocs A frees F outstanding_bytes B": the field. */
static long kind_value(const char *out, int kind, const char *field)
{
    char pat[64];
    snprintf(pat, sizeof pat, "kind %d allocs", kind);
    const char *line = strstr(out, pat);
    if (line == NULL)
        return -1;
    long a, f, b;
    if (sscanf(line, "kind %*d allocs %ld frees %ld outstanding_bytes %ld", &a, &f, &b) != 3)
        return -1;
    return strcmp(field, "allocs") == 0 ? a : strcmp(field, "frees") == 0 ? f : b;
}

int main(int argc, char **argv)
{
    const char *dir = test_dir(argv[0]);
    char spy[4096], child[4096];
    snprintf(spy, sizeof spy, "%s/.libs/libhookspy.so", dir);
    snprintf(child, sizeof child, "%s/hook_child", dir);
    setenv("LD_PRELOAD", spy, 1);
    char *av[] = {child, "events", NULL};
    child_result r;
    if (!child_run(av, 60, &r))
        bail("cannot run %s", child);
    ok(r.status == 0, "hook_child ran under the interposer (status %d): %.200s", r.status, r.err);
    ok(value(r.out, "map_made") == 3, "map made: 3 (%ld)", value(r.out, "map_made"));
    ok(value(r.out, "map_freed") == 2, "map freed: 2 (%ld)", value(r.out, "map_freed"));
    ok(value(r.out, "defer_start") == 4 && value(r.out, "defer_end") == 4, "deferred calls: 4 started, 4 ended");
    ok(value(r.out, "defer why 0") == 3 && value(r.out, "defer why 1") == 1,
       "why they ran: 3 at return, 1 by a panic");
    ok(value(r.out, "defer_touch") == 6 && value(r.out, "touch op 1") == 3 && value(r.out, "touch op 2") == 3,
       "map touches from deferred calls: 6 (3 assign, 3 delete), none from plain code (%ld)",
       value(r.out, "defer_touch"));
    ok(value(r.out, "goroutine_start") == 3 && value(r.out, "goroutine_exit") == 2,
       "goroutines: 3 started (main included), the 2 that ended exited");
    long bucket_allocs = kind_value(r.out, 1, "allocs"), overflow_allocs = kind_value(r.out, 2, "allocs");
    /* (Released tables wait in a quarantine before they are freed, so
     * not every one is freed yet; valgrind checks that none leaks.) */
    ok(kind_value(r.out, 0, "allocs") == 3 && bucket_allocs >= 4 && overflow_allocs > 0 &&
           kind_value(r.out, 2, "frees") <= overflow_allocs && kind_value(r.out, 1, "frees") <= bucket_allocs,
       "allocation hooks: 3 map headers, %ld bucket arrays, %ld overflow buckets", bucket_allocs, overflow_allocs);
    ok(kind_value(r.out, 6, "allocs") >= 3 && kind_value(r.out, 7, "allocs") == 4 &&
           kind_value(r.out, 7, "frees") == 4 && kind_value(r.out, 8, "allocs") == 1 &&
           kind_value(r.out, 8, "frees") == 1,
       "goroutine, defer and panic records go through the hooks; defer and panic records are all freed");

    char *rv[] = {child, "race", NULL};
    if (!child_run(rv, 60, &r))
        bail("cannot run %s", child);
    ok(r.status == 2 && strstr(r.err, "hookspy: report kind=concurrent map writes message=concurrent map writes "
                                      "map=yes goroutines=") &&
           strstr(r.err, "[detector running pcs=yes] [writer running pcs=yes]"),
       "report hook: called once with the map, the detector and the writer, with stacks");
    unsetenv("LD_PRELOAD");
    return tap_done();
}
