/*
 * fuzz_options — libFuzzer target for the MAPRACE_OPTIONS parser
 * (lib/options.c): any text, secure-exec or not.  The parser must accept
 * or refuse with a message, and what it accepts must be in range.
 */
#include "options.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (text == NULL)
        abort();
    memcpy(text, data, size);
    text[size] = '\0';
    for (int secure = 0; secure <= 1; secure++) {
        maprace_options o;
        char err[512] = "";
        if (maprace_parse_options(text, secure, &o, err, sizeof err)) {
            if (memchr(o.log_path, '\0', sizeof o.log_path) == NULL ||
                memchr(o.suppressions, '\0', sizeof o.suppressions) == NULL || o.halt_on_error < 0 ||
                o.halt_on_error > 1)
                abort(); /* accepted, but not a valid set of options */
        } else if (err[0] == '\0') {
            abort(); /* refused without saying why */
        }
    }
    free(text);
    return 0;
}
