/*
 * t_symbols — reports name the right functions and lines in every kind of
 * binary: a PIE executable, a frame in a shared library, an executable
 * without debug info (symbol + offset) and a stripped one (module +
 * offset).
 */
#include "child.h"
#include "tap.h"

#include <elf.h>
#include <stdio.h>
#include <string.h>

static bool is_pie(const char *path)
{
    FILE *f = fopen(path, "rb");
    Elf64_Ehdr eh;
    bool pie = f && fread(&eh, sizeof eh, 1, f) == 1 && eh.e_type == ET_DYN;
    if (f)
        fclose(f);
    return pie;
}

static void run(const char *path, const char *arg, child_result *r)
{
    char *argv[] = {(char *)path, (char *)arg, NULL};
    if (!child_run(argv, 30, r))
        bail("cannot run %s", path);
}

int main(int argc, char **argv)
{
    const char *dir = test_dir(argv[0]);
    char path[4096], want[4200];
    child_result r;

    snprintf(path, sizeof path, "%s/race_child", dir);
    run(path, "writes", &r);
    ok(is_pie(path) && strstr(r.err, "\nwriter(...)\n\t/") && strstr(r.err, "/tests/race_child.c:"),
       "PIE executable: function, absolute source path and line");

    snprintf(path, sizeof path, "%s/solib_child", dir);
    run(path, NULL, &r);
    ok(r.status == 2 && strstr(r.err, "\nsolib_write_forever(...)\n\t/") && strstr(r.err, "/tests/solib.c:") &&
           strstr(r.err, "\nracer(...)\n\t/"),
       "a frame in a shared library: its function and line, then the caller in the executable");

    snprintf(path, sizeof path, "%s/race_child.nodebug", dir);
    run(path, "writes", &r);
    snprintf(want, sizeof want, "\nwriter(...)\n\t/");
    bool named = strstr(r.err, want) != NULL;
    snprintf(want, sizeof want, "/race_child.nodebug +0x");
    ok(r.status == 2 && named && strstr(r.err, want) != NULL,
       "no debug info: the symbol name, the module's absolute path and +0xOFF");
    if (!strstr(r.err, want))
        diag("looked for '%s' in:\n%s", want, r.err);

    snprintf(path, sizeof path, "%s/race_child.stripped", dir);
    run(path, "writes", &r);
    snprintf(want, sizeof want, "\n?(...)\n\t/");
    bool anonymous = strstr(r.err, want) != NULL;
    snprintf(want, sizeof want, "/race_child.stripped+0x");
    ok(r.status == 2 && anonymous && strstr(r.err, want) != NULL &&
           strstr(r.err, "fatal error: concurrent map writes\n"),
       "stripped: no symbol, so the module and offset");
    if (!strstr(r.err, want))
        diag("looked for '%s' in:\n%s", want, r.err);
    return tap_done();
}
