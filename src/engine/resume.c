/* backup --resume: completing a partial full backup.
 *
 * DESIGN (section 1): the units that failed are dumped again under a new
 * snapshot, at position P2 (PostgreSQL: with their own new replication
 * slot).  The units dumped before stand at the backup's previous end P1;
 * the log from P1 to P2 is read -- from the backup's own slot, which
 * nothing else reads (a partial backup starts no chain), or from the
 * MariaDB binlog -- and stored with the backup.  Restore loads every unit
 * and replays that log for the units dumped at P1 only, so every unit
 * lands at P2: the backup's new consistent position.  A slot becomes the
 * backup's new one; the old one is dropped once the manifest is written.
 * The schema must not have changed between P1 and P2 (the fingerprint and
 * the log say so), or the units would not fit together.
 *
 * Idempotent: a complete backup has nothing to resume; a resume that was
 * killed leaves files the manifest does not name (overwritten by the next
 * resume) and a slot recorded in resume.json (dropped by the next one). */
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
    cairn_manifest *m;  /* the partial backup, completed in place */
    cairn_manifest *rm; /* the resumed units, dumped under snap */
    cairn_snapshot snap;
    int have_snapshot;
    cairn_unit *now; /* every unit as listed at P2 */
    size_t nnow;
    cairn_resume r; /* what this resume adds */
    char slot[64];
} resume_ctx;

static cairn_unit *find_unit(cairn_unit *units, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (units[i].name && strcmp(units[i].name, name) == 0)
            return &units[i];
    return NULL;
}

/* PostgreSQL keeps the log for a backup in a replication slot; the MariaDB
 * binlog is kept by the server for everyone. */
static int has_slots(const cairn_driver *drv)
{
    return drv->slot_drop != NULL;
}

static int check_resumable(const resume_ctx *c, cairn_error *err)
{
    const cairn_manifest *m = c->m;
    if (strcmp(m->type, "full") != 0) {
        cairn_error_set(err, CAIRN_EUSAGE,
                        "%s is an increment; only a partial full backup can be "
                        "resumed",
                        m->id);
        return err->code;
    }
    if (!(c->drv->features & CAIRN_DRIVER_UNIT_FILTER) || strcmp(c->drv->name, m->driver) != 0) {
        cairn_error_set(err, CAIRN_ERR, "resuming a %s backup is not available yet", m->driver);
        return cairn_error_hint(err, "take a new full backup once the cause is fixed");
    }
    for (size_t i = 0; i < m->ndbs; i++)
        if (!m->dbs[i].slot) {
            cairn_error_set(err, CAIRN_ENOCHAIN,
                            "backup %s has no replication slot in database %s: its databases "
                            "cannot be brought to a new common position",
                            m->id, m->dbs[i].name);
            return cairn_error_hint(err, "take a new full backup once the cause is fixed");
        }
    if (m->ndbs)
        return CAIRN_OK;
    if ((has_slots(c->drv) && !m->slot) || !m->end_position || !*m->end_position) {
        cairn_error_set(err, CAIRN_ENOCHAIN,
                        "backup %s has no %s: the units dumped before cannot be brought to a new "
                        "snapshot",
                        m->id, has_slots(c->drv) ? "replication slot" : "binlog position");
        return cairn_error_hint(err, "take a new full backup once the cause is fixed");
    }
    return CAIRN_OK;
}

/* A resume killed earlier left its slot (a backup of several databases:
 * one per database dumped again): drop them. */
static void clean_killed(resume_ctx *c)
{
    json_t *pending = NULL;
    cairn_repo_get_json(c->repo, c->m->id, "resume.json", &pending);
    const char *slot = json_string_value(json_object_get(pending, "slot"));
    cairn_error e = {0};
    if (slot && has_slots(c->drv) && c->drv->slot_drop(c->o->source_uri, slot, &e) == CAIRN_OK)
        cairn_info("dropped replication slot %s of an interrupted resume", slot);
    size_t i;
    json_t *one;
    json_array_foreach(json_object_get(pending, "slots"), i, one)
    {
        const char *db = json_string_value(json_object_get(one, "database"));
        const char *s = json_string_value(json_object_get(one, "slot"));
        if (!db || !s || !has_slots(c->drv))
            continue;
        char *uri = cairn_uri_with_database(c->o->source_uri, db);
        cairn_error_clear(&e);
        if (c->drv->slot_drop(uri, s, &e) == CAIRN_OK)
            cairn_info("dropped replication slot %s of an interrupted resume", s);
        free(uri);
    }
    json_decref(pending);
}

