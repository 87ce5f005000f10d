/* Replaying a stored log on the target, exactly once.
 *
 * The log is read twice.  The first pass collects each transaction's
 * commit position and time, so the second pass knows before a
 * transaction's first change whether to skip it (already applied: the
 * target's progress row says so), apply it, or stop (past the target
 * position or time) -- without holding a transaction in memory.  Each
 * source transaction becomes one target transaction, sent in batches of
 * statements; its last statement moves the progress row to the commit's
 * position, so the change and the record of it commit together and a
 * restore killed at any point resumes at the first transaction the target
 * does not hold.
 *
 * Statements: rows are found by the table's replica identity on the
 * target (primary key or identity index), with the key from old-key when
 * the key changed; a REPLICA IDENTITY FULL table is matched on every
 * column's text (json and point have no equality operator) and one row is
 * changed (ctid), so duplicate rows stay duplicates.  Every UPDATE and
 * DELETE must touch exactly one row: anything else means the target is not
 * the state the log was taken from, and the restore stops.  The session
 * runs with session_replication_role = replica: triggers and foreign keys
 * do not fire, because what they did on the source is in the log already. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "postgres/pg_decode.h"
#include "postgres/pg_int.h"
#include "util/fault.h"
#include "util/log.h"
#include "util/text.h"

#define BATCH_BYTES  (1u << 20)
#define BATCH_STMTS  500
#define PROGRESS_TBL "_cairn_restore.progress"

/* ---- reading records ---- */

/* The next record: CAIRN_OK, -1 at the end, or an error code. */
static int next_record(cairn_source *src, char **buf, size_t *cap, pgd_record *rec,
                       cairn_error *err)
{
    size_t len = 0;
    int rc = cairn_record_read(src, buf, cap, &len, 1u << 30, err);
    if (rc != CAIRN_OK)
        return rc;
    if (pgd_record_parse(*buf, len, rec) != 0)
        return cairn_error_set(err, CAIRN_EVERIFY, "a log record is malformed");
    return CAIRN_OK;
}

/* ---- commit times ---- */

/* Commit times print as "2026-11-26 11:01:36.656429+00" (the capture
 * session runs in UTC). */
static int64_t commit_time_us(const char *s)
{
    int64_t us = 0;
    return cairn_time_parse_us(s, &us) == 0 ? us : 0;
}

typedef struct {
    uint64_t lsn;
    int64_t time_us;
} commit_info;

/* First pass: every transaction's commit position and time, in order. */
static int scan_commits(cairn_log_open open, void *arg, commit_info **out, size_t *n,
                        cairn_error *err)
{
    cairn_source *src = NULL;
    if (open(arg, &src, err) != CAIRN_OK)
        return err->code;
    char *buf = NULL;
    size_t cap = 0, alloc = 0;
    pgd_record rec;
    int rc;
    *out = NULL;
    *n = 0;
    while ((rc = next_record(src, &buf, &cap, &rec, err)) == CAIRN_OK) {
        if (rec.len < 6 || memcmp(rec.data, "COMMIT", 6) != 0)
            continue;
        pgd_change c;
        char why[128];
        if (pgd_parse(rec.data, rec.len, &c, why, sizeof why) != 0) {
            rc = cairn_error_set(err, CAIRN_EVERIFY, "malformed commit in the log: %s", why);
            break;
        }
        if (*n == alloc) {
            alloc = alloc ? alloc * 2 : 256;
            *out = cairn_xrealloc(*out, alloc * sizeof **out);
        }
        (*out)[(*n)++] = (commit_info){rec.lsn, commit_time_us(c.commit_time)};
        pgd_change_clear(&c);
    }
    free(buf);
    cairn_source_free(src);
    return rc == -1 ? CAIRN_OK : rc;
}

/* ---- the target's tables ---- */

typedef struct {
    char *schema, *name, *qualified;
    char identity;  /* relreplident: 'd' default, 'f' full, 'i' index, 'n' nothing */
    char **columns; /* every live column, attnum order */
    int *is_key, *is_generated;
    size_t ncolumns;
} table_info;

typedef struct {
    PGconn *pg;
    table_info *tables;
    size_t ntables;
} apply_state;

static void tables_reset(apply_state *st)
{
    for (size_t i = 0; i < st->ntables; i++) {
        table_info *t = &st->tables[i];
        free(t->schema);
        free(t->name);
        free(t->qualified);
        for (size_t k = 0; k < t->ncolumns; k++)
            free(t->columns[k]);
        free(t->columns);
        free(t->is_key);
        free(t->is_generated);
    }
    free(st->tables);
    st->tables = NULL;
    st->ntables = 0;
}

