/*
 * maprt_hooks.h — the runtime's allocation and exit hooks.
 *
 * libmaprt routes what it allocates, and the events a race detector wants
 * to know about, through these functions.  They are exported from
 * libmaprt.so with default visibility and called through the PLT, so a
 * library loaded with LD_PRELOAD that defines the same symbols sees every
 * call, and reaches the runtime's own body with dlsym(RTLD_NEXT, name).
 * The bodies in libmaprt are the plain behaviour: allocation from malloc
 * (or, for large tables, a huge-page mapping, the last two freed kept for
 * the next tables of their sizes: table_pages.c), no-op events.
 *
 * The map's fast paths call no hook, with one exception that costs a
 * thread-local load: while a goroutine is running a deferred call, each
 * map operation reports its touch (mr_hook_defer_touch).
 *
 * An interposer must not call back into the runtime from a hook except as
 * documented, must be thread-safe, and must expect hooks to be called
 * from several threads at once.  Allocation inside a hook is fine: the
 * runtime does not call hooks from within hooks.
 */
#ifndef MAPRT_HOOKS_H
#define MAPRT_HOOKS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef MR_API
#define MR_API __attribute__((visibility("default")))
#endif

struct mr_map;
struct mr_maptype;

/* ---- allocation ------------------------------------------------------- */

typedef enum mr_alloc_kind {
    MR_ALLOC_MAP,       /* a map header (owner: NULL) */
    MR_ALLOC_BUCKETS,   /* a bucket array (owner: the map) */
    MR_ALLOC_OVERFLOW,  /* an overflow bucket (owner: the map) */
    MR_ALLOC_KEY,       /* an out-of-line key (owner: the map) */
    MR_ALLOC_ELEM,      /* an out-of-line element (owner: the map) */
    MR_ALLOC_MAPINFO,   /* the map's own bookkeeping (owner: the map) */
    MR_ALLOC_GOROUTINE, /* a goroutine record (owner: NULL) */
    MR_ALLOC_DEFER,     /* a deferred call record (owner: the goroutine id, cast) */
    MR_ALLOC_PANIC,     /* a panic record (owner: the goroutine id, cast) */
} mr_alloc_kind;

/* Zeroed memory of size bytes, or NULL (the runtime then reports running
 * out of memory). */
MR_API void *mr_hook_alloc(mr_alloc_kind kind, size_t size, const void *owner);
/* Frees what mr_hook_alloc returned, with the same kind and size.  (The
 * owner may be NULL: tables are freed some time after their map released
 * them, when the map may be gone.) */
MR_API void mr_hook_free(mr_alloc_kind kind, void *p, size_t size, const void *owner);

/* ---- maps --------------------------------------------------------------- */

/* A map was made (pc: the return address in mr_makemap's caller). */
MR_API void mr_hook_map_made(const struct mr_map *h, const struct mr_maptype *t, uintptr_t pc);
/* A map is being freed (called before its memory goes). */
MR_API void mr_hook_map_freed(const struct mr_map *h, const struct mr_maptype *t, uintptr_t pc);

typedef enum mr_mapop {
    MR_OP_ACCESS,
    MR_OP_ASSIGN,
    MR_OP_DELETE,
    MR_OP_CLEAR,
    MR_OP_ITERATE,
    MR_OP_FREE,
} mr_mapop;

/* While the calling goroutine runs a deferred call: it used map h (pc:
 * the return address in the caller of the map operation). */
MR_API void mr_hook_defer_touch(const struct mr_map *h, mr_mapop op, uintptr_t pc);

/* ---- goroutines and deferred calls ---------------------------------------- */

MR_API void mr_hook_goroutine_start(uint64_t goid, uint64_t parent, uintptr_t createpc);
MR_API void mr_hook_goroutine_exit(uint64_t goid);

typedef enum mr_defer_why {
    MR_WHY_RETURN, /* the function returned */
    MR_WHY_PANIC,  /* a panic is running the goroutine's deferred calls */
    MR_WHY_GOEXIT, /* Goexit is */
} mr_defer_why;

typedef struct mr_defer_event {
    uint64_t goid;
    void (*fn)(void *);
    void *arg;
    uintptr_t deferpc;   /* return address in the function that deferred it */
    mr_defer_why why;
    int depth;           /* the deferring frame's depth in its goroutine */
} mr_defer_event;

