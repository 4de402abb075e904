/*
 * traceback.h — capturing goroutines' stacks for a report.
 *
 * A stack is captured by the goroutine's own thread: the calling thread
 * directly, any other through a signal whose handler records where it was
 * interrupted.  Capture only records PCs and frame addresses (cheap, no
 * allocation);
 * symbolize.h turns them into names and lines when the report is printed.
 */
#ifndef MAPRT_TRACEBACK_H
#define MAPRT_TRACEBACK_H

#include "g.h"

#include <stdbool.h>

/* The calling thread's stack, innermost first, without the capture itself. */
void mr_capture_self(mr_stack *st);

/* The stack of the code a signal interrupted, from inside its handler
 * (ucontext is the handler's third argument): the interrupted frame
 * first, as exact.  False if the unwinder could not find it. */
bool mr_capture_context(mr_stack *st, const void *ucontext);

/* Asks g, already marked (capture == 1), for its stack by signal; the
 * answer is awaited by mr_capture_others. */
void mr_capture_ask(mr_g *g);

/* Asks every live goroutine but the caller (and those already captured) to
 * capture its own stack; waits up to timeout_ms.  A goroutine that did not
 * answer in time is left with capture != 2. */
void mr_capture_others(int timeout_ms);

#endif /* MAPRT_TRACEBACK_H */
