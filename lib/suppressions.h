/*
 * suppressions.h — the suppressions file: one pattern a line,
 * "race:FUNCTION" (shell-style wildcards), matched against the functions
 * of a race's stacks; '#' starts a comment, blank lines are ignored.
 */
#ifndef MAPRACE_SUPPRESSIONS_H
#define MAPRACE_SUPPRESSIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum { SUPPRESSIONS_MAX = 256, SUPPRESSION_LEN = 256 };

typedef struct suppressions {
    int n;
    char pattern[SUPPRESSIONS_MAX][SUPPRESSION_LEN];
} suppressions;

/* Reads the patterns of f (named name in messages) into s, after those
 * already there; false with "NAME:LINE: why" in err on the first bad line. */
bool suppressions_read(FILE *f, const char *name, suppressions *s, char *err, size_t errlen);

/* Whether a function name matches a pattern. */
bool suppressions_match(const suppressions *s, const char *function);

#endif /* MAPRACE_SUPPRESSIONS_H */
