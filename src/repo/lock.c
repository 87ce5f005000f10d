/* The repository lock: flock on REPO/lock, holder described in JSON. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "repo/repo.h"
#include "util/log.h"
#include "util/text.h"

static void describe_holder(int fd, char *out, size_t cap, long *pid)
{
    char buf[1024];
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    *pid = 0;
    if (n <= 0) {
        snprintf(out, cap, "another cairn run");
        return;
    }
    buf[n] = '\0';
    json_t *j = json_loads(buf, 0, NULL);
    if (!j) {
        snprintf(out, cap, "another cairn run");
        return;
    }
    *pid = (long)json_integer_value(json_object_get(j, "pid"));
    const char *host = json_string_value(json_object_get(j, "host"));
    const char *cmd = json_string_value(json_object_get(j, "command"));
    const char *at = json_string_value(json_object_get(j, "started_at"));
    snprintf(out, cap, "pid %ld on %s (%s, started %s)", *pid, host ? host : "?", cmd ? cmd : "?",
             at ? at : "?");
    json_decref(j);
}

static double g_wait_lock; /* seconds a writer waits for the lock; 0: none */

void cairn_repo_set_wait_lock(double seconds)
{
    g_wait_lock = seconds;
}

/* flock, retried every 100 ms for up to g_wait_lock seconds. */
static int take(int fd)
{
    double waited = 0;
    int logged = 0;
    for (;;) {
        if (flock(fd, LOCK_EX | LOCK_NB) == 0)
            return 0;
        if (errno != EWOULDBLOCK || waited >= g_wait_lock)
            return -1;
        if (!logged++)
            cairn_info("repository locked by another run: waiting up to %.0f s", g_wait_lock);
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
        waited += 0.1;
    }
}

int cairn_repo_lock(cairn_repo *r, const char *command, cairn_error *err)
{
    char *path = cairn_xasprintf("%s/lock", r->root);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        cairn_error_errno(err, errno, "cannot open the repository lock %s", path);
        free(path);
        return err->code;
    }
    free(path);
    char holder[512];
    long pid = 0;
    if (take(fd) != 0) {
        int e = errno;
        describe_holder(fd, holder, sizeof holder, &pid);
        close(fd);
        if (e != EWOULDBLOCK)
            return cairn_error_errno(err, e, "cannot lock repository %s", r->root);
        cairn_error_set(err, CAIRN_ELOCKED, "repository %s is locked by %s%s", r->root, holder,
                        g_wait_lock > 0 ? " (waited as long as --wait-lock allows)" : "");
        return cairn_error_hint(err, "wait for that run to finish (--wait-lock DURATION waits "
                                     "for it); the lock is released automatically when its "
                                     "process ends");
    }
    /* We hold it: a description left in the file is from a run that died. */
    describe_holder(fd, holder, sizeof holder, &pid);
    if (pid > 0 && pid != (long)getpid())
        cairn_warn("repository lock was left by %s, which is gone; taking it over", holder);
    char host[256] = "?", at[32];
    gethostname(host, sizeof host - 1);
    cairn_time_iso(time(NULL), at);
    json_t *j = json_pack("{s:I, s:s, s:s, s:s}", "pid", (json_int_t)getpid(), "host", host,
                          "command", command, "started_at", at);
    char *text = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    if (ftruncate(fd, 0) != 0 || pwrite(fd, text, strlen(text), 0) < 0) {
        int e = errno;
        free(text);
        close(fd);
        return cairn_error_errno(err, e, "cannot write the repository lock");
    }
    free(text);
    r->lock_fd = fd;
    return CAIRN_OK;
}
