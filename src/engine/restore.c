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
#include "engine/restore_int.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/files.h"
#include "util/pool.h"
#include "util/fault.h"
#include "util/log.h"
#include "util/text.h"
#include "util/uri.h"

static cairn_file_ref *add_ref(cairn_file_ref **refs, size_t *n, const char *id,
                               const cairn_file *f)
{
    *refs = cairn_xrealloc(*refs, (*n + 1) * sizeof **refs);
    cairn_file_ref *ref = &(*refs)[(*n)++];
    *ref = (cairn_file_ref){.id = id, .file = f};
    return ref;
}

/* Every file the restore will read, checked on the restore's workers
 * before anything touches the target. */
static int verify_all(restore_ctx *c, cairn_error *err)
{
    cairn_file_ref *refs = NULL;
    size_t n = 0;
    const char *id = c->m->id;
    if (c->m->has_schema)
        add_ref(&refs, &n, id, &c->m->schema);
    for (size_t i = 0; i < c->nwork; i++)
        add_ref(&refs, &n, id, &c->work[i].chunk->file)->obj = c->work[i].obj;
    for (size_t i = 0; i < c->m->nresumes; i++) {
        const cairn_resume *r = &c->m->resumes[i];
        if (r->has_schema)
            snprintf(add_ref(&refs, &n, id, &r->schema)->what, sizeof refs->what, "resume %zu",
                     i + 1);
        snprintf(add_ref(&refs, &n, id, &r->log)->what, sizeof refs->what, "resume %zu", i + 1);
    }
    for (size_t i = 0; i < c->m->ndbs; i++) {
        const cairn_dbpart *d = &c->m->dbs[i];
        add_ref(&refs, &n, id, &d->schema);
        if (d->has_log)
            add_ref(&refs, &n, id, &d->log);
    }
    for (size_t i = 1; i < c->chain.nsteps; i++) {
        cairn_manifest *inc = c->chain.steps[i];
        for (size_t k = 0; k < inc->nlogs; k++)
            snprintf(add_ref(&refs, &n, inc->id, &inc->logs[k])->what, sizeof refs->what,
                     "increment %s", inc->id);
        for (size_t k = 0; k < inc->ndbs; k++)
            if (inc->dbs[k].has_log)
                snprintf(add_ref(&refs, &n, inc->id, &inc->dbs[k].log)->what, sizeof refs->what,
                         "increment %s, database %s", inc->id, inc->dbs[k].name);
    }
    int rc = cairn_files_check_list(c->repo, refs, n, 0, c->o->jobs, err);
    free(refs);
    return rc;
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
void restore_mark_incomplete(cairn_error *err, int resumable)
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
int restore_keeps_progress(const restore_ctx *c)
{
    return (c->chain.nsteps > 1 || c->m->nresumes > 0) &&
           (c->drv->features & CAIRN_DRIVER_INCREMENTS);
}

static int write_progress(restore_ctx *c, const char *phase, const char *position, cairn_error *err)
{
    if (!restore_keeps_progress(c))
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
    int rc = restore_materialize_all(c, &dir, &arch, &narch, err);
    if (rc == CAIRN_OK)
        rc = c->drv->target_prepare(c->target, &c->m->source, c->placed, c->nunits, &flags, err);
    if (rc != CAIRN_OK) {
        restore_archives_free(arch, narch, dir);
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
        /* the log from the units' earliest position: a resumed backup's
         * units dumped before its end catch up from there */
        if (rc == CAIRN_OK)
            rc = write_progress(c, "log", c->m->start_position, err);
        res->t_post = cairn_now() - t;
    }
    if (rc == CAIRN_OK && o->loaded) {
        double t_hook = cairn_now();
        rc = o->loaded(o->loaded_arg, c->target, c->placed, c->nunits, err);
        res->t_loaded_hook += cairn_now() - t_hook;
    }
    restore_archives_free(arch, narch, dir);
    if (rc != CAIRN_OK)
        restore_mark_incomplete(err, restore_keeps_progress(c));
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
    int rc = restore_database_units(c, part, err);
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
        rc = restore_apply_catch_up(c, part, res, err);
    if (rc == CAIRN_OK && increments) {
        double t = cairn_now();
        size_t before = res->increments;
        rc = restore_apply_increments(c, m->end_position, res, err);
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
    restore_release_units(c);
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
    restore_release_units(c);
    c->work = cairn_chunk_schedule(c->m->units, c->m->nunits, &c->nwork);
    double t = cairn_now();
    int rc = verify_all(c, err);
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
    int rc = restore_open_backup(o, &c, err);
    if (rc == CAIRN_OK && c.m->ndbs) {
        rc = restore_databases(&c, res, err);
        res->duration = cairn_now() - t0 - res->t_loaded_hook;
        restore_release_units(&c);
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
        rc = restore_find_interrupted(&c, resume, sizeof resume, err);
    int load_full = rc == CAIRN_OK && (!resume[0] || strcmp(resume, "full") == 0);
    if (load_full) {
        cairn_info("restoring backup %s (%s) into the target", c.m->id, c.m->end_position);
        rc = restore_into(&c, o->clean || resume[0], res, err);
        cairn_strlcpy(res->position, c.m->end_position, sizeof res->position);
    }
    res->resumed = resume[0] != '\0';
    if (rc == CAIRN_OK && restore_keeps_progress(&c)) {
        double t = cairn_now();
        rc = restore_apply_increments(&c, load_full ? NULL : resume, res, err);
        res->t_log = cairn_now() - t;
    }
    res->rows = c.rows;
    res->chunks = c.nwork;
    res->raw_bytes = c.m && !c.tenant_restore ? c.m->raw_bytes : 0;
    for (size_t i = 0; c.tenant_restore && i < c.nwork; i++)
        res->raw_bytes += c.work[i].chunk->file.raw.bytes;
    res->duration = cairn_now() - t0 - res->t_loaded_hook;
    restore_release_units(&c);
    free(c.work);
    cairn_chain_clear(&c.chain);
    cairn_repo_close(c.repo);
    pthread_mutex_destroy(&c.lock);
    return rc;
}
