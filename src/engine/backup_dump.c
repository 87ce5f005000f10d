/* The parallel phase of a full backup, and of a resumed one.
 *
 * DESIGN: the schema dump (one thread, a child program) runs beside a pool
 * of workers, each with its own connection that joined the snapshot and
 * recorded what it sees; a worker takes one chunk at a time and streams it
 * into a stored file.  A chunk whose dump fails on the source is tried
 * again on a connection that joined the snapshot again; when it keeps
 * failing, its unit fails alone: the other units go on, and the failed
 * unit's files are removed afterwards.  A failure of the repository (or
 * an interrupt) stops everything. */
#include "engine/backup_dump.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/chunk.h"
#include "engine/files.h"
#include "util/pool.h"
#include "engine/throttle.h"
#include "util/fault.h"
#include "util/interrupt.h"
#include "util/log.h"
#include "util/progress.h"
#include "util/text.h"

/* A chunk whose dump fails on the source is tried this often, waiting
 * 0.5, 1 and 2 s between tries (on a connection that joined the snapshot
 * again); then its unit fails and the others go on. */
#define CAIRN_BACKUP_ATTEMPTS 4

typedef struct {
    const cairn_backup_opts *o;
    const cairn_driver *drv;
    cairn_repo *repo;
    cairn_snapshot *snap;
    cairn_manifest *m;
    cairn_work *work;
    size_t nwork;
    char **identities; /* one per worker, filled at join */
    pthread_mutex_t lock;
    size_t done;
    /* barrier bookkeeping (under lock) */
    int jobs, joined, schema_done, released;
    size_t barrier_left;
    double barrier_start;
    cairn_rate *rate; /* --max-rate, when set */
    const cairn_dump_job *job;
    const char *uri;          /* the source: the job's database */
    cairn_error **last_error; /* per work item: its last failure, when it failed */
    cairn_progress *progress;
} backup_ctx;

typedef struct {
    cairn_conn *conn;
} worker_state;

/* Ends the snapshot's barrier once nothing needs it any more: every worker
 * joined, the schema is dumped, the non-transactional tables are read.
 * Called with c->lock held. */
static void maybe_release(backup_ctx *c)
{
    if (c->released || !c->drv->snapshot_release || c->joined < c->jobs || !c->schema_done ||
        c->barrier_left > 0)
        return;
    c->drv->snapshot_release(c->snap);
    c->released = 1;
    double now = cairn_now();
    c->m->barrier_seconds = now - c->barrier_start;
    if (c->job->ddl_start > 0) {
        c->m->ddl_block_seconds = now - c->job->ddl_start;
        cairn_info("commit barrier held for %.3f s; DDL blocked for %.3f s", c->m->barrier_seconds,
                   c->m->ddl_block_seconds);
    } else {
        cairn_info("barrier held for %.3f s", c->m->barrier_seconds);
    }
}

/* Connects and joins the snapshot; the worker must see exactly what the
 * leader saw (a worker that lost its connection may rejoin only while the
 * snapshot can still be had: always on PostgreSQL, while the barrier
 * holds on MariaDB). */
static int join(backup_ctx *c, cairn_conn **conn, char *identity, size_t cap, cairn_error *err)
{
    *conn = NULL;
    if (c->drv->connect(c->uri, conn, err) != CAIRN_OK ||
        c->drv->snapshot_join(*conn, c->snap, identity, cap, err) != CAIRN_OK) {
        c->drv->close(*conn);
        *conn = NULL;
        return err->code;
    }
    return CAIRN_OK;
}

static int worker_init(void *shared, int index, void **state, cairn_error *err)
{
    backup_ctx *c = shared;
    worker_state *w = cairn_xcalloc(1, sizeof *w);
    char identity[256];
    if (join(c, &w->conn, identity, sizeof identity, err) != CAIRN_OK) {
        free(w);
        return cairn_error_prefix(err, "worker %d", index + 1);
    }
    c->identities[index] = cairn_xstrdup(identity);
    *state = w;
    pthread_mutex_lock(&c->lock);
    c->joined++;
    maybe_release(c);
    pthread_mutex_unlock(&c->lock);
    return CAIRN_OK;
}

/* Dumps one chunk into its file.  *source_side tells a failure of the
 * source (the unit may fail alone) from one of the repository (the backup
 * fails). */
