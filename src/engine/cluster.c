/* A backup of several databases of one server (--database, --all-databases).
 *
 * DESIGN (section 1): a snapshot cannot span databases, so each database
 * is dumped under its own, with its own replication slot, one database
 * after the other (the units and chunks inside one are dumped in
 * parallel).  Their positions P1 < P2 < ... differ.  The sequential phase
 * sets the backup's consistent position T to the highest, reads each
 * earlier database's log from its own position up to T through its slot,
 * checks that the schema did not change meanwhile, and stores that log with
 * the backup.  Restore creates each database, loads it, and replays its
 * log, so every database lands exactly at T: the databases agree with one
 * another as they did at that instant, which dumping them one by one cannot
 * give.  The slots then start the chain: each is moved to T once the
 * backup is written, and the increments read every database's log from
 * there to one common end (incr.c).  A partial backup starts no chain: its
 * slots are dropped. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/backup.h"
#include "engine/backup_dump.h"
#include "engine/files.h"
#include "util/log.h"
#include "util/text.h"
#include "util/uri.h"

typedef struct {
    const cairn_backup_opts *o;
    const cairn_driver *drv;
    cairn_repo *repo;
    cairn_manifest *m;
    cairn_rate rate;
    json_t *pending;          /* the slots made so far, for a later run to drop after a crash */
    const char *pending_name; /* the file that records them: pending.json, resume.json */
    uint32_t number;          /* objects numbered so far */
    int resume; /* a resume's tag (its start time): its files get names of their own */
} cluster_ctx;

static int record_slot(cluster_ctx *c, const char *db, const char *slot, cairn_error *err)
{
    json_array_append_new(json_object_get(c->pending, "slots"),
                          json_pack("{s:s, s:s}", "database", db, "slot", slot));
    return cairn_repo_put_json(c->repo, c->m->id, c->pending_name, c->pending, err);
}

/* Takes database db's snapshot and dumps its units, which join the
 * backup's; i numbers its files. */
