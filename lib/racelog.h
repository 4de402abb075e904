/*
 * racelog.h — reading the race logs libmaprace.so writes (JSON Lines, one
 * race record a line), for maprace-report: each race printed as Go's
 * report, grouped into a summary, or passed on as it is.
 */
#ifndef MAPRACE_RACELOG_H
#define MAPRACE_RACELOG_H

#include <stdbool.h>
#include <stdio.h>

typedef enum {
    RACELOG_TEXT,    /* each race as Go's report, with the map's history */
    RACELOG_SUMMARY, /* races grouped by signature, printed at the end */
    RACELOG_JSON,    /* the valid lines, unchanged */
} racelog_mode;

typedef struct racelog racelog;

/* A reader printing in `mode` to stdout; NULL without memory. */
racelog *racelog_new(racelog_mode mode);
/* Reads one log (named `name` in warnings, on stderr); false if it could
 * not be read, or had lines and none of them a race record. */
bool racelog_read(racelog *r, FILE *f, const char *name);
/* Races read so far. */
long racelog_races(const racelog *r);
/* After the last log: the count of damaged lines not named one by one,
 * and the summary. */
void racelog_finish(racelog *r);
void racelog_free(racelog *r);

#endif /* MAPRACE_RACELOG_H */