static int dump_one(backup_ctx *c, worker_state *w, cairn_work *job, int *source_side,
                    cairn_error *err)
{
    char path[64];
    snprintf(path, sizeof path, "data/%06u.%04u%s", job->obj->number, job->chunk->index,
             c->o->zstd_level != 0 ? ".zst" : "");
    *source_side = 0;
    cairn_writer wr;
    if (cairn_writer_open(&wr, c->repo, c->m->id, path, c->o->zstd_level, err) != CAIRN_OK)
        return err->code;
    cairn_rowsum content = {0};
    if ((c->o->max_rate && cairn_writer_limit(&wr, c->rate, err) != CAIRN_OK) ||
        cairn_writer_digest_rows(&wr, &content, err) != CAIRN_OK) {
        cairn_writer_abort(&wr);
        return err->code;
    }
    uint64_t rows = 0;
    int rc = CAIRN_OK;
    if (cairn_fault("chunk-fail")) /* tests: a source that fails under one chunk */
        rc = cairn_error_set(err, CAIRN_ERR, "injected failure (CAIRN_FAULT=chunk-fail)");
    else
        rc = c->drv->dump_chunk(w->conn, job->obj, job->chunk, wr.top, &rows, err);
    if (rc != CAIRN_OK) {
        const cairn_error *below = cairn_sink_error(wr.top);
        *source_side = !(below && below->code) && !cairn_interrupted();
        cairn_writer_abort(&wr);
        return cairn_error_prefix(err, "table %s.%s", job->obj->schema, job->obj->name);
    }
    if (cairn_writer_close(&wr, &job->chunk->file, err) != CAIRN_OK)
        return cairn_error_prefix(err, "table %s.%s", job->obj->schema, job->obj->name);
    job->chunk->rows = rows;
    job->chunk->content = content;
    job->chunk->has_content = 1;
    return CAIRN_OK;
}

/* Under c->lock: the chunk is finished with, dumped or not. */
static void chunk_finished(backup_ctx *c, cairn_work *job)
{
    c->done++;
    if (job->obj->nontransactional) {
        c->barrier_left--;
        maybe_release(c);
    }
}

/* Under c->lock: the job's unit fails with err (the first error stays). */
static void fail_unit(backup_ctx *c, cairn_work *job, const cairn_error *err)
{
    cairn_unit *u = &c->m->units[job->unit];
    if (c->job->first_failure && !c->job->first_failure->code)
        *c->job->first_failure = *err;
    if (!cairn_unit_failed(u)) {
        free(u->status);
        u->status = cairn_xstrdup("failed");
        u->error = cairn_xstrdup(err->message);
        cairn_warn("unit %s failed: %s; the other units go on", u->name, err->message);
    }
    chunk_finished(c, job);
}

/* Source errors that trying again will not cure. */
static int permanent(const cairn_error *err)
{
    return strcmp(err->sqlstate, "42501") == 0 || strstr(err->message, "denied") != NULL;
}

static int worker_run(void *shared, void *state, size_t item, cairn_error *err)
{
    backup_ctx *c = shared;
    worker_state *w = state;
    cairn_work *job = &c->work[item];
    for (;;) {
        pthread_mutex_lock(&c->lock);
        int skip = cairn_unit_failed(&c->m->units[job->unit]);
        if (skip)
            chunk_finished(c, job);
        pthread_mutex_unlock(&c->lock);
        if (skip)
            return CAIRN_OK; /* its unit failed under another chunk */
        if (!w->conn) {
            char identity[256];
            cairn_error e = {0};
            if (join(c, &w->conn, identity, sizeof identity, &e) != CAIRN_OK ||
                strcmp(identity, c->snap->identity) != 0) {
                cairn_warn("a worker cannot rejoin the snapshot (%s); it stops",
                           e.message[0] ? e.message : "it moved on");
                c->drv->close(w->conn);
                w->conn = NULL;
                return CAIRN_POOL_RETIRE; /* another worker takes the chunk */
            }
        }
        job->attempts++;
        int source_side = 0;
        char label[96];
        snprintf(label, sizeof label, "%s.%s#%u", job->obj->schema, job->obj->name,
                 job->chunk->index);
        cairn_progress_doing(c->progress, label);
        int dumped = dump_one(c, w, job, &source_side, err);
        cairn_progress_doing(c->progress, NULL);
        if (dumped == CAIRN_OK) {
            cairn_progress_done(c->progress, job->chunk->file.raw.bytes);
            pthread_mutex_lock(&c->lock);
            chunk_finished(c, job);
            cairn_debug("dumped %s.%s chunk %u: %llu rows (%zu/%zu)", job->obj->schema,
                        job->obj->name, job->chunk->index, (unsigned long long)job->chunk->rows,
                        c->done, c->nwork);
            pthread_mutex_unlock(&c->lock);
            return CAIRN_OK;
        }
        if (!source_side)
            return err->code;
        pthread_mutex_lock(&c->lock);
        if (!c->last_error[item])
            c->last_error[item] = cairn_xmalloc(sizeof **c->last_error);
        *c->last_error[item] = *err;
        pthread_mutex_unlock(&c->lock);
        /* the connection may be broken, or its transaction aborted */
        c->drv->close(w->conn);
        w->conn = NULL;
        if (job->attempts >= CAIRN_BACKUP_ATTEMPTS || permanent(err)) {
            pthread_mutex_lock(&c->lock);
            fail_unit(c, job, err);
            pthread_mutex_unlock(&c->lock);
            cairn_error_clear(err);
            return CAIRN_OK;
        }
        unsigned delay_ms = 500u << (job->attempts - 1); /* 0.5 s, 1 s, 2 s */
        cairn_warn("%s; trying again in %.1f s (attempt %d of %d)", err->message, delay_ms / 1000.0,
                   job->attempts + 1, CAIRN_BACKUP_ATTEMPTS);
        cairn_error_clear(err);
        usleep(delay_ms * 1000u);
    }
}

