/*
 * use_after_free — a deferred cleanup deletes from a map that the function
 * already freed (C has this bug class; Go does not):
 *
 *     fatal error: map used after free         exit status 2
 */
#include <maprt.h>
#include <maprt_defer.h>

#include <stdio.h>

struct delete_args {
    mr_map *m;
    int64_t k;
};

static void forget(void *p)
{
    struct delete_args *a = p;
    mr_mapdelete(&mr_type_i64_i64, a->m, &a->k);
}

static void handle(void)
{
    MR_FRAME(return);
    mr_map *seen = mr_makemap(&mr_type_i64_i64, 0);
    struct delete_args a = {seen, 7};
    *(int64_t *)mr_mapassign(&mr_type_i64_i64, seen, &a.k) = 1;
    mr_defer_copy(forget, &a, sizeof a);
    mr_mapfree(&mr_type_i64_i64, seen); /* freed before the deferred call runs */
}

int main(void)
{
    handle();
    printf("not reached\n");
    return 0;
}
