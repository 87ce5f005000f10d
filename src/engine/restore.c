/* Restore.
 *
 * DESIGN: plan the chain (a full backup and the increments after it, see
 * chain.h), check that it belongs to the target's kind of database, and
 * verify every stored file's checksum before the target is touched.  Then:
 * prepare the target (create it, or refuse one that holds tables), apply
 * pre-data, load every chunk in parallel (largest first, each worker with
 * its own connection), set the sequences, and apply post-data (indexes,
 * constraints, triggers, materialized view refreshes) with parallel jobs.
 * Each chunk is read through a checked stream and its row count must equal
 * the one recorded at backup time.  Then each increment's log is replayed
 * in order, up to the stop, and the sequences are set from the last one.
 *
 * A restore with increments records its progress on the target (the
 * driver's progress table): "full" while the full backup loads, then
 * "log" and the position of the last replayed transaction, moved in the
 * same transaction as the change.  Run again after an interruption, it
 * starts the full backup over (a half-loaded database is cairn's own, and
 * is recreated) or resumes the log after the last applied transaction. */
#include "engine/restore.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cairn/driver.h"
#include "engine/chain.h"
#include "engine/chunk.h"
#include "engine/files.h"
#include "engine/pool.h"
#include "repo/repo.h"
#include "util/child.h"
#include "util/fault.h"
#include "util/log.h"
#include "util/progress.h"
#include "util/text.h"
#include "util/uri.h"

typedef struct {
    const cairn_restore_opts *o;
    const cairn_driver *drv;
    cairn_repo *repo;
    cairn_chain chain;
    cairn_manifest *m; /* the full backup: chain.steps[0] */
    cairn_unit *units; /* what is restored: m's units, or copies of those --tenant names */
    size_t nunits;
    int own_units; /* units is an array of shallow copies, freed alone */
    /* the units as they land on the target: units, or with --as the one
     * tenant under its new name (objects and sequences copied with it) */
    cairn_unit *placed;
    const char *as_name[2];        /* { --as, NULL }: the tenant list of a renamed restore */
    int tenant_restore;            /* --tenant */
    const char *dbname;            /* a backup of several databases: the one restored now */
    const char *target;            /* the database restored into now */
    const cairn_file *schema_file; /* the archive to apply, when not the backup's own */
    cairn_work *work;
    size_t nwork;
    uint64_t rows;
    cairn_progress *progress;
    pthread_mutex_t lock;
} restore_ctx;

/* Whether a unit is of the database restored now (any, for a backup of
 * one). */
static int in_database(const restore_ctx *c, const cairn_unit *u)
{
    return !c->dbname || (u->database && strcmp(u->database, c->dbname) == 0);
}

/* --tenant: the named units alone (each once, in the backup's order). */
static int select_units(const cairn_restore_opts *o, restore_ctx *c, cairn_error *err)
{
    const cairn_manifest *m = c->m;
    c->units = m->units;
    c->nunits = m->nunits;
    if (!o->tenants)
        return CAIRN_OK;
    for (const char *const *t = o->tenants; *t; t++) {
        size_t u = 0;
        while (u < m->nunits && strcmp(m->units[u].name, *t) != 0)
            u++;
        if (u == m->nunits) {
            cairn_error_set(err, CAIRN_EUSAGE, "backup %s has no unit \"%s\"", m->id, *t);
            return cairn_error_hint(err,
                                    "cairn show --repo DIR %s lists its units; tenants are "
                                    "units when the backup was taken with "
                                    "--tenant-pattern",
                                    m->id);
        }
        if (strcmp(m->units[u].status, "complete") != 0) {
            cairn_error_set(err, CAIRN_ENOCHAIN, "unit \"%s\" failed in backup %s: %s", *t, m->id,
                            m->units[u].error ? m->units[u].error : "no reason recorded");
            return cairn_error_hint(err,
                                    "complete the backup with cairn backup --resume %s, or "
                                    "restore that tenant from an older backup",
                                    m->id);
        }
    }
    c->units = cairn_xcalloc(m->nunits, sizeof *c->units);
    c->own_units = 1;
    c->nunits = 0;
    for (size_t u = 0; u < m->nunits; u++)
        for (const char *const *t = o->tenants; *t; t++)
            if (strcmp(m->units[u].name, *t) == 0) {
                c->units[c->nunits++] = m->units[u];
                break;
            }
    return CAIRN_OK;
}

/* --as: the tenant under its new name, its tables and sequences in it. */
static int place_units(const cairn_restore_opts *o, restore_ctx *c, cairn_error *err)
{
    c->placed = c->units;
    if (!o->as)
        return CAIRN_OK;
    if (c->drv && !c->drv->tenant_rename) {
        cairn_error_set(err, CAIRN_EUSAGE, "restore --as is not available for %s", c->drv->name);
        return err->code;
    }
    const cairn_unit *u = &c->units[0];
    if (!u->kind || strcmp(u->kind, "tenant") != 0) {
        cairn_error_set(err, CAIRN_EUSAGE, "unit \"%s\" is the database itself, not a tenant",
                        u->name);
        return cairn_error_hint(err, "--as renames a tenant of a backup taken with "
                                     "--tenant-pattern");
    }
    cairn_unit *p = cairn_xcalloc(1, sizeof *p);
    *p = *u;
    p->name = (char *)o->as;
    p->objects = cairn_xcalloc(u->nobjects + 1, sizeof *p->objects);
    for (size_t i = 0; i < u->nobjects; i++) {
        p->objects[i] = u->objects[i];
        p->objects[i].schema = (char *)o->as;
    }
    p->sequences = cairn_xcalloc(u->nsequences + 1, sizeof *p->sequences);
    for (size_t i = 0; i < u->nsequences; i++) {
        p->sequences[i] = u->sequences[i];
        p->sequences[i].schema = (char *)o->as;
    }
    c->placed = p;
    c->as_name[0] = o->as;
    return CAIRN_OK;
}

/* A backup of several databases: the ones named must be in it; tenants
 * are chosen inside one of them (restore_database). */
