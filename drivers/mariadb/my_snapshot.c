/* The MariaDB snapshot protocol.
 *
 * DESIGN: the leader refuses to start while a long query runs (a barrier
 * would queue behind it and stall the server), rotates the binary log (so
 * the first increment does not copy what was logged before the backup),
 * then takes the shortest barrier MariaDB offers, in two steps when the
 * engine asks for them.  BACKUP STAGE START and BLOCK_DDL freeze the
 * schema while commits go on: the engine lists the units and dumps the
 * schema then.  BLOCK_COMMIT (my_snapshot_freeze) is the instant: nothing
 * commits, so the binlog position read now (SHOW MASTER STATUS,
 * @@gtid_binlog_pos) is the backup's, and sequence values are read again
 * at it.  Each worker runs START TRANSACTION WITH CONSISTENT SNAPSHOT
 * while the barrier holds and proves its position with
 * binlog_snapshot_file/position, which must equal the leader's.  The
 * engine releases the barrier (BACKUP STAGE END) once every worker has
 * joined and the non-transactional tables (Aria, MyISAM, MEMORY: not
 * covered by a snapshot, and not all frozen by BLOCK_DDL) are dumped;
 * InnoDB data is then read from the snapshots while the server runs
 * freely.  The time each step was held is recorded.
 *
 * MySQL 8 has no BACKUP STAGE and no binlog_snapshot_* variables; its path
 * (LOCK INSTANCE FOR BACKUP + FLUSH TABLES WITH READ LOCK) is not written:
 * a MySQL server is refused with a message saying so. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mariadb/my_int.h"
#include "util/fault.h"
#include "util/log.h"
#include "util/text.h"

#define LONG_QUERY_DEFAULT 60 /* a query running longer would block the barrier */
#define LONG_QUERY_WAIT    30 /* how long to wait, at most, for such queries to end */

typedef struct {
    MYSQL *leader;
    int in_stage;
} my_snap;

/* Waits (bounded) for long-running queries to end; an error names one. */
static int long_query_guard(MYSQL *my, int guard, cairn_error *err)
{
    int wait = guard < LONG_QUERY_WAIT ? guard : LONG_QUERY_WAIT;
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT ID, USER, TIME, LEFT(COALESCE(INFO, ''), 200) FROM "
             "information_schema.PROCESSLIST WHERE COMMAND NOT IN ('Sleep', 'Daemon', "
             "'Binlog Dump') AND TIME >= %d AND ID <> CONNECTION_ID() AND USER <> 'system user' "
             "ORDER BY TIME DESC LIMIT 1",
             guard);
    for (int waited = 0;; waited++) {
        MYSQL_RES *res = NULL;
        if (my_query(my, sql, &res, err) != CAIRN_OK)
            return err->code;
        MYSQL_ROW row = mysql_fetch_row(res);
        if (!row) {
            mysql_free_result(res);
            return CAIRN_OK;
        }
        if (waited >= wait) {
            cairn_error_set(err, CAIRN_ERR,
                            "a long query blocks the backup barrier: connection %s of %s, "
                            "running %s s: %s",
                            row[0], row[1], row[2], row[3]);
            cairn_error_hint(err,
                             "wait for it to finish, end it with KILL QUERY %s, or raise "
                             "--long-query-guard",
                             row[0]);
            mysql_free_result(res); /* row points into it: free after the last use */
            return err->code;
        }
        if (waited == 0)
            cairn_warn("waiting up to %d s for a long query to end (connection %s, %s s)", wait,
                       row[0], row[2]);
        mysql_free_result(res);
        sleep(1);
    }
}

