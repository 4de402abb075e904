/*
 * maprace-report — read race logs written by libmaprace.so.
 *
 *     maprace-report [--text | --summary | --json] LOG...
 *
 *   --text     (default) each race as Go's report, with the map's history
 *   --summary  races grouped by signature (kind and the top frames of the
 *              goroutine that noticed and of the writer): counts, maps,
 *              where the deferred calls that touched them were deferred
 *   --json     the valid lines, as JSON Lines
 *
 * Logs are read after crashes and copied between machines, so any bytes
 * may arrive: each line is parsed by jansson, and a damaged line is
 * skipped with a warning (the first few as FILE:LINE, then a count).  A
 * log with lines but no valid one is an error.  Exit status: 0 no race
 * found, 1 races found, 2 a log could not be read, held no valid line, or
 * the command line was wrong.
 */
#include "racelog.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

static void usage(FILE *f)
{
    fprintf(f, "usage: maprace-report [--text | --summary | --json] LOG...\n"
               "Reads race logs (JSON Lines written by libmaprace.so) and prints each race\n"
               "as Go's report (--text, the default), a summary grouped by signature, or\n"
               "the valid lines (--json).  Exit status: 0 no race, 1 races, 2 error.\n");
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {{"text", no_argument, NULL, 't'},
                                             {"summary", no_argument, NULL, 's'},
                                             {"json", no_argument, NULL, 'j'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    racelog_mode m = RACELOG_TEXT;
    int c;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 't': m = RACELOG_TEXT; break;
        case 's': m = RACELOG_SUMMARY; break;
        case 'j': m = RACELOG_JSON; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "maprace-report: no log to read\n");
        usage(stderr);
        return 2;
    }
    racelog *r = racelog_new(m);
    if (r == NULL) {
        fprintf(stderr, "maprace-report: out of memory\n");
        return 2;
    }
    bool failed = false;
    for (int i = optind; i < argc; i++) {
        FILE *f = fopen(argv[i], "r");
        if (f == NULL) {
            fprintf(stderr, "maprace-report: %s: %m\n", argv[i]);
            failed = true;
            continue;
        }
        failed |= !racelog_read(r, f, argv[i]);
        fclose(f);
    }
    racelog_finish(r);
    int status = failed ? 2 : racelog_races(r) > 0 ? 1 : 0;
    racelog_free(r);
    return status;
}
