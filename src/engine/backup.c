/* A full backup.
 *
 * DESIGN: the leader takes the snapshot (driver snapshot_open) and holds
 * it.  A leader connection joins it to list the units, their objects and
 * sequences.  The parallel phase (backup_dump.c) dumps the schema and the
 * chunks; a unit that fails there, or could not be read at all, fails
 * alone and the backup is partial.  A driver with a two-step barrier
 * (MariaDB) opens the snapshot with only DDL blocked: the units are listed
 * and the schema dumped while commits go on, and only then is the instant
 * taken (snapshot_freeze) and joined by the workers, so commits wait just
 * while the workers start.  After the pool, the leader releases
 * the snapshot and the sequential phase checks every worker's snapshot
 * and re-reads every file.  Only then is the manifest written: the moment
 * the backup exists.  After a complete backup, replication slots of older
 * chains are dropped so they stop pinning WAL (a partial one keeps them:
 * it starts no chain until it is resumed).  Any failure before the
 * manifest removes the backup's directory and the slot made for it. */
#include "engine/backup.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "engine/backup_dump.h"
#include "util/fault.h"
#include "util/log.h"
#include "util/text.h"
#include "util/uri.h"

typedef struct {
    const cairn_backup_opts *o;
    const cairn_driver *drv;
    cairn_repo *repo;
    cairn_snapshot *snap;
    cairn_manifest *m;
    double barrier_start; /* when the instant was taken (the commit barrier) */
    double ddl_start;     /* two-step barrier: when its first step was; 0: one step */
} backup_ctx;

cairn_manifest *cairn_backup_new_manifest(const cairn_backup_opts *o, const cairn_driver *drv,
                                          cairn_repo *repo, int jobs)
{
    cairn_manifest *m = cairn_xcalloc(1, sizeof *m);
    char id[32], at[32];
    cairn_repo_new_id(repo, "full", id);
    cairn_time_iso(time(NULL), at);
    m->format = CAIRN_MANIFEST_FORMAT;
    m->id = cairn_xstrdup(id);
    m->type = cairn_xstrdup("full");
    m->status = cairn_xstrdup("complete");
    m->tag = cairn_xstrdup(o->tag);
    m->driver = cairn_xstrdup(drv->name);
    m->started_at = cairn_xstrdup(at);
    m->jobs = jobs;
    m->compression =
        o->zstd_level != 0 ? cairn_xasprintf("zstd:%d", o->zstd_level) : cairn_xstrdup("none");
    m->max_rate = o->max_rate;
    if (o->tenants.include) {
        m->tenant_include = cairn_strv_dup(o->tenants.include);
        m->tenant_exclude = cairn_strv_dup(o->tenants.exclude);
    }
    return m;
}

const char *cairn_backup_mode_name(cairn_backup_mode mode)
{
    return mode == CAIRN_MODE_SEQUENTIAL ? "sequential"
           : mode == CAIRN_MODE_PARALLEL ? "parallel"
                                         : "hybrid";
}

/* cairn_<id>_<random>: unique per backup, a valid slot name. */
void cairn_backup_slot_name(const char *id, char out[64])
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

