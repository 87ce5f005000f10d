/* Repository: opening, cairn.json, backup listing and selection. */
#include "repo/repo.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "repo/keys.h"
#include "util/log.h"
#include "util/text.h"

static char *g_passphrase;
static int g_encrypt_new;

void cairn_repo_set_passphrase(const char *passphrase)
{
    if (g_passphrase) {
        OPENSSL_cleanse(g_passphrase, strlen(g_passphrase));
        free(g_passphrase);
    }
    g_passphrase = passphrase && *passphrase ? cairn_xstrdup(passphrase) : NULL;
}

void cairn_repo_set_encrypt_new(int yes)
{
    g_encrypt_new = yes;
}

static int g_immutable;

void cairn_repo_set_immutable(int yes)
{
    g_immutable = yes;
}

/* A control file, decrypted when the repository is encrypted (everything
 * but cairn.json is). */
static int read_all(cairn_repo *r, const char *path, char **text, size_t *len, cairn_error *err)
{
    cairn_storage *st = r->st;
    cairn_source *src = NULL;
    if (st->ops->get(st, path, &src, err) != CAIRN_OK)
        return err->code;
    if (r->encrypted && strcmp(path, "cairn.json") != 0)
        src = cairn_decrypt_source_new(src, r->key, path);
    size_t cap = 1 << 16, n = 0;
    char *buf = cairn_xmalloc(cap);
    for (;;) {
        if (n == cap) {
            cap *= 2;
            buf = cairn_xrealloc(buf, cap);
        }
        ssize_t got = cairn_source_read(src, buf + n, cap - n);
        if (got < 0) {
            *err = *cairn_source_error(src);
            cairn_source_free(src);
            free(buf);
            return err->code;
        }
        if (got == 0)
            break;
        n += (size_t)got;
    }
    cairn_source_free(src);
    *text = buf;
    *len = n;
    return CAIRN_OK;
}

/* Control files (manifests, pending records) are durable at once, even
 * while payload files are deferred; encrypted like the rest but for
 * cairn.json. */
static int write_json(cairn_repo *r, const char *path, json_t *j, cairn_error *err)
{
    cairn_storage *st = r->st;
    char *text = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);
    cairn_sink *sink = NULL;
    int deferred = st->defer_sync;
    st->defer_sync = 0;
    int rc = st->ops->put(st, path, &sink, err);
    st->defer_sync = deferred;
    if (rc == CAIRN_OK && r->encrypted && strcmp(path, "cairn.json") != 0) {
        sink = cairn_encrypt_sink_new(sink, r->key);
        if (!sink)
            rc = cairn_error_set(err, CAIRN_ERR, "cannot encrypt %s", path);
    }
    if (rc == CAIRN_OK) {
        if (cairn_sink_write(sink, text, strlen(text)) != 0 ||
            cairn_sink_write(sink, "\n", 1) != 0 || cairn_sink_finish(sink) != 0) {
            *err = *cairn_sink_error(sink);
            rc = err->code ? err->code : CAIRN_ERR;
        }
    }
    cairn_sink_free(sink);
    free(text);
    return rc;
}

static int dir_is_empty(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    struct dirent *de;
    int empty = 1;
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            empty = 0;
    closedir(d);
    return empty;
}

static int not_a_repo(cairn_error *err, const char *dir, const char *why)
{
    cairn_error_set(err, CAIRN_ERR, "%s is not a cairn repository (%s)", dir, why);
    return cairn_error_hint(err, "give the directory a backup was written to, or a new or "
                                 "empty directory to start a repository with cairn backup");
}

/* An encrypted repository opens with its passphrase alone; --encrypt
 * cannot turn an existing plain one into an encrypted one. */
static int unlock(cairn_repo *r, cairn_error *err)
{
    json_t *enc = json_object_get(r->config, "encryption");
    if (!enc || json_is_null(enc)) {
        if (!g_encrypt_new)
            return CAIRN_OK;
        cairn_error_set(err, CAIRN_EUSAGE, "repository %s is not encrypted", r->root);
        return cairn_error_hint(err, "a repository is encrypted from its start: give --encrypt "
                                     "with a new repository directory");
    }
    if (!g_passphrase) {
        cairn_error_set(err, CAIRN_EUSAGE, "repository %s is encrypted", r->root);
        return cairn_error_hint(err, "give --passphrase-file FILE or set CAIRN_PASSPHRASE");
    }
    if (cairn_keys_unlock(enc, g_passphrase, r->key, err) != CAIRN_OK)
        return cairn_error_prefix(err, "repository %s", r->root);
    r->encrypted = 1;
    return CAIRN_OK;
}