MR_API void mr_hook_defer_start(const mr_defer_event *e);
MR_API void mr_hook_defer_end(const mr_defer_event *e);

/* ---- reports -------------------------------------------------------------- */

typedef enum mr_role { MR_ROLE_DETECTOR, MR_ROLE_WRITER, MR_ROLE_OTHER } mr_role;

typedef struct mr_report_goroutine {
    uint64_t goid;
    const char *status;     /* "running", "semacquire", ... */
    mr_role role;
    int npc;                /* 0 if its stack was not captured */
    int exact;              /* index of a PC that is not a return address, or -1 */
    const uintptr_t *pc;    /* innermost first */
    uint64_t parent;        /* creator, 0 if unknown */
    uintptr_t createpc;
    const char *doing;      /* the writer's: "writing map" (caught inside its
                               write) or "wrote map" (it had left it: the
                               stack is its last write's); NULL for others */
} mr_report_goroutine;

typedef struct mr_report_event {
    const char *kind;       /* "concurrent map writes", "panic", ... */
    const char *message;    /* the report's first line, without "fatal error: " */
    const struct mr_map *map;          /* NULL unless a map error; for a foreign
                                          table (maprt_foreign.h), its address */
    const struct mr_maptype *maptype;  /* NULL for a foreign table */
    int ngoroutines;
    const mr_report_goroutine *goroutines; /* in report order */
    const char *tabletype;  /* the table's printable type ("map[string]int64",
                               "GHashTable"), NULL unless a map error */
} mr_report_event;

/* Race policy.  When a map race is found, the runtime first asks
 * mr_hook_race_policy: MR_RACE_HALT (the default, Go's behaviour) makes
 * it report at once and end the process.  MR_RACE_DECIDE makes it take
 * the stacks of the goroutine that noticed and of the writer without
 * stopping the others, and ask mr_hook_race_decide what to do with them:
 * report and end the process, report and go on, or go on silently (a
 * race seen before, or suppressed).  Going on, a writer waits for the
 * holder of the claim to finish, so the map is not corrupted.  The policy
 * is also asked once, at the first write of any map: under MR_RACE_DECIDE
 * no map is biased (map_claim.c), so it must not change during a run. */
enum { MR_RACE_HALT = 0, MR_RACE_DECIDE = 1 };
enum { MR_RACE_REPORT_HALT = 0, MR_RACE_REPORT_CONTINUE = 1, MR_RACE_SKIP = 2 };

MR_API int mr_hook_race_policy(void);
MR_API int mr_hook_race_decide(const struct mr_report_event *e);

/* The runtime has written its report to stderr and is about to end the
 * process: a hook may add a section (write(2) to fd 2) and record the
 * event.  Called once, by the reporting thread. */
MR_API void mr_hook_report(const mr_report_event *e);

/* ---- services for interposers ---------------------------------------------
 *
 * Exported by libmaprt for libraries that implement the hooks (find them
 * with dlsym, so as not to link against libmaprt). */

typedef struct mr_pcinfo {
    const char *function; /* NULL if no symbol covers the PC */
    const char *file;     /* absolute source path, NULL without line info */
    int line;
    const char *module;   /* executable or shared object */
    uintptr_t offset;     /* from the function's entry, or from the module's start */
    int runtime;          /* a frame of libmaprt itself (reports hide it) */
    int system;           /* a frame of the C library or the loader (hidden too) */
    int root;             /* a thread's entry or the C start-up: a stack ends here */
} mr_pcinfo;

/* Describes pc (a return address unless exact), as the runtime's reports
 * do.  Returns 0 if it lies in no known module.  The function name is
 * valid until the calling thread's next call; the paths for the life of
 * the process.  Not for signal handlers. */
MR_API int mr_describe_pc(uintptr_t pc, int exact, mr_pcinfo *out);

/* The goroutine running on the thread with kernel id tid (as gettid()
 * gives it), or 0 if none lives there now. */
MR_API uint64_t mr_goid_of_thread(int tid);

#ifdef __cplusplus
}
#endif
#endif /* MAPRT_HOOKS_H */
