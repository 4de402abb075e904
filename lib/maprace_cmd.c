/*
 * maprace — run a program with the race detector loaded.
 *
 *     maprace [options] [--] program [args...]
 *
 * Sets LD_PRELOAD to libmaprace.so and MAPRACE_OPTIONS from the options,
 * runs the program, says where the race log went, and exits with the
 * program's status (128+N if it was killed by signal N).  With --hb,
 * ThreadSanitizer's runtime is preloaded too, and map races are also
 * found by happens-before: two operations that no synchronisation
 * orders, even when they never overlap in time.
 */
#include "options.h"

#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef MAPRACE_LIBDIR
#define MAPRACE_LIBDIR "/usr/local/lib"
#endif
#ifndef MAPRACE_TSAN_RUNTIME
#define MAPRACE_TSAN_RUNTIME ""
#endif

static void usage(FILE *f)
{
    fprintf(f, "usage: maprace [options] [--] program [args...]\n"
               "Runs program with libmaprace.so loaded (LD_PRELOAD): concurrent use of\n"
               "libmaprt maps, GLib GHashTables or hsearch_r tables ends the program with\n"
               "Go's report, enriched with the table's history, and one JSON line in\n"
               "the race log.\n\n"
               "  -o, --log-path=PREFIX   race log PREFIX.<pid>.jsonl (default: maprace)\n"
               "      --no-log            report on stderr only\n"
               "      --exitcode=N        status when races were reported (default 66)\n"
               "      --hb                also find map races by happens-before, under\n"
               "                          ThreadSanitizer's runtime (preloaded: no rebuild)\n"
               "  -v, --verbose           say where the log goes (repeat for more)\n"
               "  -h, --help              this text\n\n"
               "Options already in MAPRACE_OPTIONS are kept; these are added after them.\n");
}

/* libmaprace.so: $MAPRACE_LIBRARY, else beside this program in a build
 * tree (.libs/), else the installed one. */
static void find_library(char *out, size_t n)
{
    const char *env = getenv("MAPRACE_LIBRARY");
    if (env != NULL && env[0] != '\0') {
        snprintf(out, n, "%s", env);
        return;
    }
    char self[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    if (len > 0) {
        self[len] = '\0';
        char *dir = dirname(self);
        snprintf(out, n, "%s/.libs/libmaprace.so", dir);
        if (access(out, R_OK) == 0)
            return;
    }
    snprintf(out, n, "%s/libmaprace.so", MAPRACE_LIBDIR);
}

/* ThreadSanitizer's shared runtime: $MAPRACE_TSAN, else the one the
 * compiler named at configure time, else the loader's search for gcc's. */
static const char *tsan_runtime(void)
{
    const char *env = getenv("MAPRACE_TSAN");
    if (env != NULL && env[0] != '\0')
        return env;
    if (MAPRACE_TSAN_RUNTIME[0] != '\0' && access(MAPRACE_TSAN_RUNTIME, R_OK) == 0)
        return MAPRACE_TSAN_RUNTIME;
    static const char *const dirs[] = {"/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64",
                                       "/usr/lib"};
    static char path[PATH_MAX];
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        snprintf(path, sizeof path, "%s/libtsan.so.2", dirs[i]);
        if (access(path, R_OK) == 0)
            return path;
    }
    return NULL;
}