static int dump_database(cluster_ctx *c, size_t i, const char *db, cairn_error *err)
{
    cairn_manifest *m = c->m;
    cairn_dbpart *part = &m->dbs[m->ndbs++];
    part->name = cairn_xstrdup(db);
    char *uri = cairn_uri_with_database(c->o->source_uri, db);
    char slot[64];
    cairn_backup_slot_name(m->id, slot);
    cairn_snapshot snap;
    memset(&snap, 0, sizeof snap);
    cairn_snapshot_opts so = {.slot_name = slot, .long_query_guard = c->o->long_query_guard};
    int rc = record_slot(c, db, slot, err);
    if (rc == CAIRN_OK)
        rc = c->drv->snapshot_open(uri, &so, &snap, err);
    if (rc != CAIRN_OK) {
        free(uri);
        return cairn_error_prefix(err, "database %s", db);
    }
    part->position = cairn_xstrdup(snap.position);
    part->slot = snap.slot[0] ? cairn_xstrdup(snap.slot) : NULL;
    if (strcmp(snap.mode, "slot") != 0) {
        cairn_error_set(err, CAIRN_ERR,
                        "database %s: no replication slot, so its log cannot bring it to the "
                        "other databases' position",
                        db);
        rc = cairn_error_hint(err, "a backup of several databases needs REPLICATION and "
                                   "wal_level=logical; or back up each database on its own");
    } else if (!m->source.system_id[0]) {
        m->source = snap.source;
        m->source.database[0] = '\0'; /* the server, not one database */
    } else if (strcmp(snap.source.system_id, m->source.system_id) != 0) {
        rc = cairn_error_set(err, CAIRN_ERR, "database %s is on another server", db);
    }
    cairn_manifest *sm = cairn_xcalloc(1, sizeof *sm);
    sm->id = cairn_xstrdup(m->id);
    cairn_conn *leader = NULL;
    if (rc == CAIRN_OK)
        rc = c->drv->connect(uri, &leader, err);
    if (rc == CAIRN_OK)
        rc = c->drv->snapshot_join(leader, &snap, snap.identity, sizeof snap.identity, err);
    if (rc == CAIRN_OK)
        rc = c->drv->list_units(leader, &snap, &c->o->tenants, &sm->units, &sm->nunits, err);
    c->drv->close(leader);
    char path[64];
    if (c->resume)
        snprintf(path, sizeof path, "schema/db-%04zu.r%d.%s%s", i + 1, c->resume,
                 c->drv->schema_suffix, c->o->zstd_level != 0 ? ".zst" : "");
    else
        snprintf(path, sizeof path, "schema/db-%04zu.%s%s", i + 1, c->drv->schema_suffix,
                 c->o->zstd_level != 0 ? ".zst" : "");
    size_t failed = 0;
    if (rc == CAIRN_OK) {
        for (size_t u = 0; u < sm->nunits; u++) {
            sm->units[u].database = cairn_xstrdup(db);
            if (cairn_unit_failed(&sm->units[u]))
                sm->units[u].schema_missing = 1;
        }
        sm->snapshot_identity = cairn_xstrdup(snap.identity);
        cairn_dump_job j = {.o = c->o,
                            .uri = uri,
                            .drv = c->drv,
                            .repo = c->repo,
                            .snap = &snap,
                            .m = sm,
                            .jobs = m->jobs,
                            .first_number = c->number,
                            .schema_path = path,
                            .schema_units = sm->units,
                            .nschema_units = sm->nunits,
                            .schema = &part->schema,
                            .barrier_start = cairn_now(),
                            .rate = c->o->max_rate ? &c->rate : NULL};
        rc = cairn_backup_dump(&j, &failed, err);
    }
    c->drv->snapshot_close(&snap);
    if (rc == CAIRN_OK)
        rc = cairn_backup_check(c->repo, sm, err);
    if (rc == CAIRN_OK) {
        part->has_schema = 1;
        part->snapshot_identity = cairn_xstrdup(snap.identity);
        part->worker_snapshots = sm->worker_snapshots;
        part->nworker_snapshots = sm->nworker_snapshots;
        sm->worker_snapshots = NULL;
        sm->nworker_snapshots = 0;
        size_t added = sm->nunits;
        m->units = cairn_xrealloc(m->units, (m->nunits + sm->nunits) * sizeof *m->units);
        for (size_t u = 0; u < sm->nunits; u++) {
            for (size_t k = 0; k < sm->units[u].nobjects; k++)
                if (sm->units[u].objects[k].number > c->number)
                    c->number = sm->units[u].objects[k].number;
            m->units[m->nunits++] = sm->units[u];
        }
        sm->nunits = 0;
        cairn_info("database %s: %zu units at %s%s", db, added, part->position,
                   failed ? " (some failed)" : "");
    } else {
        cairn_error_prefix(err, "database %s", db);
    }
    cairn_manifest_free(sm);
    free(uri);
    return rc;
}

/* Sequences are not in the log: the values read after the backup's end
 * (never behind a replayed row) replace those read at the database's
 * snapshot. */
static void take_sequences(cairn_manifest *m, const char *db, const cairn_unit *now)
{
    for (size_t u = 0; u < m->nunits; u++) {
        cairn_unit *un = &m->units[u];
        if (!un->database || strcmp(un->database, db) != 0)
            continue;
        for (size_t k = 0; k < un->nsequences; k++)
            for (size_t i = 0; i < now->nsequences; i++)
                if (strcmp(un->sequences[k].schema, now->sequences[i].schema) == 0 &&
                    strcmp(un->sequences[k].name, now->sequences[i].name) == 0) {
                    un->sequences[k].last_value = now->sequences[i].last_value;
                    un->sequences[k].is_called = now->sequences[i].is_called;
                }
    }
}