int cairn_repo_change_passphrase(cairn_repo *r, const char *passphrase, cairn_error *err)
{
    if (!r->encrypted)
        return cairn_error_set(err, CAIRN_EUSAGE, "repository %s is not encrypted", r->root);
    json_t *enc = NULL;
    if (cairn_keys_rewrap(r->key, passphrase, &enc, err) != CAIRN_OK)
        return err->code;
    json_object_set_new(r->config, "encryption", enc);
    return write_json(r, "cairn.json", r->config, err);
}

int cairn_repo_open(const char *dir, int create, cairn_repo **out, cairn_error *err)
{
    *out = NULL;
    struct stat sb;
    int exists = stat(dir, &sb) == 0;
    if (exists && !S_ISDIR(sb.st_mode))
        return not_a_repo(err, dir, "not a directory");
    char *cfg_path = cairn_xasprintf("%s/cairn.json", dir);
    int has_cfg = access(cfg_path, F_OK) == 0;
    free(cfg_path);
    if (!has_cfg) {
        if (!create)
            return not_a_repo(err, dir, exists ? "no cairn.json" : "it does not exist");
        if (exists && !dir_is_empty(dir))
            return not_a_repo(err, dir, "the directory is not empty and has no cairn.json");
        if (!exists && (mkdir(dir, 0700) != 0 || chmod(dir, 0700) != 0))
            return cairn_error_errno(err, errno, "cannot create repository directory %s", dir);
    }
    if (exists && (sb.st_mode & S_IWOTH)) {
        cairn_error_set(err, CAIRN_ERR,
                        "repository %s is writable by every user: anyone could replace a backup",
                        dir);
        return cairn_error_hint(err, "chmod o-w %s (cairn creates repositories 0700)", dir);
    }
    if (!has_cfg && g_encrypt_new && !g_passphrase) {
        cairn_error_set(err, CAIRN_EUSAGE, "--encrypt needs a passphrase");
        return cairn_error_hint(err, "give --passphrase-file FILE or set CAIRN_PASSPHRASE");
    }
    cairn_repo *r = cairn_xcalloc(1, sizeof *r);
    r->root = cairn_xstrdup(dir);
    r->st = cairn_storage_posix_new(dir);
    r->lock_fd = -1;
    if (!has_cfg) {
        char at[32];
        cairn_time_iso(time(NULL), at);
        r->config =
            json_pack("{s:i, s:s, s:n}", "format", CAIRN_REPO_FORMAT, "created_at", at, "source");
        json_t *enc = NULL;
        if (g_encrypt_new) {
            if (cairn_keys_create(g_passphrase, &enc, r->key, err) != CAIRN_OK) {
                cairn_repo_close(r);
                return err->code;
            }
            json_object_set_new(r->config, "encryption", enc);
            r->encrypted = 1;
        }
        if (write_json(r, "cairn.json", r->config, err) != CAIRN_OK) {
            cairn_repo_close(r);
            return err->code;
        }
    } else {
        char *text = NULL;
        size_t len = 0;
        if (read_all(r, "cairn.json", &text, &len, err) != CAIRN_OK) {
            cairn_repo_close(r);
            return err->code;
        }
        r->config = json_loadb(text, len, 0, NULL);
        free(text);
        json_t *fmt = json_object_get(r->config, "format");
        if (!json_is_integer(fmt)) {
            cairn_repo_close(r);
            return not_a_repo(err, dir, "cairn.json is unreadable");
        }
        if (json_integer_value(fmt) != CAIRN_REPO_FORMAT) {
            cairn_repo_close(r);
            cairn_error_set(err, CAIRN_ERR, "repository %s has format %lld; this cairn reads %d",
                            dir, (long long)json_integer_value(fmt), CAIRN_REPO_FORMAT);
            return cairn_error_hint(err, "use the cairn version that wrote it");
        }
        if (unlock(r, err) != CAIRN_OK) {
            cairn_repo_close(r);
            return err->code;
        }
    }
    *out = r;
    return CAIRN_OK;
}

int cairn_repo_open_locked(const char *dir, int create, const char *command, cairn_repo **out,
                           cairn_error *err)
{
    if (cairn_repo_open(dir, create, out, err) != CAIRN_OK)
        return err->code;
    if (cairn_repo_lock(*out, command, err) != CAIRN_OK) {
        cairn_repo_close(*out);
        *out = NULL;
        return err->code;
    }
    return CAIRN_OK;
}

