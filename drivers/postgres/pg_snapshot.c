/* The PostgreSQL snapshot protocol.
 *
 * DESIGN: the leader opens a replication connection (replication=database)
 * and runs CREATE_REPLICATION_SLOT ... LOGICAL test_decoding (SNAPSHOT
 * 'export').  The reply carries the slot's consistent_point (the LSN of the
 * snapshot: the backup's position and the start of the first increment)
 * and the name of an exported snapshot.  That snapshot can be imported only
 * until the replication connection runs its next command, so the leader
 * keeps it idle until every worker and pg_dump have finished: identity
 * queries run *before* the slot is created.  Workers import it with SET
 * TRANSACTION SNAPSHOT as the first statement of a REPEATABLE READ, READ
 * ONLY transaction and report pg_current_snapshot(), which must equal the
 * leader's in the sequential phase.
 *
 * Without the REPLICATION privilege or with wal_level below logical, the
 * leader falls back to pg_export_snapshot() inside an open transaction and
 * pg_current_wal_lsn(): the backup is consistent, but its position does
 * not anchor a chain of increments, and the manifest says so. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "postgres/pg_int.h"
#include "util/log.h"
#include "util/text.h"

typedef struct {
    PGconn *holder; /* replication connection, or the exporting transaction */
} pg_snap;

static void copy_field(PGresult *res, int col, char *dst, size_t cap)
{
    cairn_strlcpy(dst, PQgetisnull(res, 0, col) ? "" : PQgetvalue(res, 0, col), cap);
}

/* Server version, database and its encoding; must run before the slot. */
int pg_read_identity(PGconn *pg, cairn_identity *id, cairn_error *err)
{
    PGresult *res = NULL;
    if (pg_query(pg,
                 "SELECT current_database(), pg_catalog.pg_encoding_to_char(d.encoding), "
                 "(SELECT system_identifier::text FROM pg_catalog.pg_control_system()), "
                 "(SELECT timeline_id FROM pg_catalog.pg_control_checkpoint()) "
                 "FROM pg_catalog.pg_database d WHERE d.datname = current_database()",
                 &res, err) != CAIRN_OK)
        return cairn_error_prefix(err, "reading the server's identity");
    if (PQntuples(res) != 1) {
        PQclear(res);
        return cairn_error_set(err, CAIRN_ERR, "cannot read the current database");
    }
    copy_field(res, 0, id->database, sizeof id->database);
    copy_field(res, 1, id->encoding, sizeof id->encoding);
    copy_field(res, 2, id->system_id, sizeof id->system_id);
    id->timeline = (uint32_t)strtoul(PQgetvalue(res, 0, 3), NULL, 10);
    PQclear(res);
    int v = PQserverVersion(pg);
    if (v >= 100000)
        snprintf(id->server_version, sizeof id->server_version, "%d.%d", v / 10000, v % 10000);
    else
        snprintf(id->server_version, sizeof id->server_version, "%d.%d.%d", v / 10000,
                 (v / 100) % 100, v % 100);
    return CAIRN_OK;
}

static int open_exported(const char *uri, cairn_snapshot *snap, cairn_error *err)
{
    PGconn *pg = NULL;
    if (pg_connect(uri, NULL, NULL, &pg, err) != CAIRN_OK)
        return err->code;
    PGresult *res = NULL;
    if (pg_read_identity(pg, &snap->source, err) != CAIRN_OK ||
        pg_exec(pg, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY", err) != CAIRN_OK ||
        pg_query(pg,
                 "SELECT pg_catalog.pg_export_snapshot(), CASE WHEN pg_catalog.pg_is_in_recovery()"
                 " THEN pg_catalog.pg_last_wal_replay_lsn() ELSE pg_catalog.pg_current_wal_lsn()"
                 " END",
                 &res, err) != CAIRN_OK) {
        PQfinish(pg);
        return cairn_error_prefix(err, "exporting a snapshot");
    }
    cairn_strlcpy(snap->mode, "exported", sizeof snap->mode);
    copy_field(res, 0, snap->token, sizeof snap->token);
    copy_field(res, 1, snap->position, sizeof snap->position);
    snap->slot[0] = '\0';
    PQclear(res);
    pg_snap *ps = cairn_xcalloc(1, sizeof *ps);
    ps->holder = pg;
    snap->priv = ps;
    return CAIRN_OK;
}

/* Whether a failure to create a slot means "not allowed here" (fall back)
 * rather than a real error. */
static int slot_not_possible(const cairn_error *e)
{
    return strcmp(e->sqlstate, "42501") == 0 || strcmp(e->sqlstate, "55000") == 0 ||
           strcmp(e->sqlstate, "53400") == 0 || strstr(e->message, "replication") ||
           strstr(e->message, "wal_level");
}

int pg_snapshot_open(const char *uri, const cairn_snapshot_opts *opts, cairn_snapshot *snap,
                     cairn_error *err)
{
    static const char *const keys[] = {"replication", NULL};
    static const char *const values[] = {"database", NULL};
    PGconn *repl = NULL;
    cairn_error e = {0};
    memset(snap, 0, sizeof *snap);
    if (pg_connect(uri, keys, values, &repl, &e) != CAIRN_OK) {
        if (!strstr(e.message, "replication") && !strstr(e.message, "walsender")) {
            *err = e;
            return err->code;
        }
        cairn_warn("cannot open a replication connection (%s); using an exported snapshot: "
                   "this backup is consistent but cannot start a chain of increments "
                   "(grant REPLICATION to the role to allow them)",
                   e.message);
        return open_exported(uri, snap, err);
    }
    if (pg_read_identity(repl, &snap->source, err) != CAIRN_OK) {
        PQfinish(repl);
        return err->code;
    }
    char *slot_sql = NULL;
    char slot[64];
    snprintf(slot, sizeof slot, "%s", opts->slot_name);
    char *quoted = PQescapeIdentifier(repl, slot, strlen(slot));
    slot_sql = cairn_xasprintf("CREATE_REPLICATION_SLOT %s LOGICAL test_decoding "
                               "(SNAPSHOT 'export')",
                               quoted);
    PQfreemem(quoted);
    PGresult *res = PQexec(repl, slot_sql);
    free(slot_sql);
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
        pg_error(repl, res, &e, "cannot create replication slot");
        PQclear(res);
        PQfinish(repl);
        if (!slot_not_possible(&e)) {
            *err = e;
            return err->code;
        }
        cairn_warn("%s; using an exported snapshot: this backup is consistent but cannot start "
                   "a chain of increments (set wal_level=logical and grant REPLICATION to allow "
                   "them)",
                   e.message);
        return open_exported(uri, snap, err);
    }
    cairn_strlcpy(snap->mode, "slot", sizeof snap->mode);
    copy_field(res, 0, snap->slot, sizeof snap->slot);
    copy_field(res, 1, snap->position, sizeof snap->position);
    copy_field(res, 2, snap->token, sizeof snap->token);
    PQclear(res);
    pg_snap *ps = cairn_xcalloc(1, sizeof *ps);
    ps->holder = repl;
    snap->priv = ps;
    return CAIRN_OK;
}