/* New snapshot; the units listed under it; the source and its schema must
 * be the ones the backup was taken of. */
static int take_snapshot(resume_ctx *c, cairn_error *err)
{
    int rc = CAIRN_OK;
    if (has_slots(c->drv)) {
        cairn_backup_slot_name(c->m->id, c->slot);
        json_t *doc = json_pack("{s:s}", "slot", c->slot);
        rc = cairn_repo_put_json(c->repo, c->m->id, "resume.json", doc, err);
        json_decref(doc);
        if (rc != CAIRN_OK)
            return rc;
    }
    cairn_repo_defer_sync(c->repo); /* one sync before the manifest */
    cairn_snapshot_opts so = {.slot_name = c->slot[0] ? c->slot : NULL,
                              .long_query_guard = c->o->long_query_guard};
    if (c->drv->snapshot_open(c->o->source_uri, &so, &c->snap, err) != CAIRN_OK)
        return err->code;
    c->have_snapshot = 1;
    if (strcmp(c->snap.source.system_id, c->m->source.system_id) != 0 ||
        strcmp(c->snap.source.database, c->m->source.database) != 0) {
        cairn_error_set(err, CAIRN_EUSAGE, "the source is not the one backup %s was taken of",
                        c->m->id);
        return cairn_error_hint(err, "give the --source the backup was taken with");
    }
    cairn_conn *leader = NULL;
    cairn_tenant_filter f = {(const char *const *)c->m->tenant_include,
                             (const char *const *)c->m->tenant_exclude};
    rc = c->drv->connect(c->o->source_uri, &leader, err);
    if (rc == CAIRN_OK)
        rc =
            c->drv->snapshot_join(leader, &c->snap, c->snap.identity, sizeof c->snap.identity, err);
    if (rc == CAIRN_OK)
        rc = c->drv->list_units(leader, &c->snap, &f, &c->now, &c->nnow, err);
    c->drv->close(leader);
    if (rc != CAIRN_OK)
        return rc;
    for (size_t i = 0; i < c->m->nunits; i++) {
        const cairn_unit *then = &c->m->units[i];
        const cairn_unit *now = find_unit(c->now, c->nnow, then->name);
        if (now && then->fingerprint && now->fingerprint &&
            strcmp(then->fingerprint, now->fingerprint) != 0) {
            cairn_error_set(err, CAIRN_ENOCHAIN,
                            "the schema of %s changed since backup %s was taken: its units "
                            "cannot be brought together",
                            then->name, c->m->id);
            return cairn_error_hint(err, "take a new full backup");
        }
    }
    return CAIRN_OK;
}

/* The failed units, as listed now, move into rm. */
static void pick_units(resume_ctx *c)
{
    cairn_manifest *m = c->m, *rm = c->rm;
    rm->units = cairn_xcalloc(m->nunits, sizeof *rm->units);
    for (size_t i = 0; i < m->nunits; i++) {
        if (!cairn_unit_failed(&m->units[i]))
            continue;
        cairn_unit *now = find_unit(c->now, c->nnow, m->units[i].name);
        if (!now) {
            cairn_warn("unit %s no longer exists on the source: it stays failed", m->units[i].name);
            continue;
        }
        rm->units[rm->nunits++] = *now;
        memset(now, 0, sizeof *now);
    }
}

static uint32_t last_number(const cairn_manifest *m)
{
    uint32_t n = 0;
    for (size_t u = 0; u < m->nunits; u++)
        for (size_t i = 0; i < m->units[u].nobjects; i++)
            if (m->units[u].objects[i].number > n)
                n = m->units[u].objects[i].number;
    return n;
}

