/*
 * report.c — what libmaprace.so adds to a race report: a section on stderr
 * naming the map and the deferred calls that touched it, and one line of
 * JSON in the race log (schema v1, documented in the README).
 *
 * Called from the report hook, by the reporting thread, with the other
 * goroutines stopped.  Output is built in static buffers and written with
 * one write(2) each; the log line is written before the process ends, so
 * it survives whatever happens next.
 */
#include "preload.h"

#include <maprt.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- a text buffer ------------------------------------------------------- */

typedef struct buf {
    char *p;
    size_t cap, len;
} buf;

__attribute__((format(printf, 2, 3))) static void put(buf *b, const char *fmt, ...)
{
    if (b->len >= b->cap - 1)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        b->len += (size_t)n < b->cap - b->len ? (size_t)n : b->cap - b->len - 1;
}

/* A JSON string (with its quotes), or null. */
static void put_json_string(buf *b, const char *s)
{
    if (s == NULL) {
        put(b, "null");
        return;
    }
    put(b, "\"");
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if (*c == '"' || *c == '\\')
            put(b, "\\%c", *c);
        else if (*c < 0x20)
            put(b, "\\u%04x", *c);
        else
            put(b, "%c", *c);
    }
    put(b, "\"");
}

static void write_all(int fd, const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, s, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        s += w;
        n -= (size_t)w;
    }
}

/* ---- frames -------------------------------------------------------------- */

static bool describe(uintptr_t pc, bool exact, mr_pcinfo *pi)
{
    return maprace_describe_pc != NULL && maprace_describe_pc(pc, exact, pi);
}

/* The runtime's and the C library's frames are not the user's story
 * (reports hide them, as Go hides runtime frames). */
static bool is_runtime(const mr_pcinfo *pi)
{
    return pi->runtime || pi->system;
}

/* Go's two-line frames, indented by one tab, at most max of them. */
static void put_frames_text(buf *b, const uintptr_t *pcs, int n, int max)
{
    int shown = 0;
    for (int i = 0; i < n && shown < max; i++) {
        mr_pcinfo pi;
        if (!describe(pcs[i], false, &pi))
            continue;
        if (pi.root)
            break;
        if (is_runtime(&pi))
            continue;
        if (pi.file)
            put(b, "\t%s(...)\n\t\t%s:%d +%#lx\n", pi.function ? pi.function : "?", pi.file, pi.line,
                (unsigned long)pi.offset);
        else
            put(b, "\t%s(...)\n\t\t%s +%#lx\n", pi.function ? pi.function : "?", pi.module ? pi.module : "?",
                (unsigned long)pi.offset);
        shown++;
    }
}

/* A frame as JSON: {"function":..,"file":..,"line":..,"pc":".."}. */
static void put_frame_json(buf *b, uintptr_t pc, bool exact)
{
    mr_pcinfo pi;
    bool known = describe(pc, exact, &pi);
    put(b, "{\"function\":");
    put_json_string(b, known ? pi.function : NULL);
    put(b, ",\"file\":");
    put_json_string(b, known ? pi.file : NULL);
    put(b, ",\"line\":%d,\"module\":", known ? pi.line : 0);
    put_json_string(b, known ? pi.module : NULL);
    put(b, ",\"offset\":%lu,\"hidden\":%s,\"root\":%s,\"pc\":\"%#lx\"}", known ? (unsigned long)pi.offset : 0UL,
        known && is_runtime(&pi) ? "true" : "false", known && pi.root ? "true" : "false", (unsigned long)pc);
}

static void put_stack_json(buf *b, const uintptr_t *pcs, int n, int exact)
{
    put(b, "[");
    for (int i = 0; i < n; i++) {
        if (i)
            put(b, ",");
        put_frame_json(b, pcs[i], i == exact);
    }
    put(b, "]");
}

/* "where it was deferred": the function and line of the defer. */
static void put_site_text(buf *b, uintptr_t pc)
{
    mr_pcinfo pi;
    if (describe(pc, false, &pi) && pi.file)
        put(b, "%s (%s:%d)", pi.function ? pi.function : "?", pi.file, pi.line);
    else if (describe(pc, false, &pi))
        put(b, "%s (%s +%#lx)", pi.function ? pi.function : "?", pi.module ? pi.module : "?",
            (unsigned long)pi.offset);
    else
        put(b, "%#lx", (unsigned long)pc);
}

static const char *why_name(mr_defer_why why)
{
    return why == MR_WHY_PANIC ? "panic" : why == MR_WHY_GOEXIT ? "goexit" : "return";
}

static bool at_goroutine_exit(const touch *t)
{
    return t->why == MR_WHY_GOEXIT || (t->why == MR_WHY_RETURN && t->depth == 1 && t->goid != 1);
}