static const char *const table_sql =
    "SELECT c.relreplident, a.attname, a.attgenerated <> '', "
    "  EXISTS (SELECT 1 FROM pg_catalog.pg_index i WHERE i.indrelid = c.oid "
    "    AND a.attnum = ANY (i.indkey) "
    "    AND (i.indisreplident OR (i.indisprimary AND c.relreplident = 'd'))) "
    "FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
    "JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 "
    "  AND NOT a.attisdropped "
    "WHERE n.nspname = $1 AND c.relname = $2 ORDER BY a.attnum";

static int table_lookup(apply_state *st, const char *schema, const char *name, table_info **out,
                        cairn_error *err)
{
    for (size_t i = 0; i < st->ntables; i++)
        if (strcmp(st->tables[i].schema, schema) == 0 && strcmp(st->tables[i].name, name) == 0) {
            *out = &st->tables[i];
            return CAIRN_OK;
        }
    const char *params[2] = {schema, name};
    PGresult *res = NULL;
    if (pg_query_params(st->pg, table_sql, 2, params, &res, err, "cannot read a table's columns") !=
        CAIRN_OK)
        return err->code;
    int n = PQntuples(res);
    if (n == 0) {
        PQclear(res);
        cairn_error_set(err, CAIRN_ERR, "the log changes table %s.%s, which the target lacks",
                        schema, name);
        return cairn_error_hint(err, "the table was created after the full backup without "
                                     "cairn's DDL capture; restore to an earlier point or take "
                                     "a new full backup");
    }
    st->tables = cairn_xrealloc(st->tables, (st->ntables + 1) * sizeof *st->tables);
    table_info *t = &st->tables[st->ntables++];
    memset(t, 0, sizeof *t);
    t->schema = cairn_xstrdup(schema);
    t->name = cairn_xstrdup(name);
    t->qualified = pg_qualified(st->pg, schema, name);
    t->identity = PQgetvalue(res, 0, 0)[0];
    t->ncolumns = (size_t)n;
    t->columns = cairn_xcalloc((size_t)n, sizeof *t->columns);
    t->is_key = cairn_xcalloc((size_t)n, sizeof *t->is_key);
    t->is_generated = cairn_xcalloc((size_t)n, sizeof *t->is_generated);
    for (int i = 0; i < n; i++) {
        t->columns[i] = cairn_xstrdup(PQgetvalue(res, i, 1));
        t->is_generated[i] = PQgetvalue(res, i, 2)[0] == 't';
        t->is_key[i] = PQgetvalue(res, i, 3)[0] == 't';
    }
    PQclear(res);
    *out = t;
    return CAIRN_OK;
}

static int column_index(const table_info *t, const char *name)
{
    for (size_t i = 0; i < t->ncolumns; i++)
        if (strcmp(t->columns[i], name) == 0)
            return (int)i;
    return -1;
}

static const pgd_column *find_col(const pgd_column *cols, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(cols[i].name, name) == 0)
            return &cols[i];
    return NULL;
}

static void add_ident(apply_state *st, cairn_buf *b, const char *name)
{
    char *q = PQescapeIdentifier(st->pg, name, strlen(name));
    cairn_buf_puts(b, q ? q : "\"?\"");
    PQfreemem(q);
}

/* WHERE clause finding the row a change names, or an error. */
static int row_condition(apply_state *st, const table_info *t, const pgd_column *cols, size_t n,
                         cairn_buf *b, cairn_error *err)
{
    if (t->identity == 'f') {
        /* every column, as text; absent from the old row means NULL */
        cairn_buf_puts(b, "ctid = (SELECT ctid FROM ");
        cairn_buf_puts(b, t->qualified);
        cairn_buf_puts(b, " WHERE true");
        for (size_t i = 0; i < t->ncolumns; i++) {
            const pgd_column *c = find_col(cols, n, t->columns[i]);
            if (c && c->unchanged_toast)
                continue;
            cairn_buf_puts(b, " AND ");
            add_ident(st, b, t->columns[i]);
            if (!c || !c->literal) {
                cairn_buf_puts(b, " IS NULL");
            } else {
                cairn_buf_puts(b, "::text = ");
                cairn_buf_puts(b, c->literal);
            }
        }
        cairn_buf_puts(b, " LIMIT 1)");
        return CAIRN_OK;
    }
    int keys = 0;
    for (size_t i = 0; i < t->ncolumns; i++) {
        if (!t->is_key[i])
            continue;
        const pgd_column *c = find_col(cols, n, t->columns[i]);
        if (!c || !c->literal)
            return cairn_error_set(err, CAIRN_ERR,
                                   "a change to %s lacks its key column %s: the log cannot "
                                   "find its row",
                                   t->qualified, t->columns[i]);
        cairn_buf_puts(b, keys++ ? " AND " : "");
        add_ident(st, b, t->columns[i]);
        cairn_buf_puts(b, " = ");
        cairn_buf_puts(b, c->literal);
    }
    if (!keys)
        return cairn_error_set(err, CAIRN_ERR,
                               "table %s has no primary key or replica identity on the target",
                               t->qualified);
    return CAIRN_OK;
}

