/*
 * options.c — parsing MAPRACE_OPTIONS (see options.h).
 */
#include "options.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool parse_int(const char *v, int lo, int hi, int *out)
{
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno != 0 || end == v || *end != '\0' || n < lo || n > hi)
        return false;
    *out = (int)n;
    return true;
}

bool maprace_parse_options(const char *text, bool secure, maprace_options *o, char *err, size_t errlen)
{
    memset(o, 0, sizeof *o);
    snprintf(o->log_path, sizeof o->log_path, "maprace");
    o->log_to_file = true;
    o->halt_on_error = 1;
    o->exitcode = 66;
    if (text == NULL)
        return true;
    char buf[8192];
    if (strlen(text) >= sizeof buf) {
        snprintf(err, errlen, "MAPRACE_OPTIONS is too long");
        return false;
    }
    strcpy(buf, text);
    for (char *save = NULL, *item = strtok_r(buf, ":", &save); item; item = strtok_r(NULL, ":", &save)) {
        char *eq = strchr(item, '=');
        if (eq == NULL) {
            snprintf(err, errlen, "MAPRACE_OPTIONS: '%s' is not key=value", item);
            return false;
        }
        *eq = '\0';
        const char *key = item, *value = eq + 1;
        bool good = true;
        if (strcmp(key, "log_path") == 0) {
            if (value[0] == '\0' || strlen(value) >= sizeof o->log_path - 32)
                good = false;
            else if (secure) {
                /* Secure-exec: no file chosen by the environment. */
                o->log_to_file = false;
            } else if (strcmp(value, "stderr") == 0) {
                o->log_to_file = false;
            } else {
                snprintf(o->log_path, sizeof o->log_path, "%s", value);
            }
        } else if (strcmp(key, "halt_on_error") == 0) {
            good = parse_int(value, 0, 1, &o->halt_on_error);
        } else if (strcmp(key, "exitcode") == 0) {
            good = parse_int(value, 0, 255, &o->exitcode);
        } else if (strcmp(key, "suppressions") == 0) {
            good = value[0] != '\0' && strlen(value) < sizeof o->suppressions;
            if (good)
                snprintf(o->suppressions, sizeof o->suppressions, "%s", value);
        } else if (strcmp(key, "verbosity") == 0) {
            good = parse_int(value, 0, 3, &o->verbosity);
        } else {
            snprintf(err, errlen,
                     "MAPRACE_OPTIONS: unknown option '%s' (known: log_path, halt_on_error, exitcode, "
                     "suppressions, verbosity)",
                     key);
            return false;
        }
        if (!good) {
            snprintf(err, errlen, "MAPRACE_OPTIONS: bad value '%s' for option '%s'", value, key);
            return false;
        }
    }
    return true;
}