void cairn_backup_drop_old_slots(cairn_repo *repo, const cairn_driver *drv, const char *uri,
                                 const cairn_manifest *keep)
{
    if (!drv->slot_drop)
        return;
    cairn_manifest **list = NULL;
    size_t n = 0, ndropped = 0;
    char **dropped = NULL;
    cairn_error e = {0};
    if (cairn_repo_list(repo, &list, &n, &e) != CAIRN_OK)
        return;
    for (size_t i = 0; i < n; i++) {
        const cairn_manifest *old = list[i];
        if (strcmp(old->id, keep->id) == 0)
            continue;
        /* a slot of the server's one database, or one in each database */
        for (size_t k = 0; k <= old->ndbs; k++) {
            const char *slot = k < old->ndbs ? old->dbs[k].slot : old->slot;
            if (!slot || (keep->slot && strcmp(slot, keep->slot) == 0))
                continue;
            int kept = cairn_strv_contains((const char *const *)dropped, slot);
            for (size_t d = 0; d < keep->ndbs; d++)
                kept |= keep->dbs[d].slot && strcmp(slot, keep->dbs[d].slot) == 0;
            if (kept)
                continue; /* the new chain's, or one an increment shares with its parent */
            dropped = cairn_xrealloc(dropped, (ndropped + 2) * sizeof *dropped);
            dropped[ndropped++] = cairn_xstrdup(slot);
            dropped[ndropped] = NULL;
            char *dburi = k < old->ndbs ? cairn_uri_with_database(uri, old->dbs[k].name) : NULL;
            cairn_error_clear(&e);
            if (drv->slot_drop(dburi ? dburi : uri, slot, &e) != CAIRN_OK)
                cairn_warn("cannot drop replication slot %s of the previous chain: %s", slot,
                           e.message);
            else
                cairn_info("dropped replication slot %s of the previous chain", slot);
            free(dburi);
        }
    }
    cairn_strv_free(dropped);
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
        /* a backup of several databases: a slot in each */
        size_t k;
        json_t *one;
        json_array_foreach(json_object_get(pending, "slots"), k, one)
        {
            const char *db = json_string_value(json_object_get(one, "database"));
            const char *s = json_string_value(json_object_get(one, "slot"));
            if (!db || !s || !drv->slot_drop)
                continue;
            char *dburi = cairn_uri_with_database(uri, db);
            cairn_error_clear(&e);
            if (drv->slot_drop(dburi, s, &e) == CAIRN_OK)
                cairn_info("dropped replication slot %s of unfinished backup %s", s, *id);
            free(dburi);
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

/* The manifest's record of the instant, once it is taken. */
static void record_instant(backup_ctx *c)
{
    cairn_manifest *m = c->m;
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
}

/* A driver with a two-step barrier (snapshot_freeze) takes only its first
 * step here: the schema is frozen but commits go on until the instant. */
static int take_snapshot(backup_ctx *c, const char *slot, cairn_error *err)
{
    cairn_snapshot_opts so = {.slot_name = slot,
                              .long_query_guard = c->o->long_query_guard,
                              .two_step = c->drv->snapshot_freeze != NULL};
    double t = cairn_now();
    if (c->drv->snapshot_open(c->o->source_uri, &so, c->snap, err) != CAIRN_OK)
        return err->code;
    c->m->source = c->snap->source;
    if (c->snap->pending)
        c->ddl_start = t;
    else
        record_instant(c);
    return CAIRN_OK;
}

/* The second step of a two-step barrier, once the units are listed and
 * the schema is dumped: the instant, which the workers then join. */
static int freeze(backup_ctx *c, cairn_error *err)
{
    cairn_manifest *m = c->m;
    if (c->drv->snapshot_freeze(c->snap, m->units, m->nunits, err) != CAIRN_OK)
        return err->code;
    record_instant(c);
    free(m->snapshot_identity);
    m->snapshot_identity = cairn_xstrdup(c->snap->identity);
    return CAIRN_OK;
}

/* The leader joins the snapshot and lists the units; a unit it may not
 * read has failed already, and the schema dump leaves it out. */
static int list_units(backup_ctx *c, cairn_error *err)
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
    for (size_t u = 0; u < m->nunits; u++)
        if (cairn_unit_failed(&m->units[u])) {
            m->units[u].schema_missing = 1;
            cairn_warn("unit %s failed: %s; the other units go on", m->units[u].name,
                       m->units[u].error ? m->units[u].error : "");
        }
    return CAIRN_OK;
}

/* The units dumped, then settled: partial when some failed, an error when
 * all did. */
static int dump(backup_ctx *c, int jobs, cairn_rate *rate, cairn_error *err)
{
    cairn_manifest *m = c->m;
    char path[64];
    snprintf(path, sizeof path, "schema/schema.%s%s", c->drv->schema_suffix,
             c->o->zstd_level != 0 ? ".zst" : "");
    cairn_dump_job j = {.o = c->o,
                        .drv = c->drv,
                        .repo = c->repo,
                        .snap = c->snap,
                        .m = m,
                        .jobs = jobs,
                        .schema_path = path,
                        .schema_units = m->units,
                        .nschema_units = m->nunits,
                        .schema = &m->schema,
                        .barrier_start = c->barrier_start,
                        .rate = c->o->max_rate ? rate : NULL};
    if (c->snap->pending) {
        /* two-step barrier: the schema is read before the instant, while
         * only DDL is blocked; the workers dump the data after it */
        if (cairn_backup_dump_schema(&j, jobs, err) != CAIRN_OK)
            return err->code;
        if (cairn_fault("instant-delay")) /* tests: a long schema phase */
            sleep(3);
        if (freeze(c, err) != CAIRN_OK)
            return err->code;
        j.schema_path = NULL;
        j.barrier_start = c->barrier_start;
        j.ddl_start = c->ddl_start;
    }
    cairn_error first = {0};
    j.first_failure = &first;
    size_t failed = 0;
    if (cairn_backup_dump(&j, &failed, err) != CAIRN_OK)
        return err->code;
    m->has_schema = 1;
    if (failed == 0)
        return CAIRN_OK;
    if (failed == m->nunits) {
        const cairn_unit *u = &m->units[0];
        if (first.code) {
            *err = first; /* the failure itself, with its hint */
            if (m->nunits > 1)
                cairn_error_prefix(err, "every unit failed; %s", u->name);
            return err->code;
        }
        cairn_error_set(err, CAIRN_ERR, "every unit failed; %s: %s", u->name,
                        u->error ? u->error : "");
        return cairn_error_hint(err, "fix the cause and take the backup again");
    }
    free(m->status);
    m->status = cairn_xstrdup("partial");
    cairn_warn("backup is partial: %zu of %zu units failed", failed, m->nunits);
    return CAIRN_OK;
}

int cairn_backup_run(const cairn_backup_opts *o, cairn_manifest **out, cairn_error *err)
{
    double t0 = cairn_now();
    *out = NULL;
    backup_ctx c = {.o = o};
    cairn_rate rate;
    cairn_rate_init(&rate, o->max_rate ? o->max_rate : 1);
    cairn_snapshot snap;
    memset(&snap, 0, sizeof snap);
    c.snap = &snap;
    c.drv = cairn_driver_for_uri(o->source_uri, err);
    if (!c.drv)
        return err->code;
    if (cairn_repo_open_locked(o->repo_dir, 1, "backup", &c.repo, err) != CAIRN_OK)
        return err->code;
    int jobs = o->mode == CAIRN_MODE_SEQUENTIAL ? 1 : o->jobs > 0 ? o->jobs : 2;
    cairn_manifest *m = cairn_backup_new_manifest(o, c.drv, c.repo, jobs);
    c.m = m;
    const char *id = m->id;
    char at[32];
    char slot[64];
    cairn_backup_slot_name(id, slot);
    int rc = record_pending(&c, slot, err);
    cairn_repo_defer_sync(c.repo); /* one sync before the manifest, not one per chunk */
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
        rc = list_units(&c, err);
    if (rc == CAIRN_OK) {
        m->phase_snapshot = cairn_now() - t0;
        double t1 = cairn_now();
        rc = dump(&c, jobs, &rate, err);
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
        /* a partial backup starts no chain yet: the previous one stays */
        if (strcmp(m->status, "complete") == 0)
            cairn_backup_drop_old_slots(c.repo, c.drv, o->source_uri, c.m);
        cairn_repo_seal_finished(c.repo, id);
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
    cairn_repo_close(c.repo);
    cairn_rate_destroy(&rate);
    return rc;
}
