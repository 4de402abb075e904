/*
 * suppressions.c — reading and matching the suppressions file (see
 * suppressions.h).  The file is the user's: any bytes, any line length.
 */
#include "suppressions.h"

#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

bool suppressions_read(FILE *f, const char *name, suppressions *s, char *err, size_t errlen)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    bool good = true;
    for (int lineno = 1; good && (len = getline(&line, &cap, f)) >= 0; lineno++) {
        if (memchr(line, '\0', (size_t)len) != NULL) {
            snprintf(err, errlen, "%s:%d: a NUL byte: not a suppressions file", name, lineno);
            good = false;
            break;
        }
        char *p = line + strspn(line, " \t");
        p[strcspn(p, "#\r\n")] = '\0';
        for (size_t n = strlen(p); n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'); n--)
            p[n - 1] = '\0';
        if (*p == '\0')
            continue;
        if (strncmp(p, "race:", 5) != 0 || p[5] == '\0') {
            snprintf(err, errlen, "%s:%d: expected race:FUNCTION, got '%.80s'", name, lineno, p);
            good = false;
        } else if (strlen(p + 5) >= SUPPRESSION_LEN) {
            snprintf(err, errlen, "%s:%d: a pattern longer than %d bytes", name, lineno, SUPPRESSION_LEN - 1);
            good = false;
        } else if (s->n == SUPPRESSIONS_MAX) {
            snprintf(err, errlen, "%s:%d: more than %d patterns", name, lineno, SUPPRESSIONS_MAX);
            good = false;
        } else {
            memcpy(s->pattern[s->n++], p + 5, strlen(p + 5) + 1);
        }
    }
    free(line);
    return good;
}

bool suppressions_match(const suppressions *s, const char *function)
{
    for (int i = 0; i < s->n; i++)
        if (fnmatch(s->pattern[i], function, 0) == 0)
            return true;
    return false;
}