void pg_snapshot_close(cairn_snapshot *snap)
{
    if (!snap || !snap->priv)
        return;
    pg_snap *ps = snap->priv;
    PQfinish(ps->holder);
    free(ps);
    snap->priv = NULL;
}

int pg_snapshot_join(cairn_conn *conn, const cairn_snapshot *snap, char *identity, size_t cap,
                     cairn_error *err)
{
    if (pg_session_setup(conn->pg, snap->source.encoding, err) != CAIRN_OK)
        return err->code;
    cairn_strlcpy(conn->encoding, snap->source.encoding, sizeof conn->encoding);
    char *sql;
    if (!snap->token[0]) {
        sql = cairn_xstrdup("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY");
    } else {
        char *lit = PQescapeLiteral(conn->pg, snap->token, strlen(snap->token));
        sql = cairn_xasprintf("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY; "
                              "SET TRANSACTION SNAPSHOT %s",
                              lit ? lit : "''");
        PQfreemem(lit);
    }
    int rc = pg_exec(conn->pg, sql, err);
    free(sql);
    if (rc != CAIRN_OK)
        return cairn_error_prefix(err, "importing snapshot %s", snap->token);
    PGresult *res = NULL;
    if (pg_query(conn->pg, "SELECT pg_catalog.pg_current_snapshot()::text", &res, err) != CAIRN_OK)
        return err->code;
    cairn_strlcpy(identity, PQgetvalue(res, 0, 0), cap);
    PQclear(res);
    return CAIRN_OK;
}

int pg_slot_drop(const char *uri, const char *slot, cairn_error *err)
{
    PGconn *pg = NULL;
    if (pg_connect(uri, NULL, NULL, &pg, err) != CAIRN_OK)
        return err->code;
    const char *params[1] = {slot};
    int rc = pg_query_params(pg,
                             "SELECT pg_catalog.pg_drop_replication_slot(slot_name) "
                             "FROM pg_catalog.pg_replication_slots WHERE slot_name = $1",
                             1, params, NULL, err, "cannot drop replication slot");
    PQfinish(pg);
    return rc;
}

int pg_slot_status(const char *uri, const char *slot, uint64_t *retained_bytes, char *status,
                   size_t status_cap, cairn_error *err)
{
    PGconn *pg = NULL;
    *retained_bytes = 0;
    if (pg_connect(uri, NULL, NULL, &pg, err) != CAIRN_OK)
        return err->code;
    const char *params[1] = {slot};
    PGresult *res = NULL;
    int rc = pg_query_params(pg,
                             "SELECT COALESCE(wal_status, 'unknown'), COALESCE("
                             "pg_catalog.pg_wal_lsn_diff(pg_catalog.pg_current_wal_lsn(), "
                             "restart_lsn), 0)::bigint "
                             "FROM pg_catalog.pg_replication_slots WHERE slot_name = $1",
                             1, params, &res, err, "cannot read the replication slot");
    if (rc == CAIRN_OK && PQntuples(res) == 0) {
        cairn_strlcpy(status, "missing", status_cap);
    } else if (rc == CAIRN_OK) {
        cairn_strlcpy(status, PQgetvalue(res, 0, 0), status_cap);
        *retained_bytes = strtoull(PQgetvalue(res, 0, 1), NULL, 10);
    }
    PQclear(res);
    PQfinish(pg);
    return rc;
}

int pg_log_distance(const char *uri, const char *from, char *current, size_t cap, uint64_t *bytes,
                    cairn_error *err)
{
    PGconn *pg = NULL;
    *bytes = 0;
    if (pg_connect(uri, NULL, NULL, &pg, err) != CAIRN_OK)
        return err->code;
    const char *params[1] = {from};
    PGresult *res = NULL;
    int rc = pg_query_params(pg,
                             "SELECT pg_catalog.pg_current_wal_insert_lsn()::text, GREATEST(0, "
                             "pg_catalog.pg_wal_lsn_diff(pg_catalog.pg_current_wal_insert_lsn(), "
                             "$1::pg_catalog.pg_lsn))::bigint",
                             1, params, &res, err, "cannot read the current WAL position");
    if (rc == CAIRN_OK) {
        cairn_strlcpy(current, PQgetvalue(res, 0, 0), cap);
        *bytes = strtoull(PQgetvalue(res, 0, 1), NULL, 10);
    }
    PQclear(res);
    PQfinish(pg);
    return rc;
}
