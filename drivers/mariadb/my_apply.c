/* Replaying stored binlog files on the target, exactly once.
 *
 * The increment's files are unpacked to a private temporary directory and
 * scanned for their transactions (my_binlog.h), which decides the range to
 * replay: from the position the target already holds (the progress record,
 * or the parent's end) to the last transaction that committed at or before
 * the stop.  mariadb-binlog turns that range into SQL (--start-position,
 * --stop-position, --disable-log-bin), and cairn runs it statement by
 * statement on its own connection, adding one statement to each
 * transaction before its COMMIT: the progress record moves to the
 * transaction's end position in the same InnoDB transaction as its rows.
 * A DDL statement commits by itself, so its progress is recorded right
 * after it; a restore killed in that instant replays the statement again
 * on resume (the one window where exactly-once is not guaranteed).  Time
 * targets have the binlog's resolution: whole seconds.
 *
 * A unit is a database.  A replay of some units (restore --tenant, a
 * resumed backup's catch-up) keeps the row events of their tables: each
 * BINLOG statement is preceded by the table maps it uses, which name the
 * database; one that changes tables of a kept and of a left-out database
 * cannot be split and stops the replay, as does any other statement that
 * may change data or a schema (which database it touches is not known).
 * Administration statements -- GRANT, CREATE USER, FLUSH, ANALYZE TABLE
 * ... -- are passed over in every replay: cairn backs up databases, not
 * accounts, and the target may not have the users they name. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mariadb/my_binlog.h"
#include "mariadb/my_int.h"
#include "util/child.h"
#include "util/fault.h"
#include "util/log.h"
#include "util/text.h"

#define PROGRESS_TBL "`_cairn_restore`.`progress`"

typedef struct {
    char name[256];
    my_group *groups;
    size_t ngroups;
} stored_file;

static int name_ok(const char *s)
{
    if (!*s || strlen(s) > 200 || s[0] == '.')
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '.' || *s == '_' || *s == '-'))
            return 0;
    return 1;
}

/* Unpacks the stored files into dir, scanning each for its transactions. */
static int unpack(cairn_log_open open, void *arg, const char *dir, stored_file **files,
                  size_t *nfiles, cairn_error *err)
{
    cairn_source *src = NULL;
    if (open(arg, &src, err) != CAIRN_OK)
        return err->code;
    FILE *out = NULL;
    my_binlog_scan scan;
    my_binlog_scan_init(&scan);
    char *buf = NULL;
    size_t cap = 0;
    int rc;
    *files = NULL;
    *nfiles = 0;
    for (;;) {
        size_t len = 0;
        rc = cairn_record_read(src, &buf, &cap, &len, 64u << 20, err);
        if (rc != CAIRN_OK)
            break;
        if (len == 0) {
            rc = cairn_error_set(err, CAIRN_EVERIFY, "a log record is empty");
            break;
        }
        if (buf[0] == MY_REC_FILE) {
            buf[len] = '\0';
            if (out) { /* the previous file is complete */
                fclose(out);
                out = NULL;
                if (my_binlog_scan_end(&scan) != 0) {
                    rc = cairn_error_set(err, CAIRN_EVERIFY, "stored binlog %s: %s",
                                         (*files)[*nfiles - 1].name, scan.why);
                    break;
                }
                (*files)[*nfiles - 1].groups = scan.groups;
                (*files)[*nfiles - 1].ngroups = scan.ngroups;
                my_binlog_scan_init(&scan);
            }
            const char *name = buf + 1;
            if (!name_ok(name)) {
                rc = cairn_error_set(err, CAIRN_EVERIFY, "a stored binlog has a bad name");
                break;
            }
            *files = cairn_xrealloc(*files, (*nfiles + 1) * sizeof **files);
            memset(&(*files)[*nfiles], 0, sizeof **files);
            cairn_strlcpy((*files)[(*nfiles)++].name, name, sizeof(*files)->name);
            char *path = cairn_xasprintf("%s/%s", dir, name);
            out = fopen(path, "wxbe");
            free(path);
            if (!out) {
                rc = cairn_error_errno(err, errno, "cannot unpack binlog %s", name);
                break;
            }
        } else if (buf[0] == MY_REC_DATA && out) {
            my_binlog_scan_feed(&scan, (const unsigned char *)buf + 1, len - 1);
            if (fwrite(buf + 1, 1, len - 1, out) != len - 1) {
                rc = cairn_error_errno(err, errno, "cannot unpack a binlog");
                break;
            }
        } else {
            rc = cairn_error_set(err, CAIRN_EVERIFY, "a log record of an unknown kind");
            break;
        }
    }
    if (rc == -1)
        rc = CAIRN_OK;
    if (out) {
        if (fclose(out) != 0 && rc == CAIRN_OK)
            rc = cairn_error_errno(err, errno, "cannot unpack a binlog");
        if (rc == CAIRN_OK && my_binlog_scan_end(&scan) != 0)
            rc = cairn_error_set(err, CAIRN_EVERIFY, "stored binlog %s: %s",
                                 (*files)[*nfiles - 1].name, scan.why);
        if (rc == CAIRN_OK) {
            (*files)[*nfiles - 1].groups = scan.groups;
            (*files)[*nfiles - 1].ngroups = scan.ngroups;
            scan.groups = NULL;
        }
    }
    free(scan.groups);
    free(buf);
    cairn_source_free(src);
    return rc;
}

