/* Increments from logical decoding: peek, store, then advance.
 *
 * DESIGN (section 5): the chain's slot is read with
 * pg_logical_slot_peek_changes up to E = pg_current_wal_flush_lsn(); every
 * row is stored as a length-prefixed record (values may hold raw
 * newlines).  Peeking consumes nothing: only after the increment's files
 * and manifest are durable does log_confirm advance the slot to E, so a
 * crash anywhere before loses nothing and the next run reads the same
 * changes again; a crash after the manifest leaves the slot behind the
 * stored end, which the next capture notices and fixes by advancing it.
 * A slot ahead of the parent's end means changes were consumed that no
 * backup holds: a gap, refused.
 *
 * Every change is parsed here, at capture time, so a log restore could not
 * replay is refused now rather than discovered during a restore: an UPDATE
 * or DELETE of a table without a key or replica identity, or a line the
 * parser does not know. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "postgres/pg_decode.h"
#include "postgres/pg_int.h"
#include "util/fault.h"
#include "util/log.h"
#include "util/text.h"

int pg_position_cmp(const char *a, const char *b, int *cmp, cairn_error *err)
{
    uint64_t x, y;
    if (pgd_lsn_parse(a, &x) != 0 || pgd_lsn_parse(b, &y) != 0) {
        cairn_error_set(err, CAIRN_EUSAGE, "\"%s\" is not a PostgreSQL log position",
                        pgd_lsn_parse(a, &x) != 0 ? a : b);
        return cairn_error_hint(err, "positions look like 0/1A2B3C4 (see cairn list)");
    }
    *cmp = x < y ? -1 : x > y ? 1 : 0;
    return CAIRN_OK;
}

/* The slot must exist, decode with test_decoding, not be lost, and stand
 * exactly at the parent's end (behind it: an advance that did not survive
 * a crash, redone now; ahead: a gap). */
static int check_slot(PGconn *pg, const cairn_log_request *req, cairn_error *err)
{
    const char *params[1] = {req->slot};
    PGresult *res = NULL;
    if (pg_query_params(pg,
                        "SELECT plugin, confirmed_flush_lsn::text, wal_status, "
                        "  database = pg_catalog.current_database() "
                        "FROM pg_catalog.pg_replication_slots WHERE slot_name = $1",
                        1, params, &res, err, "cannot read the replication slot") != CAIRN_OK)
        return err->code;
    if (PQntuples(res) == 0) {
        PQclear(res);
        cairn_error_set(err, CAIRN_ENOCHAIN,
                        "replication slot %s of this chain no longer exists: the changes since "
                        "%s are gone",
                        req->slot, req->start);
        return cairn_error_hint(err, "take a new full backup to start a new chain");
    }
    char plugin[64], confirmed[32], status[32];
    cairn_strlcpy(plugin, PQgetvalue(res, 0, 0), sizeof plugin);
    cairn_strlcpy(confirmed, PQgetvalue(res, 0, 1), sizeof confirmed);
    cairn_strlcpy(status, PQgetvalue(res, 0, 2), sizeof status);
    int same_db = PQgetvalue(res, 0, 3)[0] == 't';
    PQclear(res);
    if (!same_db)
        return cairn_error_set(err, CAIRN_ENOCHAIN,
                               "replication slot %s belongs to another database than the source",
                               req->slot);
    if (strcmp(plugin, "test_decoding") != 0)
        return cairn_error_set(err, CAIRN_ENOCHAIN,
                               "replication slot %s decodes with %s, not test_decoding", req->slot,
                               plugin);
    if (strcmp(status, "lost") == 0) {
        cairn_error_set(err, CAIRN_ENOCHAIN,
                        "replication slot %s is lost: the server removed log it still needed "
                        "(max_slot_wal_keep_size); the changes since %s are gone",
                        req->slot, req->start);
        return cairn_error_hint(err, "take a new full backup; raise max_slot_wal_keep_size or "
                                     "take increments more often");
    }
    int cmp = 0;
    if (pg_position_cmp(confirmed, req->start, &cmp, err) != CAIRN_OK)
        return err->code;
    if (cmp > 0) {
        cairn_error_set(err, CAIRN_ENOCHAIN,
                        "replication slot %s was consumed up to %s, past the last backup's end "
                        "%s: the changes in between are in no backup",
                        req->slot, confirmed, req->start);
        return cairn_error_hint(err, "something else reads this slot; take a new full backup "
                                     "and let only cairn use its slot");
    }
    if (cmp < 0) {
        cairn_info("replication slot %s stands at %s, behind the last backup's end %s (an "
                   "advance lost in a crash): advancing it",
                   req->slot, confirmed, req->start);
        const char *p2[2] = {req->slot, req->start};
        if (pg_query_params(
                pg, "SELECT end_lsn::text FROM pg_catalog.pg_replication_slot_advance($1, $2)", 2,
                p2, &res, err, "cannot advance the replication slot") != CAIRN_OK)
            return err->code;
        PQclear(res);
    }
    return CAIRN_OK;
}

