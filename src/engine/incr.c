/* An increment: every change committed since the newest backup.
 *
 * DESIGN (section 5): the parent is the newest complete backup of the
 * repository; the increment starts exactly at its end.  The driver reads
 * the log from there to the server's current end into one stored file
 * (length-prefixed records through the usual stream stack: zstd, SHA-256,
 * atomic file).  The sequential phase re-reads the file and checks that the
 * schema did not change behind the log's back (a fingerprint per backup;
 * a change is fine only when cairn's DDL capture put it in the log).  Then
 * the manifest is written -- the increment exists -- and only then is the
 * server told it may let go of that log (log_confirm).  A crash before the
 * manifest leaves nothing and consumes nothing; a crash after it leaves the
 * server behind the stored end, which the next capture notices and fixes.
 *
 * A chain of several databases (its full backup took --database or
 * --all-databases) has a slot in each: the first database's log is read to
 * the server's current end E, every other one's to that same E, each into a
 * file of its own, so the increment brings every database to one common
 * position as its full backup did. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine/backup.h"
#include "engine/files.h"
#include "util/fault.h"
#include "util/log.h"
#include "util/text.h"
#include "util/uri.h"

/* The newest complete backup, or NULL. */
static cairn_manifest *newest(cairn_manifest **list, size_t n)
{
    for (size_t i = n; i-- > 0;)
        if (strcmp(list[i]->status, "complete") == 0)
            return list[i];
    return NULL;
}

static int check_parent(const cairn_manifest *p, const cairn_driver *drv, cairn_error *err)
{
    for (size_t i = 0; i < p->ndbs; i++)
        if (!p->dbs[i].slot) {
            cairn_error_set(err, CAIRN_ENOCHAIN,
                            "backup %s has no replication slot in database %s: it starts no "
                            "chain of increments",
                            p->id, p->dbs[i].name);
            return cairn_error_hint(err, "take a new full backup of the databases");
        }
    if (strcmp(p->driver, drv->name) != 0)
        return cairn_error_set(err, CAIRN_EUSAGE,
                               "the repository holds %s backups, the source "
                               "is %s",
                               p->driver, drv->name);
    if (!p->end_position || !*p->end_position || strcmp(p->snapshot_mode, "exported") == 0 ||
        strcmp(p->snapshot_mode, "nobinlog") == 0 ||
        ((drv->features & CAIRN_DRIVER_SNAPSHOT_SLOT) && !p->slot && !p->ndbs)) {
        cairn_error_set(err, CAIRN_ENOCHAIN,
                        "backup %s cannot start a chain of increments (snapshot mode %s)", p->id,
                        p->snapshot_mode);
        return cairn_error_hint(err, "take a full backup with a replication slot (PostgreSQL: "
                                     "REPLICATION privilege and wal_level=logical; MariaDB: "
                                     "log_bin and binlog_format=ROW)");
    }
    return CAIRN_OK;
}

/* --database / --all-databases on an increment: the chain's databases. */
static int check_databases(const cairn_backup_opts *o, const cairn_manifest *p, cairn_error *err)
{
    if (!o->databases)
        return CAIRN_OK;
    if (!p->ndbs) {
        cairn_error_set(err, CAIRN_EUSAGE,
                        "backup %s, the chain's newest, is of one database: its increments take "
                        "no --database or --all-databases",
                        p->id);
        return err->code;
    }
    size_t n = 0;
    for (; o->databases[n]; n++) {
        int found = 0;
        for (size_t i = 0; i < p->ndbs; i++)
            found |= strcmp(p->dbs[i].name, o->databases[n]) == 0;
        if (!found)
            break;
    }
    if (o->databases[0] && (o->databases[n] || n != p->ndbs)) {
        cairn_error_set(err, CAIRN_EUSAGE, "the chain of backup %s covers other databases", p->id);
        return cairn_error_hint(err, "an increment covers the databases of its full backup: "
                                     "leave out --database, or take a new full backup");
    }
    return CAIRN_OK;
}

/* The unit of database db (NULL: the backup's one database) in m. */
static const cairn_unit *database_unit(const cairn_manifest *m, const char *db, const char *name)
{
    for (size_t k = 0; k < m->nunits; k++) {
        const cairn_unit *u = &m->units[k];
        if (db ? (u->database && strcmp(u->database, db) == 0 && u->kind &&
                  strcmp(u->kind, "database") == 0)
               : strcmp(u->name, name) == 0)
            return u;
    }
    return NULL;
}

