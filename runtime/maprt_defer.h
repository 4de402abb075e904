/*
 * maprt_defer.h — Go's defer, panic, recover and Goexit for C.
 *
 * A function that defers calls declares a frame first.  The frame's
 * argument is the statement the function runs when a panic is recovered
 * by one of its deferred calls — the C spelling of Go's "the function
 * returns normally to its caller" (use `return` in a void function):
 *
 *     static void unlock(void *mu) { mr_mutex_unlock(mu); }
 *
 *     static void on_panic(void *arg)
 *     {
 *         mr_value r = mr_recover();          // must be called right here
 *         if (!mr_value_is_nil(r))
 *             fprintf(stderr, "recovered: %s\n", mr_value_string(r, buf, sizeof buf));
 *     }
 *
 *     int update(mr_mutex *mu, mr_map *m)
 *     {
 *         MR_FRAME(return -1);                // returns -1 after a recovered panic
 *         mr_defer(on_panic, NULL);           // runs second
 *         mr_mutex_lock(mu);
 *         mr_defer(unlock, mu);               // runs first (LIFO)
 *         ...                                 // any return runs both
 *         return 0;
 *     }
 *
 * Go's rules, all of them:
 *   - deferred calls run LIFO at every return of the function; their
 *     argument is captured when mr_defer runs (mr_defer_copy copies a
 *     whole struct of arguments then);
 *   - mr_panic runs the goroutine's deferred calls, innermost frame first;
 *     mr_recover() called directly by a deferred call stops the panic and
 *     the function that deferred it runs its MR_FRAME statement (its other
 *     deferred calls still run); anywhere else, or during Goexit, it
 *     returns the nil value;
 *   - an unrecovered panic prints "panic: ..." and the panicking
 *     goroutine's stack after its deferred calls ran, and exits with 2;
 *   - mr_goexit() runs all the goroutine's deferred calls, then ends it;
 *     in goroutine 1 the program goes on until the others end, then it is
 *     "fatal error: no goroutines (main called runtime.Goexit) - deadlock!";
 *   - fatal errors (map races, use after free) run no deferred call.
 *
 * Using mr_defer in a function without MR_FRAME does not compile.  Local
 * variables that change after MR_FRAME and are read in its statement must
 * be volatile (it is reached by longjmp).
 *
 * Panic values and how an unrecovered panic prints them (as Go does):
 *     mr_panic_str("boom")        panic: boom
 *     mr_panic_int(42)            panic: 42
 *     mr_panic_err(&e.err)        panic: <e.err.error(&e.err)>
 *     assignment to a nil map     panic: assignment to entry in nil map
 *                                 (a runtime error value, recoverable)
 */
#ifndef MAPRT_DEFER_H
#define MAPRT_DEFER_H

#include <setjmp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef MR_API
#define MR_API __attribute__((visibility("default")))
#endif

/* An error-like value: embed it first in your struct; error() returns the
 * message (Go's Error() string). */
typedef struct mr_error {
    const char *(*error)(const struct mr_error *self);
} mr_error;

typedef enum mr_valkind {
    MR_VAL_NIL = 0,
    MR_VAL_STRING,        /* a message */
    MR_VAL_INT,           /* an integer */
    MR_VAL_ERROR,         /* an mr_error */
    MR_VAL_RUNTIME_ERROR, /* raised by the runtime (nil map assignment) */
} mr_valkind;

/* A panic value (Go's interface{} for the cases C needs). */
typedef struct mr_value {
    mr_valkind kind;
    const char *str;      /* STRING, RUNTIME_ERROR */
    int64_t i;            /* INT */
    const mr_error *err;  /* ERROR */
} mr_value;

static inline bool mr_value_is_nil(mr_value v) { return v.kind == MR_VAL_NIL; }

/* The value as Go prints it ("boom", "42", the error's message), in buf. */
MR_API const char *mr_value_string(mr_value v, char *buf, size_t n);

/* ---- frames and defer ------------------------------------------------- */

/* A function's frame (Go's per-function defer list).  Private fields. */
typedef struct mr_frame {
    sigjmp_buf jb_;
    struct mr_frame *link_;
    void *defers_;
    void *g_;
    int state_;
    int depth_;
    void *running_;
    uintptr_t ret_pc_; /* MR_RETURN's call site, while the function returns */
} mr_frame;

MR_API sigjmp_buf *mr_frame_enter_(mr_frame *f);
MR_API __attribute__((noreturn)) void mr_frame_fellthrough_(void);
MR_API void mr_frame_leave_(mr_frame *f);
MR_API void mr_frame_returning_(mr_frame *f);
MR_API void mr_defer_(mr_frame *f, void (*fn)(void *), void *arg, const void *copy, size_t size);

#define MR_FRAME(on_recover)                                                   \
    mr_frame mr_frame_ __attribute__((cleanup(mr_frame_leave_)));              \
    if (sigsetjmp(*mr_frame_enter_(&mr_frame_), 0) != 0) {                     \
        on_recover;                                                            \
        mr_frame_fellthrough_(); /* the statement must leave the function */   \
    }                                                                          \
    do {                                                                       \
    } while (0)

/* return [value], in a function with MR_FRAME: as `return`, and a
 * traceback taken while its deferred calls run names this line, as Go
 * names the return statement.  (A plain `return` is named by the
 * function's closing brace: compilers merge a function's exits into one
 * call of the cleanup, so which one was taken is not known.)
 *
 *     MR_RETURN(-1);        MR_RETURN();   (in a void function) */
#define MR_RETURN(...)                                                         \
    do {                                                                       \
        mr_frame_returning_(&mr_frame_);                                       \
        return __VA_ARGS__;                                                    \
    } while (0)

/* defer fn(arg) */
#define mr_defer(fn, arg) mr_defer_(&mr_frame_, (fn), (arg), NULL, 0)
/* defer fn(&copy), the copy of *ptr (size bytes) made now */
#define mr_defer_copy(fn, ptr, size) mr_defer_(&mr_frame_, (fn), NULL, (ptr), (size))

/* ---- panic, recover, Goexit ------------------------------------------- */

MR_API __attribute__((noreturn)) void mr_panic(mr_value v);
MR_API __attribute__((noreturn)) void mr_panic_str(const char *msg);
MR_API __attribute__((noreturn)) void mr_panic_int(int64_t i);
MR_API __attribute__((noreturn)) void mr_panic_err(const mr_error *err);

/* The value of the panic being handled, if called directly by a deferred
 * call that the panic is running; the nil value otherwise. */
MR_API mr_value mr_recover(void);

/* runtime.Goexit(). */
MR_API __attribute__((noreturn)) void mr_goexit(void);

#ifdef __cplusplus
}
#endif
#endif /* MAPRT_DEFER_H */
