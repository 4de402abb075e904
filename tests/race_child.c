/*
 * race_child — the misuse scenarios the race tests run as child processes.
 *
 *   race_child writes      two threads write one map, unsynchronised
 *   race_child writes-1cpu the same, the process confined to one CPU (Go
 *                          never detects this: its flag is not atomic)
 *   race_child biased      main, which filled the map and so owns its write
 *                          bias (claims without a locked instruction),
 *                          writes on while a second writer starts
 *   race_child readwrite   one thread reads while another writes
 *   race_child readowner   the same, the writer being main, which filled
 *                          the map and so owns its bias (its claims are
 *                          plain stores)
 *   race_child bias        prints a map's write bias (mr_mapstats.bias) after
 *                          main's write and after another goroutine's, then
 *                          for 300 maps each written by main and then by a
 *                          new thread (no race): the bias of the first and
 *                          of the last (biasing stops after 256 revocations)
 *   race_child iterwrite   one thread iterates while another writes
 *   race_child iterstep    an iteration is open when another thread's write
 *                          begins and stays inside the map (its key's
 *                          equality blocks): the iteration's next step
 *                          reports it, as every step of Go's looks at the
 *                          flag
 *   race_child dense-read  a read of a table beyond the cache (its own
 *                          lookup, which tests the claim with the old
 *                          buckets) while another thread's write is
 *                          inside the map, stalled as in iterstep
 *   race_child late-owner-store  main, the bias owner, is inside a write
 *                          whose claim (a plain store) is made to look
 *                          still on its way: another thread revokes the
 *                          bias, claims, writes and releases meanwhile;
 *                          main's release must report the pair
 *   race_child locked      eight threads share a map under a mutex (no report)
 *   race_child nilassign   assignment to the nil map
 *   race_child uaf-read    access after mr_mapfree
 *   race_child uaf-write   assignment after mr_mapfree
 *   race_child uaf-iter    iteration after mr_mapfree
 *   race_child doublefree  mr_mapfree twice
 *   race_child atexit      a race in a program with an atexit handler
 *   race_child short       rounds of two threads writing a fresh map ten
 *                          times each, unsynchronised, until one overlaps
 *   race_child zero-write  writing through the zero value of an absent key
 *   race_child badtype     mr_makemap with an inconsistent hand-made type
 *   race_child wrongtype-free  mr_mapfree with another type than make's
 *
 * The racing scenarios loop until the runtime ends the process; if nothing
 * is detected within 20 s the child exits 3 ("not detected").
 */
#include <maprt.h>

#include "map_internal.h" /* (late-owner-store: the claim word) */

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const mr_maptype *T = &mr_type_i64_i64;
static mr_map *shared;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static void give_up(int sig)
{
    (void)sig;
    static const char msg[] = "race_child: race not detected\n";
    write(2, msg, sizeof msg - 1);
    _exit(3);
}

static void *writer(void *arg)
{
    int64_t base = (int64_t)(intptr_t)arg;
    for (uint64_t i = 0;; i++) {
        int64_t k = base + (int64_t)(i % 64);
        *(int64_t *)mr_mapassign(T, shared, &k) = (int64_t)i;
        if (i % 3 == 0)
            mr_mapdelete(T, shared, &k);
    }
    return NULL;
}

static void *reader(void *arg)
{
    (void)arg;
    volatile int64_t sink = 0;
    for (uint64_t i = 0;; i++) {
        int64_t k = (int64_t)(i % 64);
        sink += *(int64_t *)mr_mapaccess1(T, shared, &k);
    }
    return NULL;
}

static void *iterator(void *arg)
{
    (void)arg;
    volatile int64_t sink = 0;
    for (;;) {
        mr_mapiter it;
        mr_mapiterinit(T, shared, &it);
        while (mr_mapiternext(&it))
            sink += *(int64_t *)it.elem;
    }
    return NULL;
}

/* short: the two writers of a round start together and write ten times.
 *
 * Ten writes take a few microseconds, so they only overlap if both threads
 * are on a CPU at that very moment, and a loaded machine (make -j check)
 * rarely arranges that by itself:
 *  - threads made by one parent tend to share its CPU's run queue, where
 *    they take turns and never run at once; so each writer is confined to
 *    a CPU of its own (when the process may use two);
 *  - a start flag set by main lets the first writer finish while the second
 *    still waits for its CPU; so each writer spins, counting a heartbeat,
 *    until it has seen the other's heartbeat move (the other is running
 *    right now) or the other has started writing (it just was).
 * Measured on two CPUs each busy with a `yes`: rounds whose writes overlap
 * went from 1 in ~30000 to about one in four. */