/* The log's end E, with the schema fingerprint as of E: read before and
 * after E, retried while DDL races it.  Decoding reads only flushed log,
 * and with synchronous_commit off a commit can return before its record
 * is flushed; a marker transaction committed with synchronous_commit on
 * flushes everything before it, so every transaction that committed
 * before the increment started is at or before E. */
static int read_end(PGconn *pg, cairn_log_result *res, char **fingerprint, cairn_error *err)
{
    if (pg_exec(pg,
                "BEGIN; SET LOCAL synchronous_commit = on; "
                "SELECT pg_catalog.pg_logical_emit_message(true, '" PGD_MARK_PREFIX "', 'end'); "
                "COMMIT",
                err) != CAIRN_OK)
        return cairn_error_prefix(err, "flushing the log");
    for (int attempt = 0; attempt < 5; attempt++) {
        char *before = NULL, *after = NULL;
        PGresult *r = NULL;
        if (pg_schema_fingerprint(pg, &before, err) != CAIRN_OK)
            return err->code;
        if (pg_query(pg,
                     "SELECT pg_catalog.pg_current_wal_flush_lsn()::text, "
                     "pg_catalog.to_char(pg_catalog.clock_timestamp() AT TIME ZONE 'UTC', "
                     "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')",
                     &r, err) != CAIRN_OK) {
            free(before);
            return err->code;
        }
        cairn_strlcpy(res->end, PQgetvalue(r, 0, 0), sizeof res->end);
        cairn_strlcpy(res->end_at, PQgetvalue(r, 0, 1), sizeof res->end_at);
        PQclear(r);
        if (pg_schema_fingerprint(pg, &after, err) != CAIRN_OK) {
            free(before);
            return err->code;
        }
        int same = strcmp(before, after) == 0;
        free(before);
        if (same) {
            *fingerprint = after;
            return CAIRN_OK;
        }
        free(after);
    }
    return cairn_error_set(err, CAIRN_ERR,
                           "the schema kept changing while the increment's end was read");
}

/* A capture up to a given position (a resumed backup's new snapshot): the
 * marker flushes every commit before it, so decoding sees them all. */
static int stop_at(PGconn *pg, const char *stop, cairn_log_result *res, cairn_error *err)
{
    PGresult *r = NULL;
    if (pg_exec(pg,
                "BEGIN; SET LOCAL synchronous_commit = on; "
                "SELECT pg_catalog.pg_logical_emit_message(true, '" PGD_MARK_PREFIX "', 'end'); "
                "COMMIT",
                err) != CAIRN_OK ||
        pg_query(pg,
                 "SELECT pg_catalog.to_char(pg_catalog.clock_timestamp() AT TIME ZONE 'UTC', "
                 "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')",
                 &r, err) != CAIRN_OK)
        return cairn_error_prefix(err, "flushing the log");
    cairn_strlcpy(res->end, stop, sizeof res->end);
    cairn_strlcpy(res->end_at, PQgetvalue(r, 0, 0), sizeof res->end_at);
    PQclear(r);
    return CAIRN_OK;
}

