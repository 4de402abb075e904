/*
 * t_defer — Go's facts about defer, panic, recover, Goexit and goroutines
 * (measured on Go 1.19, the spec's Appendix A), each checked on a child
 * process's exact stdout, the start of its stderr and its exit status.
 */
#include "child.h"
#include "tap.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char helper[4096];

typedef struct expect {
    const char *scenario;
    const char *fact;
    int status;
    const char *out;      /* exact stdout */
    const char *err;      /* stderr starts with this (NULL: empty stderr) */
    const char *contains; /* and contains this, if set */
    const char *lacks;    /* and not this, if set */
    const char *env;      /* GOTRACEBACK for the run, if set */
} expect;

static const expect facts[] = {
    {"lifo", "deferred calls run LIFO at every return", 0,
     "defer 2\ndefer 1\nreturned 1\ndefer 3\ndefer 2\ndefer 1\nreturned 2\n"
     "defer 3\ndefer 2\ndefer 1\nreturned 11\n",
     NULL, NULL, NULL},
    {"args", "a deferred call's argument is captured at the defer", 0, "arg 2\narg 1\n", NULL, NULL, NULL},
    {"panic-str", "panic(string): the function's defers run first, then 'panic: boom', exit 2", 2,
     "main deferred\n", "panic: boom\n\ngoroutine 1 [running]:\nmain(...)\n\t/", "/tests/go_child.c:", NULL},
    {"panic-int", "panic(42) prints 'panic: 42'", 2, "main deferred\n", "panic: 42\n\ngoroutine 1 [running]:\n",
     NULL, NULL},
    {"panic-err", "panic(error) prints the error's message", 2, "main deferred\n",
     "panic: custom failure 7\n\ngoroutine 1 [running]:\n", NULL, NULL},
    {"recover", "recover stops the panic; the function returns normally; its other defers run", 0,
     "f: deferred after recoverer (runs first)\nrecovered: boom (kind 1)\nf: first deferred (runs last)\n"
     "f returned -1\nmain goes on\n",
     NULL, NULL, NULL},
    {"recover-helper", "recover in a helper called by the deferred call returns nil; the panic goes on", 2,
     "helper's recover: nil\n", "panic: boom\n\ngoroutine 1 [running]:\n", NULL, NULL},
    {"recover-normal", "recover outside panicking returns nil, in normal code and at normal return", 0,
     "recover outside a deferred call: nil\nrecovered: nil (kind 0)\n", NULL, NULL, NULL},
    {"nested", "a panic in a deferred call during panicking: 'panic: first' then '\\tpanic: second'", 2,
     "outer deferred\n", "panic: first\n\tpanic: second\n\ngoroutine 1 [running]:\n", "\nsecond_panic(...)\n",
     NULL},
    {"repanic", "re-panic of a recovered value: 'panic: boom [recovered]' then '\\tpanic: boom'", 2, "",
     "panic: boom [recovered]\n\tpanic: boom\n\ngoroutine 1 [running]:\n", "\nrepanic(...)\n", NULL},
    {"nilmap-recover", "nil map assignment is a recoverable runtime error with Go's message", 0,
     "recovered: assignment to entry in nil map (kind 4)\nf returned -7\n", NULL, NULL, NULL},
    {"nilmap-panic", "nil map assignment: the defers run, then 'panic: assignment to entry in nil map'", 2,
     "main deferred\n", "panic: assignment to entry in nil map\n\ngoroutine 1 [running]:\nmain(...)\n", NULL,
     NULL},
    {"goexit", "Goexit runs the goroutine's defers LIFO (recover gives nil); others go on", 0,
     "recovered: nil (kind 0)\ninner deferred\nouter deferred\nmain goes on\n", NULL, NULL, NULL},
    {"goexit-main", "Goexit in main: defers run, others finish, then only the deadlock message", 2,
     "main deferred\nother goroutine done\n",
     "fatal error: no goroutines (main called runtime.Goexit) - deadlock!\n", NULL, "\n\n"},
    {"panic-goroutine", "unrecovered panic in a goroutine: its defers ran, main's did not, only it is shown", 2,
     "goroutine deferred\n", "panic: goroutine boom\n\ngoroutine 2 [running]:\npanicking_goroutine(...)\n",
     "created by main in goroutine 1\n\t/", "goroutine 1 ["},
    {"fatal-no-defers", "a fatal error is not recovered and runs no deferred call", 2, "",
     "fatal error: concurrent map writes\n\ngoroutine ", "created by main in goroutine 1\n", "recovered"},
    {"statuses", "blocked goroutines show [semacquire] and [sync.Mutex.Lock], with the API frame they wait in", 2, "",
     "fatal error: concurrent map writes\n", "[semacquire]:\nmr_wg_wait(...)\n\t/", NULL},
    {"statuses", "...", 2, "", "fatal error: concurrent map writes\n", "[sync.Mutex.Lock]:\nmr_mutex_lock(...)\n\t/",
     NULL},
    {"statuses", "... then the program's frame", 2, "", "fatal error: concurrent map writes\n",
     "\nblocked_on_wait(...)\n\t/", NULL},
    {"statuses", "a goroutine in sleep() shows [sleep], read from where its stack stopped", 2, "",
     "fatal error: concurrent map writes\n", "\ngoroutine 1 [sleep]:\nmain(...)\n", NULL},
    {"panic-goroutine", "GOTRACEBACK=all: an unrecovered panic shows the other goroutines too", 2,
     "goroutine deferred\n", "panic: goroutine boom\n\ngoroutine 2 [running]:\n", "\ngoroutine 1 [", NULL, "all"},
    {"panic-str", "GOTRACEBACK=none: the panic message only", 2, "main deferred\n", "panic: boom\n", NULL,
     "goroutine", "none"},
    {"deaf", "a goroutine that cannot be asked for its stack is listed with a note; no hang", 2, "",
     "fatal error: concurrent map writes\n", "stack not captured: the goroutine did not answer in time", NULL},
    {"stale-frame", "defer into a frame whose function returned is a clear fatal error", 2, "",
     "fatal error: defer outside a frame", NULL, NULL},
    {"unlock-unlocked", "unlocking an unlocked mutex is Go's fatal error", 2, "",
     "fatal error: sync: unlock of unlocked mutex\n", NULL, NULL},
    {"wg-negative", "a negative WaitGroup counter panics", 2, "", "panic: sync: negative WaitGroup counter\n", NULL,
     NULL},
};

int main(int argc, char **argv)
{
    snprintf(helper, sizeof helper, "%s/go_child", test_dir(argv[0]));
    for (size_t i = 0; i < sizeof facts / sizeof facts[0]; i++) {
        const expect *e = &facts[i];
        char *av[] = {helper, (char *)e->scenario, NULL};
        child_result r;
        if (e->env)
            setenv("GOTRACEBACK", e->env, 1);
        if (!child_run(av, 30, &r))
            bail("cannot run %s", helper);
        unsetenv("GOTRACEBACK");
        bool good = r.status == e->status && strcmp(r.out, e->out) == 0 &&
                    (e->err ? strncmp(r.err, e->err, strlen(e->err)) == 0 : r.err[0] == '\0') &&
                    (!e->contains || strstr(r.err, e->contains)) && (!e->lacks || !strstr(r.err, e->lacks));
        ok(good, "%s: %s", e->scenario, e->fact);
        if (!good)
            diag("status %d (signal %d)\n--- stdout:\n%s--- stderr:\n%s", r.status, r.signal, r.out, r.err);
    }
    return tap_done();
}