/* The server's identity; *log_bin says whether the binary log is on. */
static int read_identity(MYSQL *my, cairn_snapshot *snap, int *log_bin, cairn_error *err)
{
    MYSQL_RES *res = NULL;
    if (my_query(my,
                 "SELECT @@server_id, @@version, @@character_set_server, @@hostname, @@port, "
                 "@@log_bin, @@binlog_format",
                 &res, err) != CAIRN_OK)
        return err->code;
    MYSQL_ROW row = mysql_fetch_row(res);
    snprintf(snap->source.system_id, sizeof snap->source.system_id, "server_id=%s", row[0]);
    cairn_strlcpy(snap->source.server_version, row[1], sizeof snap->source.server_version);
    cairn_strlcpy(snap->source.encoding, row[2], sizeof snap->source.encoding);
    *log_bin = row[5] && atoi(row[5]) == 1;
    int row_format = row[6] && strcmp(row[6], "ROW") == 0;
    mysql_free_result(res);
    if (!strstr(snap->source.server_version, "MariaDB")) {
        cairn_error_set(err, CAIRN_ERR, "server %s is not MariaDB", snap->source.server_version);
        return cairn_error_hint(err, "cairn's MySQL 8 path (LOCK INSTANCE FOR BACKUP) is not "
                                     "available yet; it backs up MariaDB 10.5 and later");
    }
    int major = 0, minor = 0;
    if (sscanf(snap->source.server_version, "%d.%d", &major, &minor) == 2 &&
        (major < 10 || (major == 10 && minor < 4))) {
        cairn_error_set(err, CAIRN_ERR, "MariaDB %d.%d has no BACKUP STAGE (cairn's snapshot)",
                        major, minor);
        return cairn_error_hint(err, "cairn backs up MariaDB 10.5 and later (10.4 untested); "
                                     "upgrade the server, or use mariadb-dump "
                                     "--single-transaction for it");
    }
    if (!*log_bin)
        cairn_warn("the binary log is off: this backup is consistent but cannot start a chain of "
                   "increments (set log_bin and binlog_format=ROW to allow them)");
    else if (!row_format)
        cairn_warn("binlog_format is not ROW: increments will not be possible from this backup");
    return CAIRN_OK;
}

/* After a rotation the server appends a Binlog_checkpoint event to the new
 * file on its own, once the previous file's transactions are durable: the
 * position moves with no commit, even under BLOCK_COMMIT, and a worker's
 * snapshot would not match the leader's.  Waits (at most 5 s) until the
 * current file holds the checkpoint that names itself. */
static void wait_for_checkpoint(MYSQL *my)
{
    for (int i = 0; i < 50; i++) {
        MYSQL_RES *res = NULL;
        cairn_error e = {0};
        if (my_query(my, "SHOW MASTER STATUS", &res, &e) != CAIRN_OK)
            return;
        MYSQL_ROW row = mysql_fetch_row(res);
        char file[256] = "";
        cairn_strlcpy(file, row && row[0] ? row[0] : "", sizeof file);
        mysql_free_result(res);
        if (!file[0])
            return;
        char *lit = my_literal(my, file);
        char *sql = cairn_xasprintf("SHOW BINLOG EVENTS IN %s LIMIT 20", lit);
        free(lit);
        int done = 0;
        if (my_query(my, sql, &res, &e) == CAIRN_OK) {
            while ((row = mysql_fetch_row(res)))
                if (row[2] && strcmp(row[2], "Binlog_checkpoint") == 0 && row[5] &&
                    strstr(row[5], file))
                    done = 1;
            mysql_free_result(res);
        }
        free(sql);
        if (done || e.code)
            return;
        usleep(100 * 1000);
    }
}

/* The instant: nothing commits from BLOCK_COMMIT on, so the binlog
 * position and GTID read now are the backup's, and what a worker must see
 * (identity). */
