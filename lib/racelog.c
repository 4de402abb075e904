/*
 * racelog.c — reading race logs for maprace-report (see racelog.h).
 *
 * Logs are read after crashes and copied between machines, so any bytes
 * may arrive: each line is parsed by jansson, and a damaged line is
 * skipped with a warning (the first few as FILE:LINE, then a count).
 */
#include "racelog.h"

#include <jansson.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

/* ---- reading a record: absent or mistyped members read as a default ------- */

typedef json_t jnode;

static const jnode *jget(const jnode *obj, const char *key)
{
    return json_is_object(obj) ? json_object_get(obj, key) : NULL;
}

static const char *jstr(const jnode *obj, const char *key, const char *dflt)
{
    const char *s = json_string_value(jget(obj, key));
    return s != NULL ? s : dflt;
}

static double jnum(const jnode *obj, const char *key, double dflt)
{
    const jnode *n = jget(obj, key);
    return json_is_number(n) ? json_number_value(n) : dflt;
}

/* An integer member (a line, a pid, an offset): a number outside
 * [lo, hi] or not whole reads as the default (a damaged log may hold
 * anything, and converting such a double to an integer is undefined). */
static long long jint(const jnode *obj, const char *key, long long lo, long long hi, long long dflt)
{
    const jnode *n = jget(obj, key);
    if (json_is_integer(n)) {
        json_int_t v = json_integer_value(n);
        return v >= lo && v <= hi ? (long long)v : dflt;
    }
    double d = json_is_real(n) ? json_real_value(n) : (double)dflt;
    return d >= (double)lo && d < (double)hi && d == (double)(long long)d ? (long long)d : dflt;
}

static bool jbool(const jnode *obj, const char *key, bool dflt)
{
    const jnode *b = jget(obj, key);
    return json_is_boolean(b) ? json_is_true(b) : dflt;
}