/* Dumps rm's units, and the schema of those the first archive lacks. */
static int dump_units(resume_ctx *c, cairn_rate *rate, size_t *failed, cairn_error *err)
{
    cairn_manifest *m = c->m, *rm = c->rm;
    size_t nres = m->nresumes + 1;
    cairn_unit *schema_units = cairn_xcalloc(rm->nunits + 1, sizeof *schema_units);
    size_t nschema = 0;
    for (size_t i = 0; i < rm->nunits; i++) {
        const cairn_unit *then = find_unit(m->units, m->nunits, rm->units[i].name);
        if (then && then->schema_missing && !cairn_unit_failed(&rm->units[i]))
            schema_units[nschema++] = rm->units[i]; /* shallow: only read */
    }
    char path[64];
    snprintf(path, sizeof path, "schema/resume-%zu.%s%s", nres, c->drv->schema_suffix,
             c->o->zstd_level != 0 ? ".zst" : "");
    cairn_dump_job j = {.o = c->o,
                        .drv = c->drv,
                        .repo = c->repo,
                        .snap = &c->snap,
                        .m = rm,
                        .jobs = c->o->mode == CAIRN_MODE_SEQUENTIAL ? 1
                                : c->o->jobs > 0                    ? c->o->jobs
                                                                    : 2,
                        .first_number = last_number(m),
                        .schema_path = nschema ? path : NULL,
                        .schema_units = schema_units,
                        .nschema_units = nschema,
                        .schema = &rm->schema,
                        .barrier_start = cairn_now(),
                        .rate = c->o->max_rate ? rate : NULL};
    int rc = cairn_backup_dump(&j, failed, err);
    if (rc == CAIRN_OK && nschema) {
        rm->has_schema = 1;
        c->r.schema_units = cairn_xcalloc(nschema + 1, sizeof *c->r.schema_units);
        for (size_t i = 0; i < nschema; i++)
            if (!cairn_unit_failed(find_unit(rm->units, rm->nunits, schema_units[i].name)))
                c->r.schema_units[c->r.nschema_units++] = cairn_xstrdup(schema_units[i].name);
    }
    free(schema_units);
    return rc;
}

/* The log from the backup's end to the new snapshot, from the backup's
 * slot. */
static int capture_log(resume_ctx *c, cairn_error *err)
{
    char path[64];
    snprintf(path, sizeof path, "log/resume-%zu.log%s", c->m->nresumes + 1,
             c->o->zstd_level != 0 ? ".zst" : "");
    cairn_log_request req = {.slot = c->m->slot,
                             .start = c->m->end_position,
                             .start_gtid = c->m->gtid,
                             .stop = c->snap.position};
    cairn_log_result res;
    int rc = cairn_log_to_file(c->repo, c->m->id, path, c->o->zstd_level, c->drv, c->o->source_uri,
                               &req, &c->r.log, &res, err);
    if (rc == CAIRN_OK && res.ddl > 0) {
        cairn_error_set(err, CAIRN_ENOCHAIN,
                        "the schema changed between backup %s and now (%llu changes in the log): "
                        "its units cannot be brought together",
                        c->m->id, (unsigned long long)res.ddl);
        rc = cairn_error_hint(err, "take a new full backup");
    }
    if (rc == CAIRN_OK)
        cairn_info("log from %s to %s: %llu transactions, %llu changes, for the units dumped "
                   "before",
                   c->m->end_position, c->snap.position, (unsigned long long)res.transactions,
                   (unsigned long long)res.changes);
    for (size_t i = 0; i < res.nunits; i++)
        cairn_unit_clear(&res.units[i]);
    free(res.units);
    return rc;
}

/* rm's units replace the failed ones; every unit takes its sequence
 * values as of P2 (the log carries none); the resume is recorded. */
