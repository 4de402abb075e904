/*
 * leak_child — create, fill, grow, iterate, delete, clear and free maps of
 * every kind, for valgrind to check: no leak, no invalid access.
 *
 * leak_child drop-deleted: 100 malloc'd pointer keys and 100 malloc'd
 * string keys are inserted, deleted, and dropped by the program while
 * the maps live on.  A delete clears keys that hold pointers, so
 * valgrind must find all 200 blocks definitely lost, none still
 * reachable through a deleted cell.
 */
#include <maprt.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static mr_map *kept_ptr, *kept_str; /* reachable until exit */

static int drop_deleted(void)
{
    enum { N = 100 };
    void **ptrs = malloc(N * sizeof *ptrs);
    mr_string *strs = malloc(N * sizeof *strs);
    kept_ptr = mr_makemap(&mr_type_ptr_ptr, 0);
    kept_str = mr_makemap(&mr_type_str_ptr, 0);
    for (int i = 0; i < N; i++) {
        ptrs[i] = malloc(32);
        *(void **)mr_mapassign(&mr_type_ptr_ptr, kept_ptr, &ptrs[i]) = NULL;
        char *bytes = malloc(24);
        snprintf(bytes, 24, "key-%d", i);
        strs[i] = (mr_string){bytes, strlen(bytes)};
        *(void **)mr_mapassign(&mr_type_str_ptr, kept_str, &strs[i]) = NULL;
    }
    /* All inserted before any is deleted: each deleted cell keeps its
     * key unless the delete clears it. */
    for (int i = 0; i < N; i++) {
        mr_mapdelete(&mr_type_ptr_ptr, kept_ptr, &ptrs[i]);
        mr_mapdelete(&mr_type_str_ptr, kept_str, &strs[i]);
    }
    free(ptrs);
    free(strs);
    printf("leak_child: dropped 200 deleted keys\n");
    return 0;
}

struct big { char bytes[200]; };                 /* stored out of line */
static uint64_t big_hash(const void *k, uint64_t seed) { return mr_hash_bytes(k, sizeof(struct big), seed); }
static bool big_equal(const void *a, const void *b) { return memcmp(a, b, sizeof(struct big)) == 0; }
static const mr_maptype big_type = MR_MAPTYPE_INIT("map[big]big", struct big, struct big, big_hash, big_equal, 0);

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "drop-deleted") == 0)
        return drop_deleted();
    for (int round = 0; round < 3; round++) {
        mr_map *m = mr_makemap(&mr_type_i64_i64, round * 100);
        for (int64_t i = 0; i < 20000; i++)
            *(int64_t *)mr_mapassign(&mr_type_i64_i64, m, &i) = i;
        mr_mapiter it;
        mr_mapiterinit(&mr_type_i64_i64, m, &it);
        int n = 0;
        while (mr_mapiternext(&it)) {
            int64_t k = *(const int64_t *)it.key + 100000;
            if (n++ % 2)
                *(int64_t *)mr_mapassign(&mr_type_i64_i64, m, &k) = 1; /* grows mid-iteration */
        }
        /* An iteration left early: its parked memory goes with the map. */
        mr_mapiterinit(&mr_type_i64_i64, m, &it);
        mr_mapiternext(&it);
        for (int64_t i = 0; i < 20000; i += 2)
            mr_mapdelete(&mr_type_i64_i64, m, &i);
        if (round == 1)
            mr_mapclear(&mr_type_i64_i64, m);
        mr_mapfree(&mr_type_i64_i64, m);
    }

    static char names[5000][16];
    mr_map *s = mr_makemap(&mr_type_str_i64, 0);
    for (int i = 0; i < 5000; i++) {
        int len = snprintf(names[i], sizeof names[i], "key-%d", i);
        mr_string k = {names[i], (size_t)len};
        *(int64_t *)mr_mapassign(&mr_type_str_i64, s, &k) = i;
    }
    mr_mapclear(&mr_type_str_i64, s);
    mr_mapfree(&mr_type_str_i64, s);

    mr_map *b = mr_makemap(&big_type, 0);
    struct big k;
    for (int i = 0; i < 3000; i++) {
        memset(&k, 0, sizeof k);
        snprintf(k.bytes, sizeof k.bytes, "big-%d", i);
        struct big *e = mr_mapassign(&big_type, b, &k);
        memcpy(e, &k, sizeof k);
        if (i % 3 == 0)
            mr_mapdelete(&big_type, b, &k);
    }
    mr_mapiter it;
    mr_mapiterinit(&big_type, b, &it);
    for (int i = 0; i < 1000; i++) { /* delete while an iteration is open */
        memset(&k, 0, sizeof k);
        snprintf(k.bytes, sizeof k.bytes, "big-%d", i);
        mr_mapdelete(&big_type, b, &k);
    }
    while (mr_mapiternext(&it)) {
    }
    mr_mapclear(&big_type, b);
    for (int i = 0; i < 100; i++) {
        memset(&k, 0, sizeof k);
        snprintf(k.bytes, sizeof k.bytes, "again-%d", i);
        mr_mapassign(&big_type, b, &k);
    }
    mr_mapfree(&big_type, b);
    printf("leak_child: done\n");
    return 0;
}
