/*
 * mapfatal.h — what happens when a map operation finds concurrent misuse.
 *
 * These are the slow paths behind the map's write claim: they never run in
 * a correct program, so they live out of line, away from the fast paths.
 */
#ifndef MAPRT_MAPFATAL_H
#define MAPRT_MAPFATAL_H

#include <stdint.h>

struct mr_map;

/* The value of the write claim once a map was freed. */
#define MR_WRITER_FREED UINT64_MAX
/* Set in the claim by a goroutine reporting a race against its holder:
 * the holder, finishing its write, finds it and hands over its stack. */
#define MR_WRITER_WATCHED (UINT64_C(1) << 62)

/* Which of Go's map errors a report is for. */
typedef enum mr_mapfault {
    MR_FAULT_WRITES,    /* concurrent map writes */
    MR_FAULT_READ,      /* concurrent map read and map write */
    MR_FAULT_ITERATE,   /* concurrent map iteration and map write */
    MR_FAULT_FREED,     /* map used after free */
} mr_mapfault;

/* A writer found the claim held (`observed` is the holder's goroutine id,
 * or MR_WRITER_FREED). */
__attribute__((noinline, cold)) void mr_map_claim_failed(const struct mr_map *h, uint64_t observed);

/* A writer finished and found its claim disturbed. */
__attribute__((noinline, cold)) void mr_map_claim_lost(const struct mr_map *h, uint64_t observed);

/* A reader (fault MR_FAULT_READ) or iterator (MR_FAULT_ITERATE) found the
 * claim held. */
__attribute__((noinline, cold)) void mr_map_read_failed(const struct mr_map *h, uint64_t observed,
                                                        mr_mapfault fault);

/* Reports a fatal map error and ends the process with status 2.  `holder`
 * is the goroutine that held the write claim, 0 if none. */
__attribute__((noreturn, cold)) void mr_map_fatal(mr_mapfault fault, const struct mr_map *h,
                                                  uint64_t holder);

/* fatal error: MSG, for the runtime's own unrecoverable failures. */
__attribute__((noreturn, cold)) void mr_throw(const char *msg);

/* panic: assignment to entry in nil map. */
__attribute__((noreturn, cold)) void mr_panic_nilmap(void);

#endif /* MAPRT_MAPFATAL_H */