/* The statement for one change, into an empty b (left empty when the
 * change needs none); *expect_one says whether it must touch exactly one
 * row. */
static int change_sql(apply_state *st, const pgd_change *c, cairn_buf *b, int *expect_one,
                      cairn_error *err)
{
    *expect_one = 0;
    table_info *t = NULL;
    if (c->kind == PGD_TRUNCATE) {
        cairn_buf_puts(b, "TRUNCATE ONLY ");
        for (size_t i = 0; i < c->ntruncated; i += 2) {
            char *q = pg_qualified(st->pg, c->truncated[i], c->truncated[i + 1]);
            cairn_buf_printf(b, "%s%s", i ? ", " : "", q);
            free(q);
        }
        cairn_buf_puts(b, c->restart_seqs ? " RESTART IDENTITY;\n" : ";\n");
        return CAIRN_OK;
    }
    if (table_lookup(st, c->schema, c->table, &t, err) != CAIRN_OK)
        return err->code;
    if (c->kind == PGD_INSERT) {
        cairn_buf vals = {0};
        cairn_buf_printf(b, "INSERT INTO %s (", t->qualified);
        int n = 0;
        for (size_t i = 0; i < c->ncols; i++) {
            int k = column_index(t, c->cols[i].name);
            if (k < 0 || t->is_generated[k])
                continue;
            cairn_buf_puts(b, n ? ", " : "");
            cairn_buf_puts(&vals, n++ ? ", " : "");
            add_ident(st, b, c->cols[i].name);
            cairn_buf_puts(&vals, c->cols[i].literal ? c->cols[i].literal : "NULL");
        }
        if (n) {
            cairn_buf_printf(b, ") VALUES (%s);\n", vals.data);
        } else {
            b->len = 0;
            cairn_buf_printf(b, "INSERT INTO %s DEFAULT VALUES;\n", t->qualified);
        }
        free(vals.data);
        return CAIRN_OK;
    }
    *expect_one = 1;
    if (c->kind == PGD_DELETE) {
        cairn_buf_printf(b, "DELETE FROM %s WHERE ", t->qualified);
        if (row_condition(st, t, c->cols, c->ncols, b, err) != CAIRN_OK)
            return err->code;
        cairn_buf_puts(b, ";\n");
        return CAIRN_OK;
    }
    /* UPDATE: every new value but unchanged TOAST and generated columns */
    cairn_buf_printf(b, "UPDATE %s SET ", t->qualified);
    int n = 0;
    for (size_t i = 0; i < c->ncols; i++) {
        int k = column_index(t, c->cols[i].name);
        if (k < 0 || t->is_generated[k] || c->cols[i].unchanged_toast)
            continue;
        cairn_buf_puts(b, n++ ? ", " : "");
        add_ident(st, b, c->cols[i].name);
        cairn_buf_puts(b, " = ");
        cairn_buf_puts(b, c->cols[i].literal ? c->cols[i].literal : "NULL");
    }
    if (!n) { /* nothing but unchanged TOAST: the row is as it was */
        *expect_one = 0;
        b->len = 0;
        b->data[0] = '\0';
        return CAIRN_OK;
    }
    cairn_buf_puts(b, " WHERE ");
    if (c->nold)
        return row_condition(st, t, c->old, c->nold, b, err) != CAIRN_OK
                   ? err->code
                   : (cairn_buf_puts(b, ";\n"), CAIRN_OK);
    if (row_condition(st, t, c->cols, c->ncols, b, err) != CAIRN_OK)
        return err->code;
    cairn_buf_puts(b, ";\n");
    return CAIRN_OK;
}

/* ---- sending batches ---- */

typedef struct {
    size_t offset; /* where the statement starts in sql */
    int one;       /* it must touch exactly one row */
} stmt_info;

