/*
 * plain_threads — a multi-threaded program that uses neither libmaprt nor
 * GLib, and forks and execs: run with and without libmaprace.so preloaded
 * it must print the same and exit the same (t_glib.sh).  It says whether
 * libmaprt is mapped into it (it must not be).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void *work(void *arg)
{
    long n = (long)arg, sum = 0;
    for (long i = 0; i < 1000000; i++)
        sum += i % (n + 2);
    return (void *)sum;
}

static int libmaprt_mapped(void)
{
    FILE *f = fopen("/proc/self/maps", "r");
    char line[4096];
    int found = 0;
    while (f != NULL && fgets(line, sizeof line, f) != NULL)
        found |= strstr(line, "libmaprt") != NULL;
    if (f != NULL)
        fclose(f);
    return found;
}

int main(void)
{
    pthread_t th[4];
    long total = 0;
    for (long i = 0; i < 4; i++)
        pthread_create(&th[i], NULL, work, (void *)i);
    for (int i = 0; i < 4; i++) {
        void *r;
        pthread_join(th[i], &r);
        total += (long)r;
    }
    printf("threads: %ld\n", total);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        execlp("sh", "sh", "-c", "echo exec: ok; exit 5", (char *)NULL);
        _exit(127);
    }
    int st;
    waitpid(pid, &st, 0);
    printf("child: %d\nlibmaprt mapped: %s\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1, libmaprt_mapped() ? "yes" : "no");
    return 3;
}
