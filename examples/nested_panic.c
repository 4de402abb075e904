/*
 * nested_panic — a panic in a deferred call while panicking.  Go prints the
 * chain, oldest first, later ones indented:
 *
 *     panic: first
 *         panic: second
 *
 * The outer deferred call still ran.  Exit status 2.
 */
#include <maprt_defer.h>

#include <stdio.h>

static void say(void *msg) { printf("%s\n", (const char *)msg); fflush(stdout); }
static void panic_second(void *arg) { (void)arg; mr_panic_str("second"); }

int main(void)
{
    MR_FRAME(return 0);
    mr_defer(say, "outer deferred call ran");
    mr_defer(panic_second, NULL);
    mr_panic_str("first");
}