enum { SHORT_BEATS_SEEN = 3 };
static _Atomic uint64_t short_beat[2];
static _Atomic int short_started[2];
static cpu_set_t short_cpu[2];
static bool short_pinned;

static void short_rendezvous(int me)
{
    int other = 1 - me;
    uint64_t last = atomic_load(&short_beat[other]);
    int moved = 0;
    while (moved < SHORT_BEATS_SEEN && !atomic_load(&short_started[other])) {
        atomic_fetch_add(&short_beat[me], 1);
        uint64_t now = atomic_load(&short_beat[other]);
        if (now != last) {
            moved++;
            last = now;
        }
    }
    atomic_store(&short_started[me], 1);
}

/* The first two CPUs this process may run on, one per writer. */
static void short_choose_cpus(void)
{
    cpu_set_t allowed;
    if (sched_getaffinity(0, sizeof allowed, &allowed) != 0)
        return;
    int found = 0;
    for (int cpu = 0; cpu < CPU_SETSIZE && found < 2; cpu++) {
        if (CPU_ISSET(cpu, &allowed)) {
            CPU_ZERO(&short_cpu[found]);
            CPU_SET(cpu, &short_cpu[found]);
            found++;
        }
    }
    short_pinned = found == 2;
}

static void *short_writer(void *arg)
{
    int me = (int)(intptr_t)arg;
    int64_t base = 100 * me;
    short_rendezvous(me);
    for (int64_t k = base; k < base + 10; k++)
        *(int64_t *)mr_mapassign(T, shared, &k) = k; /* LINE(short) */
    return NULL;
}

static void short_rounds(void)
{
    short_choose_cpus();
    for (;;) {
        mr_map *m = mr_makemap(T, 0);
        shared = m;
        for (int i = 0; i < 2; i++) {
            atomic_store(&short_beat[i], 0);
            atomic_store(&short_started[i], 0);
        }
        pthread_t writers[2];
        for (int i = 0; i < 2; i++) {
            pthread_attr_t attr;
            pthread_attr_init(&attr);
            if (short_pinned)
                pthread_attr_setaffinity_np(&attr, sizeof short_cpu[i], &short_cpu[i]);
            pthread_create(&writers[i], &attr, short_writer, (void *)(intptr_t)i);
            pthread_attr_destroy(&attr);
        }
        for (int i = 0; i < 2; i++)
            pthread_join(writers[i], NULL);
        mr_mapfree(T, m);
    }
}

static void *locked_worker(void *arg)
{
    int64_t base = (int64_t)(intptr_t)arg;
    for (int i = 0; i < 20000; i++) {
        int64_t k = base + i % 500;
        pthread_mutex_lock(&mu);
        *(int64_t *)mr_mapassign(T, shared, &k) += 1;
        if (i % 7 == 0)
            mr_mapdelete(T, shared, &k);
        int64_t other = (i * 31) % 4000;
        (void)*(int64_t *)mr_mapaccess1(T, shared, &other);
        if (i % 1000 == 0) {
            mr_mapiter it;
            mr_mapiterinit(T, shared, &it);
            while (mr_mapiternext(&it)) {
            }
        }
        pthread_mutex_unlock(&mu);
    }
    return NULL;
}

static void run_pair(void *(*a)(void *), void *(*b)(void *))
{
    pthread_t ta, tb;
    pthread_create(&ta, NULL, a, (void *)(intptr_t)0);
    pthread_create(&tb, NULL, b, (void *)(intptr_t)32);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
}

static uint64_t bias_of(mr_map *m)
{
    mr_mapstats st;
    mr_mapgetstats(m, &st);
    return st.bias;
}

static void *write_once(void *m)
{
    int64_t k = 7;
    *(int64_t *)mr_mapassign(T, m, &k) = 1;
    return NULL;
}

/* Writes by main, then by another thread once main is done (no race). */
static uint64_t handed_over(mr_map *m, uint64_t *before)
{
    write_once(m);
    *before = bias_of(m);
    pthread_t th;
    pthread_create(&th, NULL, write_once, m);
    pthread_join(th, NULL);
    return bias_of(m);
}

static void bias_report(void)
{
    uint64_t before, after = handed_over(shared, &before);
    printf("bias: main %llu, after another goroutine %llu\n", (unsigned long long)before,
           (unsigned long long)after);
    uint64_t first = 0, last = 0;
    for (int i = 0; i < 300; i++) {
        mr_map *m = mr_makemap(T, 0);
        uint64_t b;
        handed_over(m, &b);
        if (i == 0)
            first = b;
        last = b;
        if (mr_maplen(m) != 1)
            printf("bias: map %d lost its entry\n", i);
        mr_mapfree(T, m);
    }
    printf("bias: 300 maps handed over: the first biased to %llu, the last to %llu\n", (unsigned long long)first,
           (unsigned long long)last);
}