/* The log of database i from its position to the backup's end. */
static int catch_up(cluster_ctx *c, size_t i, cairn_error *err)
{
    cairn_manifest *m = c->m;
    cairn_dbpart *part = &m->dbs[i];
    char *uri = cairn_uri_with_database(c->o->source_uri, part->name);
    char path[64];
    if (c->resume)
        snprintf(path, sizeof path, "log/db-%04zu.r%d.log%s", i + 1, c->resume,
                 c->o->zstd_level != 0 ? ".zst" : "");
    else
        snprintf(path, sizeof path, "log/db-%04zu.log%s", i + 1,
                 c->o->zstd_level != 0 ? ".zst" : "");
    cairn_log_request req = {.slot = part->slot, .start = part->position, .stop = m->end_position};
    cairn_log_result res;
    int rc = cairn_log_to_file(c->repo, m->id, path, c->o->zstd_level, c->drv, uri, &req,
                               &part->log, &res, err);
    if (rc == CAIRN_OK) {
        part->has_log = 1;
        /* the schema now must be the one the units were dumped with */
        const char *then = NULL, *now = res.nunits ? res.units[0].fingerprint : NULL;
        for (size_t u = 0; u < m->nunits; u++)
            if (m->units[u].database && strcmp(m->units[u].database, part->name) == 0 &&
                strcmp(m->units[u].kind, "database") == 0)
                then = m->units[u].fingerprint;
        if (res.ddl > 0 || (then && now && strcmp(then, now) != 0)) {
            cairn_error_set(err, CAIRN_ERR,
                            "the schema of database %s changed during the backup: its log "
                            "cannot bring it to the others' position",
                            part->name);
            rc = cairn_error_hint(err, "take the backup again");
        }
    }
    if (rc == CAIRN_OK && res.nunits)
        take_sequences(m, part->name, &res.units[0]);
    if (rc == CAIRN_OK)
        cairn_info("database %s: log from %s to %s, %llu transactions, %llu changes", part->name,
                   part->position, m->end_position, (unsigned long long)res.transactions,
                   (unsigned long long)res.changes);
    for (size_t u = 0; u < res.nunits; u++)
        cairn_unit_clear(&res.units[u]);
    free(res.units);
    free(uri);
    return rc == CAIRN_OK ? rc : cairn_error_prefix(err, "database %s", part->name);
}

/* Each slot stands where its database's snapshot was; the chain goes on
 * from the backup's end. */
static void confirm_slots(cluster_ctx *c)
{
    for (size_t i = 0; i < c->m->ndbs; i++) {
        cairn_dbpart *part = &c->m->dbs[i];
        char *uri = cairn_uri_with_database(c->o->source_uri, part->name);
        cairn_error e = {0};
        if (part->slot && strcmp(part->position, c->m->end_position) != 0 &&
            c->drv->log_confirm(uri, part->slot, c->m->end_position, &e) != CAIRN_OK)
            cairn_warn("cannot move replication slot %s to %s: %s (the next increment will)",
                       part->slot, c->m->end_position, e.message);
        free(uri);
    }
}

static void drop_slots(cluster_ctx *c)
{
    for (size_t i = 0; i < c->m->ndbs; i++) {
        cairn_dbpart *part = &c->m->dbs[i];
        if (!part->slot)
            continue;
        char *uri = cairn_uri_with_database(c->o->source_uri, part->name);
        cairn_error e = {0};
        if (c->drv->slot_drop(uri, part->slot, &e) != CAIRN_OK)
            cairn_warn("cannot drop replication slot %s: %s", part->slot, e.message);
        free(uri);
        free(part->slot);
        part->slot = NULL;
    }
}

/* The databases to take: those named, or every one of the server. */
static int databases(cluster_ctx *c, char ***out, cairn_error *err)
{
    if (c->o->databases[0]) {
        *out = cairn_strv_dup(c->o->databases);
        return CAIRN_OK;
    }
    if (c->drv->list_databases(c->o->source_uri, out, err) != CAIRN_OK)
        return err->code;
    if (!(*out)[0])
        return cairn_error_set(err, CAIRN_ERR, "the server has no database to back up");
    return CAIRN_OK;
}

/* The consistent position T: the highest database position.  Every
 * database behind it gets its log from its own position to T. */
