/*
 * bench_maprt.c — bench_map.c's libmaprt driver: the calls each row times.
 *
 * Built twice into bench-map: once with the race checks, and once, with
 * the map's own files, under -DMR_NO_RACE_CHECKS, every global of that
 * copy renamed with a "nochecks_" prefix (Makefile.am), so that this
 * file's maprt_impl there is nochecks_maprt_impl and calls the unchecked
 * map.  One process then times both on the same keys in alternate rounds.
 */
#include "bench.h"

static void *mr_make(bool strings)
{
    return mr_makemap(strings ? &mr_type_str_i64 : &mr_type_i64_i64, 0);
}
static void mr_insert_all(void *m, const keyset *ks, bool strings)
{
    if (strings)
        for (size_t i = 0; i < ks->n; i++)
            *(int64_t *)mr_mapassign(&mr_type_str_i64, m, &ks->mstrs[i]) = (int64_t)i;
    else
        for (size_t i = 0; i < ks->n; i++)
            *(int64_t *)mr_mapassign(&mr_type_i64_i64, m, &ks->ints[i]) = (int64_t)i;
}
static int64_t mr_lookup_all(void *m, const keyset *ks, bool strings, bool miss)
{
    int64_t s = 0;
    if (strings) {
        const mr_string *keys = miss ? ks->miss_mstrs : ks->mstrs;
        for (size_t i = 0; i < ks->n; i++)
            s += *(int64_t *)mr_mapaccess1(&mr_type_str_i64, m, &keys[ks->order[i]]);
    } else {
        const int64_t *keys = miss ? ks->miss_ints : ks->ints;
        for (size_t i = 0; i < ks->n; i++)
            s += *(int64_t *)mr_mapaccess1(&mr_type_i64_i64, m, &keys[ks->order[i]]);
    }
    return s;
}
static void mr_remove_all(void *m, const keyset *ks, bool strings)
{
    if (strings)
        for (size_t i = 0; i < ks->n; i++)
            mr_mapdelete(&mr_type_str_i64, m, &ks->mstrs[ks->order[i]]);
    else
        for (size_t i = 0; i < ks->n; i++)
            mr_mapdelete(&mr_type_i64_i64, m, &ks->ints[ks->order[i]]);
}
static int64_t mr_iterate(void *m, bool strings)
{
    mr_mapiter it;
    int64_t sum = 0;
    mr_mapiterinit(strings ? &mr_type_str_i64 : &mr_type_i64_i64, m, &it);
    while (mr_mapiternext(&it))
        sum += *(int64_t *)it.elem;
    return sum;
}
static void mr_destroy(void *m, bool strings)
{
    mr_mapfree(strings ? &mr_type_str_i64 : &mr_type_i64_i64, m);
}
const impl maprt_impl = {mr_make, mr_insert_all, mr_lookup_all, mr_remove_all, mr_iterate, mr_destroy};