/* Tables whose UPDATE/DELETE cannot be replayed, as "schema\tname" lines. */
static char *unreplayable_tables(PGconn *pg, cairn_error *err)
{
    PGresult *res = NULL;
    if (pg_query(pg, pg_unreplayable_sql, &res, err) != CAIRN_OK)
        return NULL;
    cairn_buf b = {0};
    cairn_buf_add(&b, "\n", 1);
    for (int i = 0; i < PQntuples(res); i++)
        cairn_buf_printf(&b, "%s\t%s\n", PQgetvalue(res, i, 0), PQgetvalue(res, i, 1));
    PQclear(res);
    return b.data;
}

typedef struct {
    cairn_log_result *res;
    const char *unreplayable;
    int in_xact;
    uint64_t xact_items; /* changes and messages of the open transaction but markers */
    char why[256];
} capture_state;

/* Checks one decoded row and counts it. */
static int account(capture_state *st, const char *data, size_t len, cairn_error *err)
{
    pgd_change c;
    if (pgd_parse(data, len, &c, st->why, sizeof st->why) != 0)
        return cairn_error_set(err, CAIRN_ERR, "cannot parse a decoded change: %s", st->why);
    int rc = CAIRN_OK;
    switch (c.kind) {
    case PGD_BEGIN:
        st->in_xact = 1;
        st->xact_items = 0;
        break;
    case PGD_COMMIT:
        st->in_xact = 0;
        if (st->xact_items == 0) /* a marker or an empty transaction: nothing to count */
            break;
        st->res->transactions++;
        if (!st->res->first_commit_at[0])
            cairn_strlcpy(st->res->first_commit_at, c.commit_time, sizeof st->res->first_commit_at);
        cairn_strlcpy(st->res->last_commit_at, c.commit_time, sizeof st->res->last_commit_at);
        break;
    case PGD_MESSAGE:
        if (!c.prefix || strcmp(c.prefix, PGD_MARK_PREFIX) != 0)
            st->xact_items++;
        if (c.prefix && strcmp(c.prefix, PGD_DDL_PREFIX) == 0) {
            if (!c.transactional)
                rc = cairn_error_set(err, CAIRN_ERR,
                                     "a schema change message is not "
                                     "transactional: it cannot be replayed in "
                                     "order");
            st->res->ddl++;
        }
        break;
    case PGD_UPDATE:
    case PGD_DELETE: {
        char key[600];
        snprintf(key, sizeof key, "\n%s\t%s\n", c.schema, c.table);
        if (c.no_tuple_data || (c.nold == 0 && strstr(st->unreplayable, key))) {
            cairn_error_set(err, CAIRN_ERR,
                            "table %s.%s has no primary key or replica identity: its %s cannot "
                            "be replayed",
                            c.schema, c.table, c.kind == PGD_UPDATE ? "UPDATE" : "DELETE");
            rc = cairn_error_hint(err,
                                  "ALTER TABLE %s.%s REPLICA IDENTITY FULL (or add a primary "
                                  "key), then take a new full backup",
                                  c.schema, c.table);
        }
        st->res->changes++;
        st->xact_items++;
        break;
    }
    default:
        st->res->changes++;
        st->xact_items++;
        break;
    }
    pgd_change_clear(&c);
    return rc;
}