/* ---- executing mariadb-binlog's output ---- */

typedef struct {
    cairn_sink base;
    MYSQL *my;
    cairn_buf line;   /* the line being gathered */
    cairn_buf stmt;   /* the statement being gathered */
    char delim[16];   /* mariadb-binlog switches to /\*!*\/; */
    char file[256];   /* the binlog file events come from */
    uint64_t end_pos; /* end_log_pos of the last event header seen */
    int in_group, in_txn, group_done;
    uint64_t transactions, changes, admin;
    char last[300];                 /* position of the last transaction applied */
    const cairn_apply_opts *filter; /* some units alone; NULL: every change */
    int txn_applied;                /* the transaction in progress applied a change */
    /* the table maps since the last statement: how many of kept and of
     * left-out databases, and one of each by name */
    int maps_kept, maps_left;
    char kept_db[200], left_db[200];
} exec_sink;

static int exec_sql(exec_sink *x, const char *sql, size_t len)
{
    if (mysql_real_query(x->my, sql, (unsigned long)len) != 0) {
        my_error(x->my, &x->base.err, "replaying the binlog failed");
        return cairn_error_prefix(&x->base.err, "at %s:%llu", x->file,
                                  (unsigned long long)x->end_pos);
    }
    MYSQL_RES *res = mysql_store_result(x->my);
    mysql_free_result(res);
    while (mysql_more_results(x->my) && mysql_next_result(x->my) == 0)
        mysql_free_result(mysql_store_result(x->my));
    return CAIRN_OK;
}

static int record_progress(exec_sink *x)
{
    snprintf(x->last, sizeof x->last, "%s:%llu", x->file, (unsigned long long)x->end_pos);
    char *sql = cairn_xasprintf("UPDATE " PROGRESS_TBL " SET position = '%s', updated_at = "
                                "UTC_TIMESTAMP(6)",
                                x->last);
    int rc = exec_sql(x, sql, strlen(sql));
    free(sql);
    return rc;
}

/* A group that committed by itself (DDL) is recorded once it is over. */
static int close_group(exec_sink *x)
{
    int rc = CAIRN_OK;
    if (x->in_group && !x->group_done) {
        rc = record_progress(x);
        x->transactions += !x->filter || x->txn_applied;
        if (rc == CAIRN_OK && cairn_fault("my-apply-kill"))
            kill(getpid(), SIGKILL); /* tests: a restore killed between transactions */
    }
    x->in_group = x->in_txn = x->group_done = 0;
    return rc;
}

static int keeps(const cairn_apply_opts *f, const char *db)
{
    if (f->rename_to && strcmp(db, f->rename_to) == 0)
        return 1; /* the restored tenant, renamed by mariadb-binlog --rewrite-db */
    if (f->only_units)
        return cairn_strv_contains(f->only_units, db);
    return !cairn_strv_contains(f->skip_units, db);
}

/* A BINLOG statement after `kept` and `left` table maps: run when it
 * changes kept databases alone, or is no row event (the format event). */