/* iterstep: the writer's key equals one in the map, so its assign calls
 * the type's equality with the claim held; armed, that call stays there. */
static _Atomic int equal_armed, writer_inside;
static uint64_t stalling_hash(const void *k, uint64_t seed) { return mr_hash_u64(*(const uint64_t *)k, seed); }
static bool stalling_equal(const void *a, const void *b)
{
    if (atomic_load(&equal_armed)) {
        atomic_store(&writer_inside, 1);
        for (;;)
            pause(); /* (until the report ends the process, or the alarm) */
    }
    return *(const int64_t *)a == *(const int64_t *)b;
}
static const mr_maptype stalling_type =
    MR_MAPTYPE_INIT("map[int64]int64", int64_t, int64_t, stalling_hash, stalling_equal, 0);

static void *stalled_writer(void *arg)
{
    int64_t k = 7;
    *(int64_t *)mr_mapassign(&stalling_type, arg, &k) = 1;
    return NULL;
}

/* A map of type t (an int64 -> int64 map) holding the keys 0..63. */
static mr_map *map_of_64(const mr_maptype *t, size_t hint)
{
    mr_map *m = mr_makemap(t, hint);
    for (int64_t k = 0; k < 64; k++)
        *(int64_t *)mr_mapassign(t, m, &k) = k;
    return m;
}

/* Another thread's write into m, returned from once it is inside the
 * map (and stays there). */
static void stall_a_writer(mr_map *m)
{
    atomic_store(&equal_armed, 1);
    pthread_t th;
    pthread_create(&th, NULL, stalled_writer, m);
    while (!atomic_load(&writer_inside))
        sched_yield();
}

static void iter_step(void)
{
    mr_map *m = map_of_64(&stalling_type, 0);
    mr_mapiter it;
    mr_mapiterinit(&stalling_type, m, &it);
    if (!mr_mapiternext(&it))
        return;
    stall_a_writer(m);
    while (mr_mapiternext(&it)) {
    }
    printf("not reached: the iteration went on beside the write\n");
}

/* dense-read: the map is made large enough for a table with a tophash
 * copy (B >= 14, map_internal.h), whose lookups are functions of their
 * own, entered only when the claim is free (dense_lookup in map.c, one
 * test for every key kind).  The key read is absent, so that a lookup
 * which missed the claim returns (and says so) rather than stalling in
 * the equality too. */
static void dense_read(void)
{
    mr_map *m = map_of_64(&stalling_type, 1 << 17);
    mr_mapstats st;
    mr_mapgetstats(m, &st);
    if (st.B < 14) {
        printf("dense-read: a table of 2^%u buckets has no tophash copy\n", st.B);
        return;
    }
    stall_a_writer(m);
    int64_t k = 1000;
    bool found;
    mr_mapaccess2(&stalling_type, m, &k, &found);
    printf("not reached: a read beside the write (found %d)\n", found);
}

/* late-owner-store.  No test can hold a store in a store buffer, so main,
 * inside its write (its key's equality, called with the claim held), puts
 * the claim word back to 0 as the other threads would see it while the
 * store is on its way, lets another thread write the map (a revocation
 * of main's bias, a compare-and-swap claim that succeeds, a write, a
 * release), then lets its store "land" and ends its write.  Neither claim
 * saw the other; main's release finds its bias revoked and the other
 * writer recorded as the last (map_claim.c). */
static _Atomic int late_armed;
static mr_map *late_map;
static bool late_equal(const void *a, const void *b);
static const mr_maptype late_type = MR_MAPTYPE_INIT("map[int64]int64", int64_t, int64_t, stalling_hash, late_equal, 0);

static void *late_writer(void *arg)
{
    (void)arg;
    int64_t k = 1000;
    *(int64_t *)mr_mapassign(&late_type, late_map, &k) = 1;
    return NULL;
}

static bool late_equal(const void *a, const void *b)
{
    if (atomic_exchange(&late_armed, 0)) {
        _Atomic uint64_t *claim = &((struct mr_map *)late_map)->writer;
        uint64_t mine = atomic_exchange(claim, 0);
        pthread_t th;
        pthread_create(&th, NULL, late_writer, NULL);
        pthread_join(th, NULL);
        atomic_store(claim, mine);
    }
    return *(const int64_t *)a == *(const int64_t *)b;
}

