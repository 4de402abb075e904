/*
 * sigpanic — faults in a program that uses libmaprt, for t_sigpanic.sh:
 * each mode faults once, at a line marked LINE(name), and says on stdout
 * which deferred calls ran.
 *
 *     sigpanic nil        a nil dereference in a goroutine: Go's panic
 *     sigpanic recover    the same, recovered by a deferred call
 *     sigpanic divide     an integer division by zero in goroutine 1
 *     sigpanic far        a fault far from nil: "unexpected fault address"
 *     sigpanic bus        a mapped file read past its end (SIGBUS)
 *     sigpanic libc       strlen(NULL): a fault inside the C library
 *     sigpanic handler    the program's own SIGSEGV handler, installed
 *                         after libmaprt's: it gets the fault
 *     sigpanic kill       SIGSEGV sent with raise(): not a fault
 */
#include <maprt.h>
#include <maprt_defer.h>
#include <maprt_go.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static void say(void *what)
{
    printf("deferred: %s\n", (const char *)what);
    fflush(stdout);
}

static void catch(void *arg)
{
    (void)arg;
    char buf[128];
    mr_value r = mr_recover();
    printf("recovered: %s\n", mr_value_string(r, buf, sizeof buf));
}

/* The faults are the point: the sanitizers' checks of them stay out. */
#define FAULTS __attribute__((noinline, no_sanitize("undefined", "address")))

static int *volatile nowhere;
static volatile int zero;
static volatile int sink;

FAULTS static void nil_write(void)
{
    *nowhere = 1; /* LINE(nil) */
}

static void nil_goroutine(void *arg)
{
    (void)arg;
    MR_FRAME(return);
    mr_defer(say, "goroutine's cleanup");
    nil_write();
}

__attribute__((noinline)) static int recovering(void)
{
    MR_FRAME(return -1);
    mr_defer(catch, NULL);
    nil_write();
    return 0;
}

FAULTS static void far_write(void)
{
    *(volatile int *)(uintptr_t)0xdead0000 = 1; /* LINE(far) */
}

FAULTS static void bus_read(void)
{
    char path[] = "/tmp/sigpanic.XXXXXX";
    int fd = mkstemp(path);
    unlink(path);
    if (fd < 0 || ftruncate(fd, 0) != 0)
        abort();
    volatile char *p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED)
        abort();
    sink = p[0]; /* LINE(bus) */
}

FAULTS static void libc_fault(void)
{
    sink = (int)strlen((const char *)nowhere); /* LINE(libc) */
}

static void own_handler(int sig)
{
    (void)sig;
    static const char msg[] = "the program's own handler\n";
    (void)!write(2, msg, sizeof msg - 1);
    _exit(7);
}

FAULTS static void divide(void)
{
    sink = 10 / zero; /* LINE(divide) */
}

int main(int argc, char **argv)
{
    MR_FRAME(return 1);
    const char *mode = argc > 1 ? argv[1] : "";
    mr_defer(say, "main's cleanup");
    if (strcmp(mode, "nil") == 0) {
        static mr_waitgroup never = MR_WAITGROUP_INIT; /* (main stays) */
        mr_wg_add(&never, 1);
        mr_go(nil_goroutine, NULL); /* LINE(go) */
        mr_wg_wait(&never);
    } else if (strcmp(mode, "recover") == 0) {
        printf("recovering() returned %d\n", recovering());
        printf("goes on\n");
    } else if (strcmp(mode, "divide") == 0) {
        divide();
    } else if (strcmp(mode, "far") == 0) {
        far_write();
    } else if (strcmp(mode, "bus") == 0) {
        bus_read();
    } else if (strcmp(mode, "libc") == 0) {
        libc_fault();
    } else if (strcmp(mode, "handler") == 0) {
        signal(SIGSEGV, own_handler);
        nil_write();
    } else if (strcmp(mode, "kill") == 0) {
        raise(SIGSEGV);
    } else {
        fprintf(stderr, "usage: sigpanic nil|recover|divide|far|bus|libc|handler|kill\n");
        return 2;
    }
    return 0;
}