static int rows_kept(exec_sink *x, int kept, int left, int *run)
{
    *run = !x->filter || kept || !left;
    if (x->filter && kept && left) {
        cairn_error_set(&x->base.err, CAIRN_ENOCHAIN,
                        "one statement at %s:%llu changes both `%s` and `%s`, which this restore "
                        "keeps apart",
                        x->file, (unsigned long long)x->end_pos, x->kept_db, x->left_db);
        return cairn_error_hint(&x->base.err, "restore those units together, or the whole backup");
    }
    return CAIRN_OK;
}

/* Anything but rows, transaction control and session settings. */
static int other_statement(exec_sink *x, const char *p, int *run)
{
    my_stmt_kind k = my_statement_kind(p, strlen(p));
    *run = k != MY_STMT_ADMIN;
    if (k == MY_STMT_ADMIN) {
        if (x->admin++ == 0)
            cairn_info("passing over administration statements in the log, such as \"%.60s\" "
                       "(cairn restores databases, not accounts)",
                       p);
        return CAIRN_OK;
    }
    if (k == MY_STMT_OTHER && x->filter) {
        cairn_error_set(&x->base.err, CAIRN_ENOCHAIN,
                        "the log holds a statement at %s:%llu that a restore of some units "
                        "cannot replay: %.60s",
                        x->file, (unsigned long long)x->end_pos, p);
        return cairn_error_hint(&x->base.err,
                                "restore the whole backup onto a new server, or the tenant "
                                "from a backup taken after that statement");
    }
    return CAIRN_OK;
}

static void trim(char *s)
{
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == ' ' || s[n - 1] == '\r'))
        s[--n] = '\0';
}

static int statement(exec_sink *x, char *sql)
{
    trim(sql);
    char *p = sql;
    while (*p == ' ' || *p == '\n')
        p++;
    if (!*p)
        return CAIRN_OK;
    int kept = x->maps_kept, left = x->maps_left;
    x->maps_kept = x->maps_left = 0;
    if (strcmp(p, "START TRANSACTION") == 0 || strcmp(p, "BEGIN") == 0) {
        x->in_txn = 1;
        x->txn_applied = 0;
    }
    if (x->in_txn && strcmp(p, "COMMIT") == 0) {
        int rc = record_progress(x);
        if (rc == CAIRN_OK)
            rc = exec_sql(x, p, strlen(p));
        if (rc == CAIRN_OK) {
            x->transactions += !x->filter || x->txn_applied;
            x->group_done = 1;
            x->in_txn = 0;
            if (cairn_fault("my-apply-kill"))
                kill(getpid(), SIGKILL); /* tests: a restore killed between transactions */
        }
        return rc;
    }
    if (strncmp(p, "/*!\\C ", 6) == 0) {
        /* the client's "charset" command, which the mariadb client runs
         * itself: set the connection's character set the same way */
        char cs[64] = "";
        sscanf(p + 6, "%63[A-Za-z0-9_]", cs);
        if (!cs[0] || mysql_set_character_set(x->my, cs) != 0) {
            my_error(x->my, &x->base.err, "cannot set the character set of the replay");
            return x->base.err.code;
        }
        return CAIRN_OK;
    }
    int run = 1, rc = CAIRN_OK;
    if (strncmp(p, "BINLOG ", 7) == 0) {
        rc = rows_kept(x, kept, left, &run);
        if (run && x->in_group) {
            x->changes++;
            x->txn_applied = 1;
        }
    } else if (strncmp(p, "use ", 4) == 0) {
        run = !x->filter; /* only row events are replayed then: they name their database */
    } else if (strncmp(p, "/*!", 3) != 0 && strncmp(p, "/*M!", 4) != 0 &&
               !(strncmp(p, "SET ", 4) == 0 && my_statement_kind(p, strlen(p)) != MY_STMT_ADMIN) &&
               strcmp(p, "START TRANSACTION") != 0) {
        rc = other_statement(x, p, &run);
        x->txn_applied |= run && x->in_group;
    }
    if (rc != CAIRN_OK || !run)
        return rc;
    return exec_sql(x, p, strlen(p));
}

/* A comment line between statements: event headers carry positions. */
/* A table map's database: "...\tTable_map: `db`.`table` mapped to ...",
 * with backticks in a name doubled. */
