/*
 * child.c — spawn a helper, read its stdout and stderr, enforce a time
 * limit so a helper that fails to detect anything cannot hang the suite.
 */
#include "child.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

bool child_run(char *const argv[], int timeout_s, child_result *r)
{
    memset(r, 0, sizeof *r);
    int errp[2], outp[2];
    if (pipe2(errp, O_CLOEXEC) != 0 || pipe2(outp, O_CLOEXEC) != 0)
        return false;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, errp[1], STDERR_FILENO);
    posix_spawn_file_actions_adddup2(&fa, outp[1], STDOUT_FILENO);
    pid_t pid;
    int rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(errp[1]);
    close(outp[1]);
    if (rc != 0) {
        close(errp[0]);
        close(outp[0]);
        errno = rc;
        return false;
    }
    size_t nerr = 0, nout = 0;
    bool err_open = true, out_open = true;
    double deadline = now() + timeout_s;
    while (err_open || out_open) {
        struct pollfd p[2] = {{errp[0], POLLIN, 0}, {outp[0], POLLIN, 0}};
        int left = (int)((deadline - now()) * 1000);
        if (left <= 0) {
            kill(pid, SIGKILL);
            r->timed_out = true;
            break;
        }
        if (poll(p, 2, left) < 0 && errno != EINTR)
            break;
        char tmp[4096];
        if (err_open && (p[0].revents & (POLLIN | POLLHUP))) {
            ssize_t n = read(errp[0], tmp, sizeof tmp);
            if (n <= 0)
                err_open = false;
            else
                for (ssize_t i = 0; i < n && nerr < sizeof r->err - 1; i++)
                    r->err[nerr++] = tmp[i];
        }
        if (out_open && (p[1].revents & (POLLIN | POLLHUP))) {
            ssize_t n = read(outp[0], tmp, sizeof tmp);
            if (n <= 0)
                out_open = false;
            else
                for (ssize_t i = 0; i < n && nout < sizeof r->out - 1; i++)
                    r->out[nout++] = tmp[i];
        }
    }
    close(errp[0]);
    close(outp[0]);
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(st)) {
        r->status = WEXITSTATUS(st);
    } else {
        r->status = -1;
        r->signal = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
    }
    return true;
}

const char *first_line(const char *s, char *buf, size_t n)
{
    size_t i = 0;
    while (s[i] && s[i] != '\n' && i + 1 < n) {
        buf[i] = s[i];
        i++;
    }
    buf[i] = '\0';
    return buf;
}

const char *test_dir(const char *argv0)
{
    static char dir[4096];
    snprintf(dir, sizeof dir, "%s", argv0);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    else
        snprintf(dir, sizeof dir, ".");
    return dir;
}
