/*
 * panic.h — the runtime's side of defer, panic and recover (panic.c).
 */
#ifndef MAPRT_PANIC_H
#define MAPRT_PANIC_H

#include "g.h"
#include "maprt_defer.h"

#include <stdbool.h>

/* A deferred call (Go's _defer). */
typedef struct mr_defer_rec {
    struct mr_defer_rec *next;   /* the one deferred before it, same frame */
    struct mr_defer_rec *outer;  /* while running: the deferred call it runs within */
    int depth;                   /* while running: its frame's depth */
    void (*fn)(void *);
    void *arg;
    uintptr_t pc;                /* where it was deferred */
    struct mr_panic_rec *panic;  /* the panic running it, if any */
    void *heapcopy;              /* a copied argument too large for inline */
    size_t heapsize;
    unsigned char inline_copy[64];
} mr_defer_rec;

/* A panic or Goexit under way (Go's _panic). */
typedef struct mr_panic_rec {
    struct mr_panic_rec *link;   /* the one it interrupted */
    mr_value value;
    bool recovered;
    bool aborted;                /* a later panic began in one of its deferred calls */
    bool goexit;
    int defer_depth;             /* depth of the frame whose deferred call it runs */
    mr_stack stack;              /* where it was raised */
} mr_panic_rec;

/* panic(v) raised by the runtime itself: a plain message (Go's
 * plainError, printed without "runtime error: "), recoverable. */
__attribute__((noreturn)) void mr_panic_plain(const char *msg);
__attribute__((noreturn)) void mr_panic_runtime_error(const char *msg);
/* Notes in st which of its frames are returning through MR_RETURN (the
 * calling goroutine's frames; called by the stack captures). */
void mr_stack_note_returns(mr_stack *st);

/* panic(v) raised at the place stack at was captured (a fault's). */
__attribute__((noreturn)) void mr_panic_at(mr_value v, const mr_stack *at);

#endif /* MAPRT_PANIC_H */
