/*
 * t_options — MAPRACE_OPTIONS as parsed (lib/options.c): defaults, each
 * option, errors named, and log_path ignored in a secure-exec process (a
 * set-uid program must not write where its environment says).
 */
#include "tap.h"

#include "options.h"

#include <string.h>

static bool parse(const char *text, bool secure, maprace_options *o, char *err)
{
    err[0] = '\0';
    return maprace_parse_options(text, secure, o, err, 512);
}

int main(void)
{
    maprace_options o;
    char err[512];
    ok(parse(NULL, false, &o, err) && strcmp(o.log_path, "maprace") == 0 && o.log_to_file && o.halt_on_error == 1 &&
           o.exitcode == 66 && o.suppressions[0] == '\0' && o.verbosity == 0,
       "defaults: log maprace.<pid>.jsonl, halt, exit code 66");
    ok(parse("log_path=/tmp/races:halt_on_error=0:exitcode=7:suppressions=/s:verbosity=2", false, &o, err) &&
           strcmp(o.log_path, "/tmp/races") == 0 && o.log_to_file && o.halt_on_error == 0 && o.exitcode == 7 &&
           strcmp(o.suppressions, "/s") == 0 && o.verbosity == 2,
       "every option read");
    ok(parse("log_path=stderr", false, &o, err) && !o.log_to_file, "log_path=stderr: no log file");
    ok(parse("log_path=/tmp/races", true, &o, err) && !o.log_to_file && strcmp(o.log_path, "/tmp/races") != 0,
       "secure-exec: log_path is ignored (no file chosen by the environment)");
    ok(!parse("bogus=1", false, &o, err) && strstr(err, "unknown option 'bogus'") != NULL, "an unknown option named");
    ok(!parse("exitcode=300", false, &o, err) && strstr(err, "bad value '300' for option 'exitcode'") != NULL,
       "an out-of-range value named");
    ok(!parse("halt_on_error", false, &o, err) && strstr(err, "is not key=value") != NULL, "a bare word named");
    char big[9000];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    ok(!parse(big, false, &o, err) && strstr(err, "too long") != NULL, "an over-long value refused");
    return tap_done();
}