typedef struct {
    cairn_buf sql;
    stmt_info *stmts;
    size_t nstmts, cap;
} batch;

/* Appends one statement (ending in ";\n"). */
static void batch_stmt(batch *bt, const char *sql, int one)
{
    if (bt->nstmts == bt->cap) {
        bt->cap = bt->cap ? bt->cap * 2 : 64;
        bt->stmts = cairn_xrealloc(bt->stmts, bt->cap * sizeof *bt->stmts);
    }
    bt->stmts[bt->nstmts++] = (stmt_info){bt->sql.len, one};
    cairn_buf_puts(&bt->sql, sql);
}

/* Sends the batch as one simple query and checks every statement's result. */
static int batch_flush(apply_state *st, batch *bt, cairn_error *err)
{
    if (bt->nstmts == 0)
        return CAIRN_OK;
    int rc = CAIRN_OK;
    if (!PQsendQuery(st->pg, bt->sql.data))
        rc = pg_error(st->pg, NULL, err, "replaying the log failed");
    size_t i = 0;
    PGresult *res;
    while (rc == CAIRN_OK && (res = PQgetResult(st->pg))) {
        ExecStatusType s = PQresultStatus(res);
        if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
            rc = pg_error(st->pg, res, err, "replaying the log failed");
        } else if (i < bt->nstmts && bt->stmts[i].one && strcmp(PQcmdTuples(res), "1") != 0) {
            rc = cairn_error_set(err, CAIRN_ERR,
                                 "replaying the log: a change found %s rows instead of one: "
                                 "%.200s",
                                 PQcmdTuples(res), bt->sql.data + bt->stmts[i].offset);
            cairn_error_hint(err, "the target is not in the state the log starts from (was it "
                                  "changed during the restore?)");
        }
        i++;
        PQclear(res);
    }
    while ((res = PQgetResult(st->pg)))
        PQclear(res);
    bt->sql.len = 0;
    if (bt->sql.data)
        bt->sql.data[0] = '\0';
    bt->nstmts = 0;
    return rc;
}

/* ---- the second pass ---- */

/* A change to a table of schema belongs to the tenant unit of that name,
 * or to the database's unit. */
static int skipped_unit(const cairn_apply_opts *opts, const char *schema)
{
    if (!opts->skip_units || !schema)
        return 0;
    const char *unit =
        cairn_strv_contains(opts->tenant_units, schema) ? schema : opts->database_unit;
    return unit && cairn_strv_contains(opts->skip_units, unit);
}

/* A change this replay leaves alone; -1 for a TRUNCATE of tables of a kept
 * and of a left-out unit at once, which cannot be split. */
static int skipped_change(const cairn_apply_opts *opts, const pgd_change *c)
{
    if (c->kind != PGD_TRUNCATE)
        return skipped_unit(opts, c->schema);
    size_t left = 0;
    for (size_t i = 0; i < c->ntruncated; i += 2)
        left += (size_t)skipped_unit(opts, c->truncated[i]);
    return left == 0 ? 0 : left * 2 == c->ntruncated ? 1 : -1;
}

/* restore --as: the tenant's changes go to its new schema. */
static void rename_change(const cairn_apply_opts *opts, pgd_change *c)
{
    if (!opts->rename_from)
        return;
    if (c->schema && strcmp(c->schema, opts->rename_from) == 0) {
        free(c->schema);
        c->schema = cairn_xstrdup(opts->rename_to);
    }
    for (size_t i = 0; i < c->ntruncated; i += 2)
        if (strcmp(c->truncated[i], opts->rename_from) == 0) {
            free(c->truncated[i]);
            c->truncated[i] = cairn_xstrdup(opts->rename_to);
        }
}