static int select_databases(const cairn_restore_opts *o, restore_ctx *c, cairn_error *err)
{
    const cairn_manifest *m = c->m;
    c->units = m->units;
    c->nunits = m->nunits;
    c->placed = c->units;
    size_t n = 0;
    for (; o->databases && o->databases[n]; n++) {
        int found = 0;
        for (size_t i = 0; i < m->ndbs; i++)
            found |= strcmp(m->dbs[i].name, o->databases[n]) == 0;
        if (!found) {
            cairn_error_set(err, CAIRN_EUSAGE, "backup %s holds no database \"%s\"", m->id,
                            o->databases[n]);
            return cairn_error_hint(err, "cairn show --repo DIR %s lists its databases", m->id);
        }
    }
    if (o->tenants && n != 1) {
        cairn_error_set(err, CAIRN_EUSAGE,
                        "backup %s holds %zu databases: --tenant restores tenants of one", m->id,
                        m->ndbs);
        return cairn_error_hint(err, "name it with --database NAME");
    }
    return CAIRN_OK;
}

static void release_units(restore_ctx *c)
{
    if (c->placed && c->placed != c->units) {
        free(c->placed->objects);
        free(c->placed->sequences);
        free(c->placed);
    }
    c->placed = NULL;
    if (c->own_units)
        free(c->units);
    c->units = NULL;
}

static int open_backup(const cairn_restore_opts *o, restore_ctx *c, cairn_error *err)
{
    if (cairn_repo_open(o->repo_dir, 0, &c->repo, err) != CAIRN_OK)
        return err->code;
    if (o->target_uri) {
        c->drv = cairn_driver_for_uri(o->target_uri, err);
        if (!c->drv)
            return err->code;
    }
    if (cairn_chain_plan(c->repo, c->drv, o->backup, o->to_position, o->to_time, o->tenants != NULL,
                         &c->chain, err) != CAIRN_OK)
        return err->code;
    c->m = c->chain.steps[0];
    if (c->drv && strcmp(c->drv->name, c->m->driver) != 0) {
        cairn_error_set(err, CAIRN_EUSAGE, "backup %s is of a %s database, the target is %s",
                        c->m->id, c->m->driver, c->drv->name);
        return err->code;
    }
    if (c->m->ndbs)
        return select_databases(o, c, err);
    if (o->databases) {
        cairn_error_set(err, CAIRN_EUSAGE,
                        "backup %s is of one database: --database selects "
                        "among the databases of a backup of several",
                        c->m->id);
        return cairn_error_hint(err, "leave out --database; the target URI names the database");
    }
    if (select_units(o, c, err) != CAIRN_OK)
        return err->code;
    return place_units(o, c, err);
}

static size_t count_files(const restore_ctx *c, uint64_t *stored)
{
    const cairn_manifest *m = c->m;
    size_t n = m->has_schema ? 1 : 0;
    *stored = m->has_schema ? m->schema.stored.bytes : 0;
    for (size_t u = 0; u < c->nunits; u++)
        for (size_t i = 0; i < c->units[u].nobjects; i++) {
            const cairn_object *obj = &c->units[u].objects[i];
            n += obj->nchunks;
            for (size_t k = 0; k < obj->nchunks; k++)
                *stored += obj->chunks[k].file.stored.bytes;
        }
    return n;
}

static json_t *build_plan(const cairn_restore_opts *o, const restore_ctx *c)
{
    const cairn_chain *chain = &c->chain;
    const cairn_manifest *m = chain->steps[0];
    uint64_t stored = 0, raw = 0;
    size_t files = count_files(c, &stored);
    size_t tables = 0, chunks = 0, matviews = 0, seqs = 0;
    uint64_t rows = 0;
    for (size_t u = 0; u < c->nunits; u++) {
        seqs += c->units[u].nsequences;
        for (size_t i = 0; i < c->units[u].nobjects; i++) {
            const cairn_object *obj = &c->units[u].objects[i];
            for (size_t k = 0; k < obj->nchunks; k++)
                raw += obj->chunks[k].file.raw.bytes;
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
                  o->tenants ? (o->clean ? "create the target database when missing; drop and "
                                           "recreate the tenants named, leaving the others "
                                           "(--clean)"
                                         : "create the target database when missing; refuse "
                                           "tenants the target already holds")
                  : o->clean ? "create the target database(s); drop and recreate one that "
                               "already holds objects (--clean)"
                             : "create the target database(s); refuse one that already holds "
                               "objects"));
    json_array_append_new(steps, json_pack("{s:s, s:s}", "step", "schema", "section", "pre-data"));
    json_array_append_new(steps,
                          json_pack("{s:s, s:I, s:I, s:I, s:I, s:i}", "step", "data", "tables",
                                    (json_int_t)tables, "chunks", (json_int_t)chunks, "raw_bytes",
                                    (json_int_t)raw, "rows", (json_int_t)rows, "jobs", jobs));
    json_array_append_new(steps,
                          json_pack("{s:s, s:I}", "step", "sequences", "count", (json_int_t)seqs));
    json_array_append_new(steps, json_pack("{s:s, s:s, s:i, s:I}", "step", "schema", "section",
                                           "post-data", "jobs", jobs, "matviews_refreshed",
                                           (json_int_t)matviews));
    /* a rough estimate from this machine class: bulk load ~60 MiB/s per job,
     * replay ~5000 changes/s */
    double estimate = (double)raw / (60.0 * 1048576.0 * jobs) + 1.0;
    const cairn_manifest *last = m;
    for (size_t i = 1; i < chain->nsteps; i++) {
        const cairn_manifest *inc = chain->steps[i];
        int is_last = i + 1 == chain->nsteps;
        json_t *step =
            json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I}", "step", "increment", "backup", inc->id,
                      "from", inc->start_position, "to", inc->end_position, "transactions",
                      (json_int_t)inc->transactions, "changes", (json_int_t)inc->changes,
                      "stored_bytes", (json_int_t)inc->stored_bytes);
        if (is_last && chain->stop_position)
            json_object_set_new(step, "stop_at_position", json_string(chain->stop_position));
        if (is_last && chain->stop_time_us)
            json_object_set_new(step, "stop_at_time", json_string(chain->stop_time));
        json_array_append_new(steps, step);
        estimate += (double)inc->changes / 5000.0;
        last = inc;
    }
    for (size_t i = 0; i < m->ndbs; i++)
        if (m->dbs[i].has_log)
            json_array_append_new(
                steps, json_pack("{s:s, s:s, s:s, s:s, s:I}", "step", "catch-up", "database",
                                 m->dbs[i].name, "from", m->dbs[i].position, "to", m->end_position,
                                 "stored_bytes", (json_int_t)m->dbs[i].log.stored.bytes));
    for (size_t i = 0; i < m->nresumes; i++)
        json_array_append_new(steps, json_pack("{s:s, s:s, s:s, s:s, s:I}", "step", "catch-up",
                                               "resume", m->resumes[i].position, "from",
                                               i ? m->resumes[i - 1].position : m->start_position,
                                               "to", m->resumes[i].position, "stored_bytes",
                                               (json_int_t)m->resumes[i].log.stored.bytes));
    if (chain->nsteps > 1)
        json_array_append_new(
            steps, json_pack("{s:s, s:s, s:I}", "step", "sequences", "from", last->id, "count",
                             (json_int_t)(last->nunits ? last->units[0].nsequences : 0)));
    json_t *chain_ids = json_array();
    for (size_t i = 0; i < chain->nsteps; i++)
        json_array_append_new(chain_ids, json_string(chain->steps[i]->id));
    const char *position = chain->stop_position ? chain->stop_position : last->end_position;
    json_t *units = json_array();
    for (size_t u = 0; u < c->nunits; u++)
        json_array_append_new(units, json_string(c->units[u].name));
    return json_pack(
        "{s:s, s:s, s:s, s:o, s:s, s:o, s:o, s:o, s:o, s:o, s:f}", "backup", last->id, "type",
        last->type, "status", last->status, "tag", last->tag ? json_string(last->tag) : json_null(),
        "position", position ? position : "", "chain", chain_ids, "target",
        o->target_uri ? json_string(target) : json_null(), "units", units, "as",
        o->as ? json_string(o->as) : json_null(), "steps", steps, "estimate_seconds", estimate);
}