static const char *why_text(const touch *t)
{
    if (t->why == MR_WHY_GOEXIT)
        return "run at goroutine exit (Goexit)";
    if (t->why == MR_WHY_PANIC)
        return "run while panicking";
    return at_goroutine_exit(t) ? "run at goroutine exit (its function returned)" : "run when its function returned";
}

static const char *const op_names[] = {"access", "assign", "delete", "clear", "iterate", "free"};

/* Is this deferred call running now in its goroutine? */
static bool running_now(const touch *t)
{
    running_defers *rd = records_running_of(t->goid);
    int n = rd ? atomic_load(&rd->n) : 0;
    for (int i = 0; i < n && i < MAX_RUNNING; i++)
        if (rd->ev[i].fn == t->fn && rd->ev[i].deferpc == t->deferpc)
            return true;
    return false;
}

/* ---- the stderr section and the log line ----------------------------------- */

typedef struct ctx {
    const mr_report_event *e;
    buf *text, *json;
} ctx;

static void put_touches(const maprec *r, buf *text, buf *json)
{
    int n = 0;
    for (const touch *t = r->touches; t != NULL; t = t->next)
        n++;
    if (n == 0)
        put(text, "maprace: no deferred call touched it.\n");
    else
        put(text, "maprace: deferred calls that touched it:\n");
    put(json, "\"defer_touches\":[");
    bool first = true;
    for (const touch *t = r->touches; t != NULL; t = t->next) {
        mr_pcinfo fn;
        bool named = describe((uintptr_t)t->fn, true, &fn) && fn.function;
        char fname[256];
        snprintf(fname, sizeof fname, "%s", named ? fn.function : "?");
        bool running = running_now(t);
        put(text, "\tgoroutine %llu: %s(...), deferred at ", (unsigned long long)t->goid, fname);
        put_site_text(text, t->deferpc);
        put(text, ", %s:", why_text(t));
        for (int op = 0; op <= MR_OP_FREE; op++)
            if (t->ops[op])
                put(text, " %s x%llu", op_names[op], (unsigned long long)t->ops[op]);
        put(text, "%s\n", running ? " [running at the race]" : "");

        put(json, "%s{\"goroutine\":%llu,\"function\":", first ? "" : ",", (unsigned long long)t->goid);
        put_json_string(json, named ? fname : NULL);
        put(json, ",\"deferred_at\":");
        put_frame_json(json, t->deferpc, false);
        put(json, ",\"first_touch\":");
        put_frame_json(json, t->firstpc, false);
        put(json, ",\"why\":\"%s\",\"at_goroutine_exit\":%s,\"running\":%s,\"ops\":{", why_name(t->why),
            at_goroutine_exit(t) ? "true" : "false", running ? "true" : "false");
        bool first_op = true;
        for (int op = 0; op <= MR_OP_FREE; op++)
            if (t->ops[op]) {
                put(json, "%s\"%s\":%llu", first_op ? "" : ",", op_names[op], (unsigned long long)t->ops[op]);
                first_op = false;
            }
        put(json, "}}");
        first = false;
    }
    put(json, "]");
}

static void with_record(const maprec *r, void *arg)
{
    ctx *c = arg;
    const mr_report_event *e = c->e;
    const char *type = r && r->type ? r->type : e->tabletype ? e->tabletype : "map";
    /* libmaprt's maps are maps; a GHashTable or hsearch_r table is a table. */
    bool table = e->maptype == NULL && strncmp(type, "map[", 4) != 0;
    put(c->text, "\nmaprace: %s %p (%s)", table ? "table" : "map", (const void *)e->map, type);
    put(c->json, "\"map\":{\"address\":\"%p\",\"type\":", (const void *)e->map);
    put_json_string(c->json, type);
    if (r == NULL) {
        put(c->text, ": made before maprace was watching\n");
        put(c->json, ",\"created_by\":null,\"creation_stack\":[]},\"defer_touches\":[]");
        return;
    }
    put(c->text, ", made by goroutine %llu at\n", (unsigned long long)r->creator);
    put_frames_text(c->text, r->create, r->ncreate, 6);
    put(c->json, ",\"created_by\":%llu,\"creation_stack\":", (unsigned long long)r->creator);
    put_stack_json(c->json, r->create, r->ncreate, -1);
    if (r->freed) {
        put(c->text, "maprace: freed by goroutine %llu at\n", (unsigned long long)r->freer);
        put_frames_text(c->text, r->freepcs, r->nfree, 6);
        put(c->json, ",\"freed_by\":%llu,\"free_stack\":", (unsigned long long)r->freer);
        put_stack_json(c->json, r->freepcs, r->nfree, -1);
    }
    put(c->json, "},");
    put_touches(r, c->text, c->json);
}

