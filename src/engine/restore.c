/* Restore.
 *
 * DESIGN: choose the backup, check that it belongs to the target's kind of
 * database, and verify every stored file's checksum before the target is
 * touched.  Then: prepare the target (create it, or refuse one that holds
 * tables), apply pre-data, load every chunk in parallel (largest first,
 * each worker with its own connection), set the sequences, and apply
 * post-data (indexes, constraints, triggers, materialized view refreshes)
 * with parallel jobs.  Each chunk is read through a checked stream and its
 * row count must equal the one recorded at backup time. */
#include "engine/restore.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cairn/driver.h"
#include "engine/chunk.h"
#include "engine/files.h"
#include "engine/pool.h"
#include "repo/repo.h"
#include "util/log.h"
#include "util/text.h"
#include "util/uri.h"

typedef struct {
    const cairn_restore_opts *o;
    const cairn_driver *drv;
    cairn_repo *repo;
    cairn_manifest *m;
    cairn_work *work;
    size_t nwork;
    uint64_t rows;
    pthread_mutex_t lock;
} restore_ctx;

static int open_backup(const cairn_restore_opts *o, restore_ctx *c, cairn_error *err)
{
    if (cairn_repo_open(o->repo_dir, 0, &c->repo, err) != CAIRN_OK)
        return err->code;
    if (cairn_repo_select(c->repo, o->backup, &c->m, err) != CAIRN_OK)
        return err->code;
    if (strcmp(c->m->status, "complete") != 0) {
        cairn_error_set(err, CAIRN_ENOCHAIN, "backup %s is %s, not complete", c->m->id,
                        c->m->status);
        return cairn_error_hint(err, "choose a complete backup (cairn list --repo %s)",
                                o->repo_dir);
    }
    if (o->target_uri) {
        c->drv = cairn_driver_for_uri(o->target_uri, err);
        if (!c->drv)
            return err->code;
        if (strcmp(c->drv->name, c->m->driver) != 0) {
            cairn_error_set(err, CAIRN_EUSAGE, "backup %s is of a %s database, the target is %s",
                            c->m->id, c->m->driver, c->drv->name);
            return err->code;
        }
    }
    return CAIRN_OK;
}

static size_t count_files(const cairn_manifest *m, uint64_t *stored)
{
    size_t n = m->has_schema ? 1 : 0;
    *stored = m->has_schema ? m->schema.stored.bytes : 0;
    for (size_t u = 0; u < m->nunits; u++)
        for (size_t i = 0; i < m->units[u].nobjects; i++) {
            const cairn_object *obj = &m->units[u].objects[i];
            n += obj->nchunks;
            for (size_t k = 0; k < obj->nchunks; k++)
                *stored += obj->chunks[k].file.stored.bytes;
        }
    return n;
}

static json_t *build_plan(const cairn_restore_opts *o, const cairn_manifest *m)
{
    uint64_t stored = 0;
    size_t files = count_files(m, &stored);
    size_t tables = 0, chunks = 0, matviews = 0, seqs = 0;
    uint64_t rows = 0;
    for (size_t u = 0; u < m->nunits; u++) {
        seqs += m->units[u].nsequences;
        for (size_t i = 0; i < m->units[u].nobjects; i++) {
            const cairn_object *obj = &m->units[u].objects[i];
            if (obj->kind == CAIRN_OBJ_MATVIEW)
                matviews++;
            else
                tables++;
            chunks += obj->nchunks;
            rows += obj->rows;
        }
    }
    char target[512] = "";
    if (o->target_uri)
        cairn_uri_redact(o->target_uri, target, sizeof target);
    int jobs = o->jobs > 0 ? o->jobs : 2;
    json_t *steps = json_array();
    json_array_append_new(steps, json_pack("{s:s, s:I, s:I}", "step", "verify", "files",
                                           (json_int_t)files, "stored_bytes", (json_int_t)stored));
    json_array_append_new(
        steps,
        json_pack("{s:s, s:s}", "step", "prepare-target", "action",
                  o->clean
                      ? "create the target database(s); drop and recreate one that "
                        "already holds objects (--clean)"
                      : "create the target database(s); refuse one that already holds objects"));
    json_array_append_new(steps, json_pack("{s:s, s:s}", "step", "schema", "section", "pre-data"));
    json_array_append_new(
        steps, json_pack("{s:s, s:I, s:I, s:I, s:I, s:i}", "step", "data", "tables",
                         (json_int_t)tables, "chunks", (json_int_t)chunks, "raw_bytes",
                         (json_int_t)m->raw_bytes, "rows", (json_int_t)rows, "jobs", jobs));
    json_array_append_new(steps,
                          json_pack("{s:s, s:I}", "step", "sequences", "count", (json_int_t)seqs));
    json_array_append_new(steps, json_pack("{s:s, s:s, s:i, s:I}", "step", "schema", "section",
                                           "post-data", "jobs", jobs, "matviews_refreshed",
                                           (json_int_t)matviews));
    return json_pack("{s:s, s:s, s:s, s:o, s:s, s:o, s:o}", "backup", m->id, "type", m->type,
                     "status", m->status, "tag", m->tag ? json_string(m->tag) : json_null(),
                     "position", m->end_position ? m->end_position : "", "target",
                     o->target_uri ? json_string(target) : json_null(), "steps", steps);
}

