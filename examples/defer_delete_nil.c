/*
 * defer_delete_nil — a deferred delete, registered while the map was live,
 * with the variable set to nil afterwards: no panic.  The deferred call's
 * arguments were captured at the defer (the original map), so it deletes
 * from the original map; and delete on a nil map is a no-op anyway.
 * Prints "len(orig) after f: 0", exit status 0.
 */
#include <maprt.h>
#include <maprt_defer.h>

#include <stdio.h>

struct delete_args {
    mr_map *m;
    int64_t k;
};

static void delete_entry(void *p)
{
    struct delete_args *a = p;
    mr_mapdelete(&mr_type_i64_i64, a->m, &a->k);
}

static void f(mr_map *m)
{
    MR_FRAME(return);
    struct delete_args a = {m, 1};
    mr_defer_copy(delete_entry, &a, sizeof a); /* defer delete(m, 1): m captured now */
    m = NULL;                                  /* m = nil */
    (void)m;
}

int main(void)
{
    mr_map *orig = mr_makemap(&mr_type_i64_i64, 0);
    int64_t k = 1;
    *(int64_t *)mr_mapassign(&mr_type_i64_i64, orig, &k) = 100;
    f(orig);
    printf("len(orig) after f: %zu\n", mr_maplen(orig));
    mr_mapfree(&mr_type_i64_i64, orig);
    return 0;
}