int pg_log_apply(cairn_conn *conn, const cairn_identity *source, cairn_log_open open,
                 void *open_arg, const cairn_apply_opts *opts, cairn_apply_result *res,
                 cairn_error *err)
{
    memset(res, 0, sizeof *res);
    apply_state st = {.pg = conn->pg};
    uint64_t after = 0, stop = UINT64_MAX;
    if (opts->after && pgd_lsn_parse(opts->after, &after) != 0)
        return cairn_error_set(err, CAIRN_ERR, "bad resume position %s", opts->after);
    if (opts->stop_position && pgd_lsn_parse(opts->stop_position, &stop) != 0)
        return cairn_error_set(err, CAIRN_EUSAGE, "bad stop position %s", opts->stop_position);
    if (pg_session_setup(conn->pg, source->encoding, err) != CAIRN_OK ||
        pg_exec(conn->pg,
                "SET session_replication_role = replica; SET standard_conforming_strings = on; "
                "SET synchronous_commit = off",
                err) != CAIRN_OK)
        return cairn_error_prefix(err, "preparing to replay the log");
    commit_info *commits = NULL;
    size_t ncommits = 0;
    if (scan_commits(open, open_arg, &commits, &ncommits, err) != CAIRN_OK)
        return err->code;
    cairn_source *src = NULL;
    if (open(open_arg, &src, err) != CAIRN_OK) {
        free(commits);
        return err->code;
    }
    char *buf = NULL;
    size_t cap = 0, xact = 0;
    batch bt = {0};
    cairn_buf stmt = {0};
    int rc, applying = 0, skipping = 0;
    uint64_t xact_items = 0; /* statements of the open transaction */
    char *last_ddl = NULL;
    pgd_record rec;
    while ((rc = next_record(src, &buf, &cap, &rec, err)) == CAIRN_OK) {
        pgd_change c;
        char why[256];
        if (pgd_parse(rec.data, rec.len, &c, why, sizeof why) != 0) {
            rc = cairn_error_set(err, CAIRN_EVERIFY, "cannot parse a stored change: %s", why);
            break;
        }
        if (c.kind == PGD_BEGIN) {
            if (xact >= ncommits) {
                pgd_change_clear(&c);
                rc = cairn_error_set(err, CAIRN_EVERIFY, "the log ends inside a transaction");
                break;
            }
            const commit_info *ci = &commits[xact];
            skipping = ci->lsn <= after;
            if (!skipping &&
                (ci->lsn > stop || (opts->stop_time_us && ci->time_us > opts->stop_time_us))) {
                res->stopped = 1;
                pgd_change_clear(&c);
                break;
            }
            applying = !skipping;
            xact_items = 0;
            if (applying)
                batch_stmt(&bt, "BEGIN;\n", 0);
            free(last_ddl);
            last_ddl = NULL;
        } else if (c.kind == PGD_COMMIT) {
            if (applying) {
                char pos[24];
                pgd_lsn_format(commits[xact].lsn, pos);
                char *upd = cairn_xasprintf("UPDATE " PROGRESS_TBL " SET position = '%s', "
                                            "updated_at = now();\n",
                                            pos);
                batch_stmt(&bt, upd, 1);
                batch_stmt(&bt, "COMMIT;\n", 0);
                free(upd);
                rc = batch_flush(&st, &bt, err);
                if (rc != CAIRN_OK) {
                    pgd_change_clear(&c);
                    break;
                }
                res->transactions += xact_items > 0;
                cairn_strlcpy(res->last_position, pos, sizeof res->last_position);
                if (cairn_fault("pg-apply-kill"))
                    kill(getpid(), SIGKILL); /* tests: a restore killed between transactions */
            }
            applying = skipping = 0;
            xact++;
        } else if (applying && c.kind == PGD_MESSAGE) {
            /* cairn's DDL capture; one query string can fire the trigger
             * once per command, with the same text: run it once */
            if (c.prefix && strcmp(c.prefix, PGD_DDL_PREFIX) == 0 && opts->skip_units) {
                /* which units a schema change touches is not known: replaying
                 * it into a target holding other tenants is not safe */
                char at[24];
                pgd_lsn_format(rec.lsn, at);
                rc = cairn_error_set(err, CAIRN_ENOCHAIN,
                                     "the log holds a schema change at %s, which a restore of "
                                     "some units cannot replay",
                                     at);
                cairn_error_hint(err, "restore the whole backup into a new database, or the "
                                      "tenant from a backup taken after the change");
                pgd_change_clear(&c);
                break;
            }
            if (c.prefix && strcmp(c.prefix, PGD_DDL_PREFIX) == 0 &&
                !(last_ddl && strcmp(last_ddl, c.content) == 0)) {
                free(last_ddl);
                last_ddl = cairn_xstrdup(c.content);
                rc = batch_flush(&st, &bt, err);
                if (rc == CAIRN_OK)
                    rc = pg_exec(conn->pg, c.content, err);
                if (rc == CAIRN_OK)
                    rc = pg_exec(conn->pg, "SELECT pg_catalog.set_config('search_path', '', true)",
                                 err);
                tables_reset(&st); /* columns may have changed */
                xact_items++;
                if (rc != CAIRN_OK) {
                    cairn_error_prefix(err, "replaying a schema change");
                    pgd_change_clear(&c);
                    break;
                }
                res->changes++;
            }
        } else if (applying && skipped_change(opts, &c) < 0) {
            char at[24];
            pgd_lsn_format(rec.lsn, at);
            rc = cairn_error_set(err, CAIRN_ENOCHAIN,
                                 "one TRUNCATE at %s empties tables of a restored and of another "
                                 "unit, which this restore keeps apart",
                                 at);
            cairn_error_hint(err, "restore those units together, or the whole backup");
            pgd_change_clear(&c);
            break;
        } else if (applying && skipped_change(opts, &c)) {
            /* a unit this replay leaves alone */
        } else if (applying) {
            int one = 0;
            rename_change(opts, &c);
            stmt.len = 0;
            cairn_buf_add(&stmt, "", 0);
            rc = change_sql(&st, &c, &stmt, &one, err);
            if (rc != CAIRN_OK) {
                pgd_change_clear(&c);
                break;
            }
            if (stmt.len)
                batch_stmt(&bt, stmt.data, one);
            res->changes++;
            xact_items++;
            if (bt.sql.len >= BATCH_BYTES || bt.nstmts >= BATCH_STMTS)
                rc = batch_flush(&st, &bt, err);
            if (rc != CAIRN_OK) {
                pgd_change_clear(&c);
                break;
            }
        }
        pgd_change_clear(&c);
    }
    if (rc == -1)
        rc = CAIRN_OK;
    if (rc != CAIRN_OK) {
        PGresult *r = PQexec(conn->pg, "ROLLBACK");
        PQclear(r);
    }
    free(last_ddl);
    free(bt.sql.data);
    free(bt.stmts);
    free(stmt.data);
    free(buf);
    free(commits);
    cairn_source_free(src);
    tables_reset(&st);
    return rc;
}