static void merge(resume_ctx *c)
{
    cairn_manifest *m = c->m, *rm = c->rm;
    c->r.units = cairn_xcalloc(rm->nunits + 1, sizeof *c->r.units);
    for (size_t i = 0; i < rm->nunits; i++) {
        cairn_unit *then = find_unit(m->units, m->nunits, rm->units[i].name);
        if (cairn_unit_failed(&rm->units[i])) {
            free(then->error);
            then->error = cairn_xstrdup(rm->units[i].error ? rm->units[i].error : "");
            continue;
        }
        int missing = then->schema_missing;
        cairn_unit_clear(then);
        *then = rm->units[i];
        then->schema_missing = missing;
        memset(&rm->units[i], 0, sizeof rm->units[i]);
        c->r.units[c->r.nunits++] = cairn_xstrdup(then->name);
    }
    for (size_t i = 0; i < m->nunits; i++) {
        cairn_unit *now = find_unit(c->now, c->nnow, m->units[i].name);
        if (cairn_unit_failed(&m->units[i]) || !now || !now->name)
            continue;
        for (size_t k = 0; k < m->units[i].nsequences; k++) {
            free(m->units[i].sequences[k].schema);
            free(m->units[i].sequences[k].name);
        }
        free(m->units[i].sequences);
        m->units[i].sequences = now->sequences;
        m->units[i].nsequences = now->nsequences;
        now->sequences = NULL;
        now->nsequences = 0;
    }
    char at[32];
    cairn_time_iso(time(NULL), at);
    c->r.position = cairn_xstrdup(c->snap.position);
    c->r.gtid = c->snap.gtid[0] ? cairn_xstrdup(c->snap.gtid) : NULL;
    c->r.finished_at = cairn_xstrdup(at);
    if (rm->has_schema) {
        c->r.schema = rm->schema;
        c->r.has_schema = 1;
        memset(&rm->schema, 0, sizeof rm->schema);
    }
    m->resumes = cairn_xrealloc(m->resumes, (m->nresumes + 1) * sizeof *m->resumes);
    m->resumes[m->nresumes++] = c->r;
    memset(&c->r, 0, sizeof c->r);
    free(m->end_position);
    m->end_position = cairn_xstrdup(c->snap.position);
    free(m->gtid);
    m->gtid = c->snap.gtid[0] ? cairn_xstrdup(c->snap.gtid) : NULL;
    cairn_time_iso_us(at);
    free(m->end_at);
    m->end_at = cairn_xstrdup(at);
    if (c->slot[0]) {
        free(m->slot);
        m->slot = cairn_xstrdup(c->slot);
    }
    size_t failed = 0;
    for (size_t i = 0; i < m->nunits; i++)
        failed += cairn_unit_failed(&m->units[i]);
    free(m->status);
    m->status = cairn_xstrdup(failed ? "partial" : "complete");
    cairn_manifest_sum(m);
}

/* Files this resume wrote, when it fails before the manifest. */
static void remove_new_files(resume_ctx *c)
{
    cairn_error e = {0};
    for (size_t u = 0; u < c->rm->nunits; u++)
        for (size_t i = 0; i < c->rm->units[u].nobjects; i++)
            for (size_t k = 0; k < c->rm->units[u].objects[i].nchunks; k++) {
                const char *path = c->rm->units[u].objects[i].chunks[k].file.path;
                if (path)
                    cairn_repo_remove_file(c->repo, c->m->id, path, &e);
            }
    if (c->rm->schema.path)
        cairn_repo_remove_file(c->repo, c->m->id, c->rm->schema.path, &e);
    if (c->r.log.path)
        cairn_repo_remove_file(c->repo, c->m->id, c->r.log.path, &e);
}

static int run(resume_ctx *c, cairn_rate *rate, cairn_error *err)
{
    int rc = take_snapshot(c, err);
    if (rc != CAIRN_OK)
        return rc;
    pick_units(c);
    if (c->rm->nunits == 0) {
        cairn_error_set(err, CAIRN_EPARTIAL, "none of the failed units of %s exists any more",
                        c->m->id);
        return cairn_error_hint(err, "take a new full backup");
    }
    c->rm->snapshot_identity = cairn_xstrdup(c->snap.identity);
    cairn_info("resuming backup %s: %zu units at %s, the others from %s through the log", c->m->id,
               c->rm->nunits, c->snap.position, c->m->end_position);
    size_t failed = 0;
    rc = dump_units(c, rate, &failed, err);
    c->drv->snapshot_close(&c->snap);
    c->have_snapshot = 0;
    if (rc == CAIRN_OK && failed == c->rm->nunits) {
        cairn_error_set(err, CAIRN_EPARTIAL, "every unit failed again; %s: %s",
                        c->rm->units[0].name, c->rm->units[0].error);
        return cairn_error_hint(err, "fix the cause, then resume again");
    }
    if (rc == CAIRN_OK)
        rc = capture_log(c, err);
    if (rc == CAIRN_OK)
        rc = cairn_backup_check(c->repo, c->rm, err);
    if (rc == CAIRN_OK)
        rc = cairn_file_check(c->repo, c->m->id, &c->r.log, 0, err);
    return rc;
}