int cairn_restore_plan(const cairn_restore_opts *o, json_t **plan, cairn_error *err)
{
    restore_ctx c = {.o = o};
    int rc = open_backup(o, &c, err);
    if (rc == CAIRN_OK)
        *plan = build_plan(o, &c);
    release_units(&c);
    cairn_chain_clear(&c.chain);
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
    for (size_t i = 0; i < c->m->nresumes; i++) {
        const cairn_resume *r = &c->m->resumes[i];
        if ((r->has_schema &&
             cairn_file_check(c->repo, c->m->id, &r->schema, 0, err) != CAIRN_OK) ||
            cairn_file_check(c->repo, c->m->id, &r->log, 0, err) != CAIRN_OK)
            return cairn_error_prefix(err, "resume %zu", i + 1);
    }
    for (size_t i = 1; i < c->chain.nsteps; i++) {
        cairn_manifest *inc = c->chain.steps[i];
        for (size_t k = 0; k < inc->nlogs; k++)
            if (cairn_file_check(c->repo, inc->id, &inc->logs[k], 0, err) != CAIRN_OK)
                return cairn_error_prefix(err, "increment %s", inc->id);
        for (size_t k = 0; k < inc->ndbs; k++)
            if (inc->dbs[k].has_log &&
                cairn_file_check(c->repo, inc->id, &inc->dbs[k].log, 0, err) != CAIRN_OK)
                return cairn_error_prefix(err, "increment %s, database %s", inc->id,
                                          inc->dbs[k].name);
    }
    return CAIRN_OK;
}

/* Copies a schema archive, decompressed and checked, into a private
 * temporary directory for the driver's restore tool: *dir is made when
 * NULL; *path is freed by the caller after removing it. */