static void worker_done(void *shared, void *state)
{
    backup_ctx *c = shared;
    worker_state *w = state;
    c->drv->close(w->conn); /* NULL after a lost connection */
    free(w);
}

static const cairn_pool_ops backup_pool = {worker_init, worker_run, worker_done};

typedef struct {
    backup_ctx *c;
    int rc;
    cairn_error err;
} schema_job;

static const char *job_uri(const cairn_dump_job *j)
{
    return j->uri ? j->uri : j->o->source_uri;
}

int cairn_backup_dump_schema(const cairn_dump_job *j, int jobs, cairn_error *err)
{
    cairn_writer wr;
    if (cairn_writer_open(&wr, j->repo, j->m->id, j->schema_path, j->o->zstd_level, err) !=
        CAIRN_OK)
        return err->code;
    if (j->drv->dump_schema(job_uri(j), j->snap, j->schema_units, j->nschema_units, jobs, wr.top,
                            err) != CAIRN_OK) {
        cairn_writer_abort(&wr);
        return err->code;
    }
    return cairn_writer_close(&wr, j->schema, err);
}

static void *schema_main(void *arg)
{
    schema_job *j = arg;
    backup_ctx *c = j->c;
    j->rc = cairn_backup_dump_schema(c->job, 1, &j->err); /* beside the workers: one connection */
    if (j->rc == CAIRN_OK) {
        pthread_mutex_lock(&c->lock);
        c->schema_done = 1;
        maybe_release(c);
        pthread_mutex_unlock(&c->lock);
    }
    return NULL;
}

static int unit_order(const void *a, const void *b)
{
    const cairn_work *x = a, *y = b;
    if (x->obj->nontransactional != y->obj->nontransactional)
        return x->obj->nontransactional ? -1 : 1; /* read under the barrier */
    if (x->unit != y->unit)
        return x->unit < y->unit ? -1 : 1;
    if (x->obj->number != y->obj->number)
        return x->obj->number < y->obj->number ? -1 : 1;
    return x->chunk->index < y->chunk->index ? -1 : x->chunk->index > y->chunk->index;
}

/* Objects are numbered after first (the numbers name the files), planned
 * into chunks and ordered for the workers. */
static void plan_units(backup_ctx *c, uint32_t first)
{
    cairn_manifest *m = c->m;
    cairn_chunk_policy policy = {.chunk_bytes = c->o->chunk_bytes};
    uint32_t number = first;
    for (size_t u = 0; u < m->nunits; u++)
        for (size_t i = 0; i < m->units[u].nobjects; i++) {
            m->units[u].objects[i].number = ++number;
            cairn_chunk_plan(&m->units[u].objects[i], &policy);
        }
    c->work = cairn_chunk_schedule(m->units, m->nunits, &c->nwork);
    if (c->o->mode == CAIRN_MODE_SEQUENTIAL) /* unit after unit, in the catalog's order */
        qsort(c->work, c->nwork, sizeof *c->work, unit_order);
    for (size_t i = 0; i < c->nwork; i++)
        c->barrier_left += c->work[i].obj->nontransactional;
}