int cairn_restore_plan(const cairn_restore_opts *o, json_t **plan, cairn_error *err)
{
    restore_ctx c = {.o = o};
    int rc = open_backup(o, &c, err);
    if (rc == CAIRN_OK)
        *plan = build_plan(o, c.m);
    cairn_manifest_free(c.m);
    cairn_repo_close(c.repo);
    return rc;
}

static int verify_all(restore_ctx *c, cairn_error *err)
{
    if (c->m->has_schema && cairn_file_check(c->repo, c->m->id, &c->m->schema, 0, err) != CAIRN_OK)
        return err->code;
    for (size_t i = 0; i < c->nwork; i++) {
        cairn_work *w = &c->work[i];
        if (cairn_file_check(c->repo, c->m->id, &w->chunk->file, 0, err) != CAIRN_OK)
            return cairn_error_prefix(err, "table %s.%s", w->obj->schema, w->obj->name);
    }
    return CAIRN_OK;
}

/* Copies the schema archive, decompressed and checked, to a private
 * temporary file for pg_restore.  *dir and *path are freed by the caller
 * after removing them. */
static int materialize_schema(restore_ctx *c, char **dir, char **path, cairn_error *err)
{
    const char *tmp = getenv("TMPDIR");
    char *templ = cairn_xasprintf("%s/cairn-restore-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(templ)) {
        int e = errno;
        free(templ);
        return cairn_error_errno(err, e, "cannot create a temporary directory");
    }
    *dir = templ;
    *path = cairn_xasprintf("%s/schema.archive", templ);
    FILE *f = fopen(*path, "wxe");
    if (!f)
        return cairn_error_errno(err, errno, "cannot create %s", *path);
    cairn_source *src = NULL;
    int rc = cairn_reader_open(c->repo, c->m->id, &c->m->schema, 1, &src, err);
    if (rc == CAIRN_OK) {
        char *buf = cairn_xmalloc(1 << 17);
        ssize_t n;
        while ((n = cairn_source_read(src, buf, 1 << 17)) > 0)
            if (fwrite(buf, 1, (size_t)n, f) != (size_t)n) {
                rc = cairn_error_errno(err, errno, "cannot write %s", *path);
                break;
            }
        if (n < 0) {
            *err = *cairn_source_error(src);
            rc = err->code ? err->code : CAIRN_ERR;
        }
        free(buf);
    }
    cairn_source_free(src);
    if (fclose(f) != 0 && rc == CAIRN_OK)
        rc = cairn_error_errno(err, errno, "cannot write %s", *path);
    return rc;
}

static int load_init(void *shared, int index, void **state, cairn_error *err)
{
    restore_ctx *c = shared;
    cairn_conn *conn = NULL;
    if (c->drv->connect(c->o->target_uri, &conn, err) != CAIRN_OK ||
        c->drv->load_begin(conn, &c->m->source, err) != CAIRN_OK) {
        c->drv->close(conn);
        return cairn_error_prefix(err, "worker %d", index + 1);
    }
    *state = conn;
    return CAIRN_OK;
}

static int load_run(void *shared, void *state, size_t item, cairn_error *err)
{
    restore_ctx *c = shared;
    cairn_work *w = &c->work[item];
    cairn_source *src = NULL;
    if (cairn_reader_open(c->repo, c->m->id, &w->chunk->file, 1, &src, err) != CAIRN_OK)
        return err->code;
    uint64_t rows = 0;
    int rc = c->drv->load_chunk(state, w->obj, src, &rows, err);
    cairn_source_free(src);
    if (rc != CAIRN_OK)
        return rc;
    if (rows != w->chunk->rows) {
        cairn_error_set(err, CAIRN_EVERIFY,
                        "table %s.%s chunk %u: loaded %llu rows, the backup recorded %llu",
                        w->obj->schema, w->obj->name, w->chunk->index, (unsigned long long)rows,
                        (unsigned long long)w->chunk->rows);
        return err->code;
    }
    pthread_mutex_lock(&c->lock);
    c->rows += rows;
    pthread_mutex_unlock(&c->lock);
    return CAIRN_OK;
}