static void late_owner_store(void)
{
    late_map = map_of_64(&late_type, 0);
    atomic_store(&late_armed, 1);
    int64_t k = 7;
    *(int64_t *)mr_mapassign(&late_type, late_map, &k) = 8;
    printf("not reached: the overlapping writes went unreported\n");
}

static void at_exit_handler(void)
{
    static const char msg[] = "atexit handler ran\n";
    write(2, msg, sizeof msg - 1);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: race_child SCENARIO\n");
        return 64;
    }
    const char *mode = argv[1];
    signal(SIGALRM, give_up);
    alarm(20);
    shared = mr_makemap(T, 0);
    for (int64_t k = 0; k < 64; k++)
        *(int64_t *)mr_mapassign(T, shared, &k) = k;

    if (strcmp(mode, "writes") == 0) {
        run_pair(writer, writer);
    } else if (strcmp(mode, "writes-1cpu") == 0) {
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(sched_getcpu() >= 0 ? sched_getcpu() : 0, &one);
        if (sched_setaffinity(0, sizeof one, &one) != 0) {
            perror("sched_setaffinity");
            return 65;
        }
        run_pair(writer, writer);
    } else if (strcmp(mode, "biased") == 0) {
        /* The second writer's first write revokes main's bias while main
         * is writing with plain stores. */
        pthread_t th;
        pthread_create(&th, NULL, writer, (void *)(intptr_t)1000);
        writer(NULL);
    } else if (strcmp(mode, "bias") == 0) {
        bias_report();
    } else if (strcmp(mode, "readowner") == 0) {
        pthread_t th;
        pthread_create(&th, NULL, reader, NULL);
        writer(NULL);
    } else if (strcmp(mode, "readwrite") == 0) {
        run_pair(reader, writer);
    } else if (strcmp(mode, "iterwrite") == 0) {
        run_pair(iterator, writer);
    } else if (strcmp(mode, "iterstep") == 0) {
        iter_step();
        return 0;
    } else if (strcmp(mode, "late-owner-store") == 0) {
        late_owner_store();
        return 0;
    } else if (strcmp(mode, "dense-read") == 0) {
        dense_read();
        return 0;
    } else if (strcmp(mode, "atexit") == 0) {
        atexit(at_exit_handler);
        run_pair(writer, writer);
    } else if (strcmp(mode, "short") == 0) {
        short_rounds();
    } else if (strcmp(mode, "locked") == 0) {
        pthread_t th[8];
        for (int i = 0; i < 8; i++)
            pthread_create(&th[i], NULL, locked_worker, (void *)(intptr_t)(i * 300));
        for (int i = 0; i < 8; i++)
            pthread_join(th[i], NULL);
        mr_mapfree(T, shared);
        printf("locked: done\n");
        return 0;
    } else if (strcmp(mode, "nilassign") == 0) {
        mr_map *nilmap = NULL;
        int64_t k = 1;
        *(int64_t *)mr_mapassign(T, nilmap, &k) = 1;
        printf("not reached\n");
        return 0;
    } else if (strncmp(mode, "uaf-", 4) == 0 || strcmp(mode, "doublefree") == 0) {
        int64_t k = 3;
        mr_mapfree(T, shared);
        if (strcmp(mode, "uaf-read") == 0)
            (void)mr_mapaccess1(T, shared, &k);
        else if (strcmp(mode, "uaf-write") == 0)
            *(int64_t *)mr_mapassign(T, shared, &k) = 1;
        else if (strcmp(mode, "uaf-iter") == 0) {
            mr_mapiter it;
            mr_mapiterinit(T, shared, &it);
            while (mr_mapiternext(&it)) {
            }
        } else if (strcmp(mode, "doublefree") == 0)
            mr_mapfree(T, shared);
        printf("not reached\n");
        return 0;
    } else if (strcmp(mode, "zero-write") == 0) {
        int64_t k = 12345;
        *(volatile int64_t *)mr_mapaccess1(T, shared, &k) = 1;
        printf("not reached\n");
        return 0;
    } else if (strcmp(mode, "badtype") == 0) {
        static mr_maptype bad;
        bad = mr_type_i64_i64;
        bad.bucketsize += 8; /* a hand-made type that does not add up */
        mr_makemap(&bad, 0);
        printf("not reached\n");
        return 0;
    } else if (strcmp(mode, "wrongtype-free") == 0) {
        mr_mapfree(&mr_type_str_i64, shared);
        printf("not reached\n");
        return 0;
    } else {
        fprintf(stderr, "race_child: unknown scenario '%s'\n", mode);
        return 64;
    }
    return 0;
}
