/*
 * fuzz_suppressions — libFuzzer target for the suppressions file parser
 * (lib/suppressions.c): any bytes as the file, then a match.  The parser
 * must accept or refuse with a FILE:LINE message.
 */
#include "suppressions.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static suppressions s;
    s.n = 0;
    FILE *f = fmemopen(size > 0 ? (void *)data : (void *)"", size, "r");
    if (f == NULL)
        abort();
    char err[512] = "";
    if (suppressions_read(f, "fuzz", &s, err, sizeof err)) {
        for (int i = 0; i < s.n; i++)
            if (s.pattern[i][0] == '\0')
                abort(); /* an empty pattern accepted */
        (void)suppressions_match(&s, "cleanup_sessions");
    } else if (strncmp(err, "fuzz:", 5) != 0) {
        abort(); /* refused without FILE:LINE */
    }
    fclose(f);
    return 0;
}