static void load_done(void *shared, void *state)
{
    restore_ctx *c = shared;
    c->drv->close(state);
}

static const cairn_pool_ops load_pool = {load_init, load_run, load_done};

/* After the target was touched, a failure leaves it half restored: say so. */
static void mark_incomplete(cairn_error *err)
{
    char hint[sizeof err->hint];
    if (err->hint[0])
        snprintf(hint, sizeof hint,
                 "%.250s; the target is incomplete: drop it before "
                 "restoring again",
                 err->hint);
    else
        snprintf(hint, sizeof hint, "the target is incomplete: drop it before restoring again");
    cairn_strlcpy(err->hint, hint, sizeof err->hint);
}

static int restore_into(restore_ctx *c, cairn_restore_result *res, cairn_error *err)
{
    const cairn_restore_opts *o = c->o;
    cairn_restore_flags flags = {
        .no_owner = o->no_owner, .clean = o->clean, .jobs = o->jobs > 0 ? o->jobs : 2};
    char *dir = NULL, *path = NULL;
    double t = cairn_now();
    int rc = c->drv->target_prepare(o->target_uri, &c->m->source, c->m->units, c->m->nunits, &flags,
                                    err);
    if (rc != CAIRN_OK)
        return rc; /* nothing was changed */
    if (c->m->has_schema)
        rc = materialize_schema(c, &dir, &path, err);
    if (rc == CAIRN_OK && c->m->has_schema)
        rc = c->drv->restore_schema(o->target_uri, path, "pre-data", &flags, err);
    res->t_schema = cairn_now() - t;
    if (rc == CAIRN_OK) {
        cairn_info("restoring %zu chunks with %d jobs", c->nwork, flags.jobs);
        t = cairn_now();
        rc = cairn_pool_run(flags.jobs, c->nwork, &load_pool, c, err);
        res->t_data = cairn_now() - t;
    }
    if (rc == CAIRN_OK) {
        t = cairn_now();
        cairn_conn *conn = NULL;
        rc = c->drv->connect(o->target_uri, &conn, err);
        if (rc == CAIRN_OK)
            rc = c->drv->load_begin(conn, &c->m->source, err);
        for (size_t u = 0; rc == CAIRN_OK && u < c->m->nunits; u++)
            rc = c->drv->restore_sequences(conn, &c->m->units[u], err);
        c->drv->close(conn);
        if (rc == CAIRN_OK && c->m->has_schema)
            rc = c->drv->restore_schema(o->target_uri, path, "post-data", &flags, err);
        res->t_post = cairn_now() - t;
    }
    if (path)
        unlink(path);
    if (dir)
        rmdir(dir);
    free(path);
    free(dir);
    if (rc != CAIRN_OK)
        mark_incomplete(err);
    return rc;
}

int cairn_restore_run(const cairn_restore_opts *o, cairn_restore_result *res, cairn_error *err)
{
    double t0 = cairn_now();
    memset(res, 0, sizeof *res);
    restore_ctx c = {.o = o};
    pthread_mutex_init(&c.lock, NULL);
    int rc = open_backup(o, &c, err);
    if (rc == CAIRN_OK) {
        cairn_strlcpy(res->id, c.m->id, sizeof res->id);
        c.work = cairn_chunk_schedule(c.m->units, c.m->nunits, &c.nwork);
        double t = cairn_now();
        rc = verify_all(&c, err);
        res->t_verify = cairn_now() - t;
        if (rc != CAIRN_OK)
            cairn_error_hint(err, "the target was not touched; restore an older backup "
                                  "(cairn list) or repair the repository copy");
    }
    if (rc == CAIRN_OK) {
        cairn_info("restoring backup %s (%s) into the target", c.m->id, c.m->end_position);
        rc = restore_into(&c, res, err);
    }
    res->rows = c.rows;
    res->chunks = c.nwork;
    res->raw_bytes = c.m ? c.m->raw_bytes : 0;
    res->duration = cairn_now() - t0;
    free(c.work);
    cairn_manifest_free(c.m);
    cairn_repo_close(c.repo);
    pthread_mutex_destroy(&c.lock);
    return rc;
}