/* A schema change the log does not carry cannot be replayed. */
static int check_fingerprints(const cairn_manifest *parent, const char *db,
                              const cairn_log_result *res, cairn_error *err)
{
    for (size_t i = 0; i < res->nunits; i++) {
        const cairn_unit *now = &res->units[i];
        const cairn_unit *then = database_unit(parent, db, now->name);
        if (!then || !then->fingerprint || !now->fingerprint)
            continue;
        if (strcmp(then->fingerprint, now->fingerprint) != 0 && res->ddl == 0) {
            cairn_error_set(err, CAIRN_ENOCHAIN,
                            "the schema of %s changed since backup %s, and the log does not "
                            "hold the change",
                            now->name, parent->id);
            return cairn_error_hint(err, "take a new full backup; to keep increments across "
                                         "schema changes, install cairn's DDL capture "
                                         "(scripts/pg-ddl-capture.sql) before it");
        }
    }
    return CAIRN_OK;
}

static void take_result(cairn_manifest *m, cairn_log_result *res)
{
    m->end_position = cairn_xstrdup(res->end);
    m->gtid = res->gtid[0] ? cairn_xstrdup(res->gtid) : NULL;
    m->end_at = cairn_xstrdup(res->end_at);
    m->first_commit_at = res->first_commit_at[0] ? cairn_xstrdup(res->first_commit_at) : NULL;
    m->last_commit_at = res->last_commit_at[0] ? cairn_xstrdup(res->last_commit_at) : NULL;
    m->transactions = res->transactions;
    m->changes = res->changes;
    m->units = res->units;
    m->nunits = res->nunits;
    res->units = NULL;
    res->nunits = 0;
}

static void free_result(cairn_log_result *res)
{
    for (size_t i = 0; i < res->nunits; i++)
        cairn_unit_clear(&res->units[i]);
    free(res->units);
    res->units = NULL;
}

/* Reads the log into the increment's file and fills the manifest. */
static int capture(const cairn_backup_opts *o, const cairn_driver *drv, cairn_repo *repo,
                   const cairn_manifest *parent, cairn_manifest *m, cairn_error *err)
{
    char path[64];
    snprintf(path, sizeof path, "log/000001.log%s", o->zstd_level != 0 ? ".zst" : "");
    cairn_log_request req = {
        .slot = parent->slot, .start = parent->end_position, .start_gtid = parent->gtid};
    cairn_log_result res;
    m->logs = cairn_xcalloc(1, sizeof *m->logs);
    if (cairn_log_to_file(repo, m->id, path, o->zstd_level, drv, o->source_uri, &req, &m->logs[0],
                          &res, err) != CAIRN_OK) {
        free_result(&res);
        return err->code;
    }
    m->nlogs = 1;
    int rc = CAIRN_OK;
    if (strcmp(res.source.system_id, parent->source.system_id) != 0 ||
        strcmp(res.source.database, parent->source.database) != 0) {
        cairn_error_set(err, CAIRN_ENOCHAIN,
                        "the source is %s (database %s), but backup %s is of %s (database %s)",
                        res.source.system_id, res.source.database, parent->id,
                        parent->source.system_id, parent->source.database);
        rc = err->code;
    }
    if (rc == CAIRN_OK)
        rc = check_fingerprints(parent, NULL, &res, err);
    m->source = res.source;
    take_result(m, &res);
    free_result(&res);
    return rc;
}