static void table_map(exec_sink *x, const char *m)
{
    char db[200];
    size_t n = 0;
    for (m++; *m && n + 1 < sizeof db; m++) {
        if (*m == '`' && m[1] == '`')
            m++;
        else if (*m == '`')
            break;
        db[n++] = *m;
    }
    db[n] = '\0';
    int keep = keeps(x->filter, db);
    if (keep && x->maps_kept++ == 0)
        cairn_strlcpy(x->kept_db, db, sizeof x->kept_db);
    if (!keep && x->maps_left++ == 0)
        cairn_strlcpy(x->left_db, db, sizeof x->left_db);
}

/* Event headers ("#261126 18:50:41 server id 7  end_log_pos 1854 ...")
 * carry positions and what the event is; other comment lines (such as an
 * annotation's "#Q> " and the statement's text) carry nothing to act on. */
static int comment(exec_sink *x, const char *l)
{
    if (!(l[1] >= '0' && l[1] <= '9') || !strstr(l, " server id "))
        return CAIRN_OK;
    const char *t = strstr(l, "\tTable_map: `");
    if (t && x->filter)
        table_map(x, t + 12);
    const char *e = strstr(l, "end_log_pos ");
    if (e)
        x->end_pos = strtoull(e + 12, NULL, 10);
    if (strstr(l, "\tGTID ")) {
        int rc = close_group(x);
        x->in_group = 1;
        x->txn_applied = 0;
        return rc;
    }
    const char *r = strstr(l, "\tRotate to ");
    if (r) {
        int rc = close_group(x);
        r += 11;
        size_t n = strcspn(r, " \t\n");
        if (n && n < sizeof x->file) {
            memcpy(x->file, r, n);
            x->file[n] = '\0';
        }
        return rc;
    }
    return CAIRN_OK;
}

static int line(exec_sink *x, char *l)
{
    if (x->stmt.len == 0) {
        if (l[0] == '#')
            return comment(x, l);
        if (strspn(l, " \t\r\n") == strlen(l))
            return CAIRN_OK; /* a blank line between statements */
        if (strncmp(l, "DELIMITER ", 10) == 0) {
            char *d = l + 10;
            trim(d);
            cairn_strlcpy(x->delim, d, sizeof x->delim);
            return CAIRN_OK;
        }
    }
    cairn_buf_puts(&x->stmt, l);
    /* a statement ends with the delimiter at the end of a line */
    size_t dl = strlen(x->delim);
    char *s = x->stmt.data;
    size_t n = x->stmt.len;
    while (n && (s[n - 1] == '\n' || s[n - 1] == '\r'))
        n--;
    if (n >= dl && memcmp(s + n - dl, x->delim, dl) == 0) {
        s[n - dl] = '\0';
        int rc = statement(x, s);
        x->stmt.len = 0;
        x->stmt.data[0] = '\0';
        return rc;
    }
    return CAIRN_OK;
}

static int exec_write(cairn_sink *s, const void *buf, size_t len)
{
    exec_sink *x = (exec_sink *)s;
    const char *p = buf, *end = p + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p + 1) : (size_t)(end - p);
        cairn_buf_add(&x->line, p, n);
        p += n;
        if (!nl)
            break;
        int rc = line(x, x->line.data);
        x->line.len = 0;
        x->line.data[0] = '\0';
        if (rc != CAIRN_OK)
            return -1;
    }
    return 0;
}

static int exec_finish(cairn_sink *s)
{
    exec_sink *x = (exec_sink *)s;
    if (x->line.len && line(x, x->line.data) != CAIRN_OK)
        return -1;
    return close_group(x) == CAIRN_OK ? 0 : -1;
}

static void exec_release(cairn_sink *s)
{
    exec_sink *x = (exec_sink *)s;
    free(x->line.data);
    free(x->stmt.data);
}

static const cairn_sink_ops exec_ops = {exec_write, exec_finish, exec_release};

/* ---- choosing the range ---- */

typedef struct {
    size_t first, last; /* files to replay */
    uint64_t start;     /* --start-position in the first file, 0: none */
    uint64_t stop;      /* --stop-position in the last file, 0: none */
    int any, stopped;
} replay_range;