static int bring_together(cluster_ctx *c, cairn_error *err)
{
    cairn_manifest *m = c->m;
    const char *end = m->dbs[0].position, *start = m->dbs[0].position;
    for (size_t i = 1; i < m->ndbs; i++) {
        int hi = 0, lo = 0;
        if (c->drv->position_cmp(m->dbs[i].position, end, &hi, err) != CAIRN_OK ||
            c->drv->position_cmp(m->dbs[i].position, start, &lo, err) != CAIRN_OK)
            return err->code;
        if (hi > 0)
            end = m->dbs[i].position;
        if (lo < 0)
            start = m->dbs[i].position;
    }
    char *e = cairn_xstrdup(end), *s = cairn_xstrdup(start);
    free(m->start_position);
    free(m->end_position);
    m->start_position = s;
    m->end_position = e;
    char at[32];
    cairn_time_iso_us(at);
    free(m->end_at);
    m->end_at = cairn_xstrdup(at);
    int rc = CAIRN_OK;
    for (size_t i = 0; rc == CAIRN_OK && i < m->ndbs; i++) {
        m->dbs[i].has_log = 0;
        if (strcmp(m->dbs[i].position, e) != 0)
            rc = catch_up(c, i, err);
    }
    for (size_t i = 0; rc == CAIRN_OK && i < m->ndbs; i++)
        if (m->dbs[i].has_log)
            rc = cairn_file_check(c->repo, m->id, &m->dbs[i].log, 0, err);
    return rc;
}

static int settle_status(cluster_ctx *c, cairn_error *err);

static int run(cluster_ctx *c, char **names, cairn_error *err)
{
    cairn_manifest *m = c->m;
    size_t n = 0;
    while (names[n])
        n++;
    m->dbs = cairn_xcalloc(n, sizeof *m->dbs);
    int rc = CAIRN_OK;
    for (size_t i = 0; rc == CAIRN_OK && i < n; i++)
        rc = dump_database(c, i, names[i], err);
    if (rc == CAIRN_OK)
        rc = bring_together(c, err);
    if (rc != CAIRN_OK)
        return rc;
    return settle_status(c, err);
}

/* Partial when some units failed; an error when all did. */
static int settle_status(cluster_ctx *c, cairn_error *err)
{
    cairn_manifest *m = c->m;
    int rc = CAIRN_OK;
    size_t failed = 0;
    for (size_t u = 0; u < m->nunits; u++)
        failed += cairn_unit_failed(&m->units[u]);
    if (rc == CAIRN_OK && failed == m->nunits)
        rc = cairn_error_set(err, CAIRN_ERR, "every unit of every database failed");
    if (rc == CAIRN_OK && failed) {
        free(m->status);
        m->status = cairn_xstrdup("partial");
        cairn_warn("backup is partial: %zu of %zu units failed", failed, m->nunits);
    }
    return rc;
}