void cairn_repo_close(cairn_repo *r)
{
    if (!r)
        return;
    if (r->lock_fd >= 0) {
        if (ftruncate(r->lock_fd, 0) != 0)
            cairn_debug("cannot clear the lock file");
        close(r->lock_fd);
    }
    json_decref(r->config);
    OPENSSL_cleanse(r->key, sizeof r->key);
    cairn_storage_free(r->st);
    free(r->root);
    free(r);
}

int cairn_repo_check_source(cairn_repo *r, const char *driver, const cairn_identity *id,
                            cairn_error *err)
{
    json_t *src = json_object_get(r->config, "source");
    if (json_is_object(src)) {
        const char *d = json_string_value(json_object_get(src, "driver"));
        const char *sys = json_string_value(json_object_get(src, "system_identifier"));
        const char *db = json_string_value(json_object_get(src, "database"));
        if (!d || !sys || !db || strcmp(d, driver) != 0 || strcmp(sys, id->system_id) != 0 ||
            strcmp(db, id->database) != 0) {
            cairn_error_set(err, CAIRN_ERR,
                            "repository %s holds backups of %s database \"%s\" (system %s), "
                            "not of \"%s\" (system %s)",
                            r->root, d ? d : "?", db ? db : "?", sys ? sys : "?", id->database,
                            id->system_id);
            return cairn_error_hint(err, "use one repository per source database");
        }
        return CAIRN_OK;
    }
    json_object_set_new(r->config, "source",
                        json_pack("{s:s, s:s, s:s}", "driver", driver, "system_identifier",
                                  id->system_id, "database", id->database));
    return write_json(r, "cairn.json", r->config, err);
}

static int id_ok(const char *id)
{
    if (!id || !*id || strlen(id) > 64)
        return 0;
    for (const char *c = id; *c; c++)
        if (!((*c >= '0' && *c <= '9') || (*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') ||
              *c == '-' || *c == '_'))
            return 0;
    return 1;
}

static int load_quiet(cairn_repo *r, const char *id, cairn_manifest **out, cairn_error *err)
{
    char *path = cairn_xasprintf("backups/%s/manifest.json", id);
    char *text = NULL;
    size_t len = 0;
    int rc = read_all(r, path, &text, &len, err);
    free(path);
    if (rc != CAIRN_OK)
        return rc;
    cairn_manifest *m = cairn_xcalloc(1, sizeof *m);
    rc = cairn_manifest_parse(text, len, m, err);
    free(text);
    if (rc != CAIRN_OK) {
        free(m);
        return cairn_error_prefix(err, "backup %s", id);
    }
    if (strcmp(m->id, id) != 0) {
        cairn_manifest_free(m);
        return cairn_error_set(err, CAIRN_EVERIFY, "backup %s: manifest names another id", id);
    }
    *out = m;
    return CAIRN_OK;
}

int cairn_repo_load(cairn_repo *r, const char *id, cairn_manifest **out, cairn_error *err)
{
    *out = NULL;
    char *path = cairn_xasprintf("backups/%s/manifest.json", id_ok(id) ? id : "-");
    int exists = id_ok(id) && r->st->ops->exists(r->st, path);
    free(path);
    if (!exists) {
        cairn_error_set(err, CAIRN_ERR, "no backup \"%s\" in repository %s", id, r->root);
        return cairn_error_hint(err, "cairn list --repo %s shows the backups it holds", r->root);
    }
    return load_quiet(r, id, out, err);
}

int cairn_repo_list(cairn_repo *r, cairn_manifest ***out, size_t *count, cairn_error *err)
{
    char **names = NULL;
    size_t n = 0;
    *out = NULL;
    *count = 0;
    if (r->st->ops->list(r->st, "backups", &names, &n, err) != CAIRN_OK)
        return err->code;
    cairn_manifest **list = cairn_xcalloc(n + 1, sizeof *list);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (!id_ok(names[i]))
            continue;
        char *path = cairn_xasprintf("backups/%s/manifest.json", names[i]);
        int exists = r->st->ops->exists(r->st, path);
        free(path);
        if (!exists)
            continue; /* unfinished or failed: does not exist for readers */
        cairn_error e = {0};
        if (load_quiet(r, names[i], &list[k], &e) != CAIRN_OK) {
            cairn_warn("skipping backup %s: %s", names[i], e.message);
            continue;
        }
        k++;
    }
    cairn_strv_free(names);
    *out = list;
    *count = k;
    return CAIRN_OK;
}

