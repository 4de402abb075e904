/*
 * solib.c — a shared library whose function races on a map, so that the
 * report must symbolise a frame in a shared object (t_symbols).
 */
#include <maprt.h>

#include <stdint.h>

void solib_write_forever(mr_map *m, int64_t base);

void solib_write_forever(mr_map *m, int64_t base)
{
    for (uint64_t i = 0;; i++) {
        int64_t k = base + (int64_t)(i % 64);
        *(int64_t *)mr_mapassign(&mr_type_i64_i64, m, &k) = (int64_t)i;
    }
}
