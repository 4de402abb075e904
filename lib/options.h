/*
 * options.h — MAPRACE_OPTIONS, in the sanitizer style:
 *
 *     MAPRACE_OPTIONS=log_path=/tmp/races:verbosity=1
 *
 *   log_path       where race logs go: "stderr" for none, else a path
 *                  prefix; the log is PREFIX.<pid>.jsonl (default
 *                  "maprace", in the current directory).  Ignored in
 *                  set-uid/secure-exec processes.
 *   halt_on_error  1 (default): a race is fatal, as in Go.
 *   exitcode       status when races were reported and the program
 *                  otherwise succeeded (default 66, as TSan).
 *   suppressions   a file of "race:FUNCTION" lines.
 *   verbosity      0 (default), 1: say where the log goes, 2: more.
 */
#ifndef MAPRACE_OPTIONS_H
#define MAPRACE_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>

typedef struct maprace_options {
    char log_path[4096];   /* "" when logging to a file is off */
    bool log_to_file;
    int halt_on_error;
    int exitcode;
    char suppressions[4096];
    int verbosity;
} maprace_options;

/* Parses text (NULL: defaults).  On error, writes one line naming the
 * option into err and returns false. */
bool maprace_parse_options(const char *text, bool secure, maprace_options *o, char *err, size_t errlen);

#endif /* MAPRACE_OPTIONS_H */
