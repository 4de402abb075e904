/*
 * defer_line — a deferred call that panics while its function returns, so
 * that the traceback shows the function at the line it returns from (the
 * closing brace when it falls off the end, the return statement
 * otherwise), as Go does; and a deferred call run by a panic, so that the
 * traceback shows Go's panic frame between it and the function that
 * panicked.  Built by t_deferline.sh with gcc and clang at several
 * optimisation levels.
 *
 *     defer_line falls | early | returns | returns-last | returns-void | panics
 */
#include <maprt.h>
#include <maprt_defer.h>

#include <stdio.h>
#include <string.h>

static void boom(void *arg)
{
    mr_panic_str((const char *)arg); /* LINE(boom) */
}

static volatile int sink;

__attribute__((noinline)) static void falls(void)
{
    MR_FRAME(return);
    mr_defer(boom, "boom at the end");
    sink = 1;
} /* LINE(falls_end) */

__attribute__((noinline)) static int early(int x)
{
    MR_FRAME(return 0);
    mr_defer(boom, "boom at a return");
    if (x > 0)
        return sink + 1; /* LINE(early_return) */
    sink = 2;
    return 2;
} /* LINE(early_end) */

/* The same with MR_RETURN: shown at the return statement taken. */
__attribute__((noinline)) static int returns(int x)
{
    MR_FRAME(return 0);
    mr_defer(boom, "boom at MR_RETURN");
    if (x > 0)
        MR_RETURN(sink + 1); /* LINE(mr_return) */
    sink = 3;
    MR_RETURN(3); /* LINE(mr_return_last) */
}

__attribute__((noinline)) static void returns_void(int x)
{
    MR_FRAME(return);
    mr_defer(boom, "boom at MR_RETURN()");
    if (x > 1)
        sink = 5;
    else
        MR_RETURN(); /* LINE(mr_return_void) */
    sink = 4;
}

__attribute__((noinline)) static void panics(void)
{
    MR_FRAME(return);
    mr_defer(boom, "second");
    mr_panic_str("first"); /* LINE(first_panic) */
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    if (strcmp(mode, "falls") == 0)
        falls();
    if (strcmp(mode, "early") == 0)
        return early(argc);
    if (strcmp(mode, "returns") == 0)
        return returns(argc);
    if (strcmp(mode, "returns-last") == 0)
        return returns(0);
    if (strcmp(mode, "returns-void") == 0)
        returns_void(1);
    if (strcmp(mode, "panics") == 0)
        panics();
    fprintf(stderr, "usage: defer_line falls|early|returns|returns-last|returns-void|panics\n");
    return 64;
}