static int peek(PGconn *pg, const cairn_log_request *req, cairn_sink *sink, capture_state *st,
                cairn_error *err)
{
    const char *params[2] = {req->slot, st->res->end};
    if (!PQsendQueryParams(pg,
                           "SELECT lsn::text, xid::text, data FROM "
                           "pg_catalog.pg_logical_slot_peek_changes($1, $2::pg_lsn, NULL, "
                           "'include-xids', '1', 'include-timestamp', '1', "
                           "'skip-empty-xacts', '0')",
                           2, NULL, params, NULL, NULL, 0) ||
        !PQsetSingleRowMode(pg))
        return pg_error(pg, NULL, err, "cannot read the replication slot");
    int rc = CAIRN_OK;
    PGresult *res;
    while ((res = PQgetResult(pg))) {
        ExecStatusType s = PQresultStatus(res);
        if (s == PGRES_SINGLE_TUPLE && rc == CAIRN_OK) {
            const char *data = PQgetvalue(res, 0, 2);
            size_t len = (size_t)PQgetlength(res, 0, 2);
            rc = account(st, data, len, err);
            if (rc == CAIRN_OK) {
                char head[64];
                size_t hl =
                    pgd_record_head(PQgetvalue(res, 0, 0),
                                    PQgetisnull(res, 0, 1) ? "0" : PQgetvalue(res, 0, 1), head);
                if (cairn_record_write(sink, head, hl, data, len) != 0) {
                    *err = *cairn_sink_error(sink);
                    rc = err->code ? err->code : CAIRN_ERR;
                }
                if (cairn_fault("pg-capture-kill"))
                    kill(getpid(), SIGKILL); /* tests: a capture killed mid-way */
            }
        } else if (s != PGRES_SINGLE_TUPLE && s != PGRES_TUPLES_OK && rc == CAIRN_OK) {
            rc = pg_error(pg, res, err, "cannot read the replication slot");
        }
        PQclear(res);
    }
    if (rc == CAIRN_OK && st->in_xact)
        rc = cairn_error_set(err, CAIRN_ERR, "the log ends inside a transaction at %s",
                             st->res->end);
    return rc;
}

int pg_log_capture(const char *uri, const cairn_log_request *req, cairn_sink *sink,
                   cairn_log_result *res, cairn_error *err)
{
    memset(res, 0, sizeof *res);
    PGconn *pg = NULL;
    if (pg_connect(uri, NULL, NULL, &pg, err) != CAIRN_OK)
        return err->code;
    cairn_unit *u = cairn_xcalloc(1, sizeof *u);
    res->units = u;
    res->nunits = 1;
    char *unreplayable = NULL;
    cairn_conn conn = {.pg = pg};
    int rc = pg_read_identity(pg, &res->source, err);
    if (rc == CAIRN_OK)
        rc = pg_session_setup(pg, res->source.encoding, err);
    if (rc == CAIRN_OK)
        rc = check_slot(pg, req, err);
    if (rc == CAIRN_OK)
        rc = req->stop ? stop_at(pg, req->stop, res, err) : read_end(pg, res, &u->fingerprint, err);
    if (rc == CAIRN_OK && req->stop) /* the schema now, for the caller to compare */
        rc = pg_schema_fingerprint(pg, &u->fingerprint, err);
    if (rc == CAIRN_OK) {
        unreplayable = unreplayable_tables(pg, err);
        rc = unreplayable ? CAIRN_OK : err->code;
    }
    if (rc == CAIRN_OK) {
        /* sequences are not in the log: read now, at or after E, so a
         * restored sequence is never behind a replayed row */
        u->name = cairn_xstrdup(res->source.database);
        u->kind = cairn_xstrdup("database");
        u->status = cairn_xstrdup("complete");
        u->position = cairn_xstrdup(res->end);
        rc = pg_list_sequences(&conn, u, err);
    }
    if (rc == CAIRN_OK) {
        capture_state st = {.res = res, .unreplayable = unreplayable};
        rc = peek(pg, req, sink, &st, err);
    }
    free(unreplayable);
    PQfinish(pg);
    return rc;
}

int pg_log_confirm(const char *uri, const char *slot, const char *end, cairn_error *err)
{
    PGconn *pg = NULL;
    if (pg_connect(uri, NULL, NULL, &pg, err) != CAIRN_OK)
        return err->code;
    const char *params[2] = {slot, end};
    PGresult *res = NULL;
    int rc = pg_query_params(
        pg, "SELECT end_lsn::text FROM pg_catalog.pg_replication_slot_advance($1, $2)", 2, params,
        &res, err, "cannot advance the replication slot");
    if (rc == CAIRN_OK) {
        if (strcmp(PQgetvalue(res, 0, 0), end) != 0)
            rc = cairn_error_set(err, CAIRN_ERR, "replication slot %s advanced to %s, not to %s",
                                 slot, PQgetvalue(res, 0, 0), end);
        PQclear(res);
    }
    PQfinish(pg);
    return rc;
}
