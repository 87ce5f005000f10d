/* Writer and reader stacks for stored files. */
#include "engine/files.h"

#include <stdlib.h>
#include <string.h>

#include "util/pool.h"
#include "util/text.h"

int cairn_writer_open(cairn_writer *w, cairn_repo *r, const char *id, const char *path, int level,
                      cairn_error *err)
{
    memset(w, 0, sizeof *w);
    w->level = level;
    cairn_sink *file = NULL;
    if (cairn_repo_put(r, id, path, &file, err) != CAIRN_OK)
        return err->code;
    cairn_sink *s = file;
    w->encrypted = r->encrypted;
    if (level != 0 || w->encrypted)
        s = cairn_hash_sink_new(s, &w->stored);
    if (s && w->encrypted)
        s = cairn_encrypt_sink_new(s, r->key);
    if (s && level != 0)
        s = cairn_zstd_sink_new(s, level, 0);
    s = s ? cairn_hash_sink_new(s, &w->raw) : NULL;
    s = s ? cairn_buffer_sink_new(s, 1 << 17) : NULL;
    if (!s)
        return cairn_error_set(err, CAIRN_ERR, "cannot set up the stream for %s", path);
    w->top = s;
    w->path = cairn_xstrdup(path);
    return CAIRN_OK;
}

int cairn_writer_limit(cairn_writer *w, cairn_rate *rate, cairn_error *err)
{
    w->top = cairn_rate_sink_new(w->top, rate);
    if (!w->top)
        return cairn_error_set(err, CAIRN_ERR, "cannot set up the stream for %s", w->path);
    return CAIRN_OK;
}

int cairn_writer_digest_rows(cairn_writer *w, cairn_rowsum *out, cairn_error *err)
{
    w->top = cairn_rows_sink_new(w->top, out);
    if (!w->top)
        return cairn_error_set(err, CAIRN_ERR, "cannot set up the stream for %s", w->path);
    return CAIRN_OK;
}

int cairn_writer_close(cairn_writer *w, cairn_file *f, cairn_error *err)
{
    if (cairn_sink_finish(w->top) != 0) {
        *err = *cairn_sink_error(w->top);
        if (!err->code)
            err->code = CAIRN_ERR;
        cairn_writer_abort(w);
        return err->code;
    }
    cairn_sink_free(w->top);
    w->top = NULL;
    memset(f, 0, sizeof *f);
    f->path = w->path;
    w->path = NULL;
    f->compression = cairn_xstrdup(w->level != 0 ? "zstd" : "none");
    f->raw = w->raw;
    f->stored = w->level != 0 || w->encrypted ? w->stored : w->raw;
    return CAIRN_OK;
}

void cairn_writer_abort(cairn_writer *w)
{
    cairn_sink_free(w->top);
    w->top = NULL;
    free(w->path);
    w->path = NULL;
}

int cairn_reader_open(cairn_repo *r, const char *id, const cairn_file *f, int decompress,
                      cairn_source **out, cairn_error *err)
{
    cairn_source *s = NULL;
    *out = NULL;
    if (cairn_repo_get(r, id, f->path, &s, err) != CAIRN_OK)
        return err->code;
    int zstd = strcmp(f->compression, "zstd") == 0;
    if (zstd || r->encrypted || !decompress)
        s = cairn_hash_source_new(s, &f->stored, f->path, NULL);
    if (s && r->encrypted && decompress)
        s = cairn_decrypt_source_new(s, r->key, f->path);
    if (s && zstd && decompress)
        s = cairn_zstd_source_new(s, f->path);
    if (s && decompress)
        s = cairn_hash_source_new(s, &f->raw, f->path, NULL);
    if (!s)
        return cairn_error_set(err, CAIRN_ERR, "cannot set up the stream for %s", f->path);
    *out = s;
    return CAIRN_OK;
}

int cairn_file_check(cairn_repo *r, const char *id, const cairn_file *f, int deep, cairn_error *err)
{
    cairn_source *s = NULL;
    if (cairn_reader_open(r, id, f, deep, &s, err) != CAIRN_OK)
        return err->code;
    char *buf = cairn_xmalloc(1 << 18);
    ssize_t n;
    while ((n = cairn_source_read(s, buf, 1 << 18)) > 0)
        ;
    free(buf);
    int rc = CAIRN_OK;
    if (n < 0) {
        *err = *cairn_source_error(s);
        rc = err->code ? err->code : CAIRN_ERR;
        if (strstr(err->message, f->path) == NULL)
            cairn_error_prefix(err, "%s", f->path);
    }
    cairn_source_free(s);
    return rc;
}