static void add_option(char *opts, size_t n, const char *kv)
{
    size_t len = strlen(opts);
    snprintf(opts + len, n - len, "%s%s", len ? ":" : "", kv);
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"log-path", required_argument, NULL, 'o'}, {"no-log", no_argument, NULL, 'n'},
        {"exitcode", required_argument, NULL, 'e'}, {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},           {"hb", no_argument, NULL, 'b'},
        {NULL, 0, NULL, 0},
    };
    char opts[8192] = "";
    const char *inherited = getenv("MAPRACE_OPTIONS");
    if (inherited != NULL)
        snprintf(opts, sizeof opts, "%s", inherited);
    char log_prefix[4096] = "maprace";
    int verbose = 0, no_log = 0, hb = 0, c;
    while ((c = getopt_long(argc, argv, "+o:vh", longopts, NULL)) != -1) {
        char kv[4200];
        switch (c) {
        case 'o':
            snprintf(log_prefix, sizeof log_prefix, "%s", optarg);
            snprintf(kv, sizeof kv, "log_path=%s", optarg);
            add_option(opts, sizeof opts, kv);
            break;
        case 'n':
            no_log = 1;
            add_option(opts, sizeof opts, "log_path=stderr");
            break;
        case 'e':
            snprintf(kv, sizeof kv, "exitcode=%s", optarg);
            add_option(opts, sizeof opts, kv);
            break;
        case 'v':
            verbose++;
            break;
        case 'b':
            hb = 1;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "maprace: no program to run\n");
        usage(stderr);
        return 2;
    }
    if (verbose) {
        char kv[32];
        snprintf(kv, sizeof kv, "verbosity=%d", verbose > 3 ? 3 : verbose);
        add_option(opts, sizeof opts, kv);
    }
    char lib[PATH_MAX + 64];
    find_library(lib, sizeof lib);
    if (access(lib, R_OK) != 0) {
        fprintf(stderr, "maprace: cannot find libmaprace.so (%s): %s\n", lib, strerror(errno));
        return 2;
    }
    /* libmaprace.so first: its __tsan_on_report is then the one TSan
     * calls (the first definition in the loader's order wins). */
    char with[PATH_MAX * 3];
    snprintf(with, sizeof with, "%s", lib);
    if (hb) {
        const char *tsan = tsan_runtime();
        if (tsan == NULL || access(tsan, R_OK) != 0) {
            fprintf(stderr, "maprace: --hb needs ThreadSanitizer's runtime, libtsan.so.2 (Debian: libtsan2), "
                            "or MAPRACE_TSAN=/path/to/libtsan.so\n");
            return 2;
        }
        snprintf(with, sizeof with, "%s:%s", lib, tsan);
        /* TSan's interceptors need not check the memcpy and memset calls
         * of a program it did not instrument (that costs more than all
         * its maps; the map operations are told to it all the same), and
         * maprace's suppressions are TSan's too ("race:FUNCTION" is the
         * same syntax).  What TSAN_OPTIONS says already comes after, so
         * it wins. */
        static maprace_options parsed;
        char err[512], tsan_opts[16384];
        /* (A wrong option is the library's to report, when it starts.) */
        const char *supp = maprace_parse_options(opts, false, &parsed, err, sizeof err) ? parsed.suppressions : "";
        const char *old_tsan = getenv("TSAN_OPTIONS");
        snprintf(tsan_opts, sizeof tsan_opts, "ignore_noninstrumented_modules=1%s%s%s%s",
                 old_tsan && old_tsan[0] ? ":" : "", old_tsan ? old_tsan : "", supp[0] ? ":suppressions=" : "", supp);
        setenv("TSAN_OPTIONS", tsan_opts, 1);
    }
    /* Keep whatever was preloaded already. */
    char preload[16384];
    const char *old = getenv("LD_PRELOAD");
    snprintf(preload, sizeof preload, "%s%s%s", with, old && old[0] ? ":" : "", old ? old : "");
    setenv("LD_PRELOAD", preload, 1);
    if (opts[0])
        setenv("MAPRACE_OPTIONS", opts, 1);

    pid_t pid = fork();
    if (pid < 0) {
        perror("maprace: fork");
        return 2;
    }
    if (pid == 0) {
        execvp(argv[optind], argv + optind);
        /* As shells say it: 127 not found, 126 found but not runnable. */
        int err = errno;
        struct stat sb;
        if (stat(argv[optind], &sb) == 0 && S_ISDIR(sb.st_mode)) {
            fprintf(stderr, "maprace: cannot run %s: is a directory\n", argv[optind]);
            _exit(126);
        }
        fprintf(stderr, "maprace: cannot run %s: %s\n", argv[optind], strerror(err));
        _exit(err == ENOENT || err == ENOTDIR ? 127 : 126);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0) {
        if (errno != EINTR) {
            perror("maprace: waitpid");
            return 2;
        }
    }
    if (!no_log) {
        char path[4200];
        snprintf(path, sizeof path, "%s.%d.jsonl", log_prefix, (int)pid);
        struct stat sb;
        if (stat(path, &sb) == 0)
            fprintf(stderr, "maprace: race log: %s\n", path);
        else if (verbose)
            fprintf(stderr, "maprace: no race logged\n");
    }
    if (WIFEXITED(st))
        return WEXITSTATUS(st);
    if (WIFSIGNALED(st))
        return 128 + WTERMSIG(st);
    return 2;
}
