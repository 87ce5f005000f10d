/* POSIX file stages: atomic durable writes, plain reads. */
#include "stream/file.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <libgen.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/text.h"

typedef struct {
    cairn_sink base;
    int fd;
    char *path;
    char *tmp;
    int durable;
    off_t written, queued; /* bytes written; of them, handed to writeback */
} file_sink;

/* A file whose sync is deferred (one syncfs at the end of a backup) has
 * its writeback started every this many bytes and when it closes, the way
 * PostgreSQL's *_flush_after settings do: the final sync then waits for
 * little, and dirty pages do not pile up in the page cache. */
#define WRITEBACK_BYTES (8 << 20)

static void start_writeback(file_sink *f)
{
#ifdef SYNC_FILE_RANGE_WRITE
    if (f->written > f->queued)
        (void)sync_file_range(f->fd, f->queued, f->written - f->queued, SYNC_FILE_RANGE_WRITE);
#endif
    f->queued = f->written; /* a hint only: the final sync reports errors */
}

static int file_sink_write(cairn_sink *s, const void *buf, size_t len)
{
    file_sink *f = (file_sink *)s;
    const char *p = buf;
    while (len) {
        ssize_t n = write(f->fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return cairn_error_errno(&s->err, errno, "cannot write %s", f->path), -1;
        }
        p += n;
        len -= (size_t)n;
        f->written += n;
    }
    if (!f->durable && f->written - f->queued >= WRITEBACK_BYTES)
        start_writeback(f);
    return 0;
}

int cairn_fsync_dir(const char *dir, cairn_error *err)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return cairn_error_errno(err, errno, "cannot open directory %s", dir);
    if (fsync(fd) != 0 && errno != EINVAL) {
        int e = errno;
        close(fd);
        return cairn_error_errno(err, e, "cannot fsync directory %s", dir);
    }
    close(fd);
    return CAIRN_OK;
}

static int file_sink_finish(cairn_sink *s)
{
    file_sink *f = (file_sink *)s;
    if (f->durable && fsync(f->fd) != 0)
        return cairn_error_errno(&s->err, errno, "cannot fsync %s", f->path), -1;
    if (!f->durable)
        start_writeback(f);
    if (close(f->fd) != 0) {
        f->fd = -1;
        return cairn_error_errno(&s->err, errno, "cannot close %s", f->path), -1;
    }
    f->fd = -1;
    if (rename(f->tmp, f->path) != 0)
        return cairn_error_errno(&s->err, errno, "cannot rename %s", f->tmp), -1;
    free(f->tmp);
    f->tmp = NULL;
    if (!f->durable)
        return 0;
    char *copy = cairn_xstrdup(f->path);
    int rc = cairn_fsync_dir(dirname(copy), &s->err);
    free(copy);
    return rc == CAIRN_OK ? 0 : -1;
}

static void file_sink_release(cairn_sink *s)
{
    file_sink *f = (file_sink *)s;
    if (f->fd >= 0)
        close(f->fd);
    if (f->tmp) {
        unlink(f->tmp);
        free(f->tmp);
    }
    free(f->path);
}

static const cairn_sink_ops file_sink_ops = {file_sink_write, file_sink_finish, file_sink_release};

cairn_sink *cairn_file_sink_new(const char *path, cairn_error *err)
{
    return cairn_file_sink_new_opts(path, 1, err);
}

cairn_sink *cairn_file_sink_new_opts(const char *path, int durable, cairn_error *err)
{
    static atomic_uint counter;
    file_sink *f = cairn_xcalloc(1, sizeof *f);
    f->durable = durable;
    f->base.ops = &file_sink_ops;
    f->path = cairn_xstrdup(path);
    f->tmp = cairn_xasprintf("%s.tmp.%ld.%u", path, (long)getpid(), atomic_fetch_add(&counter, 1));
    f->fd = open(f->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (f->fd >= 0 && fchmod(f->fd, 0600) != 0) { /* exactly, whatever the umask */
        close(f->fd);
        unlink(f->tmp);
        f->fd = -1;
    }
    if (f->fd < 0) {
        cairn_error_errno(err, errno, "cannot create %s", path);
        free(f->tmp);
        f->tmp = NULL;
        cairn_sink_free(&f->base);
        return NULL;
    }
    return &f->base;
}

typedef struct {
    cairn_source base;
    int fd;
    char *path;
} file_source;

static ssize_t file_source_read(cairn_source *s, void *buf, size_t cap)
{
    file_source *f = (file_source *)s;
    for (;;) {
        ssize_t n = read(f->fd, buf, cap);
        if (n >= 0)
            return n;
        if (errno != EINTR)
            return cairn_error_errno(&s->err, errno, "cannot read %s", f->path), -1;
    }
}

static void file_source_release(cairn_source *s)
{
    file_source *f = (file_source *)s;
    if (f->fd >= 0)
        close(f->fd);
    free(f->path);
}

static const cairn_source_ops file_source_ops = {file_source_read, file_source_release};

cairn_source *cairn_file_source_new(const char *path, cairn_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        if (errno == ENOENT)
            cairn_error_set(err, CAIRN_EVERIFY, "%s is missing", path);
        else
            cairn_error_errno(err, errno, "cannot open %s", path);
        return NULL;
    }
    file_source *f = cairn_xcalloc(1, sizeof *f);
    f->base.ops = &file_source_ops;
    f->fd = fd;
    f->path = cairn_xstrdup(path);
    posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    return &f->base;
}