/* The elements of an array (none if it is not one). */
#define EACH(elem, array)                                                                                 \
    size_t i_##elem;                                                                                      \
    jnode *elem;                                                                                          \
    json_array_foreach((jnode *)(array), i_##elem, elem)

/* Damaged lines named one by one; the rest are counted. */
enum { MAX_WARNINGS = 5 };

/* ---- text ------------------------------------------------------------------ */

/* Frames of libmaprt and the C library, which reports hide. */
static bool hidden(const jnode *frame)
{
    return jbool(frame, "hidden", false);
}

/* A thread's entry or the C start-up: where a shown stack ends. */
static bool root(const jnode *frame)
{
    return jbool(frame, "root", false);
}

static void print_frame(const jnode *fr, const char *indent)
{
    const char *fn = jstr(fr, "function", "?"), *file = jstr(fr, "file", NULL);
    unsigned long off = (unsigned long)jint(fr, "offset", 0, LONG_MAX, 0);
    printf("%s%s(...)\n", indent, fn);
    if (file)
        printf("%s\t%s:%d +%#lx\n", indent, file, (int)jint(fr, "line", 0, INT_MAX, 0), off);
    else
        printf("%s\t%s +%#lx\n", indent, jstr(fr, "module", "?"), off);
}

static void print_stack(const jnode *stack, const char *indent, int max)
{
    int shown = 0;
    for (size_t i = 0; i < json_array_size(stack) && shown < max; i++) {
        const jnode *fr = json_array_get(stack, i);
        if (root(fr))
            break;
        if (hidden(fr))
            continue;
        print_frame(fr, indent);
        shown++;
    }
}

/* The first frame the user would see. */
static const jnode *top_frame(const jnode *stack)
{
    EACH(fr, stack)
        if (!hidden(fr))
            return fr;
    return NULL;
}

static void print_site(const jnode *fr)
{
    const char *file = jstr(fr, "file", NULL);
    if (file)
        printf("%s (%s:%d)", jstr(fr, "function", "?"), file, (int)jint(fr, "line", 0, INT_MAX, 0));
    else
        printf("%s (%s)", jstr(fr, "function", "?"), jstr(fr, "module", "?"));
}

static void print_text(const jnode *race, const char *file, int line)
{
    printf("==> %s:%d (pid %d, %s, %s)\n", file, line, (int)jint(race, "pid", 0, INT_MAX, 0), jstr(race, "program", "?"),
           jstr(race, "time", "?"));
    /* A race found by happens-before (maprace --hb) did not stop the
     * program: a warning, whose other side is the earlier operation. */
    const char *kind = jstr(race, "kind", "?");
    bool hb = strstr(kind, "(happens-before)") != NULL;
    printf("%s%s\n", hb ? "WARNING: " : "fatal error: ", kind);
    const jnode *gs = jget(race, "goroutines");
    EACH(g, gs) {
        const char *role = jstr(g, "role", "other");
        double id = jnum(g, "id", 0);
        /* The writer caught inside its write, or gone from it (its last
         * write shown); logs from before "doing" was kept said neither. */
        const char *side = "";
        if (strcmp(role, "writer") == 0)
            side = hb ? ", earlier operation"
                 : strcmp(jstr(g, "doing", ""), "wrote map") == 0 ? ", wrote map" : ", writing map";
        if (id > 0)
            printf("\ngoroutine %.0f [%s%s]:\n", id, jstr(g, "status", "running"), side);
        else
            printf("\ngoroutine ? [%s%s]:\n", jstr(g, "status", "running"), side);
        const jnode *stack = jget(g, "stack");
        if (json_array_size(stack) > 0)
            print_stack(stack, "", 32);
        else
            printf("\t(stack not captured)\n");
    }
    const jnode *map = jget(race, "map");
    printf("\nmaprace: map %s (%s)", jstr(map, "address", "?"), jstr(map, "type", "?"));
    const jnode *creator = jget(map, "created_by");
    if (json_is_number(creator)) {
        printf(", made by goroutine %.0f at\n", json_number_value(creator));
        print_stack(jget(map, "creation_stack"), "\t", 6);
    } else {
        printf(": made before maprace was watching\n");
    }
    if (jget(map, "freed_by")) {
        printf("maprace: freed by goroutine %.0f at\n", jnum(map, "freed_by", 0));
        print_stack(jget(map, "free_stack"), "\t", 6);
    }
    const jnode *touches = jget(race, "defer_touches");
    if (json_array_size(touches) > 0) {
        printf("maprace: deferred calls that touched it:\n");
        EACH(t, touches) {
            printf("\tgoroutine %.0f: %s(...), deferred at ", jnum(t, "goroutine", 0), jstr(t, "function", "?"));
            print_site(jget(t, "deferred_at"));
            const char *why = jstr(t, "why", "return");
            printf(", %s:", strcmp(why, "goexit") == 0 ? "run at goroutine exit (Goexit)"
                            : strcmp(why, "panic") == 0 ? "run while panicking"
                            : jbool(t, "at_goroutine_exit", false) ? "run at goroutine exit (its function returned)"
                                                                   : "run when its function returned");
            const char *op;
            jnode *count;
            json_object_foreach((jnode *)jget(t, "ops"), op, count)
                if (json_is_number(count))
                    printf(" %s x%.0f", op, json_number_value(count));
            printf("%s\n", jbool(t, "running", false) ? " [running at the race]" : "");
        }
    } else {
        printf("maprace: no deferred call touched it.\n");
    }
    printf("\n");
}

/* ---- summary ------------------------------------------------------------------- */

enum { MAX_ITEMS = 8 };

typedef struct group {
    char signature[768];
    char detector[256], writer[256], kind[128];
    int count;
    int nmaps;
    char maps[MAX_ITEMS][384];
    int nsites;
    char sites[MAX_ITEMS][384];
} group;

struct racelog {
    racelog_mode mode;
    long races, damaged;
    int ngroups, cap;
    group *groups; /* grown as signatures appear: none is dropped */
};

static void frame_name(const jnode *fr, char *out, size_t n)
{
    if (fr == NULL) {
        snprintf(out, n, "(no stack)");
        return;
    }
    const char *file = jstr(fr, "file", NULL), *slash = file ? strrchr(file, '/') : NULL;
    if (file)
        snprintf(out, n, "%s (%s:%d)", jstr(fr, "function", "?"), slash ? slash + 1 : file, (int)jint(fr, "line", 0, INT_MAX, 0));
    else
        snprintf(out, n, "%s", jstr(fr, "function", "?"));
}

static void add_site(group *g, const char *item)
{
    for (int i = 0; i < g->nsites; i++)
        if (strcmp(g->sites[i], item) == 0)
            return;
    if (g->nsites < MAX_ITEMS)
        snprintf(g->sites[g->nsites++], sizeof g->sites[0], "%s", item);
}

static void add_to_summary(racelog *r, const jnode *race)
{
    const jnode *gs = jget(race, "goroutines"), *det = NULL, *wr = NULL;
    EACH(gr, gs) {
        const char *role = jstr(gr, "role", "");
        if (!det && strcmp(role, "detector") == 0)
            det = top_frame(jget(gr, "stack"));
        if (!wr && strcmp(role, "writer") == 0)
            wr = top_frame(jget(gr, "stack"));
    }
    char dname[256], wname[256], sig[768];
    frame_name(det, dname, sizeof dname);
    frame_name(wr, wname, sizeof wname);
    const char *kind = jstr(race, "kind", "?");
    snprintf(sig, sizeof sig, "%s|%s|%s", kind, dname, wname);
    group *g = NULL;
    for (int i = 0; i < r->ngroups && !g; i++)
        if (strcmp(r->groups[i].signature, sig) == 0)
            g = &r->groups[i];
    if (g == NULL) {
        if (r->ngroups == r->cap) {
            int cap = r->cap ? 2 * r->cap : 16;
            group *more = realloc(r->groups, (size_t)cap * sizeof *more);
            if (more == NULL) {
                fprintf(stderr, "maprace-report: out of memory for the summary\n");
                exit(2);
            }
            r->groups = more;
            r->cap = cap;
        }
        g = &r->groups[r->ngroups++];
        memset(g, 0, sizeof *g);
        snprintf(g->signature, sizeof g->signature, "%s", sig);
        snprintf(g->kind, sizeof g->kind, "%s", kind);
        snprintf(g->detector, sizeof g->detector, "%s", dname);
        snprintf(g->writer, sizeof g->writer, "%s", wname);
    }
    g->count++;
    const jnode *map = jget(race, "map");
    char item[384];
    snprintf(item, sizeof item, "%s", jstr(map, "type", "?"));
    if (g->nmaps < MAX_ITEMS) {
        bool seen = false;
        for (int i = 0; i < g->nmaps; i++)
            seen |= strcmp(g->maps[i], item) == 0;
        if (!seen)
            snprintf(g->maps[g->nmaps++], sizeof g->maps[0], "%s", item);
    }
    const jnode *touches = jget(race, "defer_touches");
    EACH(t, touches) {
        char at[256];
        frame_name(jget(t, "deferred_at"), at, sizeof at);
        snprintf(item, sizeof item, "%s deferred at %s", jstr(t, "function", "?"), at);
        add_site(g, item);
    }
}

static void print_summary(const racelog *r)
{
    printf("%ld race%s in %d group%s\n", r->races, r->races == 1 ? "" : "s", r->ngroups, r->ngroups == 1 ? "" : "s");
    for (int i = 0; i < r->ngroups; i++) {
        const group *g = &r->groups[i];
        printf("\n%dx %s\n\tnoticed in %s\n\twriter in  %s\n\tmap type%s:", g->count, g->kind, g->detector, g->writer,
               g->nmaps == 1 ? "" : "s");
        for (int m = 0; m < g->nmaps; m++)
            printf(" %s", g->maps[m]);
        printf("\n");
        for (int s = 0; s < g->nsites; s++)
            printf("\tdeferred call: %s\n", g->sites[s]);
    }
}

/* A parser's message may quote the damaged bytes: show them as '?'. */
static void printable(const char *s, char *out, size_t n)
{
    size_t i = 0;
    for (; s[i] != '\0' && i + 1 < n; i++)
        out[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
    out[i] = '\0';
}

/* ---- reading a log ------------------------------------------------------------ */

racelog *racelog_new(racelog_mode mode)
{
    racelog *r = calloc(1, sizeof *r);
    if (r != NULL)
        r->mode = mode;
    return r;
}

long racelog_races(const racelog *r)
{
    return r->races;
}

bool racelog_read(racelog *r, FILE *f, const char *name)
{
    char *line = NULL;
    size_t cap = 0;
    bool good = true;
    long valid = 0, damaged = 0;
    ssize_t len;
    for (int lineno = 1; (len = getline(&line, &cap, f)) >= 0; lineno++) {
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            len--;
        if (len == 0)
            continue;
        json_error_t err;
        json_t *race = json_loadb(line, (size_t)len, JSON_REJECT_DUPLICATES, &err);
        const char *why = race == NULL                        ? err.text
                          : !json_is_object(race)              ? "not an object"
                          : jnum(race, "v", 0) != 1            ? "not a version 1 race record"
                          : jstr(race, "kind", NULL) == NULL   ? "no kind"
                          : !json_is_array(jget(race, "goroutines")) ? "no goroutines"
                                                               : NULL;
        if (why != NULL) {
            char shown[160];
            printable(why, shown, sizeof shown);
            why = shown;
            if (r->damaged++ < MAX_WARNINGS)
                fprintf(stderr, "maprace-report: %s:%d: damaged line (%s), skipped\n", name, lineno, why);
            damaged++;
            json_decref(race);
            continue;
        }
        valid++;
        r->races++;
        if (r->mode == RACELOG_TEXT)
            print_text(race, name, lineno);
        else if (r->mode == RACELOG_SUMMARY)
            add_to_summary(r, race);
        else
            printf("%.*s\n", (int)len, line);
        json_decref(race);
    }
    if (ferror(f)) {
        fprintf(stderr, "maprace-report: %s: read error\n", name);
        good = false;
    } else if (valid == 0 && damaged > 0) {
        fprintf(stderr, "maprace-report: %s: not a race log (%ld line%s, none a race record)\n", name,
                damaged, damaged == 1 ? "" : "s");
        good = false;
    }
    free(line);
    return good;
}

void racelog_free(racelog *r)
{
    if (r != NULL)
        free(r->groups);
    free(r);
}

void racelog_finish(racelog *r)
{
    if (r->damaged > MAX_WARNINGS)
        fprintf(stderr, "maprace-report: %ld more damaged lines skipped\n", r->damaged - MAX_WARNINGS);
    if (r->mode == RACELOG_SUMMARY)
        print_summary(r);
}