static void put_goroutines_json(buf *json, const mr_report_event *e)
{
    static const char *const roles[] = {"detector", "writer", "other"};
    put(json, ",\"goroutines\":[");
    for (int i = 0; i < e->ngoroutines; i++) {
        const mr_report_goroutine *g = &e->goroutines[i];
        running_defers *rd = records_running_of(g->goid);
        int n = rd ? atomic_load(&rd->n) : 0;
        put(json, "%s{\"id\":%llu,\"status\":", i ? "," : "", (unsigned long long)g->goid);
        put_json_string(json, g->status);
        put(json, ",\"role\":\"%s\",", roles[g->role <= MR_ROLE_OTHER ? g->role : MR_ROLE_OTHER]);
        if (g->doing != NULL) {
            put(json, "\"doing\":");
            put_json_string(json, g->doing);
            put(json, ",");
        }
        put(json, "\"in_defer\":");
        if (n > 0 && n <= MAX_RUNNING) {
            const mr_defer_event *d = &rd->ev[n - 1];
            mr_pcinfo fn;
            bool named = describe((uintptr_t)d->fn, true, &fn) && fn.function;
            put(json, "{\"function\":");
            put_json_string(json, named ? fn.function : NULL);
            put(json, ",\"deferred_at\":");
            put_frame_json(json, d->deferpc, false);
            put(json, ",\"why\":\"%s\"}", why_name(d->why));
        } else {
            put(json, "null");
        }
        put(json, ",\"stack\":");
        put_stack_json(json, g->pc, g->npc, g->exact);
        put(json, "}");
    }
    put(json, "]");
}

static void write_log(const char *line, size_t len)
{
    if (!maprace_opts.log_to_file)
        return;
    char path[4200];
    snprintf(path, sizeof path, "%s.%d.jsonl", maprace_opts.log_path, (int)getpid());
    /* 0600, appended in one write, never through a symlink, only to a
     * regular file of our own (not another user's, not a FIFO that would
     * block the report). */
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0600);
    const char *why = fd < 0 && errno == ENXIO ? "not a regular file" /* a FIFO without a reader */
                      : fd < 0                 ? strerror(errno)
                                               : NULL;
    struct stat sb;
    if (fd >= 0 && fstat(fd, &sb) != 0)
        why = strerror(errno);
    else if (fd >= 0 && !S_ISREG(sb.st_mode))
        why = "not a regular file";
    else if (fd >= 0 && sb.st_uid != geteuid())
        why = "the file belongs to another user";
    if (why != NULL) {
        if (fd >= 0)
            close(fd);
        char msg[4400];
        int n = snprintf(msg, sizeof msg, "maprace: warning: cannot write the race log %s: %s\n", path, why);
        write_all(2, msg, (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1);
        return;
    }
    write_all(fd, line, len);
    close(fd);
    if (maprace_opts.verbosity >= 1) {
        char msg[4400];
        int n = snprintf(msg, sizeof msg, "maprace: race logged to %s\n", path);
        write_all(2, msg, (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1);
    }
}

size_t maprace_frames_text(char *out, size_t cap, const uintptr_t *pcs, int n, int max)
{
    buf b = {out, cap, 0};
    out[0] = '\0';
    put_frames_text(&b, pcs, n, max);
    return b.len;
}

void maprace_report(const mr_report_event *e)
{
    maprace_report_with(e, NULL);
}

void maprace_report_with(const mr_report_event *e, const char *preface)
{
    if (e->map == NULL)
        return; /* a panic or a runtime failure: not a race */
    static char text_space[32768], json_space[131072];
    buf text = {text_space, sizeof text_space, 0}, json = {json_space, sizeof json_space, 0};

    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    struct tm tm;
    gmtime_r(&now.tv_sec, &tm);
    char program[4096];
    ssize_t pl = readlink("/proc/self/exe", program, sizeof program - 1);
    program[pl > 0 ? pl : 0] = '\0';

    put(&json, "{\"v\":1,\"kind\":");
    put_json_string(&json, e->kind);
    put(&json, ",\"time\":\"%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ\",\"pid\":%d,\"program\":", tm.tm_year + 1900,
        tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, now.tv_nsec / 1000000, (int)getpid());
    put_json_string(&json, program);
    put(&json, ",");
    ctx c = {e, &text, &json};
    if (preface != NULL)
        put(&text, "%s", preface);
    records_with_map(e->map, with_record, &c);
    put_goroutines_json(&json, e);
    put(&json, "}\n");

    /* The log first: once the report is on the screen, the line is on
     * disk, whatever kills the process next. */
    if (json.len < json.cap - 1)
        write_log(json.p, json.len);
    else
        write_all(2, "maprace: warning: the race was too large to log\n", 49);
    write_all(2, text.p, text.len);
}