static int choose(const stored_file *files, size_t n, const cairn_apply_opts *opts, replay_range *r,
                  cairn_error *err)
{
    memset(r, 0, sizeof *r);
    char after_file[256] = "", stop_file[256] = "";
    uint64_t after_pos = 0, stop_pos = 0;
    if (opts->after && my_position_parse(opts->after, after_file, sizeof after_file, &after_pos))
        return cairn_error_set(err, CAIRN_ERR, "bad resume position %s", opts->after);
    if (opts->stop_position &&
        my_position_parse(opts->stop_position, stop_file, sizeof stop_file, &stop_pos))
        return cairn_error_set(err, CAIRN_EUSAGE, "bad stop position %s", opts->stop_position);
    int64_t stop_sec = opts->stop_time_us ? opts->stop_time_us / 1000000 : 0;
    for (size_t i = 0; i < n && !r->stopped; i++)
        for (size_t k = 0; k < files[i].ngroups; k++) {
            const my_group *g = &files[i].groups[k];
            if (after_file[0] &&
                my_position_order(files[i].name, g->end, after_file, after_pos) <= 0)
                continue;
            if ((stop_file[0] &&
                 my_position_order(files[i].name, g->end, stop_file, stop_pos) > 0) ||
                (stop_sec && (int64_t)g->time > stop_sec)) {
                r->stopped = 1;
                break;
            }
            if (!r->any) {
                r->any = 1;
                r->first = i;
                r->start = after_file[0] && strcmp(files[i].name, after_file) == 0 ? after_pos : 0;
            }
            r->last = i;
            r->stop = g->end;
        }
    if (r->any && !r->stopped && r->last + 1 == n)
        r->stop = 0; /* to the end of the last file */
    return CAIRN_OK;
}

static int run_replay(MYSQL *my, const char *dir, const stored_file *files, const replay_range *r,
                      const cairn_apply_opts *filter, cairn_apply_result *res, cairn_error *err)
{
    const char **argv = cairn_xcalloc(r->last - r->first + 9, sizeof *argv);
    char **paths = cairn_xcalloc(r->last - r->first + 2, sizeof *paths);
    char start[48] = "", stop[48] = "";
    size_t a = 0;
    argv[a++] = "mariadb-binlog";
    argv[a++] = "--no-defaults";
    argv[a++] = "--disable-log-bin";
    /* restore --as: the tenant's row events name its new database */
    char *rewrite =
        filter && filter->rename_from
            ? cairn_xasprintf("--rewrite-db=%s->%s", filter->rename_from, filter->rename_to)
            : NULL;
    if (rewrite)
        argv[a++] = rewrite;
    if (r->start) {
        snprintf(start, sizeof start, "--start-position=%llu", (unsigned long long)r->start);
        argv[a++] = start;
    }
    if (r->stop) {
        snprintf(stop, sizeof stop, "--stop-position=%llu", (unsigned long long)r->stop);
        argv[a++] = stop;
    }
    for (size_t i = r->first; i <= r->last; i++)
        argv[a++] = paths[i - r->first] = cairn_xasprintf("%s/%s", dir, files[i].name);
    exec_sink *x = cairn_xcalloc(1, sizeof *x);
    x->base.ops = &exec_ops;
    x->my = my;
    x->filter = filter;
    cairn_strlcpy(x->delim, ";", sizeof x->delim);
    cairn_strlcpy(x->file, files[r->first].name, sizeof x->file);
    const char *env[] = {"TZ=UTC", NULL};
    int rc = cairn_child_run(argv, env, &x->base, err);
    if (rc == CAIRN_OK && cairn_sink_finish(&x->base) != 0) {
        *err = *cairn_sink_error(&x->base);
        rc = err->code ? err->code : CAIRN_ERR;
    }
    res->transactions += x->transactions;
    res->changes += x->changes;
    if (x->last[0])
        cairn_strlcpy(res->last_position, x->last, sizeof res->last_position);
    cairn_sink_free(&x->base);
    for (size_t i = 0; i <= r->last - r->first; i++)
        free(paths[i]);
    free(paths);
    free(argv);
    free(rewrite);
    return rc;
}

