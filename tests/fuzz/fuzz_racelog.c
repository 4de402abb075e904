/*
 * fuzz_racelog — libFuzzer target for the race-log reader (lib/racelog.c),
 * the code maprace-report runs on a log: any bytes, in each of its three
 * modes.  Seeds: real logs (tests/fuzz/seeds/racelog).
 */
#include "racelog.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const racelog_mode modes[] = {RACELOG_TEXT, RACELOG_SUMMARY, RACELOG_JSON};
    for (size_t m = 0; m < sizeof modes / sizeof modes[0]; m++) {
        FILE *f = fmemopen(size > 0 ? (void *)data : (void *)"", size, "r");
        racelog *r = racelog_new(modes[m]);
        if (f == NULL || r == NULL)
            abort();
        racelog_read(r, f, "fuzz");
        racelog_finish(r);
        racelog_free(r);
        fclose(f);
    }
    return 0;
}