int cairn_backup_cluster(const cairn_backup_opts *o, cairn_manifest **out, cairn_error *err)
{
    double t0 = cairn_now();
    *out = NULL;
    cluster_ctx c = {.o = o};
    c.drv = cairn_driver_for_uri(o->source_uri, err);
    if (!c.drv)
        return err->code;
    if (!c.drv->list_databases || !(c.drv->features & CAIRN_DRIVER_UNIT_FILTER)) {
        cairn_error_set(err, CAIRN_EUSAGE, "--database and --all-databases are for PostgreSQL");
        return cairn_error_hint(err, "a MariaDB backup takes every database of the server when "
                                     "the URI names none");
    }
    if (cairn_repo_open_locked(o->repo_dir, 1, "backup", &c.repo, err) != CAIRN_OK)
        return err->code;
    int jobs = o->mode == CAIRN_MODE_SEQUENTIAL ? 1 : o->jobs > 0 ? o->jobs : 2;
    c.m = cairn_backup_new_manifest(o, c.drv, c.repo, jobs);
    c.m->snapshot_mode = cairn_xstrdup("slot");
    c.pending_name = "pending.json";
    c.pending = json_pack("{s:[], s:s}", "slots", "started_at", c.m->started_at);
    cairn_rate_init(&c.rate, o->max_rate ? o->max_rate : 1);
    char **names = NULL;
    int rc = databases(&c, &names, err);
    if (rc == CAIRN_OK) {
        cairn_backup_clean_unfinished(c.repo, c.drv, o->source_uri, c.m->id);
        cairn_repo_defer_sync(c.repo);
        rc = run(&c, names, err);
    }
    if (rc == CAIRN_OK)
        rc = cairn_repo_check_source(c.repo, c.drv->name, &c.m->source, err);
    if (rc == CAIRN_OK) {
        char at[32];
        cairn_time_iso(time(NULL), at);
        c.m->finished_at = cairn_xstrdup(at);
        c.m->duration = cairn_now() - t0;
        c.m->phase_parallel = c.m->duration;
        cairn_manifest_sum(c.m); /* a partial backup keeps its slots, for --resume */
        rc = cairn_repo_write_manifest(c.repo, c.m, err);
    }
    cairn_error e = {0};
    if (rc == CAIRN_OK) {
        cairn_repo_remove_file(c.repo, c.m->id, "pending.json", &e);
        if (strcmp(c.m->status, "complete") == 0) {
            confirm_slots(&c);
            cairn_backup_drop_old_slots(c.repo, c.drv, o->source_uri, c.m);
        }
        cairn_repo_seal_finished(c.repo, c.m->id);
        *out = c.m;
    } else {
        drop_slots(&c);
        if (cairn_repo_remove_backup(c.repo, c.m->id, &e) != CAIRN_OK)
            cairn_warn("%s", e.message);
        cairn_manifest_free(c.m);
    }
    cairn_strv_free(names);
    json_decref(c.pending);
    cairn_rate_destroy(&c.rate);
    cairn_repo_close(c.repo);
    return rc;
}

/* ---- resuming a partial backup of several databases ---- */

static void file_forget(cairn_file *f, char ***gone)
{
    if (!f->path)
        return;
    size_t n = 0;
    while (*gone && (*gone)[n])
        n++;
    *gone = cairn_xrealloc(*gone, (n + 2) * sizeof **gone);
    (*gone)[n] = f->path; /* the path moves to the list */
    (*gone)[n + 1] = NULL;
    f->path = NULL;
    free(f->compression);
    f->compression = NULL;
}

/* Database i is dumped again (it holds a failed unit): its units, schema
 * and slot are replaced by the new dump's; the old files go to *gone and
 * the old slot to *old_slots. */
static int redo_database(cluster_ctx *c, cairn_manifest *m, size_t i, char ***gone,
                         char ***old_slots, cairn_error *err)
{
    cairn_dbpart *part = &m->dbs[i];
    cairn_manifest *nm = cairn_xcalloc(1, sizeof *nm);
    nm->id = cairn_xstrdup(m->id);
    nm->jobs = m->jobs;
    nm->source = m->source;
    nm->dbs = cairn_xcalloc(1, sizeof *nm->dbs);
    c->m = nm;
    /* new file names (the resume's tag): the old ones stay valid until the
     * manifest moves on */
    int rc = dump_database(c, i, part->name, err);
    c->m = m;
    if (rc == CAIRN_OK) {
        size_t kept = 0;
        for (size_t u = 0; u < m->nunits; u++) {
            cairn_unit *un = &m->units[u];
            if (un->database && strcmp(un->database, part->name) == 0) {
                for (size_t k = 0; k < un->nobjects; k++)
                    for (size_t x = 0; x < un->objects[k].nchunks; x++)
                        file_forget(&un->objects[k].chunks[x].file, gone);
                cairn_unit_clear(un);
            } else {
                m->units[kept++] = *un;
            }
        }
        m->nunits = kept;
        m->units = cairn_xrealloc(m->units, (m->nunits + nm->nunits + 1) * sizeof *m->units);
        for (size_t u = 0; u < nm->nunits; u++)
            m->units[m->nunits++] = nm->units[u];
        nm->nunits = 0;
        file_forget(&part->schema, gone);
        if (part->has_log)
            file_forget(&part->log, gone);
        if (part->slot) {
            size_t n = 0;
            while (*old_slots && (*old_slots)[n])
                n++;
            *old_slots = cairn_xrealloc(*old_slots, (n + 3) * sizeof **old_slots);
            (*old_slots)[n] = cairn_xstrdup(part->name);
            (*old_slots)[n + 1] = cairn_xstrdup(part->slot);
            (*old_slots)[n + 2] = NULL;
        }
        cairn_dbpart_clear(part);
        *part = nm->dbs[0];
        memset(&nm->dbs[0], 0, sizeof nm->dbs[0]);
    }
    cairn_manifest_free(nm);
    return rc;
}