void cairn_repo_list_free(cairn_manifest **list, size_t count)
{
    for (size_t i = 0; i < count; i++)
        cairn_manifest_free(list[i]);
    free(list);
}

int cairn_repo_select(cairn_repo *r, const char *spec, cairn_manifest **out, cairn_error *err)
{
    *out = NULL;
    if (spec && strcmp(spec, "latest") != 0 && id_ok(spec)) {
        char *path = cairn_xasprintf("backups/%s/manifest.json", spec);
        int exists = r->st->ops->exists(r->st, path);
        free(path);
        if (exists)
            return cairn_repo_load(r, spec, out, err);
    }
    cairn_manifest **list = NULL;
    size_t n = 0;
    if (cairn_repo_list(r, &list, &n, err) != CAIRN_OK)
        return err->code;
    cairn_manifest *found = NULL;
    int matches = 0;
    for (size_t i = n; i-- > 0;) {
        cairn_manifest *m = list[i];
        if (!spec || strcmp(spec, "latest") == 0) {
            if (strcmp(m->status, "complete") == 0) {
                found = m;
                matches = 1;
                break;
            }
        } else if (m->tag && strcmp(m->tag, spec) == 0) {
            if (!found)
                found = m;
            matches++;
        }
    }
    if (matches == 1) {
        for (size_t i = 0; i < n; i++)
            if (list[i] == found)
                list[i] = NULL;
        *out = found;
        cairn_repo_list_free(list, n);
        return CAIRN_OK;
    }
    cairn_repo_list_free(list, n);
    if (matches > 1) {
        cairn_error_set(err, CAIRN_ERR, "tag \"%s\" names %d backups", spec, matches);
        return cairn_error_hint(err, "give the backup id instead (cairn list --repo %s)", r->root);
    }
    if (!spec || strcmp(spec, "latest") == 0) {
        cairn_error_set(err, CAIRN_ENOCHAIN, "repository %s holds no complete backup", r->root);
        return cairn_error_hint(err, "take one with cairn backup --repo %s", r->root);
    }
    cairn_error_set(err, CAIRN_ERR, "no backup \"%s\" in repository %s", spec, r->root);
    return cairn_error_hint(err, "cairn list --repo %s shows the backups it holds", r->root);
}

/* Ids sort in the order backups were taken (list, chains and "latest"
 * rely on it): a new id's time stamp must be later than every existing
 * one's, whatever their type letters, so a run within the same second as
 * the previous one waits for the next second. */
void cairn_repo_new_id(cairn_repo *r, const char *type, char out[32])
{
    char suffix = strcmp(type, "incr") == 0 ? 'I' : 'F';
    char newest[24] = "";
    char **names = NULL;
    size_t n = 0;
    cairn_error e = {0};
    if (r->st->ops->list(r->st, "backups", &names, &n, &e) == CAIRN_OK) {
        for (size_t i = 0; i < n; i++)
            if (id_ok(names[i]) && strncmp(names[i], newest, 15) > 0)
                snprintf(newest, sizeof newest, "%.15s", names[i]);
        for (size_t i = 0; i < n; i++)
            free(names[i]);
        free(names);
    }
    for (int attempt = 0;; attempt++) {
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        char stamp[24];
        strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
        snprintf(out, 32, "%s%c", stamp, suffix);
        if (strcmp(stamp, newest) > 0 || attempt > 50)
            return;
        usleep(100 * 1000);
    }
}

void cairn_repo_defer_sync(cairn_repo *r)
{
    r->st->defer_sync = 1;
}

int cairn_repo_sync(cairn_repo *r, cairn_error *err)
{
    if (!r->st->defer_sync)
        return CAIRN_OK;
    r->st->defer_sync = 0;
    return r->st->ops->sync(r->st, err);
}

int cairn_repo_put(cairn_repo *r, const char *id, const char *path, cairn_sink **out,
                   cairn_error *err)
{
    char *p = cairn_xasprintf("backups/%s/%s", id, path);
    int rc = r->st->ops->put(r->st, p, out, err);
    free(p);
    return rc;
}

int cairn_repo_get(cairn_repo *r, const char *id, const char *path, cairn_source **out,
                   cairn_error *err)
{
    if (cairn_manifest_path_ok(path) != 0)
        return cairn_error_set(err, CAIRN_EVERIFY, "backup %s: unsafe path \"%s\"", id, path);
    char *p = cairn_xasprintf("backups/%s/%s", id, path);
    int rc = r->st->ops->get(r->st, p, out, err);
    free(p);
    if (rc != CAIRN_OK)
        cairn_error_prefix(err, "backup %s", id);
    return rc;
}