int cairn_backup_resume(const cairn_backup_opts *o, const char *id, cairn_manifest **out,
                        cairn_error *err)
{
    *out = NULL;
    resume_ctx c = {.o = o};
    c.drv = cairn_driver_for_uri(o->source_uri, err);
    if (!c.drv)
        return err->code;
    if (cairn_repo_open_locked(o->repo_dir, 0, "backup --resume", &c.repo, err) != CAIRN_OK)
        return err->code;
    int rc = cairn_repo_load(c.repo, id, &c.m, err);
    if (rc == CAIRN_OK && strcmp(c.m->status, "complete") == 0) {
        cairn_info("backup %s is complete: nothing to resume", id);
        *out = c.m;
        cairn_repo_close(c.repo);
        return CAIRN_OK;
    }
    if (rc == CAIRN_OK)
        rc = check_resumable(&c, err);
    if (rc == CAIRN_OK) /* a finished backup is read-only; this run completes it */
        rc = cairn_repo_seal(c.repo, id, 0, err);
    if (rc != CAIRN_OK) {
        cairn_manifest_free(c.m);
        cairn_repo_close(c.repo);
        return rc;
    }
    clean_killed(&c);
    if (c.m->ndbs) { /* several databases: cluster.c dumps them again */
        rc = cairn_backup_cluster_resume(o, c.repo, c.m, err);
        cairn_repo_seal_finished(c.repo, id); /* completed, or as it was */
        if (rc == CAIRN_OK)
            *out = c.m;
        else
            cairn_manifest_free(c.m);
        cairn_repo_close(c.repo);
        return rc;
    }
    c.rm = cairn_xcalloc(1, sizeof *c.rm);
    c.rm->id = cairn_xstrdup(c.m->id);
    cairn_rate rate;
    cairn_rate_init(&rate, o->max_rate ? o->max_rate : 1);
    double t0 = cairn_now();
    rc = run(&c, &rate, err);
    if (c.have_snapshot)
        c.drv->snapshot_close(&c.snap);
    char *old_slot = c.m->slot ? cairn_xstrdup(c.m->slot) : NULL;
    if (rc == CAIRN_OK) {
        merge(&c);
        c.m->duration += cairn_now() - t0;
        rc = cairn_repo_write_manifest(c.repo, c.m, err);
    }
    cairn_error e = {0};
    if (rc == CAIRN_OK) {
        if (old_slot && c.slot[0] && c.drv->slot_drop(o->source_uri, old_slot, &e) != CAIRN_OK)
            cairn_warn("cannot drop replication slot %s the backup no longer needs: %s", old_slot,
                       e.message);
        cairn_repo_remove_file(c.repo, c.m->id, "resume.json", &e);
        *out = c.m;
    } else {
        remove_new_files(&c);
        if (c.slot[0] && c.drv->slot_drop(o->source_uri, c.slot, &e) == CAIRN_OK)
            cairn_repo_remove_file(c.repo, c.m->id, "resume.json", &e);
        cairn_manifest_free(c.m);
    }
    cairn_repo_seal_finished(c.repo, id); /* completed, or as it was */
    free(old_slot);
    for (size_t i = 0; i < c.nnow; i++)
        cairn_unit_clear(&c.now[i]);
    free(c.now);
    cairn_resume_clear(&c.r);
    cairn_manifest_free(c.rm);
    cairn_rate_destroy(&rate);
    cairn_repo_close(c.repo);
    return rc;
}
