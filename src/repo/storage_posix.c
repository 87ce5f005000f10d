/* POSIX storage: files under a root directory, atomic puts, 0600/0700. */
#include <dirent.h>
#include <errno.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <fcntl.h>
#include <ftw.h>

#include "repo/storage.h"
#include "stream/file.h"
#include "util/log.h"
#include "util/text.h"

static char *full_path(cairn_storage *st, const char *path)
{
    return cairn_xasprintf("%s/%s", st->root, path);
}

/* mkdir -p for the parents of path (relative), mode 0700. */
static int make_parents(cairn_storage *st, const char *path, cairn_error *err)
{
    char *p = full_path(st, path);
    size_t skip = strlen(st->root) + 1;
    for (char *c = p + skip; *c; c++) {
        if (*c != '/')
            continue;
        *c = '\0';
        if (mkdir(p, 0700) == 0) {
            if (chmod(p, 0700) != 0) /* exactly, whatever the umask */
                cairn_debug("cannot set the mode of %s", p);
        } else if (errno != EEXIST) {
            int e = errno;
            cairn_error_errno(err, e, "cannot create directory %s", p);
            free(p);
            return err->code;
        }
        *c = '/';
    }
    free(p);
    return CAIRN_OK;
}

static int posix_put(cairn_storage *st, const char *path, cairn_sink **out, cairn_error *err)
{
    if (make_parents(st, path, err) != CAIRN_OK)
        return err->code;
    char *p = full_path(st, path);
    *out = cairn_file_sink_new_opts(p, !st->defer_sync, err);
    free(p);
    return *out ? CAIRN_OK : err->code;
}

/* One syncfs of the repository's file system instead of an fsync per file
 * and directory: thousands of small chunks pay one flush. */
static int posix_sync(cairn_storage *st, cairn_error *err)
{
    int fd = open(st->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return cairn_error_errno(err, errno, "cannot open %s", st->root);
    int rc = syncfs(fd);
    int e = errno;
    close(fd);
    if (rc != 0)
        return cairn_error_errno(err, e, "cannot sync %s", st->root);
    return CAIRN_OK;
}

static int posix_get(cairn_storage *st, const char *path, cairn_source **out, cairn_error *err)
{
    char *p = full_path(st, path);
    *out = cairn_file_source_new(p, err);
    free(p);
    return *out ? CAIRN_OK : err->code;
}

static int posix_exists(cairn_storage *st, const char *path)
{
    char *p = full_path(st, path);
    struct stat sb;
    int rc = lstat(p, &sb) == 0;
    free(p);
    return rc;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int posix_list(cairn_storage *st, const char *dir, char ***names, size_t *count,
                      cairn_error *err)
{
    char *p = full_path(st, dir);
    DIR *d = opendir(p);
    *names = NULL;
    *count = 0;
    if (!d) {
        int e = errno;
        free(p);
        if (e == ENOENT) {
            *names = cairn_xcalloc(1, sizeof **names);
            return CAIRN_OK;
        }
        return cairn_error_errno(err, e, "cannot list %s", dir);
    }
    free(p);
    size_t n = 0, cap = 16;
    char **v = cairn_xcalloc(cap + 1, sizeof *v);
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap *= 2;
            v = cairn_xrealloc(v, (cap + 1) * sizeof *v);
        }
        v[n++] = cairn_xstrdup(de->d_name);
    }
    closedir(d);
    v[n] = NULL;
    qsort(v, n, sizeof *v, cmp_str);
    *names = v;
    *count = n;
    return CAIRN_OK;
}

static int remove_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)ftw;
    if (flag == FTW_DP || flag == FTW_D)
        rmdir(path);
    else
        unlink(path);
    return 0;
}

/* Read-only: files 0400, directories 0500 (children first, so the walk
 * can still enter them). */
static int seal_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)ftw;
    if (S_ISLNK(sb->st_mode))
        return 0;
    return chmod(path, flag == FTW_DP ? 0500 : 0400) == 0 ? 0 : -1;
}

/* Writable directories again (parents first, so the walk can enter the
 * children); files stay read-only: nothing rewrites them. */
static int unseal_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)ftw;
    (void)sb;
    return flag == FTW_D && chmod(path, 0700) != 0 ? -1 : 0;
}

/* FS_IMMUTABLE_FL through the ioctl chattr uses: children before their
 * directory when setting, the directory first when clearing. */
static int immutable_errno;
static int immutable_on;

static int immutable_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)ftw;
    (void)flag;
    if (S_ISLNK(sb->st_mode))
        return 0;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        immutable_errno = errno;
        return -1;
    }
    int attr = 0;
    int rc = ioctl(fd, FS_IOC_GETFLAGS, &attr);
    if (rc == 0) {
        int want = immutable_on ? attr | FS_IMMUTABLE_FL : attr & ~FS_IMMUTABLE_FL;
        rc = want == attr ? 0 : ioctl(fd, FS_IOC_SETFLAGS, &want);
    }
    if (rc != 0)
        immutable_errno = errno;
    close(fd);
    return rc == 0 ? 0 : -1;
}

static int posix_immutable(cairn_storage *st, const char *dir, int on, cairn_error *err)
{
    char *p = full_path(st, dir);
    immutable_errno = 0;
    immutable_on = on;
    int rc = nftw(p, immutable_one, 16, FTW_PHYS | (on ? FTW_DEPTH : 0));
    free(p);
    if (rc == 0)
        return CAIRN_OK;
    cairn_error_errno(err, immutable_errno, "cannot %s the immutable attribute of %s",
                      on ? "set" : "clear", dir);
    err->code = CAIRN_EUSAGE;
    return err->code;
}

static int posix_seal(cairn_storage *st, const char *dir, int sealed, cairn_error *err)
{
    char *p = full_path(st, dir);
    int rc =
        sealed ? nftw(p, seal_one, 16, FTW_DEPTH | FTW_PHYS) : nftw(p, unseal_one, 16, FTW_PHYS);
    if (rc != 0)
        cairn_error_errno(err, errno, "cannot make %s %s", dir,
                          sealed ? "read-only" : "writable again");
    free(p);
    return rc != 0 ? err->code : CAIRN_OK;
}

static int posix_remove(cairn_storage *st, const char *path, cairn_error *err)
{
    char *p = full_path(st, path);
    struct stat sb;
    if (lstat(p, &sb) != 0) {
        free(p);
        return CAIRN_OK;
    }
    if (S_ISDIR(sb.st_mode)) {
        immutable_on = 0; /* a finished backup may be immutable, and is read-only */
        nftw(p, immutable_one, 16, FTW_PHYS);
        nftw(p, unseal_one, 16, FTW_PHYS);
        nftw(p, remove_one, 16, FTW_DEPTH | FTW_PHYS);
    } else
        unlink(p);
    int gone = lstat(p, &sb) != 0;
    free(p);
    if (!gone)
        return cairn_error_set(err, CAIRN_ERR, "cannot remove %s from the repository", path);
    return CAIRN_OK;
}

static void posix_free(cairn_storage *st)
{
    free(st->root);
    free(st);
}

static const cairn_storage_ops posix_ops = {
    posix_put,    posix_get,  posix_exists,    posix_list, posix_sync,
    posix_remove, posix_seal, posix_immutable, posix_free,
};

cairn_storage *cairn_storage_posix_new(const char *root)
{
    cairn_storage *st = cairn_xcalloc(1, sizeof *st);
    st->ops = &posix_ops;
    st->root = cairn_xstrdup(root);
    return st;
}

void cairn_storage_free(cairn_storage *st)
{
    if (st)
        st->ops->free(st);
}