static int materialize_schema(restore_ctx *c, const cairn_file *file, const char *name, char **dir,
                              char **path, cairn_error *err)
{
    if (!*dir)
        *dir = cairn_temp_dir("restore", err);
    if (!*dir)
        return err->code;
    *path = cairn_xasprintf("%s/%s", *dir, name);
    FILE *f = fopen(*path, "wxe");
    if (!f)
        return cairn_error_errno(err, errno, "cannot create %s", *path);
    cairn_source *src = NULL;
    int rc = cairn_reader_open(c->repo, c->m->id, file, 1, &src, err);
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

/* The schema archives: the backup's own, then one per resume that dumped
 * units the first left out.  tenants: what each archive restores (NULL:
 * all it holds), NULL-terminated; built for a tenant restore. */
typedef struct {
    char *path;
    char **tenants;
} archive;

/* For a tenant restore, the selected units this archive holds: the first
 * holds those not schema_missing, a resume's its schema_units. */
static char **archive_tenants(const restore_ctx *c, const cairn_resume *r)
{
    char **out = cairn_xcalloc(c->nunits + 1, sizeof *out);
    size_t n = 0;
    for (size_t u = 0; u < c->nunits; u++) {
        const cairn_unit *un = &c->units[u];
        int holds = r ? cairn_strv_contains((const char *const *)r->schema_units, un->name)
                      : !un->schema_missing;
        if (holds)
            out[n++] = cairn_xstrdup(un->name);
    }
    return out;
}

/* --as: the archive's part for the tenant, under its new name. */
static int rename_archive(restore_ctx *c, archive *a, cairn_error *err)
{
    const cairn_manifest *m = c->m;
    const char *tenant = c->units[0].name;
    const char **others = cairn_xcalloc(m->nunits + 1, sizeof *others);
    size_t n = 0;
    for (size_t u = 0; u < m->nunits; u++)
        if (m->units[u].kind && strcmp(m->units[u].kind, "tenant") == 0 &&
            strcmp(m->units[u].name, tenant) != 0 && in_database(c, &m->units[u]))
            others[n++] = m->units[u].name;
    char *path = cairn_xasprintf("%s.as", a->path);
    cairn_restore_flags flags = {.no_owner = c->o->no_owner, .jobs = 1};
    cairn_info("renaming tenant %s to %s", tenant, c->o->as);
    int rc = c->drv->tenant_rename(c->target, a->path, tenant, c->o->as, others, &flags, path, err);
    free(others);
    if (rc != CAIRN_OK) {
        unlink(path);
        free(path);
        return cairn_error_prefix(err, "restoring tenant %s as %s", tenant, c->o->as);
    }
    unlink(a->path);
    free(a->path);
    a->path = path;
    cairn_strv_free(a->tenants);
    a->tenants = cairn_xcalloc(2, sizeof *a->tenants);
    a->tenants[0] = cairn_xstrdup(c->o->as);
    return CAIRN_OK;
}

static int materialize_all(restore_ctx *c, char **dir, archive **out, size_t *n, cairn_error *err)
{
    const cairn_manifest *m = c->m;
    *out = cairn_xcalloc(m->nresumes + 1, sizeof **out);
    *n = 0;
    int rc = CAIRN_OK;
    if (c->schema_file) { /* one database of several: its own archive */
        archive *a = &(*out)[(*n)++];
        if (c->tenant_restore)
            a->tenants = archive_tenants(c, NULL);
        rc = materialize_schema(c, c->schema_file, "schema.archive", dir, &a->path, err);
    } else if (m->has_schema) {
        archive *a = &(*out)[(*n)++];
        rc = materialize_schema(c, &m->schema, "schema.archive", dir, &a->path, err);
        if (c->tenant_restore)
            a->tenants = archive_tenants(c, NULL);
    }
    for (size_t i = 0; rc == CAIRN_OK && !c->schema_file && i < m->nresumes; i++) {
        const cairn_resume *r = &m->resumes[i];
        if (!r->has_schema)
            continue;
        archive *a = &(*out)[(*n)++];
        char name[48];
        snprintf(name, sizeof name, "resume-%zu.archive", i + 1);
        rc = materialize_schema(c, &r->schema, name, dir, &a->path, err);
        if (c->tenant_restore) /* it holds the resumed units alone: filtered for --tenant only */
            a->tenants = archive_tenants(c, r);
    }
    for (size_t i = 0; rc == CAIRN_OK && c->o->as && i < *n; i++)
        if ((*out)[i].tenants && (*out)[i].tenants[0])
            rc = rename_archive(c, &(*out)[i], err);
    return rc;
}

static int restore_archives(restore_ctx *c, const archive *a, size_t n, const char *section,
                            const cairn_restore_flags *base, cairn_error *err)
{
    for (size_t i = 0; i < n; i++) {
        cairn_restore_flags flags = *base;
        flags.tenants = (const char *const *)a[i].tenants;
        if (flags.tenants && !flags.tenants[0])
            continue; /* none of the units restored is in this archive */
        int rc = c->drv->restore_schema(c->target, a[i].path, section, &flags, err);
        if (rc != CAIRN_OK)
            return rc;
    }
    return CAIRN_OK;
}

static void archives_free(archive *a, size_t n, char *dir)
{
    for (size_t i = 0; i < n; i++) {
        if (a[i].path)
            unlink(a[i].path);
        free(a[i].path);
        cairn_strv_free(a[i].tenants);
    }
    free(a);
    if (dir)
        rmdir(dir);
    free(dir);
}

static int load_init(void *shared, int index, void **state, cairn_error *err)
{
    restore_ctx *c = shared;
    cairn_conn *conn = NULL;
    if (c->drv->connect(c->target, &conn, err) != CAIRN_OK ||
        c->drv->load_begin(conn, &c->m->source, err) != CAIRN_OK) {
        c->drv->close(conn);
        return cairn_error_prefix(err, "worker %d", index + 1);
    }
    *state = conn;
    return CAIRN_OK;
}

/* A deadlock or serialization failure rolled the chunk's load back whole
 * (InnoDB can pick one of two bulk loads into the same table as a victim):
 * loading it again is safe. */
static int retryable(const cairn_error *err)
{
    return strcmp(err->sqlstate, "40001") == 0 || strcmp(err->sqlstate, "40P01") == 0;
}

#define LOAD_ATTEMPTS 4

static int load_run(void *shared, void *state, size_t item, cairn_error *err)
{
    restore_ctx *c = shared;
    cairn_work *w = &c->work[item];
    uint64_t rows = 0;
    int rc = CAIRN_OK;
    char label[96];
    snprintf(label, sizeof label, "%s.%s#%u", w->obj->schema, w->obj->name, w->chunk->index);
    cairn_progress_doing(c->progress, label);
    for (int attempt = 1;; attempt++) {
        cairn_source *src = NULL;
        if (cairn_reader_open(c->repo, c->m->id, &w->chunk->file, 1, &src, err) != CAIRN_OK)
            return err->code;
        rows = 0;
        rc = c->drv->load_chunk(state, w->obj, src, &rows, err);
        cairn_source_free(src);
        if (rc == CAIRN_OK || !retryable(err) || attempt == LOAD_ATTEMPTS)
            break;
        cairn_warn("table %s.%s chunk %u: %s; loading it again", w->obj->schema, w->obj->name,
                   w->chunk->index, err->message);
        cairn_error_clear(err);
        usleep(50000u * (unsigned)attempt);
    }
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
    cairn_progress_doing(c->progress, NULL);
    cairn_progress_done(c->progress, w->chunk->file.raw.bytes);
    return CAIRN_OK;
}

static void load_done(void *shared, void *state)
{
    restore_ctx *c = shared;
    c->drv->close(state);
}

static const cairn_pool_ops load_pool = {load_init, load_run, load_done};

/* After the target was touched, a failure leaves it half restored: say so,
 * and what to do (a restore that records progress resumes). */
static void mark_incomplete(cairn_error *err, int resumable)
{
    const char *what = resumable ? "the target is incomplete: run the same restore again to "
                                   "resume it"
                                 : "the target is incomplete: drop it before restoring again";
    char hint[sizeof err->hint];
    if (err->hint[0])
        snprintf(hint, sizeof hint, "%.250s; %s", err->hint, what);
    else
        snprintf(hint, sizeof hint, "%s", what);
    cairn_strlcpy(err->hint, hint, sizeof err->hint);
}

/* Whether this restore keeps progress on the target: a chain with
 * increments, on a driver that replays them. */
static int keeps_progress(const restore_ctx *c)
{
    return (c->chain.nsteps > 1 || c->m->nresumes > 0) &&
           (c->drv->features & CAIRN_DRIVER_INCREMENTS);
}

static int write_progress(restore_ctx *c, const char *phase, const char *position, cairn_error *err)
{
    if (!keeps_progress(c))
        return CAIRN_OK;
    cairn_conn *conn = NULL;
    int rc = c->drv->connect(c->target, &conn, err);
    if (rc == CAIRN_OK)
        rc = c->drv->progress_write(conn, c->m->id, phase, position, err);
    c->drv->close(conn);
    return rc;
}

/* Loads the full backup; clean replaces what the target holds (the user's
 * --clean, or a half-loaded database of an interrupted restore). */
static int restore_into(restore_ctx *c, int clean, cairn_restore_result *res, cairn_error *err)
{
    const cairn_restore_opts *o = c->o;
    cairn_restore_flags flags = {.no_owner = o->no_owner,
                                 .clean = clean,
                                 .jobs = o->jobs > 0 ? o->jobs : 2,
                                 .tenants = o->as ? c->as_name : o->tenants};
    char *dir = NULL;
    archive *arch = NULL;
    size_t narch = 0;
    double t = cairn_now();
    /* the archives first: renaming a tenant (--as) can fail on what it
     * refers to, and must do so before the target is touched */
    int rc = materialize_all(c, &dir, &arch, &narch, err);
    if (rc == CAIRN_OK)
        rc = c->drv->target_prepare(c->target, &c->m->source, c->placed, c->nunits, &flags, err);
    if (rc != CAIRN_OK) {
        archives_free(arch, narch, dir);
        return rc; /* nothing was changed */
    }
    res->touched = 1;
    rc = write_progress(c, "full", c->m->end_position, err);
    if (rc == CAIRN_OK)
        rc = restore_archives(c, arch, narch, "pre-data", &flags, err);
    if (rc == CAIRN_OK && cairn_fault("restore-kill-after-schema"))
        kill(getpid(), SIGKILL); /* tests: a restore killed while loading the full backup */
    res->t_schema = cairn_now() - t;
    if (rc == CAIRN_OK) {
        cairn_info("restoring %zu chunks with %d jobs", c->nwork, flags.jobs);
        t = cairn_now();
        uint64_t bytes = 0;
        for (size_t i = 0; i < c->nwork; i++)
            bytes += c->work[i].chunk->file.raw.bytes;
        c->progress = cairn_progress_start("restore", c->nwork, bytes, 0);
        rc = cairn_pool_run(flags.jobs, c->nwork, &load_pool, c, err);
        cairn_progress_end(c->progress);
        c->progress = NULL;
        res->t_data = cairn_now() - t;
    }
    if (rc == CAIRN_OK) {
        t = cairn_now();
        cairn_conn *conn = NULL;
        rc = c->drv->connect(c->target, &conn, err);
        if (rc == CAIRN_OK)
            rc = c->drv->load_begin(conn, &c->m->source, err);
        for (size_t u = 0; rc == CAIRN_OK && u < c->nunits; u++)
            rc = c->drv->restore_sequences(conn, &c->placed[u], err);
        c->drv->close(conn);
        if (rc == CAIRN_OK)
            rc = restore_archives(c, arch, narch, "post-data", &flags, err);
        res->t_post = cairn_now() - t;
        if (rc == CAIRN_OK && o->loaded) {
            double th = cairn_now();
            rc = o->loaded(o->loaded_arg, c->target, c->placed, c->nunits, err);
            res->t_loaded_hook += cairn_now() - th;
            t += cairn_now() - th;
        }
        /* the log from the units' earliest position: a resumed backup's
         * units dumped before its end catch up from there */
        if (rc == CAIRN_OK)
            rc = write_progress(c, "log", c->m->start_position, err);
        res->t_post = cairn_now() - t;
    }
    archives_free(arch, narch, dir);
    if (rc != CAIRN_OK)
        mark_incomplete(err, keeps_progress(c));
    return rc;
}

typedef struct {
    cairn_repo *repo;
    const cairn_manifest *m;
    const cairn_file *f;
} log_file;

static int open_log(void *arg, cairn_source **out, cairn_error *err)
{
    log_file *lf = arg;
    return cairn_reader_open(lf->repo, lf->m->id, lf->f, 1, out, err);
}

/* The units a catch-up log brings forward (keep) and those it must leave
 * alone (skip): left alone are those restored at or after its end (dumped
 * again by that resume or a later one), failed ones, and with --tenant
 * those not restored.  NULL-terminated names, borrowed; -1 on error. */
static int catchup_units(restore_ctx *c, const cairn_resume *r, const char ***skip,
                         const char ***keep, size_t *applied, cairn_error *err)
{
    const cairn_manifest *m = c->m;
    *skip = cairn_xcalloc(m->nunits + 1, sizeof **skip);
    *keep = cairn_xcalloc(m->nunits + 1, sizeof **keep);
    size_t n = 0;
    *applied = 0;
    for (size_t u = 0; u < m->nunits; u++) {
        const cairn_unit *un = &m->units[u];
        int selected = 0, cmp = 1;
        for (size_t k = 0; k < c->nunits; k++)
            selected |= strcmp(c->units[k].name, un->name) == 0;
        if (selected && strcmp(un->status, "complete") == 0 && un->position &&
            c->drv->position_cmp(un->position, r->position, &cmp, err) != CAIRN_OK)
            return -1;
        if (cmp >= 0)
            (*skip)[n++] = un->name;
        else
            (*keep)[(*applied)++] = un->name;
    }
    return 0;
}

/* Which unit a change belongs to, for a driver's log_apply: the backup's
 * tenant units, its database unit, and (restore --tenant) the units not
 * restored, whose changes are skipped. */
typedef struct {
    const char **tenants;
    const char *database;
    const char **unselected; /* NULL unless --tenant */
    const char **selected;   /* NULL unless --tenant */
} unit_names;

static void unit_names_init(const restore_ctx *c, unit_names *n)
{
    const cairn_manifest *m = c->m;
    memset(n, 0, sizeof *n);
    n->tenants = cairn_xcalloc(m->nunits + 1, sizeof *n->tenants);
    size_t nt = 0, nu = 0;
    for (size_t u = 0; u < m->nunits; u++) {
        if (!in_database(c, &m->units[u]))
            continue;
        if (m->units[u].kind && strcmp(m->units[u].kind, "tenant") == 0)
            n->tenants[nt++] = m->units[u].name;
        else if (!n->database)
            n->database = m->units[u].name;
    }
    if (!c->tenant_restore)
        return;
    n->unselected = cairn_xcalloc(m->nunits + 1, sizeof *n->unselected);
    n->selected = cairn_xcalloc(c->nunits + 1, sizeof *n->selected);
    for (size_t k = 0; k < c->nunits; k++)
        n->selected[k] = c->units[k].name;
    for (size_t u = 0; u < m->nunits; u++) {
        int selected = 0;
        for (size_t k = 0; k < c->nunits; k++)
            selected |= strcmp(c->units[k].name, m->units[u].name) == 0;
        if (!selected && in_database(c, &m->units[u]))
            n->unselected[nu++] = m->units[u].name;
    }
}

static void unit_names_free(unit_names *n)
{
    free(n->tenants);
    free(n->unselected);
    free(n->selected);
}

/* Brings the units a resumed backup dumped before its end to that end:
 * each resume's log, in order, for the units still behind it. */
static int apply_catchup(restore_ctx *c, cairn_conn *conn, const unit_names *names, char *position,
                         size_t cap, cairn_restore_result *res, cairn_error *err)
{
    const cairn_manifest *m = c->m;
    int rc = CAIRN_OK;
    for (size_t k = 0; rc == CAIRN_OK && k < m->nresumes; k++) {
        const cairn_resume *r = &m->resumes[k];
        int cmp = 0;
        if ((rc = c->drv->position_cmp(r->position, position, &cmp, err)) != CAIRN_OK)
            break;
        size_t applied = 0;
        const char **skip = NULL, **keep = NULL;
        if (cmp > 0 && catchup_units(c, r, &skip, &keep, &applied, err) != 0) {
            free(skip);
            free(keep);
            rc = err->code;
            break;
        }
        if (cmp > 0 && applied > 0) {
            cairn_info("bringing %zu units to %s through the log of resume %zu", applied,
                       r->position, k + 1);
            cairn_apply_opts ao = {.after = position,
                                   .stop_position = r->position,
                                   .skip_units = skip,
                                   .tenant_units = names->tenants,
                                   .database_unit = names->database,
                                   .only_units = keep,
                                   .rename_from = c->o->as ? c->units[0].name : NULL,
                                   .rename_to = c->o->as};
            cairn_apply_result ar;
            memset(&ar, 0, sizeof ar);
            log_file lf = {c->repo, m, &r->log};
            rc = c->drv->log_apply(conn, &m->source, open_log, &lf, &ao, &ar, err);
            if (rc != CAIRN_OK)
                cairn_error_prefix(err, "the log of resume %zu", k + 1);
            res->transactions += ar.transactions;
            res->changes += ar.changes;
            if (ar.last_position[0])
                cairn_strlcpy(position, ar.last_position, cap);
        }
        free(skip);
        free(keep);
    }
    return rc;
}

/* The sequences of an increment's unit that this restore owns: all of
 * them, or with --tenant those in a restored tenant's schema (database).
 * A shallow copy: free its sequences array alone. */
static cairn_unit restored_sequences(const restore_ctx *c, const cairn_unit *u)
{
    cairn_unit mine = *u;
    mine.sequences = cairn_xcalloc(u->nsequences + 1, sizeof *mine.sequences);
    mine.nsequences = 0;
    for (size_t i = 0; i < u->nsequences; i++) {
        int keep = !c->tenant_restore;
        for (size_t k = 0; !keep && k < c->nunits; k++)
            keep = strcmp(c->units[k].name, u->sequences[i].schema) == 0;
        if (keep)
            mine.sequences[mine.nsequences++] = u->sequences[i];
        if (keep && c->o->as)
            mine.sequences[mine.nsequences - 1].schema = (char *)c->o->as;
    }
    return mine;
}

/* Replays every increment after the full backup, in order, from after
 * `after` (a resumed restore) up to the chain's stop; then sets the
 * sequences from the last increment and removes the progress record. */
static int apply_increments(restore_ctx *c, const char *after, cairn_restore_result *res,
                            cairn_error *err)
{
    cairn_conn *conn = NULL;
    int rc = c->drv->connect(c->target, &conn, err);
    const cairn_manifest *last = c->m;
    char position[64];
    cairn_strlcpy(position, after ? after : c->m->start_position, sizeof position);
    unit_names names;
    unit_names_init(c, &names);
    if (rc == CAIRN_OK && c->m->nresumes)
        rc = apply_catchup(c, conn, &names, position, sizeof position, res, err);
    for (size_t i = 1; rc == CAIRN_OK && i < c->chain.nsteps; i++) {
        const cairn_manifest *inc = c->chain.steps[i];
        int is_last = i + 1 == c->chain.nsteps;
        int cmp = 0;
        rc = c->drv->position_cmp(inc->end_position, position, &cmp, err);
        if (rc != CAIRN_OK)
            break;
        last = inc;
        if (cmp <= 0)
            continue; /* applied before the interruption */
        cairn_info("replaying increment %s: %s to %s, %llu transactions", inc->id,
                   inc->start_position, inc->end_position, (unsigned long long)inc->transactions);
        cairn_apply_opts ao = {.after = position,
                               .stop_position = is_last ? c->chain.stop_position : NULL,
                               .stop_time_us = c->chain.stop_time_us,
                               .skip_units = names.unselected,
                               .tenant_units = names.tenants,
                               .database_unit = names.database,
                               .only_units = names.selected,
                               .rename_from = c->o->as ? c->units[0].name : NULL,
                               .rename_to = c->o->as};
        cairn_apply_result ar;
        memset(&ar, 0, sizeof ar);
        const cairn_file *logs = inc->logs;
        size_t nlogs = inc->nlogs;
        for (size_t d = 0; c->dbname && d < inc->ndbs; d++)
            if (strcmp(inc->dbs[d].name, c->dbname) == 0) {
                logs = &inc->dbs[d].log;
                nlogs = inc->dbs[d].has_log;
            }
        for (size_t k = 0; rc == CAIRN_OK && k < nlogs; k++) {
            log_file lf = {c->repo, inc, &logs[k]};
            rc = c->drv->log_apply(conn, &c->m->source, open_log, &lf, &ao, &ar, err);
            if (rc != CAIRN_OK) {
                cairn_error_prefix(err, "increment %s", inc->id);
                break;
            }
            res->transactions += ar.transactions;
            res->changes += ar.changes;
            if (ar.last_position[0])
                cairn_strlcpy(position, ar.last_position, sizeof position);
        }
        res->increments++;
        if (rc == CAIRN_OK && ar.stopped)
            break;
    }
    if (rc == CAIRN_OK && last != c->m) {
        cairn_conn *seq = NULL;
        rc = c->drv->connect(c->target, &seq, err);
        if (rc == CAIRN_OK)
            rc = c->drv->load_begin(seq, &c->m->source, err);
        for (size_t u = 0; rc == CAIRN_OK && u < last->nunits; u++) {
            const char *db = last->units[u].database;
            if (c->dbname && (!db || strcmp(db, c->dbname) != 0))
                continue; /* another database's */
            cairn_unit mine = restored_sequences(c, &last->units[u]);
            rc = c->drv->restore_sequences(seq, &mine, err);
            free(mine.sequences);
        }
        c->drv->close(seq);
    }
    if (rc == CAIRN_OK)
        rc = c->drv->progress_drop(conn, err);
    c->drv->close(conn);
    unit_names_free(&names);
    if (rc == CAIRN_OK)
        cairn_strlcpy(res->position, position, sizeof res->position);
    else
        mark_incomplete(err, !c->dbname);
    return rc;
}

/* A restore of this chain that was interrupted: "" when there is none;
 * "full" to start over; otherwise the log position to resume after. */
static int find_interrupted(restore_ctx *c, char *resume, size_t cap, cairn_error *err)
{
    resume[0] = '\0';
    if (!keeps_progress(c) || c->o->clean)
        return CAIRN_OK;
    char chain[64], phase[16], position[64];
    if (c->drv->progress_read(c->target, chain, sizeof chain, phase, sizeof phase, position,
                              sizeof position, err) != CAIRN_OK)
        return err->code;
    if (!phase[0])
        return CAIRN_OK;
    if (strcmp(chain, c->m->id) != 0) {
        cairn_error_set(err, CAIRN_ERR,
                        "the target holds an interrupted restore of another backup (%s)", chain);
        return cairn_error_hint(err, "finish that restore, or pass --clean to replace the target");
    }
    if (strcmp(phase, "full") == 0) {
        cairn_info("the target holds an interrupted restore of %s: loading it again", chain);
        cairn_strlcpy(resume, "full", cap);
    } else {
        cairn_info("the target holds an interrupted restore of %s: resuming after %s", chain,
                   position);
        cairn_strlcpy(resume, position, cap);
    }
    return CAIRN_OK;
}

/* The units of one database of several to restore: all its complete
 * ones, or those --tenant names (each must be there, and complete). */
static int database_units(restore_ctx *c, const cairn_dbpart *part, cairn_error *err)
{
    const cairn_manifest *m = c->m;
    const cairn_restore_opts *o = c->o;
    c->units = cairn_xcalloc(m->nunits + 1, sizeof *c->units);
    c->own_units = 1;
    c->nunits = 0;
    c->placed = c->units;
    for (const char *const *t = o->tenants; t && *t; t++) {
        const cairn_unit *found = NULL;
        for (size_t u = 0; u < m->nunits; u++)
            if (in_database(c, &m->units[u]) && strcmp(m->units[u].name, *t) == 0)
                found = &m->units[u];
        if (!found) {
            cairn_error_set(err, CAIRN_EUSAGE, "database %s of backup %s has no unit \"%s\"",
                            part->name, m->id, *t);
            return cairn_error_hint(err, "cairn show --repo DIR %s lists its units", m->id);
        }
        if (strcmp(found->status, "complete") != 0) {
            cairn_error_set(err, CAIRN_ENOCHAIN, "unit \"%s\" failed in backup %s: %s", *t, m->id,
                            found->error ? found->error : "no reason recorded");
            return err->code;
        }
    }
    for (size_t u = 0; u < m->nunits; u++)
        if (in_database(c, &m->units[u]) && strcmp(m->units[u].status, "complete") == 0 &&
            (!o->tenants || cairn_strv_contains(o->tenants, m->units[u].name)))
            c->units[c->nunits++] = m->units[u];
    return place_units(o, c, err);
}

/* The log that brings the database to the backup's common position, for
 * the units restored. */
static int apply_catch_up(restore_ctx *c, const cairn_dbpart *part, cairn_restore_result *res,
                          cairn_error *err)
{
    const cairn_manifest *m = c->m;
    int increments = c->chain.nsteps > 1;
    double t = cairn_now();
    cairn_conn *conn = NULL;
    int rc = c->drv->connect(c->target, &conn, err);
    if (rc == CAIRN_OK)
        rc = c->drv->progress_write(conn, m->id, "log", part->position, err);
    unit_names names;
    unit_names_init(c, &names);
    cairn_apply_opts ao = {.after = part->position,
                           .skip_units = names.unselected,
                           .tenant_units = names.tenants,
                           .database_unit = names.database,
                           .only_units = names.selected,
                           .rename_from = c->o->as ? c->units[0].name : NULL,
                           .rename_to = c->o->as};
    cairn_apply_result ar;
    memset(&ar, 0, sizeof ar);
    log_file lf = {c->repo, m, &part->log};
    if (rc == CAIRN_OK && part->has_log)
        rc = c->drv->log_apply(conn, &m->source, open_log, &lf, &ao, &ar, err);
    if (rc == CAIRN_OK && !increments)
        rc = c->drv->progress_drop(conn, err);
    c->drv->close(conn);
    unit_names_free(&names);
    res->transactions += ar.transactions;
    res->changes += ar.changes;
    res->t_log += cairn_now() - t;
    if (rc == CAIRN_OK && part->has_log)
        cairn_info("database %s: %llu transactions replayed up to %s", part->name,
                   (unsigned long long)ar.transactions, m->end_position);
    if (rc != CAIRN_OK)
        mark_incomplete(err, 0);
    return rc;
}

/* One database of a backup of several: created, loaded, then brought to
 * the backup's position through its log, then through the increments. */
static int restore_database(restore_ctx *c, const cairn_dbpart *part, cairn_restore_result *res,
                            cairn_error *err)
{
    const cairn_manifest *m = c->m;
    c->dbname = part->name;
    c->work = NULL;
    c->nwork = 0;
    int rc = database_units(c, part, err);
    if (rc == CAIRN_OK)
        c->work = cairn_chunk_schedule(c->placed, c->nunits, &c->nwork);
    c->schema_file = &part->schema;
    int increments = c->chain.nsteps > 1;
    if (rc == CAIRN_OK) {
        cairn_info("restoring database %s (%s)%s", part->name, part->position,
                   c->tenant_restore ? ", the tenants named" : "");
        rc = restore_into(c, c->o->clean, res, err);
    }
    if (rc == CAIRN_OK && (part->has_log || increments))
        rc = apply_catch_up(c, part, res, err);
    if (rc == CAIRN_OK && increments) {
        double t = cairn_now();
        size_t before = res->increments;
        rc = apply_increments(c, m->end_position, res, err);
        res->t_log += cairn_now() - t;
        if (before)
            res->increments = before; /* the same increments, for another database */
    }
    c->dbname = NULL;
    res->chunks += c->nwork;
    for (size_t i = 0; c->tenant_restore && i < c->nwork; i++)
        res->raw_bytes += c->work[i].chunk->file.raw.bytes;
    free(c->work);
    c->work = NULL;
    release_units(c);
    return rc == CAIRN_OK ? rc : cairn_error_prefix(err, "database %s", part->name);
}

/* A backup of several databases goes to a server: each database (or each
 * --database) under its own name, or one --database under the name the
 * target gives; every file verified before any is touched. */
static int restore_databases(restore_ctx *c, cairn_restore_result *res, cairn_error *err)
{
    const cairn_restore_opts *o = c->o;
    cairn_strlcpy(res->id, c->chain.steps[c->chain.nsteps - 1]->id, sizeof res->id);
    size_t nselected = 0;
    while (o->databases && o->databases[nselected])
        nselected++;
    cairn_uri u;
    if (cairn_uri_parse(o->target_uri, &u, err) != CAIRN_OK)
        return err->code;
    int named = u.database != NULL;
    cairn_uri_clear(&u);
    if (named && nselected != 1) {
        cairn_error_set(err, CAIRN_EUSAGE, "backup %s holds %zu databases: the target names one",
                        c->m->id, c->m->ndbs);
        return cairn_error_hint(err, "give the server without a database "
                                     "(postgresql://user@host:port/): each database is created "
                                     "under its own name; or name the one to restore there "
                                     "with --database NAME");
    }
    release_units(c);
    c->work = cairn_chunk_schedule(c->m->units, c->m->nunits, &c->nwork);
    double t = cairn_now();
    int rc = verify_all(c, err);
    for (size_t i = 0; rc == CAIRN_OK && i < c->m->ndbs; i++) {
        const cairn_dbpart *d = &c->m->dbs[i];
        rc = cairn_file_check(c->repo, c->m->id, &d->schema, 0, err);
        if (rc == CAIRN_OK && d->has_log)
            rc = cairn_file_check(c->repo, c->m->id, &d->log, 0, err);
    }
    res->t_verify = cairn_now() - t;
    free(c->work);
    c->work = NULL;
    if (rc != CAIRN_OK)
        return cairn_error_hint(err, "the target was not touched; restore an older backup "
                                     "(cairn list) or repair the repository copy");
    for (size_t i = 0; rc == CAIRN_OK && i < c->m->ndbs; i++) {
        const cairn_dbpart *part = &c->m->dbs[i];
        if (nselected && !cairn_strv_contains(o->databases, part->name))
            continue;
        char *as =
            cairn_xasprintf("%s%s", o->database_prefix ? o->database_prefix : "", part->name);
        char *uri = named ? NULL : cairn_uri_with_database(o->target_uri, as);
        free(as);
        c->target = uri ? uri : o->target_uri;
        rc = restore_database(c, part, res, err);
        c->target = o->target_uri;
        free(uri);
    }
    res->rows = c->rows;
    if (!c->tenant_restore && !nselected)
        res->raw_bytes = c->m->raw_bytes;
    if (c->chain.nsteps == 1) /* else where the increments' replay stopped */
        cairn_strlcpy(res->position, c->m->end_position, sizeof res->position);
    return rc;
}

int cairn_restore_run(const cairn_restore_opts *o, cairn_restore_result *res, cairn_error *err)
{
    double t0 = cairn_now();
    memset(res, 0, sizeof *res);
    restore_ctx c = {.o = o, .target = o->target_uri, .tenant_restore = o->tenants != NULL};
    pthread_mutex_init(&c.lock, NULL);
    int rc = open_backup(o, &c, err);
    if (rc == CAIRN_OK && c.m->ndbs) {
        rc = restore_databases(&c, res, err);
        res->duration = cairn_now() - t0 - res->t_loaded_hook;
        release_units(&c);
        cairn_chain_clear(&c.chain);
        cairn_repo_close(c.repo);
        pthread_mutex_destroy(&c.lock);
        return rc;
    }
    if (rc == CAIRN_OK) {
        cairn_strlcpy(res->id, c.chain.steps[c.chain.nsteps - 1]->id, sizeof res->id);
        c.work = cairn_chunk_schedule(c.placed, c.nunits, &c.nwork);
        double t = cairn_now();
        rc = verify_all(&c, err);
        res->t_verify = cairn_now() - t;
        if (rc != CAIRN_OK)
            cairn_error_hint(err, "the target was not touched; restore an older backup "
                                  "(cairn list) or repair the repository copy");
    }
    char resume[64] = "";
    if (rc == CAIRN_OK)
        rc = find_interrupted(&c, resume, sizeof resume, err);
    int load_full = rc == CAIRN_OK && (!resume[0] || strcmp(resume, "full") == 0);
    if (load_full) {
        cairn_info("restoring backup %s (%s) into the target", c.m->id, c.m->end_position);
        rc = restore_into(&c, o->clean || resume[0], res, err);
        cairn_strlcpy(res->position, c.m->end_position, sizeof res->position);
    }
    res->resumed = resume[0] != '\0';
    if (rc == CAIRN_OK && keeps_progress(&c)) {
        double t = cairn_now();
        rc = apply_increments(&c, load_full ? NULL : resume, res, err);
        res->t_log = cairn_now() - t;
    }
    res->rows = c.rows;
    res->chunks = c.nwork;
    res->raw_bytes = c.m && !c.tenant_restore ? c.m->raw_bytes : 0;
    for (size_t i = 0; c.tenant_restore && i < c.nwork; i++)
        res->raw_bytes += c.work[i].chunk->file.raw.bytes;
    res->duration = cairn_now() - t0 - res->t_loaded_hook;
    release_units(&c);
    free(c.work);
    cairn_chain_clear(&c.chain);
    cairn_repo_close(c.repo);
    pthread_mutex_destroy(&c.lock);
    return rc;
}