/* The log of every database of the chain, each to the same end. */
static int capture_databases(const cairn_backup_opts *o, const cairn_driver *drv, cairn_repo *repo,
                             const cairn_manifest *parent, cairn_manifest *m, cairn_error *err)
{
    m->dbs = cairn_xcalloc(parent->ndbs, sizeof *m->dbs);
    int rc = CAIRN_OK;
    for (size_t i = 0; rc == CAIRN_OK && i < parent->ndbs; i++) {
        const cairn_dbpart *pp = &parent->dbs[i];
        cairn_dbpart *part = &m->dbs[m->ndbs++];
        part->name = cairn_xstrdup(pp->name);
        part->slot = cairn_xstrdup(pp->slot);
        char *uri = cairn_uri_with_database(o->source_uri, pp->name);
        char path[64];
        snprintf(path, sizeof path, "log/db-%04zu.log%s", i + 1, o->zstd_level != 0 ? ".zst" : "");
        /* the first database sets the end; the others stop there */
        cairn_log_request req = {
            .slot = pp->slot, .start = parent->end_position, .stop = i ? m->end_position : NULL};
        cairn_log_result res;
        rc = cairn_log_to_file(repo, m->id, path, o->zstd_level, drv, uri, &req, &part->log, &res,
                               err);
        if (rc == CAIRN_OK) {
            part->has_log = 1;
            if (strcmp(res.source.system_id, parent->source.system_id) != 0)
                rc =
                    cairn_error_set(err, CAIRN_ENOCHAIN, "the source is %s, but backup %s is of %s",
                                    res.source.system_id, parent->id, parent->source.system_id);
        }
        if (rc == CAIRN_OK)
            rc = check_fingerprints(parent, pp->name, &res, err);
        if (rc == CAIRN_OK) {
            if (i == 0) {
                m->source = parent->source;
                m->end_position = cairn_xstrdup(res.end);
                m->end_at = cairn_xstrdup(res.end_at);
            }
            part->position = cairn_xstrdup(m->end_position);
            if (res.first_commit_at[0] &&
                (!m->first_commit_at || strcmp(res.first_commit_at, m->first_commit_at) < 0)) {
                free(m->first_commit_at);
                m->first_commit_at = cairn_xstrdup(res.first_commit_at);
            }
            if (res.last_commit_at[0] &&
                (!m->last_commit_at || strcmp(res.last_commit_at, m->last_commit_at) > 0)) {
                free(m->last_commit_at);
                m->last_commit_at = cairn_xstrdup(res.last_commit_at);
            }
            m->transactions += res.transactions;
            m->changes += res.changes;
            /* the database's sequences and fingerprint at the end */
            m->units = cairn_xrealloc(m->units, (m->nunits + res.nunits) * sizeof *m->units);
            for (size_t u = 0; u < res.nunits; u++) {
                res.units[u].database = cairn_xstrdup(pp->name);
                m->units[m->nunits++] = res.units[u];
            }
            res.nunits = 0;
            cairn_info("database %s: %llu transactions, %llu changes", pp->name,
                       (unsigned long long)res.transactions, (unsigned long long)res.changes);
        }
        free_result(&res);
        free(uri);
        if (rc != CAIRN_OK)
            cairn_error_prefix(err, "database %s", pp->name);
    }
    return rc;
}

/* Once the increment is durable: each database's slot moves to its end. */
static void confirm_databases(const cairn_backup_opts *o, const cairn_driver *drv,
                              const cairn_manifest *m)
{
    for (size_t i = 0; i < m->ndbs; i++) {
        char *uri = cairn_uri_with_database(o->source_uri, m->dbs[i].name);
        cairn_error e = {0};
        if (drv->log_confirm(uri, m->dbs[i].slot, m->end_position, &e) != CAIRN_OK)
            cairn_warn("the increment is stored, but database %s's slot was not moved to %s "
                       "(%s); the next increment will do it",
                       m->dbs[i].name, m->end_position, e.message);
        free(uri);
    }
}

static cairn_manifest *new_manifest(const cairn_backup_opts *o, const cairn_driver *drv,
                                    const cairn_manifest *parent, const char *id)
{
    cairn_manifest *m = cairn_xcalloc(1, sizeof *m);
    char at[32];
    cairn_time_iso(time(NULL), at);
    m->format = CAIRN_MANIFEST_FORMAT;
    m->id = cairn_xstrdup(id);
    m->type = cairn_xstrdup("incr");
    m->parent = cairn_xstrdup(parent->id);
    m->status = cairn_xstrdup("complete");
    m->tag = cairn_xstrdup(o->tag);
    m->driver = cairn_xstrdup(drv->name);
    m->started_at = cairn_xstrdup(at);
    m->start_position = cairn_xstrdup(parent->end_position);
    m->snapshot_mode = cairn_xstrdup(parent->snapshot_mode);
    m->slot = cairn_xstrdup(parent->slot);
    m->jobs = 1;
    m->compression =
        o->zstd_level != 0 ? cairn_xasprintf("zstd:%d", o->zstd_level) : cairn_xstrdup("none");
    return m;
}

