/*
 * report.h — fatal errors and panics printed in Go's layout.
 *
 *     fatal error: concurrent map writes
 *
 *     goroutine 7 [running]:
 *     cleanup_cache(...)
 *     	/abs/path/examples/defer_writes.c:31 +0x4c
 *     created by main in goroutine 1
 *     	/abs/path/examples/defer_writes.c:55 +0x71
 *
 *     goroutine 8 [running, writing map]:
 *     ...
 *
 * One report per process: the first thread to begin one makes it, any
 * other thread that fails meanwhile waits for the exit.  Each section is
 * written with one write(2).  GOTRACEBACK is honoured with Go's meanings.
 */
#ifndef MAPRT_REPORT_H
#define MAPRT_REPORT_H

#include "g.h"
#include "maprt_hooks.h"

#include <stdbool.h>
#include <stddef.h>

typedef enum mr_tblevel {
    MR_TB_NONE,   /* the message only */
    MR_TB_SINGLE, /* the default */
    MR_TB_ALL,    /* every goroutine */
    MR_TB_SYSTEM, /* and the runtime's own frames */
    MR_TB_CRASH,  /* as system, then abort (core dump) */
} mr_tblevel;

/* GOTRACEBACK, read once. */
mr_tblevel mr_traceback_level(void);

/* Claims the report for the calling thread; returns only to the first. */
void mr_report_begin(void);

/* Whether a report has begun (the process is ending with it). */
bool mr_report_under_way(void);

/* Whether the calling thread is the one making the report. */
bool mr_report_mine(void);

/* The report is of the runtime's own failure: its sections show the
 * runtime's frames and each frame's fp/sp/pc, as GOTRACEBACK=system. */
void mr_report_show_runtime(void);

/* A section of text: printf-style, written at once. */
__attribute__((format(printf, 1, 2))) void mr_report_printf(const char *fmt, ...);

/* "goroutine N [status]:", its frames and its "created by" lines, after a
 * blank line.  extra is appended to the status ("writing map"); note, if
 * not NULL, is a line printed after the frames (or alone when st is
 * NULL); lastpc, if not 0, a call site printed as one more frame after
 * the note (a race's last write). */
void mr_report_section(const mr_g *g, const mr_stack *st, const char *extra, const char *note, uintptr_t lastpc);

/* Sections for every other live goroutine (not skip1 or skip2), with the
 * stacks captured by mr_capture_others. */
void mr_report_others(const mr_g *skip1, const mr_g *skip2);

/* The "[status]" word of a goroutine. */
const char *mr_gstatus_name(int status);

/* The report's goroutines for the report hook: an entry for g with its
 * stack (st may be NULL). */
mr_report_goroutine mr_report_entry(const mr_g *g, const mr_stack *st, mr_role role);

/* Calls mr_hook_report: the lead goroutines, then (if others) every other
 * live goroutine, with the stacks mr_capture_others took. */
void mr_report_notify(const char *kind, const char *message, const struct mr_map *map,
                      const struct mr_maptype *maptype, const char *tabletype, const mr_report_goroutine *lead,
                      int nlead, bool others);

/* Ends the process: status 2, or abort() for GOTRACEBACK=crash. */
__attribute__((noreturn)) void mr_report_exit(void);

#endif /* MAPRT_REPORT_H */
