/*
 * nil_map_ops — everything but assignment is fine on a nil map: reads give
 * the zero value, comma-ok says absent, len is 0, delete does nothing
 * (folklore says it panics: it does not), ranging yields nothing.
 * Exit status 0, nothing on stderr.
 */
#include <maprt.h>

#include <stdio.h>

int main(void)
{
    const mr_maptype *t = &mr_type_str_i64;
    mr_map *m = NULL; /* var m map[string]int64 */
    mr_string k = {"absent", 6};
    bool ok;
    printf("m[k] = %lld\n", (long long)*(int64_t *)mr_mapaccess1(t, m, &k));
    int64_t v = *(int64_t *)mr_mapaccess2(t, m, &k, &ok);
    printf("v, ok := m[k] -> %lld, %s\n", (long long)v, ok ? "true" : "false");
    printf("len(m) = %zu\n", mr_maplen(m));
    mr_mapdelete(t, m, &k);
    printf("delete(m, k): no-op\n");
    int n = 0;
    mr_mapiter it;
    mr_mapiterinit(t, m, &it);
    while (mr_mapiternext(&it))
        n++;
    printf("range m: %d iterations\n", n);
    return 0;
}