int my_log_apply(cairn_conn *conn, const cairn_identity *source, cairn_log_open open,
                 void *open_arg, const cairn_apply_opts *opts, cairn_apply_result *res,
                 cairn_error *err)
{
    (void)source;
    memset(res, 0, sizeof *res);
    const cairn_apply_opts *filter = opts->only_units || opts->skip_units ? opts : NULL;
    if (opts->rename_to && (cairn_strv_contains(opts->skip_units, opts->rename_to) ||
                            cairn_strv_contains(opts->only_units, opts->rename_to))) {
        cairn_error_set(err, CAIRN_EUSAGE,
                        "the backup's source has a database %s too: its changes and the "
                        "renamed tenant's could not be told apart in the log",
                        opts->rename_to);
        return cairn_error_hint(err, "choose a name the source does not use");
    }
    char *dir = cairn_temp_dir("replay", err);
    if (!dir)
        return err->code;
    stored_file *files = NULL;
    size_t n = 0;
    replay_range r;
    int rc = unpack(open, open_arg, dir, &files, &n, err);
    if (rc == CAIRN_OK)
        rc = choose(files, n, opts, &r, err);
    if (rc == CAIRN_OK && r.any)
        rc = run_replay(conn->my, dir, files, &r, filter, res, err);
    if (rc == CAIRN_OK)
        res->stopped = r.stopped;
    if (rc != CAIRN_OK)
        mysql_query(conn->my, "ROLLBACK");
    for (size_t i = 0; i < n; i++) {
        char *p = cairn_xasprintf("%s/%s", dir, files[i].name);
        unlink(p);
        free(p);
        free(files[i].groups);
    }
    free(files);
    rmdir(dir);
    free(dir);
    return rc;
}

/* ---- progress on the target ---- */

int my_progress_read(const char *uri, char *chain, size_t chain_cap, char *phase, size_t phase_cap,
                     char *position, size_t position_cap, cairn_error *err)
{
    chain[0] = phase[0] = position[0] = '\0';
    MYSQL *my = NULL;
    if (my_connect(uri, &my, err) != CAIRN_OK)
        return err->code;
    MYSQL_RES *res = NULL;
    int rc = my_query(my,
                      "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = "
                      "'_cairn_restore' AND TABLE_NAME = 'progress'",
                      &res, err);
    int exists = 0;
    if (rc == CAIRN_OK) {
        MYSQL_ROW row = mysql_fetch_row(res);
        exists = row && row[0] && strcmp(row[0], "0") != 0;
        mysql_free_result(res);
    }
    if (rc == CAIRN_OK && exists) {
        rc = my_query(my, "SELECT chain, phase, position FROM " PROGRESS_TBL, &res, err);
        if (rc == CAIRN_OK) {
            MYSQL_ROW row = mysql_fetch_row(res);
            if (row) {
                cairn_strlcpy(chain, row[0] ? row[0] : "", chain_cap);
                cairn_strlcpy(phase, row[1] ? row[1] : "", phase_cap);
                cairn_strlcpy(position, row[2] ? row[2] : "", position_cap);
            }
            mysql_free_result(res);
        }
    }
    mysql_close(my);
    return rc;
}

int my_progress_write(cairn_conn *conn, const char *chain, const char *phase, const char *position,
                      cairn_error *err)
{
    MYSQL *my = conn->my;
    if (my_exec(my, "CREATE DATABASE IF NOT EXISTS `_cairn_restore`", err) != CAIRN_OK ||
        my_exec(my,
                "CREATE TABLE IF NOT EXISTS " PROGRESS_TBL " (chain VARCHAR(64) NOT NULL, "
                "phase VARCHAR(16) NOT NULL, position VARCHAR(300) NOT NULL, updated_at "
                "DATETIME(6) NOT NULL) ENGINE = InnoDB",
                err) != CAIRN_OK)
        return cairn_error_prefix(err, "recording restore progress");
    char *c = my_literal(my, chain), *ph = my_literal(my, phase), *pos = my_literal(my, position);
    char *sql = cairn_xasprintf("INSERT INTO " PROGRESS_TBL " VALUES (%s, %s, %s, "
                                "UTC_TIMESTAMP(6))",
                                c, ph, pos);
    int rc = my_exec(my, "START TRANSACTION", err);
    if (rc == CAIRN_OK)
        rc = my_exec(my, "DELETE FROM " PROGRESS_TBL, err);
    if (rc == CAIRN_OK)
        rc = my_exec(my, sql, err);
    if (rc == CAIRN_OK)
        rc = my_exec(my, "COMMIT", err);
    free(sql);
    free(c);
    free(ph);
    free(pos);
    return rc;
}

int my_progress_drop(cairn_conn *conn, cairn_error *err)
{
    return my_exec(conn->my, "DROP DATABASE IF EXISTS `_cairn_restore`", err);
}
