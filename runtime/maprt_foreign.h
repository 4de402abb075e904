/*
 * maprt_foreign.h — the map's race detection for tables and threads that
 * the runtime did not make.
 *
 * libmaprace.so uses this to watch GLib's GHashTable and glibc's hsearch_r
 * tables in unmodified programs, and to number the threads a program
 * starts with pthread_create.  A foreign table gets the same write claim
 * as an mr_map (Go's hashWriting, kept as the writer's goroutine id), the
 * same three reports in Go's layout and the same race policy (halt, or go
 * on in continue mode); the interposer keeps an mr_table beside each table
 * and follows this protocol around the table's own operations:
 *
 *     write:  uint64_t me = mr_goid(), seen = 0;
 *             while (!CAS_acquire(&t->writer, &seen, me)) {
 *                 mr_table_claim_failed(t, seen);    (returns only in continue
 *                 seen = 0;                            mode, the holder done)
 *             }
 *             ... the table's own write ...
 *             if ((seen = load(&t->writer)) != me)
 *                 mr_table_claim_lost(t, seen);
 *             store_release(&t->writer, 0);
 *
 *     read:   if ((seen = load(&t->writer)) != 0)   on entry (and, for a
 *                 mr_table_read_failed(t, seen, MR_TABLE_READ);   long one, after)
 *     iterate: the same with MR_TABLE_ITERATE, before each element.
 *
 * The reports name the table by t->addr and t->type ("GHashTable").
 */
#ifndef MAPRT_FOREIGN_H
#define MAPRT_FOREIGN_H

#include <stdatomic.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef MR_API
#define MR_API __attribute__((visibility("default")))
#endif

/* A foreign table's claim word and what reports call it. */
typedef struct mr_table {
    _Atomic uint64_t writer; /* 0 when free, else the writing goroutine's id */
    const void *addr;        /* the table, as reports name it */
    const char *type;        /* its printable type, e.g. "GHashTable" */
    /* The last write: its goroutine and the user's call site (a return
     * address), stored by the writer under its claim.  A report names
     * this frame when the writer's live stack can no longer be taken
     * (its write was short, or it has exited since). */
    _Atomic uint64_t last_writer;
    _Atomic uintptr_t last_pc;
} mr_table;

typedef enum mr_table_read {
    MR_TABLE_READ,    /* concurrent map read and map write */
    MR_TABLE_ITERATE, /* concurrent map iteration and map write */
} mr_table_read;

/* A writer found the claim held (seen: what it found). */
MR_API void mr_table_claim_failed(mr_table *t, uint64_t seen);
/* A writer finished and found the claim changed under it. */
MR_API void mr_table_claim_lost(mr_table *t, uint64_t seen);
/* A reader or iterator found the claim held. */
MR_API void mr_table_read_failed(mr_table *t, uint64_t seen, mr_table_read how);

/* ---- ThreadSanitizer ------------------------------------------------------------
 *
 * With TSan's runtime in the process (maprace --hb), a family tells it of
 * each operation on a table, at the program's call site pc, as libmaprt
 * does for its maps: TSan then reports two operations that no
 * synchronisation orders.  mr_tsan_enabled says whether to (without TSan,
 * mr_tsan_table does nothing). */
typedef enum mr_table_op {
    MR_TABLE_OP_WRITE,
    MR_TABLE_OP_READ,
    MR_TABLE_OP_ITERATE,
} mr_table_op;

MR_API int mr_tsan_enabled(void);
MR_API void mr_tsan_table(const void *table, uintptr_t pc, mr_table_op op);

/* ---- threads ----------------------------------------------------------------
 *
 * A thread started by the program's own pthread_create becomes a goroutine
 * with its creator and creation site, as mr_go's do ("created by FUNC in
 * goroutine N").  In the creating thread: */
MR_API void *mr_thread_prepare(uintptr_t createpc);
/* if pthread_create failed: */
MR_API void mr_thread_abandon(void *rec);
/* first thing in the new thread: */
MR_API void mr_thread_begin(void *rec);

#ifdef __cplusplus
}
#endif
#endif /* MAPRT_FOREIGN_H */
