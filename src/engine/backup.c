/* A full backup.
 *
 * DESIGN: the leader takes the snapshot (driver snapshot_open) and holds
 * it.  A leader connection joins it to list the unit's objects and read its
 * sequences; tables are planned into chunks and ordered largest first.
 * The parallel phase then runs the schema dump (one thread, a child
 * program) beside a pool of workers, each with its own connection that
 * joined the snapshot and recorded what it sees; a worker takes one chunk
 * at a time and streams it into a stored file.  After the pool, the leader
 * releases the snapshot and the sequential phase checks every worker's
 * snapshot and re-reads every file.  Only then is the manifest written:
 * the moment the backup exists.  After that, replication slots of older
 * chains are dropped so they stop pinning WAL.  Any failure before the
 * manifest removes the backup's directory and the slot made for it. */
#include "engine/backup.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "engine/chunk.h"
#include "engine/files.h"
#include "engine/pool.h"
#include "util/log.h"
#include "util/text.h"

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
    cairn_rate rate; /* --max-rate, when set */
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
    c->m->barrier_seconds = cairn_now() - c->barrier_start;
    cairn_info("barrier held for %.3f s", c->m->barrier_seconds);
}

static int worker_init(void *shared, int index, void **state, cairn_error *err)
{
    backup_ctx *c = shared;
    worker_state *w = cairn_xcalloc(1, sizeof *w);
    char identity[256];
    if (c->drv->connect(c->o->source_uri, &w->conn, err) != CAIRN_OK ||
        c->drv->snapshot_join(w->conn, c->snap, identity, sizeof identity, err) != CAIRN_OK) {
        c->drv->close(w->conn);
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

static int worker_run(void *shared, void *state, size_t item, cairn_error *err)
{
    backup_ctx *c = shared;
    worker_state *w = state;
    cairn_work *job = &c->work[item];
    char path[64];
    snprintf(path, sizeof path, "data/%06u.%04u%s", job->obj->number, job->chunk->index,
             c->o->zstd_level != 0 ? ".zst" : "");
    cairn_writer wr;
    if (cairn_writer_open(&wr, c->repo, c->m->id, path, c->o->zstd_level, err) != CAIRN_OK)
        return err->code;
    if (c->o->max_rate && cairn_writer_limit(&wr, &c->rate, err) != CAIRN_OK) {
        cairn_writer_abort(&wr);
        return err->code;
    }
    uint64_t rows = 0;
    if (c->drv->dump_chunk(w->conn, job->obj, job->chunk, wr.top, &rows, err) != CAIRN_OK) {
        cairn_writer_abort(&wr);
        return err->code;
    }
    if (cairn_writer_close(&wr, &job->chunk->file, err) != CAIRN_OK)
        return cairn_error_prefix(err, "table %s.%s", job->obj->schema, job->obj->name);
    job->chunk->rows = rows;
    pthread_mutex_lock(&c->lock);
    c->done++;
    if (job->obj->nontransactional) {
        c->barrier_left--;
        maybe_release(c);
    }
    cairn_debug("dumped %s.%s chunk %u: %llu rows (%zu/%zu)", job->obj->schema, job->obj->name,
                job->chunk->index, (unsigned long long)rows, c->done, c->nwork);
    pthread_mutex_unlock(&c->lock);
    return CAIRN_OK;
}

static void worker_done(void *shared, void *state)
{
    backup_ctx *c = shared;
    worker_state *w = state;
    c->drv->close(w->conn);
    free(w);
}

static const cairn_pool_ops backup_pool = {worker_init, worker_run, worker_done};

typedef struct {
    backup_ctx *c;
    int rc;
    cairn_error err;
} schema_job;

static void *schema_main(void *arg)
{
    schema_job *j = arg;
    backup_ctx *c = j->c;
    char path[64];
    snprintf(path, sizeof path, "schema/schema.%s%s", c->drv->schema_suffix,
             c->o->zstd_level != 0 ? ".zst" : "");
    cairn_writer wr;
    j->rc = cairn_writer_open(&wr, c->repo, c->m->id, path, c->o->zstd_level, &j->err);
    if (j->rc != CAIRN_OK)
        return NULL;
    j->rc = c->drv->dump_schema(c->o->source_uri, c->snap, wr.top, &j->err);
    if (j->rc != CAIRN_OK) {
        cairn_writer_abort(&wr);
        return NULL;
    }
    j->rc = cairn_writer_close(&wr, &c->m->schema, &j->err);
    if (j->rc == CAIRN_OK) {
        c->m->has_schema = 1;
        pthread_mutex_lock(&c->lock);
        c->schema_done = 1;
        maybe_release(c);
        pthread_mutex_unlock(&c->lock);
    }
    return NULL;
}

/* cairn_<id>_<random>: unique per backup, a valid slot name. */
static void slot_name(const char *id, char out[64])
{
    unsigned char rnd[3] = {0};
    RAND_bytes(rnd, sizeof rnd);
    char base[40];
    size_t o = 0;
    for (const char *p = id; *p && o + 1 < sizeof base; p++)
        base[o++] = isalnum((unsigned char)*p) ? (char)tolower((unsigned char)*p) : '_';
    base[o] = '\0';
    snprintf(out, 64, "cairn_%s_%02x%02x%02x", base, rnd[0], rnd[1], rnd[2]);
}

static void drop_old_slots(backup_ctx *c)
{
    if (!c->drv->slot_drop)
        return;
    cairn_manifest **list = NULL;
    size_t n = 0;
    cairn_error e = {0};
    if (cairn_repo_list(c->repo, &list, &n, &e) != CAIRN_OK)
        return;
    for (size_t i = 0; i < n; i++) {
        const char *slot = list[i]->slot;
        if (!slot || (c->m->slot && strcmp(slot, c->m->slot) == 0))
            continue;
        cairn_error_clear(&e);
        if (c->drv->slot_drop(c->o->source_uri, slot, &e) != CAIRN_OK)
            cairn_warn("cannot drop replication slot %s of the previous chain: %s", slot,
                       e.message);
        else
            cairn_info("dropped replication slot %s of the previous chain", slot);
    }
    cairn_repo_list_free(list, n);
}

/* Backups that never finished (killed, crashed, power lost) left a
 * directory without a manifest and maybe a slot: remove both.  Safe under
 * the repository lock: no other writer is running. */
void cairn_backup_clean_unfinished(cairn_repo *repo, const cairn_driver *drv, const char *uri,
                                   const char *own_id)
{
    char **ids = NULL;
    cairn_error e = {0};
    if (cairn_repo_list_unfinished(repo, &ids, &e) != CAIRN_OK)
        return;
    for (char **id = ids; *id; id++) {
        if (strcmp(*id, own_id) == 0)
            continue; /* this run's own */
        json_t *pending = NULL;
        cairn_repo_get_json(repo, *id, "pending.json", &pending);
        const char *slot = json_string_value(json_object_get(pending, "slot"));
        cairn_error_clear(&e);
        if (slot && drv->slot_drop && drv->slot_drop(uri, slot, &e)) {
            cairn_warn("cannot drop slot %s of unfinished backup %s: %s", slot, *id, e.message);
            json_decref(pending);
            continue; /* keep the record, so a later run tries again */
        }
        if (cairn_repo_remove_backup(repo, *id, &e) == CAIRN_OK)
            cairn_info("removed unfinished backup %s%s%s, left by an interrupted run", *id,
                       slot ? " and its replication slot " : "", slot ? slot : "");
        json_decref(pending);
    }
    cairn_strv_free(ids);
}

/* Records the slot about to be created, so a run killed before it can
 * clean up lets the next one drop it. */
static int record_pending(backup_ctx *c, const char *slot, cairn_error *err)
{
    json_t *doc = json_pack("{s:s, s:I, s:s}", "slot", slot, "pid", (json_int_t)getpid(),
                            "started_at", c->m->started_at);
    int rc = cairn_repo_put_json(c->repo, c->m->id, "pending.json", doc, err);
    json_decref(doc);
    return rc;
}

static int take_snapshot(backup_ctx *c, const char *slot, cairn_error *err)
{
    cairn_snapshot_opts so = {.slot_name = slot, .long_query_guard = c->o->long_query_guard};
    if (c->drv->snapshot_open(c->o->source_uri, &so, c->snap, err) != CAIRN_OK)
        return err->code;
    cairn_manifest *m = c->m;
    m->source = c->snap->source;
    m->snapshot_mode = cairn_xstrdup(c->snap->mode);
    m->slot = c->snap->slot[0] ? cairn_xstrdup(c->snap->slot) : NULL;
    m->start_position = cairn_xstrdup(c->snap->position);
    m->end_position = cairn_xstrdup(c->snap->position);
    m->gtid = c->snap->gtid[0] ? cairn_xstrdup(c->snap->gtid) : NULL;
    char at[32];
    cairn_time_iso_us(at);
    m->end_at = cairn_xstrdup(at);
    c->barrier_start = cairn_now();
    if (strcmp(c->snap->mode, "exported") == 0)
        cairn_manifest_add_warning(m, "no replication slot: this backup cannot start a chain "
                                      "of increments");
    else if (strcmp(c->snap->mode, "nobinlog") == 0)
        cairn_manifest_add_warning(m, "the binary log is off: this backup cannot start a chain "
                                      "of increments");
    return CAIRN_OK;
}

/* The leader joins the snapshot, lists the units and plans their chunks.
 * Objects are numbered across units: the numbers name the files. */
static int list_and_plan(backup_ctx *c, cairn_error *err)
{
    cairn_conn *leader = NULL;
    cairn_manifest *m = c->m;
    if (c->drv->connect(c->o->source_uri, &leader, err) != CAIRN_OK)
        return err->code;
    int rc =
        c->drv->snapshot_join(leader, c->snap, c->snap->identity, sizeof c->snap->identity, err);
    if (rc == CAIRN_OK)
        rc = c->drv->list_units(leader, c->snap, &c->o->tenants, &m->units, &m->nunits, err);
    c->drv->close(leader);
    if (rc != CAIRN_OK)
        return rc;
    m->snapshot_identity = cairn_xstrdup(c->snap->identity);
    cairn_chunk_policy policy = {.chunk_bytes = c->o->chunk_bytes};
    uint32_t number = 0;
    for (size_t u = 0; u < m->nunits; u++)
        for (size_t i = 0; i < m->units[u].nobjects; i++) {
            m->units[u].objects[i].number = ++number;
            cairn_chunk_plan(&m->units[u].objects[i], &policy);
        }
    c->work = cairn_chunk_schedule(m->units, m->nunits, &c->nwork);
    for (size_t i = 0; i < c->nwork; i++)
        c->barrier_left += c->work[i].obj->nontransactional;
    return CAIRN_OK;
}

static int parallel_phase(backup_ctx *c, int jobs, cairn_error *err)
{
    c->jobs = jobs;
    c->identities = cairn_xcalloc((size_t)jobs, sizeof *c->identities);
    schema_job sj = {.c = c};
    pthread_t schema_thread;
    if (pthread_create(&schema_thread, NULL, schema_main, &sj) != 0)
        return cairn_error_set(err, CAIRN_ERR, "cannot start the schema dump thread");
    int rc = cairn_pool_run(jobs, c->nwork, &backup_pool, c, err);
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

int cairn_backup_run(const cairn_backup_opts *o, cairn_manifest **out, cairn_error *err)
{
    double t0 = cairn_now();
    *out = NULL;
    backup_ctx c = {.o = o};
    pthread_mutex_init(&c.lock, NULL);
    cairn_rate_init(&c.rate, o->max_rate ? o->max_rate : 1);
    cairn_snapshot snap;
    memset(&snap, 0, sizeof snap);
    c.snap = &snap;
    c.drv = cairn_driver_for_uri(o->source_uri, err);
    if (!c.drv)
        return err->code;
    if (cairn_repo_open(o->repo_dir, 1, &c.repo, err) != CAIRN_OK)
        return err->code;
    if (cairn_repo_lock(c.repo, "backup", err) != CAIRN_OK) {
        cairn_repo_close(c.repo);
        return err->code;
    }
    int jobs = o->jobs > 0 ? o->jobs : 2;
    cairn_manifest *m = cairn_xcalloc(1, sizeof *m);
    c.m = m;
    char id[32], at[32];
    cairn_repo_new_id(c.repo, "full", id);
    cairn_time_iso(time(NULL), at);
    m->format = CAIRN_MANIFEST_FORMAT;
    m->id = cairn_xstrdup(id);
    m->type = cairn_xstrdup("full");
    m->status = cairn_xstrdup("complete");
    m->tag = cairn_xstrdup(o->tag);
    m->driver = cairn_xstrdup(c.drv->name);
    m->started_at = cairn_xstrdup(at);
    m->jobs = jobs;
    m->compression =
        o->zstd_level != 0 ? cairn_xasprintf("zstd:%d", o->zstd_level) : cairn_xstrdup("none");
    m->max_rate = o->max_rate;

    char slot[64];
    slot_name(id, slot);
    int rc = record_pending(&c, slot, err);
    int have_snapshot = 0;
    if (rc == CAIRN_OK) {
        rc = take_snapshot(&c, slot, err);
        have_snapshot = rc == CAIRN_OK;
    }
    if (rc == CAIRN_OK)
        rc = cairn_repo_check_source(c.repo, c.drv->name, &m->source, err);
    if (rc == CAIRN_OK)
        cairn_backup_clean_unfinished(c.repo, c.drv, o->source_uri, id);
    if (rc == CAIRN_OK)
        rc = list_and_plan(&c, err);
    if (rc == CAIRN_OK) {
        m->phase_snapshot = cairn_now() - t0;
        size_t objects = 0;
        for (size_t u = 0; u < m->nunits; u++)
            objects += m->units[u].nobjects;
        cairn_info("backup %s: snapshot at %s (%s), %zu units, %zu objects in %zu chunks, %d jobs",
                   id, snap.position, snap.mode, m->nunits, objects, c.nwork, jobs);
        double t1 = cairn_now();
        rc = parallel_phase(&c, jobs, err);
        m->phase_parallel = cairn_now() - t1;
    }
    if (have_snapshot)
        c.drv->snapshot_close(&snap);
    if (rc == CAIRN_OK) {
        double t2 = cairn_now();
        rc = cairn_backup_check(c.repo, m, err);
        m->phase_sequential = cairn_now() - t2;
    }
    if (rc == CAIRN_OK) {
        cairn_time_iso(time(NULL), at);
        m->finished_at = cairn_xstrdup(at);
        m->duration = cairn_now() - t0;
        rc = cairn_repo_write_manifest(c.repo, m, err);
    }
    if (rc == CAIRN_OK) {
        cairn_error e2 = {0};
        if (cairn_repo_remove_file(c.repo, id, "pending.json", &e2) != CAIRN_OK)
            cairn_debug("%s", e2.message);
        drop_old_slots(&c);
        *out = m;
    } else {
        cairn_error e2 = {0};
        if (cairn_repo_remove_backup(c.repo, id, &e2) != CAIRN_OK)
            cairn_warn("%s", e2.message);
        if (have_snapshot && snap.slot[0] && c.drv->slot_drop(o->source_uri, snap.slot, &e2))
            cairn_warn("cannot drop replication slot %s made for the failed backup: %s", snap.slot,
                       e2.message);
        cairn_manifest_free(m);
    }
    free(c.work);
    cairn_repo_close(c.repo);
    pthread_mutex_destroy(&c.lock);
    cairn_rate_destroy(&c.rate);
    return rc;
}