/* ---- progress on the target ---- */

int pg_progress_read(const char *uri, char *chain, size_t chain_cap, char *phase, size_t phase_cap,
                     char *position, size_t position_cap, cairn_error *err)
{
    chain[0] = phase[0] = position[0] = '\0';
    PGconn *pg = NULL;
    cairn_error e = {0};
    if (pg_connect(uri, NULL, NULL, &pg, &e) != CAIRN_OK)
        return CAIRN_OK; /* no database: nothing in progress */
    PGresult *res = NULL;
    if (pg_query(pg, "SELECT pg_catalog.to_regclass('" PROGRESS_TBL "') IS NOT NULL", &res, err) !=
        CAIRN_OK) {
        PQfinish(pg);
        return err->code;
    }
    int exists = PQgetvalue(res, 0, 0)[0] == 't';
    PQclear(res);
    res = NULL;
    if (!exists) {
        PQfinish(pg);
        return CAIRN_OK;
    }
    if (pg_query(pg, "SELECT chain, phase, position FROM " PROGRESS_TBL, &res, err) != CAIRN_OK) {
        PQfinish(pg);
        return err->code;
    }
    if (PQntuples(res) == 1) {
        cairn_strlcpy(chain, PQgetvalue(res, 0, 0), chain_cap);
        cairn_strlcpy(phase, PQgetvalue(res, 0, 1), phase_cap);
        cairn_strlcpy(position, PQgetvalue(res, 0, 2), position_cap);
    }
    PQclear(res);
    PQfinish(pg);
    return CAIRN_OK;
}

int pg_progress_write(cairn_conn *conn, const char *chain, const char *phase, const char *position,
                      cairn_error *err)
{
    if (pg_exec(conn->pg,
                "SET client_min_messages = warning; CREATE SCHEMA IF NOT EXISTS _cairn_restore; "
                "CREATE TABLE IF NOT EXISTS " PROGRESS_TBL " (chain text NOT NULL, phase text "
                "NOT NULL, position text NOT NULL, updated_at timestamptz NOT NULL)",
                err) != CAIRN_OK)
        return cairn_error_prefix(err, "recording restore progress");
    const char *params[3] = {chain, phase, position};
    return pg_query_params(conn->pg,
                           "WITH gone AS (DELETE FROM " PROGRESS_TBL ") "
                           "INSERT INTO " PROGRESS_TBL " VALUES ($1, $2, $3, now())",
                           3, params, NULL, err, "cannot record restore progress");
}

int pg_progress_drop(cairn_conn *conn, cairn_error *err)
{
    return pg_exec(
        conn->pg, "SET client_min_messages = warning; DROP SCHEMA IF EXISTS _cairn_restore CASCADE",
        err);
}