typedef struct {
    uint64_t bytes;
    size_t ref;
} check_order;

typedef struct {
    cairn_repo *r;
    cairn_file_ref *refs;
    int deep;
    check_order *order; /* largest first */
} check_list;

static int larger_first(const void *a, const void *b)
{
    const check_order *x = a, *y = b;
    if (x->bytes != y->bytes)
        return x->bytes > y->bytes ? -1 : 1;
    return x->ref < y->ref ? -1 : 1;
}

/* A failure is recorded in its ref and the other files are still checked:
 * which failure is reported must not depend on which thread got there
 * first. */
static int check_run(void *shared, void *state, size_t i, cairn_error *err)
{
    (void)state;
    (void)err;
    check_list *c = shared;
    cairn_file_ref *ref = &c->refs[c->order[i].ref];
    if (cairn_file_check(c->r, ref->id, ref->file, c->deep, &ref->err) == CAIRN_OK)
        return CAIRN_OK;
    if (ref->obj)
        cairn_error_prefix(&ref->err, "table %s.%s", ref->obj->schema, ref->obj->name);
    else if (ref->what[0])
        cairn_error_prefix(&ref->err, "%s", ref->what);
    return CAIRN_OK;
}

int cairn_files_check_list(cairn_repo *r, cairn_file_ref *refs, size_t n, int deep, int jobs,
                           cairn_error *err)
{
    check_list c = {.r = r, .refs = refs, .deep = deep};
    c.order = cairn_xcalloc(n + 1, sizeof *c.order);
    for (size_t i = 0; i < n; i++) {
        cairn_error_clear(&refs[i].err);
        c.order[i] = (check_order){refs[i].file->stored.bytes, i};
    }
    qsort(c.order, n, sizeof *c.order, larger_first);
    static const cairn_pool_ops ops = {.run = check_run};
    cairn_error pool_err = {0};
    int workers = jobs < 1 ? 1 : (size_t)jobs > n ? (int)(n ? n : 1) : jobs;
    cairn_pool_run(workers, n, &ops, &c, &pool_err);
    free(c.order);
    for (size_t i = 0; i < n; i++)
        if (refs[i].err.code) {
            *err = refs[i].err;
            return err->code;
        }
    if (pool_err.code) { /* interrupted, or a thread did not start */
        *err = pool_err;
        return err->code;
    }
    return CAIRN_OK;
}

typedef struct {
    const char *id;
    cairn_file_ref *refs;
    size_t n;
} collect_ctx;

static int collect(cairn_file *f, const cairn_object *obj, void *arg)
{
    collect_ctx *c = arg;
    c->refs = cairn_xrealloc(c->refs, (c->n + 1) * sizeof *c->refs);
    c->refs[c->n++] = (cairn_file_ref){.id = c->id, .file = f, .obj = obj};
    return 0;
}

int cairn_files_check(cairn_repo *r, cairn_manifest *m, int deep, int jobs,
                      cairn_check_failed failed, void *arg, size_t *nfiles, cairn_error *err)
{
    collect_ctx c = {.id = m->id};
    cairn_manifest_each_file(m, collect, &c);
    int rc = cairn_files_check_list(r, c.refs, c.n, deep, jobs, err);
    for (size_t i = 0; failed && i < c.n; i++)
        if (c.refs[i].err.code)
            failed(c.refs[i].file, c.refs[i].obj, &c.refs[i].err, arg);
    if (nfiles)
        *nfiles = c.n;
    free(c.refs);
    return rc;
}

int cairn_log_to_file(cairn_repo *r, const char *id, const char *path, int level,
                      const cairn_driver *drv, const char *uri, const cairn_log_request *req,
                      cairn_file *out, cairn_log_result *res, cairn_error *err)
{
    memset(res, 0, sizeof *res);
    cairn_writer wr;
    if (cairn_writer_open(&wr, r, id, path, level, err) != CAIRN_OK)
        return err->code;
    if (drv->log_capture(uri, req, wr.top, res, err) != CAIRN_OK) {
        cairn_writer_abort(&wr);
        return err->code;
    }
    return cairn_writer_close(&wr, out, err);
}