int cairn_repo_adopt(cairn_repo *dst, const cairn_repo *src, cairn_error *err)
{
    json_t *ss = json_object_get(src->config, "source"),
           *ds = json_object_get(dst->config, "source");
    char **names = NULL;
    size_t n = 0;
    if (dst->st->ops->list(dst->st, "backups", &names, &n, err) != CAIRN_OK)
        return err->code;
    cairn_strv_free(names);
    if (n == 0 && !json_is_object(ds) && !dst->encrypted) {
        json_object_set(dst->config, "source", ss ? ss : json_null());
        json_t *enc = json_object_get(src->config, "encryption");
        if (enc) {
            json_object_set(dst->config, "encryption", enc);
            memcpy(dst->key, src->key, sizeof dst->key);
            dst->encrypted = 1;
        }
        return write_json(dst, "cairn.json", dst->config, err);
    }
    if (json_is_object(ss) && json_is_object(ds) && !json_equal(ss, ds)) {
        cairn_error_set(err, CAIRN_ERR, "repository %s holds backups of another source than %s",
                        dst->root, src->root);
        return cairn_error_hint(err, "copy into a new directory, or into a copy of %s", src->root);
    }
    if (dst->encrypted != src->encrypted ||
        (src->encrypted && CRYPTO_memcmp(dst->key, src->key, sizeof dst->key) != 0)) {
        cairn_error_set(err, CAIRN_ERR, "repositories %s and %s are not encrypted alike", src->root,
                        dst->root);
        return cairn_error_hint(err, "copy into a new directory: it takes the source "
                                     "repository's encryption");
    }
    return CAIRN_OK;
}

int64_t cairn_repo_setting(cairn_repo *r, const char *name, int64_t fallback)
{
    json_t *v = json_object_get(r->config, name);
    return json_is_integer(v) ? (int64_t)json_integer_value(v) : fallback;
}

int cairn_repo_set_setting(cairn_repo *r, const char *name, int64_t value, cairn_error *err)
{
    json_object_set_new(r->config, name, json_integer((json_int_t)value));
    return write_json(r, "cairn.json", r->config, err);
}

int cairn_repo_seal(cairn_repo *r, const char *id, int sealed, cairn_error *err)
{
    if (!id_ok(id))
        return cairn_error_set(err, CAIRN_ERR, "invalid backup id \"%s\"", id);
    char *p = cairn_xasprintf("backups/%s", id);
    cairn_error e = {0};
    if (!sealed && r->st->ops->immutable(r->st, p, 0, &e) != CAIRN_OK)
        cairn_debug("%s", e.message); /* it may never have been immutable */
    int rc = r->st->ops->seal(r->st, p, sealed, err);
    free(p);
    return rc;
}

void cairn_repo_seal_finished(cairn_repo *r, const char *id)
{
    cairn_error e = {0};
    if (cairn_repo_seal(r, id, 1, &e) != CAIRN_OK) {
        cairn_warn("backup %s is written, but could not be made read-only: %s", id, e.message);
        return;
    }
    if (!g_immutable)
        return;
    char *p = cairn_xasprintf("backups/%s", id);
    if (r->st->ops->immutable(r->st, p, 1, &e) == CAIRN_OK)
        cairn_info("backup %s is immutable (chattr +i): not even root changes it without "
                   "clearing the attribute first",
                   id);
    else
        cairn_warn("backup %s is read-only but not immutable: %s (the file system or the "
                   "privileges do not allow it; it takes CAP_LINUX_IMMUTABLE)",
                   id, e.message);
    free(p);
}

int cairn_repo_write_manifest(cairn_repo *r, const cairn_manifest *m, cairn_error *err)
{
    if (cairn_repo_sync(r, err) != CAIRN_OK) /* every file it names is durable first */
        return err->code;
    json_t *j = cairn_manifest_to_json(m);
    char *p = cairn_xasprintf("backups/%s/manifest.json", m->id);
    int rc = write_json(r, p, j, err);
    free(p);
    json_decref(j);
    return rc;
}

int cairn_repo_remove_backup(cairn_repo *r, const char *id, cairn_error *err)
{
    if (!id_ok(id))
        return cairn_error_set(err, CAIRN_ERR, "invalid backup id \"%s\"", id);
    char *p = cairn_xasprintf("backups/%s", id);
    int rc = r->st->ops->remove(r->st, p, err);
    free(p);
    return rc;
}

