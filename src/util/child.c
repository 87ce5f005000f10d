/* Running a helper program without a shell, secrets in its environment. */
#include "util/child.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/text.h"

extern char **environ;

#define TAIL 2048

static char **build_env(const char *const *extra)
{
    size_t n = 0, m = 0;
    while (environ[n])
        n++;
    while (extra && extra[m])
        m++;
    char **env = cairn_xcalloc(n + m + 1, sizeof *env);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int overridden = 0;
        const char *eq = strchr(environ[i], '=');
        size_t klen = eq ? (size_t)(eq - environ[i]) : strlen(environ[i]);
        for (size_t j = 0; j < m; j++)
            if (strncmp(extra[j], environ[i], klen) == 0 && extra[j][klen] == '=')
                overridden = 1;
        if (!overridden)
            env[o++] = environ[i];
    }
    for (size_t j = 0; j < m; j++)
        env[o++] = (char *)extra[j];
    env[o] = NULL;
    return env;
}

static void keep_tail(char *tail, size_t *len, const char *buf, size_t n)
{
    if (n >= TAIL) {
        memcpy(tail, buf + n - (TAIL - 1), TAIL - 1);
        *len = TAIL - 1;
    } else if (*len + n >= TAIL) {
        size_t drop = *len + n - (TAIL - 1);
        memmove(tail, tail + drop, *len - drop);
        *len -= drop;
        memcpy(tail + *len, buf, n);
        *len += n;
    } else {
        memcpy(tail + *len, buf, n);
        *len += n;
    }
    tail[*len] = '\0';
}

/* The last non-empty line of the child's stderr, for a one-line message. */
static void last_lines(const char *tail, char *out, size_t cap)
{
    size_t n = strlen(tail);
    while (n && (tail[n - 1] == '\n' || tail[n - 1] == ' '))
        n--;
    size_t start = n;
    int lines = 0;
    while (start > 0) {
        if (tail[start - 1] == '\n' && ++lines == 2)
            break;
        start--;
    }
    size_t o = 0;
    for (size_t i = start; i < n && o + 1 < cap; i++)
        out[o++] = tail[i] == '\n' ? ' ' : tail[i];
    out[o] = '\0';
}

int cairn_child_run(const char *const *argv, const char *const *env, cairn_sink *out,
                    cairn_error *err)
{
    int outp[2], errp[2];
    if (pipe2(outp, O_CLOEXEC) != 0)
        return cairn_error_errno(err, errno, "cannot create a pipe for %s", argv[0]);
    if (pipe2(errp, O_CLOEXEC) != 0) {
        close(outp[0]);
        close(outp[1]);
        return cairn_error_errno(err, errno, "cannot create a pipe for %s", argv[0]);
    }
    char **envp = build_env(env);
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        free(envp);
        close(outp[0]);
        close(outp[1]);
        close(errp[0]);
        close(errp[1]);
        return cairn_error_errno(err, e, "cannot start %s", argv[0]);
    }
    if (pid == 0) {
        signal(SIGPIPE, SIG_DFL); /* cairn ignores it; the child must not */
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0)
            dup2(devnull, 0);
        dup2(outp[1], 1);
        dup2(errp[1], 2);
        execvpe(argv[0], (char *const *)argv, envp);
        dprintf(2, "cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    free(envp);
    close(outp[1]);
    close(errp[1]);

    char tail[TAIL + 1] = "";
    size_t tail_len = 0;
    char *buf = cairn_xmalloc(1 << 16);
    struct pollfd fds[2] = {{.fd = outp[0], .events = POLLIN}, {.fd = errp[0], .events = POLLIN}};
    int open_fds = 2, sink_failed = 0;
    while (open_fds > 0) {
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        for (int i = 0; i < 2; i++) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            ssize_t n = read(fds[i].fd, buf, 1 << 16);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0) {
                close(fds[i].fd);
                fds[i].fd = -1;
                open_fds--;
                continue;
            }
            if (i == 1)
                keep_tail(tail, &tail_len, buf, (size_t)n);
            else if (out && !sink_failed && cairn_sink_write(out, buf, (size_t)n) != 0) {
                sink_failed = 1;
                kill(pid, SIGTERM);
            }
        }
    }
    free(buf);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (sink_failed) {
        *err = *cairn_sink_error(out);
        return cairn_error_prefix(err, "writing the output of %s", argv[0]);
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return CAIRN_OK;
    char said[1024];
    last_lines(tail, said, sizeof said);
    if (WIFEXITED(status))
        cairn_error_set(err, CAIRN_ERR, "%s failed (exit %d): %s", argv[0], WEXITSTATUS(status),
                        said[0] ? said : "no message");
    else
        cairn_error_set(err, CAIRN_ERR, "%s was killed by signal %d", argv[0],
                        WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127 && strstr(tail, "cannot run"))
        cairn_error_hint(err, "install the PostgreSQL client programs, or point "
                              "CAIRN_PG_BINDIR at their directory");
    return err->code;
}

const char *cairn_child_pg_bindir(void)
{
    const char *d = getenv("CAIRN_PG_BINDIR");
    return d ? d : "";
}

char *cairn_temp_dir(const char *what, cairn_error *err)
{
    const char *tmp = getenv("TMPDIR");
    char *dir = cairn_xasprintf("%s/cairn-%s-XXXXXX", tmp && *tmp ? tmp : "/tmp", what);
    if (!mkdtemp(dir)) {
        cairn_error_errno(err, errno, "cannot create a temporary directory");
        free(dir);
        return NULL;
    }
    return dir;
}