int cairn_incr_run(const cairn_backup_opts *o, int full_if_needed, cairn_manifest **out,
                   cairn_error *err)
{
    double t0 = cairn_now();
    *out = NULL;
    const cairn_driver *drv = cairn_driver_for_uri(o->source_uri, err);
    if (!drv)
        return err->code;
    if (!(drv->features & CAIRN_DRIVER_INCREMENTS)) {
        cairn_error_set(err, CAIRN_EUSAGE, "increments of %s databases are not available yet",
                        drv->name);
        return cairn_error_hint(err, "take full backups (--type full)");
    }
    cairn_repo *repo = NULL;
    int rc = cairn_repo_open(o->repo_dir, full_if_needed, &repo, err);
    if (rc != CAIRN_OK) {
        if (!full_if_needed) { /* no repository: no backup to build on */
            err->code = rc = CAIRN_ENOCHAIN;
            cairn_error_hint(err, "take a full backup first (--type full), or pass "
                                  "--full-if-needed");
        }
        return rc;
    }
    if (cairn_repo_lock(repo, "backup --type incr", err) != CAIRN_OK) {
        cairn_repo_close(repo);
        return err->code;
    }
    cairn_manifest **list = NULL;
    size_t n = 0;
    if (cairn_repo_list(repo, &list, &n, err) != CAIRN_OK) {
        cairn_repo_close(repo);
        return err->code;
    }
    cairn_manifest *parent = newest(list, n);
    if (!parent) {
        cairn_repo_list_free(list, n);
        cairn_repo_close(repo); /* the full backup takes the lock itself */
        if (full_if_needed) {
            cairn_info("no backup to build an increment on: taking a full backup instead");
            return cairn_backup_run(o, out, err);
        }
        cairn_error_set(err, CAIRN_ENOCHAIN,
                        "the repository holds no backup to build an "
                        "increment on");
        return cairn_error_hint(err, "take a full backup first (--type full), or pass "
                                     "--full-if-needed");
    }
    rc = check_parent(parent, drv, err);
    if (rc == CAIRN_OK)
        rc = check_databases(o, parent, err);
    char id[32];
    cairn_repo_new_id(repo, "incr", id);
    cairn_manifest *m = rc == CAIRN_OK ? new_manifest(o, drv, parent, id) : NULL;
    if (rc == CAIRN_OK) {
        cairn_backup_clean_unfinished(repo, drv, o->source_uri, id);
        cairn_info("increment %s: the log after %s (backup %s)", id, parent->end_position,
                   parent->id);
        rc = parent->ndbs ? capture_databases(o, drv, repo, parent, m, err)
                          : capture(o, drv, repo, parent, m, err);
    }
    if (m)
        m->phase_parallel = cairn_now() - t0;
    if (rc == CAIRN_OK) {
        double t1 = cairn_now();
        rc = cairn_backup_check(repo, m, err);
        m->phase_sequential = cairn_now() - t1;
    }
    if (rc == CAIRN_OK) {
        char at[32];
        cairn_time_iso(time(NULL), at);
        m->finished_at = cairn_xstrdup(at);
        m->duration = cairn_now() - t0;
        rc = cairn_repo_write_manifest(repo, m, err);
    }
    if (rc == CAIRN_OK) {
        if (cairn_fault("incr-kill-before-confirm"))
            kill(getpid(), SIGKILL); /* tests: a crash between manifest and confirm */
        cairn_error e = {0};
        if (m->ndbs)
            confirm_databases(o, drv, m);
        else if (drv->log_confirm(o->source_uri, m->slot, m->end_position, &e) != CAIRN_OK)
            cairn_warn("the increment is stored, but the server was not told it may let go of "
                       "the log up to %s (%s); the next increment will do it",
                       m->end_position, e.message);
        cairn_repo_seal_finished(repo, m->id);
        *out = m;
    } else if (m) {
        cairn_error e2 = {0};
        if (cairn_repo_remove_backup(repo, id, &e2) != CAIRN_OK)
            cairn_debug("%s", e2.message);
        cairn_manifest_free(m);
    }
    cairn_repo_list_free(list, n);
    cairn_repo_close(repo);
    return rc;
}