int cairn_repo_remove_file(cairn_repo *r, const char *id, const char *path, cairn_error *err)
{
    if (!id_ok(id))
        return cairn_error_set(err, CAIRN_ERR, "invalid backup id \"%s\"", id);
    char *p = cairn_xasprintf("backups/%s/%s", id, path);
    int rc = r->st->ops->remove(r->st, p, err);
    free(p);
    return rc;
}

int cairn_repo_put_json(cairn_repo *r, const char *id, const char *path, json_t *doc,
                        cairn_error *err)
{
    char *p = cairn_xasprintf("backups/%s/%s", id, path);
    int rc = write_json(r, p, doc, err);
    free(p);
    return rc;
}

void cairn_repo_get_json(cairn_repo *r, const char *id, const char *path, json_t **out)
{
    *out = NULL;
    if (!id_ok(id))
        return;
    char *p = cairn_xasprintf("backups/%s/%s", id, path);
    char *text = NULL;
    size_t len = 0;
    cairn_error e = {0};
    if (r->st->ops->exists(r->st, p) && read_all(r, p, &text, &len, &e) == CAIRN_OK) {
        *out = json_loadb(text, len, 0, NULL);
        free(text);
    }
    free(p);
}

int cairn_repo_list_unfinished(cairn_repo *r, char ***ids, cairn_error *err)
{
    char **names = NULL;
    size_t n = 0, k = 0;
    if (r->st->ops->list(r->st, "backups", &names, &n, err) != CAIRN_OK)
        return err->code;
    for (size_t i = 0; i < n; i++) {
        char *path = cairn_xasprintf("backups/%s/manifest.json", names[i]);
        int finished = r->st->ops->exists(r->st, path);
        free(path);
        if (id_ok(names[i]) && !finished)
            names[k++] = names[i];
        else
            free(names[i]);
    }
    names[k] = NULL;
    *ids = names;
    return CAIRN_OK;
}

int cairn_repo_put_drill(cairn_repo *r, json_t *record, cairn_error *err)
{
    char when[32];
    cairn_time_iso(time(NULL), when);
    /* "2026-11-26T21:57:54Z" -> "20261126-215754", then a counter */
    char stamp[32];
    size_t k = 0;
    for (const char *c = when; *c && k + 1 < sizeof stamp; c++)
        if (*c >= '0' && *c <= '9')
            stamp[k++] = *c;
        else if (*c == 'T')
            stamp[k++] = '-';
    stamp[k] = '\0';
    for (int n = 0;; n++) {
        char *path = cairn_xasprintf("drills/%s-%02d.json", stamp, n);
        if (!r->st->ops->exists(r->st, path)) {
            int rc = write_json(r, path, record, err);
            free(path);
            return rc;
        }
        free(path);
    }
}

int cairn_repo_drills(cairn_repo *r, json_t **records, cairn_error *err)
{
    char **names = NULL;
    size_t n = 0;
    *records = json_array();
    if (r->st->ops->list(r->st, "drills", &names, &n, err) != CAIRN_OK) {
        json_decref(*records);
        *records = NULL;
        return err->code;
    }
    for (size_t i = 0; i < n; i++) {
        char *path = cairn_xasprintf("drills/%s", names[i]);
        char *text = NULL;
        size_t len = 0;
        cairn_error e = {0};
        json_t *doc = NULL;
        if (read_all(r, path, &text, &len, &e) == CAIRN_OK)
            doc = json_loadb(text, len, 0, NULL);
        if (json_is_object(doc))
            json_array_append_new(*records, doc);
        else {
            cairn_warn("drill record %s is unreadable: %s", path, e.code ? e.message : "not JSON");
            json_decref(doc);
        }
        free(text);
        free(path);
        free(names[i]);
    }
    free(names);
    return CAIRN_OK;
}

void cairn_repo_last_drills(cairn_repo *r, json_t **last, json_t **passed)
{
    json_t *all = NULL, *d;
    cairn_error e = {0};
    size_t i;
    *last = *passed = NULL;
    if (cairn_repo_drills(r, &all, &e) != CAIRN_OK)
        return;
    json_array_foreach(all, i, d)
    {
        *last = d;
        if (json_is_true(json_object_get(d, "passed")))
            *passed = d;
    }
    json_incref(*last);
    json_incref(*passed);
    json_decref(all);
}
