/* cairn copy: backups into a second repository (another disk, an offline
 * volume), so a last-resort copy is one command.
 *
 * The files are copied byte for byte (compressed, and encrypted when the
 * repository is: the copy takes the same key), each read through its
 * stored SHA-256, so a file that went bad is refused before the copy names
 * it.  A backup is copied after the backups it needs (a chain in order),
 * its manifest last, and sealed read-only like any finished backup: an
 * interrupted copy leaves nothing that looks complete, and running it again
 * copies what is missing.  A backup already in the target is left alone
 * when its manifest is the same, and refused when it differs. */
#include "engine/copy.h"

#include <stdlib.h>
#include <string.h>

#include "engine/files.h"
#include "repo/repo.h"
#include "util/log.h"
#include "util/text.h"

typedef struct {
    cairn_repo *src, *dst;
    const char *id;
    cairn_error *err;
    uint64_t bytes;
} copy_ctx;

static int copy_file(cairn_file *f, const cairn_object *obj, void *arg)
{
    (void)obj;
    copy_ctx *c = arg;
    cairn_source *in = NULL;
    cairn_sink *out = NULL;
    if (cairn_reader_open(c->src, c->id, f, 0, &in, c->err) != CAIRN_OK) /* stored bytes */
        return -1;
    if (cairn_repo_put(c->dst, c->id, f->path, &out, c->err) != CAIRN_OK) {
        cairn_source_free(in);
        return -1;
    }
    char *buf = cairn_xmalloc(1 << 18);
    ssize_t n;
    int rc = 0;
    while ((n = cairn_source_read(in, buf, 1 << 18)) > 0)
        if (cairn_sink_write(out, buf, (size_t)n) != 0)
            break;
    if (n < 0) {
        *c->err = *cairn_source_error(in);
        rc = -1;
    } else if (n > 0 || cairn_sink_finish(out) != 0) {
        *c->err = *cairn_sink_error(out);
        rc = -1;
    }
    c->bytes += f->stored.bytes;
    free(buf);
    cairn_source_free(in);
    cairn_sink_free(out);
    if (rc != 0 && !c->err->code)
        c->err->code = CAIRN_ERR;
    return rc;
}

/* The same manifest on both sides: nothing to do. */
static int same_backup(cairn_repo *dst, const cairn_manifest *m, int *present, cairn_error *err)
{
    cairn_manifest *there = NULL;
    cairn_error e = {0};
    *present = 0;
    if (cairn_repo_load(dst, m->id, &there, &e) != CAIRN_OK)
        return CAIRN_OK; /* not there */
    json_t *a = cairn_manifest_to_json(m), *b = cairn_manifest_to_json(there);
    int same = json_equal(a, b);
    json_decref(a);
    json_decref(b);
    cairn_manifest_free(there);
    if (!same) {
        cairn_error_set(err, CAIRN_ERR, "repository %s holds another backup %s", dst->root, m->id);
        return cairn_error_hint(err, "copy into a new directory");
    }
    *present = 1;
    return CAIRN_OK;
}

static int copy_backup(cairn_repo *src, cairn_repo *dst, cairn_manifest *m, cairn_error *err)
{
    copy_ctx c = {.src = src, .dst = dst, .id = m->id, .err = err};
    cairn_error e = {0};
    cairn_repo_remove_backup(dst, m->id, &e); /* a copy interrupted before */
    cairn_repo_defer_sync(dst);
    if (cairn_manifest_each_file(m, copy_file, &c) != 0) {
        cairn_repo_remove_backup(dst, m->id, &e);
        return cairn_error_prefix(err, "copying backup %s", m->id);
    }
    if (cairn_repo_write_manifest(dst, m, err) != CAIRN_OK) {
        cairn_repo_remove_backup(dst, m->id, &e);
        return err->code;
    }
    cairn_repo_seal_finished(dst, m->id);
    char size[32];
    cairn_format_bytes(c.bytes, size, sizeof size);
    cairn_info("copied backup %s (%s, %s), every checksum verified", m->id, m->type, size);
    return CAIRN_OK;
}

/* The backups to copy, oldest first: all, or the chosen one and the
 * backups it descends from. */
static cairn_manifest **choose(const cairn_copy_opts *o, cairn_repo *src, cairn_manifest **list,
                               size_t n, size_t *count, cairn_error *err)
{
    cairn_manifest **out = cairn_xcalloc(n + 1, sizeof *out);
    *count = 0;
    if (o->all) {
        memcpy(out, list, n * sizeof *out);
        *count = n;
        return out;
    }
    cairn_manifest *chosen = NULL;
    if (cairn_repo_select(src, o->backup ? o->backup : "latest", &chosen, err) != CAIRN_OK) {
        free(out);
        return NULL;
    }
    /* walk up the parents, then reverse */
    const char *want = chosen->id;
    while (want) {
        cairn_manifest *m = NULL;
        for (size_t i = 0; i < n; i++)
            if (strcmp(list[i]->id, want) == 0)
                m = list[i];
        if (!m) {
            cairn_error_set(err, CAIRN_ENOCHAIN, "backup %s is missing from %s", want, src->root);
            cairn_manifest_free(chosen);
            free(out);
            return NULL;
        }
        out[(*count)++] = m;
        want = m->parent;
    }
    cairn_manifest_free(chosen);
    for (size_t i = 0; i < *count / 2; i++) {
        cairn_manifest *t = out[i];
        out[i] = out[*count - 1 - i];
        out[*count - 1 - i] = t;
    }
    return out;
}

int cairn_copy_run(const cairn_copy_opts *o, json_t **report, cairn_error *err)
{
    *report = NULL;
    cairn_repo *src = NULL, *dst = NULL;
    if (cairn_repo_open(o->from, 0, &src, err) != CAIRN_OK)
        return err->code;
    if (cairn_repo_open_locked(o->to, 1, "copy", &dst, err) != CAIRN_OK) {
        cairn_repo_close(src);
        return err->code;
    }
    cairn_manifest **list = NULL, **todo = NULL;
    size_t n = 0, ntodo = 0;
    int rc = cairn_repo_adopt(dst, src, err);
    if (rc == CAIRN_OK)
        rc = cairn_repo_list(src, &list, &n, err);
    if (rc == CAIRN_OK && !(todo = choose(o, src, list, n, &ntodo, err)))
        rc = err->code;
    json_t *copied = json_array(), *present = json_array();
    for (size_t i = 0; rc == CAIRN_OK && i < ntodo; i++) {
        int there = 0;
        rc = same_backup(dst, todo[i], &there, err);
        if (rc == CAIRN_OK && there)
            json_array_append_new(present, json_string(todo[i]->id));
        else if (rc == CAIRN_OK && (rc = copy_backup(src, dst, todo[i], err)) == CAIRN_OK)
            json_array_append_new(copied, json_string(todo[i]->id));
    }
    if (rc == CAIRN_OK)
        *report = json_pack("{s:o, s:o}", "copied", copied, "present", present);
    else {
        json_decref(copied);
        json_decref(present);
    }
    free(todo);
    cairn_repo_list_free(list, n);
    cairn_repo_close(dst);
    cairn_repo_close(src);
    return rc;
}