int cairn_backup_cluster_resume(const cairn_backup_opts *o, cairn_repo *repo, cairn_manifest *m,
                                cairn_error *err)
{
    cluster_ctx c = {.o = o, .repo = repo, .m = m, .pending_name = "resume.json"};
    c.drv = cairn_driver_for_uri(o->source_uri, err);
    if (!c.drv)
        return err->code;
    double t0 = cairn_now();
    c.resume = (int)(time(NULL) & 0x3fffffff);
    for (size_t u = 0; u < m->nunits; u++)
        for (size_t k = 0; k < m->units[u].nobjects; k++)
            if (m->units[u].objects[k].number > c.number)
                c.number = m->units[u].objects[k].number;
    c.pending = json_pack("{s:[]}", "slots");
    cairn_rate_init(&c.rate, o->max_rate ? o->max_rate : 1);
    char **gone = NULL, **old_slots = NULL;
    int rc = CAIRN_OK;
    size_t redone = 0;
    for (size_t i = 0; rc == CAIRN_OK && i < m->ndbs; i++) {
        int failed = 0;
        for (size_t u = 0; u < m->nunits; u++)
            failed |= m->units[u].database && strcmp(m->units[u].database, m->dbs[i].name) == 0 &&
                      cairn_unit_failed(&m->units[u]);
        if (!failed)
            continue;
        cairn_info("resuming backup %s: database %s is dumped again", m->id, m->dbs[i].name);
        rc = redo_database(&c, m, i, &gone, &old_slots, err);
        redone++;
    }
    for (size_t i = 0; rc == CAIRN_OK && i < m->ndbs; i++)
        if (m->dbs[i].has_log)
            file_forget(&m->dbs[i].log, &gone); /* every log is read again, to the new end */
    if (rc == CAIRN_OK)
        rc = bring_together(&c, err);
    if (rc == CAIRN_OK) {
        free(m->status);
        m->status = cairn_xstrdup("complete");
        rc = settle_status(&c, err);
    }
    if (rc == CAIRN_OK) {
        m->duration += cairn_now() - t0;
        cairn_manifest_sum(m);
        rc = cairn_repo_write_manifest(repo, m, err);
    }
    cairn_error e = {0};
    if (rc == CAIRN_OK) {
        /* the manifest names the new files and slots: the old ones go */
        for (size_t i = 0; gone && gone[i]; i++)
            cairn_repo_remove_file(repo, m->id, gone[i], &e);
        for (size_t i = 0; old_slots && old_slots[i]; i += 2) {
            char *uri = cairn_uri_with_database(o->source_uri, old_slots[i]);
            if (c.drv->slot_drop(uri, old_slots[i + 1], &e) != CAIRN_OK)
                cairn_warn("cannot drop replication slot %s: %s", old_slots[i + 1], e.message);
            free(uri);
        }
        if (strcmp(m->status, "complete") == 0) {
            confirm_slots(&c);
            cairn_backup_drop_old_slots(repo, c.drv, o->source_uri, m);
        }
        cairn_repo_remove_file(repo, m->id, "resume.json", &e);
        cairn_info("backup %s: %zu database%s dumped again, every database brought to %s", m->id,
                   redone, redone == 1 ? "" : "s", m->end_position);
    }
    cairn_strv_free(gone);
    cairn_strv_free(old_slots);
    json_decref(c.pending);
    cairn_rate_destroy(&c.rate);
    return rc;
}