static int take_instant(MYSQL *my, cairn_snapshot *snap, cairn_error *err)
{
    if (my_exec(my, "BACKUP STAGE BLOCK_COMMIT", err) != CAIRN_OK)
        return cairn_error_prefix(err, "taking the backup barrier");
    MYSQL_RES *res = NULL;
    if (my_query(my, "SHOW MASTER STATUS", &res, err) != CAIRN_OK)
        return err->code;
    MYSQL_ROW row = mysql_fetch_row(res);
    if (row && row[0] && row[1]) {
        snprintf(snap->position, sizeof snap->position, "%s:%s", row[0], row[1]);
        cairn_strlcpy(snap->mode, "binlog", sizeof snap->mode);
        cairn_strlcpy(snap->identity, snap->position, sizeof snap->identity);
    } else {
        cairn_strlcpy(snap->mode, "nobinlog", sizeof snap->mode);
        cairn_strlcpy(snap->identity, "nobinlog", sizeof snap->identity);
    }
    mysql_free_result(res);
    if (my_query(my, "SELECT @@GLOBAL.gtid_binlog_pos", &res, err) != CAIRN_OK)
        return err->code;
    row = mysql_fetch_row(res);
    cairn_strlcpy(snap->gtid, row && row[0] ? row[0] : "", sizeof snap->gtid);
    mysql_free_result(res);
    return CAIRN_OK;
}

int my_snapshot_open(const char *uri, const cairn_snapshot_opts *opts, cairn_snapshot *snap,
                     cairn_error *err)
{
    memset(snap, 0, sizeof *snap);
    MYSQL *my = NULL;
    if (my_connect(uri, &my, err) != CAIRN_OK)
        return err->code;
    char *db = my_uri_database(uri);
    cairn_strlcpy(snap->source.database, db ? db : "", sizeof snap->source.database);
    free(db);
    int log_bin = 0;
    if (read_identity(my, snap, &log_bin, err) != CAIRN_OK ||
        long_query_guard(my,
                         opts->long_query_guard > 0 ? opts->long_query_guard : LONG_QUERY_DEFAULT,
                         err) != CAIRN_OK ||
        my_exec(my, "SET SESSION lock_wait_timeout = 60", err) != CAIRN_OK) {
        mysql_close(my);
        return err->code;
    }
    /* Start a fresh binlog file: the first increment copies the log from
     * the file the backup's position is in, which then holds only what
     * committed since this moment, not everything logged before it. */
    cairn_error flush_err = {0};
    if (log_bin) {
        if (my_exec(my, "FLUSH NO_WRITE_TO_BINLOG BINARY LOGS", &flush_err) != CAIRN_OK)
            cairn_warn("cannot rotate the binary log (%s): the first increment will copy the "
                       "current binlog file whole",
                       flush_err.message);
        wait_for_checkpoint(my);
    }
    my_snap *ms = cairn_xcalloc(1, sizeof *ms);
    ms->leader = my;
    snap->priv = ms;
    if (my_exec(my, "BACKUP STAGE START", err) != CAIRN_OK) {
        my_snapshot_close(snap);
        return cairn_error_prefix(err, "taking the backup barrier");
    }
    ms->in_stage = 1;
    if (my_exec(my, "BACKUP STAGE BLOCK_DDL", err) != CAIRN_OK) {
        my_snapshot_close(snap);
        return cairn_error_prefix(err, "taking the backup barrier");
    }
    if (opts->two_step) {
        snap->pending = 1; /* the instant is taken by my_snapshot_freeze */
        cairn_strlcpy(snap->mode, "pending", sizeof snap->mode);
        return CAIRN_OK;
    }
    if (take_instant(ms->leader, snap, err) != CAIRN_OK) {
        my_snapshot_close(snap);
        return err->code;
    }
    return CAIRN_OK;
}

int my_snapshot_freeze(cairn_snapshot *snap, cairn_unit *units, size_t nunits, cairn_error *err)
{
    my_snap *ms = snap->priv;
    if (!ms || !snap->pending)
        return cairn_error_set(err, CAIRN_ERR, "no pending snapshot to freeze");
    if (take_instant(ms->leader, snap, err) != CAIRN_OK)
        return err->code;
    snap->pending = 0;
    for (size_t i = 0; i < nunits; i++) {
        cairn_unit *u = &units[i];
        free(u->position);
        u->position = cairn_xstrdup(snap->position);
        if (!cairn_unit_failed(u) && my_read_sequence_values(ms->leader, u, err) != CAIRN_OK)
            return cairn_error_prefix(err, "database %s", u->name);
    }
    return CAIRN_OK;
}

