/*
 * solib_child — two goroutines race on a map inside a shared library's
 * function (tests/solib.c).
 */
#include <maprt.h>
#include <maprt_go.h>

#include <unistd.h>

void solib_write_forever(mr_map *m, int64_t base);

static mr_map *shared;

static volatile int after;

static void racer(void *arg)
{
    solib_write_forever(shared, (int64_t)(intptr_t)arg);
    after = 1; /* not a tail call: racer stays on the stack */
}

int main(void)
{
    shared = mr_makemap(&mr_type_i64_i64, 0);
    mr_go(racer, (void *)(intptr_t)0);
    mr_go(racer, (void *)(intptr_t)32);
    sleep(20);
    return 3;
}