static int parallel_phase(backup_ctx *c, int jobs, cairn_error *err)
{
    c->jobs = jobs;
    c->identities = cairn_xcalloc((size_t)jobs, sizeof *c->identities);
    schema_job sj = {.c = c};
    pthread_t schema_thread;
    int with_schema = c->job->schema_path != NULL;
    c->schema_done = !with_schema;
    if (with_schema && pthread_create(&schema_thread, NULL, schema_main, &sj) != 0)
        return cairn_error_set(err, CAIRN_ERR, "cannot start the schema dump thread");
    free(c->m->mode);
    c->m->mode = cairn_xstrdup(cairn_backup_mode_name(c->o->mode));
    cairn_throttle th;
    int rc = CAIRN_OK;
    uint64_t estimate = 0;
    for (size_t i = 0; i < c->nwork; i++)
        estimate += c->work[i].weight;
    c->progress = cairn_progress_start("backup", c->nwork, estimate, 1);
    if (c->o->mode == CAIRN_MODE_HYBRID) {
        double pct = c->o->max_latency_increase > 0 ? c->o->max_latency_increase : 10.0;
        rc = cairn_throttle_start(&th, c->drv, c->uri, jobs, pct, err);
        if (rc == CAIRN_OK)
            rc = cairn_pool_run_limited(jobs, c->nwork, &backup_pool, c, &th.limit, err);
        cairn_throttle_stop(&th);
        c->m->concurrency_changes = th.changes;
        c->m->workers_min = th.min_workers;
        c->m->workers_max = th.max_workers;
        c->m->probe_baseline_ms = th.baseline_ms;
        c->m->max_latency_increase = pct;
        if (th.changes)
            cairn_info("concurrency changed %d times, between %d and %d workers", th.changes,
                       th.min_workers, th.max_workers);
    } else {
        rc = cairn_pool_run(jobs, c->nwork, &backup_pool, c, err);
        c->m->workers_min = c->m->workers_max = jobs;
    }
    cairn_progress_end(c->progress);
    c->progress = NULL;
    if (with_schema)
        pthread_join(schema_thread, NULL);
    if (rc == CAIRN_OK && sj.rc != CAIRN_OK) {
        *err = sj.err;
        rc = err->code ? err->code : CAIRN_ERR;
    }
    cairn_manifest *m = c->m;
    for (int i = 0; i < jobs; i++)
        if (c->identities[i]) {
            m->worker_snapshots =
                cairn_xrealloc(m->worker_snapshots, (m->nworker_snapshots + 1) * sizeof(char *));
            m->worker_snapshots[m->nworker_snapshots++] = c->identities[i];
        }
    free(c->identities);
    c->identities = NULL;
    return rc;
}

/* After the parallel phase: a chunk no worker could take fails its unit;
 * a failed unit's files are removed and its objects dropped from the
 * manifest, which keeps its name, status and error.  Returns how many
 * units failed. */
static size_t settle_units(backup_ctx *c)
{
    cairn_manifest *m = c->m;
    for (size_t i = 0; i < c->nwork; i++) {
        cairn_work *job = &c->work[i];
        if (!job->chunk->file.path && !cairn_unit_failed(&m->units[job->unit])) {
            /* its last failure, or why it was never tried */
            cairn_error e = {0};
            if (c->last_error[i])
                e = *c->last_error[i];
            else
                cairn_error_set(&e, CAIRN_ERR,
                                "table %s.%s: not dumped, no worker could rejoin the snapshot",
                                job->obj->schema, job->obj->name);
            fail_unit(c, job, &e);
        }
    }
    size_t failed = 0;
    for (size_t u = 0; u < m->nunits; u++) {
        cairn_unit *unit = &m->units[u];
        if (!cairn_unit_failed(unit))
            continue;
        failed++;
        for (size_t i = 0; i < unit->nobjects; i++)
            for (size_t k = 0; k < unit->objects[i].nchunks; k++) {
                const char *path = unit->objects[i].chunks[k].file.path;
                cairn_error e = {0};
                if (path && cairn_repo_remove_file(c->repo, m->id, path, &e) != CAIRN_OK)
                    cairn_warn("%s", e.message);
            }
        cairn_unit_fail(unit, NULL); /* status and error are set */
    }
    return failed;
}

int cairn_backup_dump(const cairn_dump_job *j, size_t *failed, cairn_error *err)
{
    backup_ctx c = {.o = j->o,
                    .drv = j->drv,
                    .repo = j->repo,
                    .snap = j->snap,
                    .m = j->m,
                    .rate = j->rate,
                    .job = j,
                    .uri = job_uri(j),
                    .barrier_start = j->barrier_start};
    pthread_mutex_init(&c.lock, NULL);
    plan_units(&c, j->first_number);
    c.last_error = cairn_xcalloc(c.nwork + 1, sizeof *c.last_error);
    size_t objects = 0;
    for (size_t u = 0; u < c.m->nunits; u++)
        objects += c.m->units[u].nobjects;
    cairn_info("backup %s: snapshot at %s (%s), %zu units, %zu objects in %zu chunks, %d jobs",
               c.m->id, c.snap->position, c.snap->mode, c.m->nunits, objects, c.nwork, j->jobs);
    int rc = parallel_phase(&c, j->jobs, err);
    *failed = rc == CAIRN_OK ? settle_units(&c) : 0;
    for (size_t i = 0; i < c.nwork; i++)
        free(c.last_error[i]);
    free(c.last_error);
    free(c.work);
    pthread_mutex_destroy(&c.lock);
    return rc;
}