void my_snapshot_release(cairn_snapshot *snap)
{
    my_snap *ms = snap ? snap->priv : NULL;
    if (!ms || !ms->in_stage)
        return;
    cairn_error e = {0};
    if (my_exec(ms->leader, "BACKUP STAGE END", &e) != CAIRN_OK) {
        unsigned code = mysql_errno(ms->leader);
        if (code == 2006 || code == 2013) /* the stage ended with the lost connection */
            cairn_debug("backup stage ended with the connection: %s", e.message);
        else
            cairn_warn("cannot end the backup stage: %s", e.message);
    }
    ms->in_stage = 0;
}

void my_snapshot_close(cairn_snapshot *snap)
{
    my_snap *ms = snap ? snap->priv : NULL;
    if (!ms)
        return;
    my_snapshot_release(snap);
    mysql_close(ms->leader);
    free(ms);
    snap->priv = NULL;
}

/* Starts a consistent-snapshot transaction and reads the binlog position
 * it is at ("file:pos"). */
static int start_snapshot(MYSQL *my, char *identity, size_t cap, cairn_error *err)
{
    if (my_exec(my, "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY", err) != CAIRN_OK)
        return err->code;
    MYSQL_RES *res = NULL;
    if (my_query(my, "SHOW STATUS LIKE 'binlog_snapshot_%'", &res, err) != CAIRN_OK)
        return err->code;
    char file[256] = "", pos[64] = "";
    MYSQL_ROW row;
    while ((row = mysql_fetch_row(res))) {
        if (strcmp(row[0], "Binlog_snapshot_file") == 0)
            cairn_strlcpy(file, row[1] ? row[1] : "", sizeof file);
        else if (strcmp(row[0], "Binlog_snapshot_position") == 0)
            cairn_strlcpy(pos, row[1] ? row[1] : "", sizeof pos);
    }
    mysql_free_result(res);
    snprintf(identity, cap, "%s:%s", file, pos);
    return CAIRN_OK;
}

/* A worker joins while the leader's barrier holds, so its snapshot should
 * see exactly the leader's position.  If it does not (a commit that was
 * already past the barrier's check when it was taken), the worker's
 * snapshot is retaken a few times before the backup gives up: a snapshot
 * at another position would mix two instants. */
#define JOIN_ATTEMPTS 5

int my_snapshot_join(cairn_conn *conn, const cairn_snapshot *snap, char *identity, size_t cap,
                     cairn_error *err)
{
    MYSQL *my = conn->my;
    if (my_session_setup(my, err) != CAIRN_OK ||
        my_exec(my, "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ", err) != CAIRN_OK)
        return cairn_error_prefix(err, "joining the snapshot");
    for (int attempt = 1;; attempt++) {
        if (start_snapshot(my, identity, cap, err) != CAIRN_OK)
            return cairn_error_prefix(err, "joining the snapshot");
        if (strcmp(snap->mode, "binlog") != 0) {
            cairn_strlcpy(identity, "nobinlog", cap);
            return CAIRN_OK;
        }
        if (strcmp(identity, snap->position) == 0 && !cairn_fault("mariadb-join-mismatch"))
            return CAIRN_OK;
        if (attempt == JOIN_ATTEMPTS)
            return cairn_error_set(err, CAIRN_EVERIFY,
                                   "a worker's snapshot is at %s, not at the leader's %s, after "
                                   "%d attempts",
                                   identity, snap->position, attempt);
        cairn_warn("a worker's snapshot is at %s, not at the leader's %s: retaking it", identity,
                   snap->position);
        if (my_exec(my, "ROLLBACK", err) != CAIRN_OK)
            return err->code;
        usleep(100000u * (unsigned)attempt);
    }
}
