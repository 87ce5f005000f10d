/* Listing what a MariaDB server holds, on a connection inside the
 * snapshot: one unit per database, its base tables with engine, size,
 * columns (generated ones left out) and an integer primary key to split
 * on, and its sequences' values. */
#include <errno.h>
#include <stdio.h>
#include <strings.h>
#include <stdlib.h>
#include <string.h>

#include "mariadb/my_int.h"
#include "util/text.h"

int my_list_databases(MYSQL *my, const char *only, char ***names, size_t *n, cairn_error *err)
{
    char *sql;
    if (only && *only) {
        char *lit = my_literal(my, only);
        sql = cairn_xasprintf("SELECT SCHEMA_NAME FROM information_schema.SCHEMATA "
                              "WHERE SCHEMA_NAME = %s",
                              lit);
        free(lit);
    } else {
        sql = cairn_xstrdup(
            "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME "
            "NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys', '_cairn_restore') "
            "ORDER BY SCHEMA_NAME");
    }
    MYSQL_RES *res = NULL;
    int rc = my_query(my, sql, &res, err);
    free(sql);
    if (rc != CAIRN_OK)
        return rc;
    *n = 0;
    *names = cairn_xcalloc(mysql_num_rows(res) + 1, sizeof **names);
    MYSQL_ROW row;
    while ((row = mysql_fetch_row(res)))
        (*names)[(*n)++] = cairn_xstrdup(row[0]);
    mysql_free_result(res);
    if (*n == 0 && only && *only) {
        cairn_error_set(err, CAIRN_ERR, "database \"%s\" does not exist", only);
        return cairn_error_hint(err, "check the database name in the URI, or leave it out to "
                                     "back up every database");
    }
    return CAIRN_OK;
}

/* Sets the split key's range from MIN and MAX as text; a key whose values
 * do not fit a signed 64-bit integer, or an empty table, is not split on. */
static void set_key_range(cairn_object *o, const char *min, const char *max)
{
    char *end1 = NULL, *end2 = NULL;
    if (min && max) {
        errno = 0;
        long long lo = strtoll(min, &end1, 10);
        long long hi = strtoll(max, &end2, 10);
        if (!errno && !*end1 && !*end2) {
            o->key_min = lo;
            o->key_max = hi;
            return;
        }
    }
    free(o->split_key);
    o->split_key = NULL;
}

/* Key ranges are read this many tables to a query (UNION ALL): one round
 * trip per table cost 0.27 s for 2,000 tables, under the barrier. */
#define RANGES_PER_QUERY 50

/* MIN and MAX of the split key of every table that has one, under the
 * snapshot. */
static int key_ranges(MYSQL *my, cairn_unit *u, cairn_error *err)
{
    size_t i = 0;
    while (i < u->nobjects) {
        size_t batch[RANGES_PER_QUERY], n = 0;
        char *sql = cairn_xstrdup("");
        for (; i < u->nobjects && n < RANGES_PER_QUERY; i++) {
            cairn_object *o = &u->objects[i];
            if (!o->split_key)
                continue;
            char *db = my_ident(o->schema), *t = my_ident(o->name), *k = my_ident(o->split_key);
            char *next = cairn_xasprintf("%s%sSELECT %zu, CAST(MIN(%s) AS CHAR), "
                                         "CAST(MAX(%s) AS CHAR) FROM %s.%s",
                                         sql, n ? " UNION ALL " : "", n, k, k, db, t);
            free(db);
            free(t);
            free(k);
            free(sql);
            sql = next;
            batch[n++] = i;
        }
        if (n == 0) {
            free(sql);
            break;
        }
        MYSQL_RES *res = NULL;
        int rc = my_query(my, sql, &res, err);
        free(sql);
        if (rc != CAIRN_OK)
            return rc;
        MYSQL_ROW row; /* one per table: MIN and MAX are aggregates */
        while ((row = mysql_fetch_row(res))) {
            size_t at = strtoul(row[0], NULL, 10);
            if (at < n)
                set_key_range(&u->objects[batch[at]], row[1], row[2]);
        }
        mysql_free_result(res);
    }
    return CAIRN_OK;
}

static int is_integer(const char *type)
{
    static const char *const names[] = {"tinyint", "smallint", "mediumint", "int", "bigint"};
    for (size_t i = 0; type && i < sizeof names / sizeof names[0]; i++)
        if (strcmp(type, names[i]) == 0)
            return 1;
    return 0;
}

/* The unit's table called name.  Rows come in table order, as the objects
 * do: *hint, the last table found, is tried first (and the one after it). */
static cairn_object *find_object(cairn_unit *u, const char *name, size_t *hint)
{
    for (size_t k = 0; k < 2 && *hint + k < u->nobjects; k++)
        if (strcmp(u->objects[*hint + k].name, name) == 0) {
            *hint += k;
            return &u->objects[*hint];
        }
    for (size_t i = 0; i < u->nobjects; i++)
        if (strcmp(u->objects[i].name, name) == 0) {
            *hint = i;
            return &u->objects[i];
        }
    return NULL;
}

static int list_tables(MYSQL *my, cairn_unit *u, cairn_error *err)
{
    char *lit = my_literal(my, u->name);
    char *sql = cairn_xasprintf("SELECT TABLE_NAME, ENGINE, COALESCE(DATA_LENGTH, 0) "
                                "FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s "
                                "AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME",
                                lit);
    MYSQL_RES *res = NULL;
    int rc = my_query(my, sql, &res, err);
    free(sql);
    if (rc != CAIRN_OK) {
        free(lit);
        return rc;
    }
    u->objects = cairn_xcalloc(mysql_num_rows(res) + 1, sizeof *u->objects);
    MYSQL_ROW row;
    while ((row = mysql_fetch_row(res))) {
        cairn_object *o = &u->objects[u->nobjects++];
        o->schema = cairn_xstrdup(u->name);
        o->name = cairn_xstrdup(row[0]);
        o->kind = CAIRN_OBJ_TABLE;
        o->engine = cairn_xstrdup(row[1] ? row[1] : "");
        o->nontransactional = !row[1] || strcasecmp(row[1], "InnoDB") != 0;
        o->bytes = strtoull(row[2], NULL, 10);
    }
    mysql_free_result(res);
    /* a primary key of one integer column is what a table is split on.
     * Two plain queries: joining STATISTICS with COLUMNS on the server took
     * 40 ms for 100 tables, under the barrier. */
    sql = cairn_xasprintf("SELECT TABLE_NAME, MAX(COLUMN_NAME), COUNT(*) "
                          "FROM information_schema.STATISTICS "
                          "WHERE TABLE_SCHEMA = %s AND INDEX_NAME = 'PRIMARY' GROUP BY TABLE_NAME",
                          lit);
    rc = my_query(my, sql, &res, err);
    free(sql);
    if (rc != CAIRN_OK) {
        free(lit);
        return rc;
    }
    size_t hint = 0;
    while ((row = mysql_fetch_row(res))) {
        cairn_object *o = find_object(u, row[0], &hint);
        if (o && atoi(row[2]) == 1)
            o->split_key = cairn_xstrdup(row[1]); /* kept if its type is an integer */
    }
    mysql_free_result(res);
    /* columns that LOAD DATA can fill: every column but generated ones */
    sql = cairn_xasprintf("SELECT TABLE_NAME, COLUMN_NAME, DATA_TYPE, IS_GENERATED "
                          "FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = %s "
                          "ORDER BY TABLE_NAME, ORDINAL_POSITION",
                          lit);
    free(lit);
    rc = my_query(my, sql, &res, err);
    free(sql);
    if (rc != CAIRN_OK)
        return rc;
    while ((row = mysql_fetch_row(res))) {
        cairn_object *o = find_object(u, row[0], &hint);
        if (!o)
            continue;
        if (o->split_key && strcmp(o->split_key, row[1]) == 0 && !is_integer(row[2])) {
            free(o->split_key);
            o->split_key = NULL;
        }
        if (row[3] && strcmp(row[3], "NEVER") != 0)
            continue;
        o->columns = cairn_xrealloc(o->columns, (o->ncolumns + 1) * sizeof *o->columns);
        o->columns[o->ncolumns++] = cairn_xstrdup(row[1]);
        my_read_list_add(&o->read_list, row[1], row[2]);
    }
    mysql_free_result(res);
    return key_ranges(my, u, err);
}

int my_read_sequence_values(MYSQL *my, cairn_unit *u, cairn_error *err)
{
    for (size_t i = 0; i < u->nsequences; i++) {
        cairn_sequence *s = &u->sequences[i];
        char *db = my_ident(s->schema), *t = my_ident(s->name);
        char *q = cairn_xasprintf("SELECT CAST(next_not_cached_value AS CHAR) FROM %s.%s", db, t);
        free(db);
        free(t);
        MYSQL_RES *v = NULL;
        int rc = my_query(my, q, &v, err);
        free(q);
        if (rc != CAIRN_OK)
            return cairn_error_prefix(err, "sequence %s.%s", s->schema, s->name);
        MYSQL_ROW vr = mysql_fetch_row(v);
        s->last_value = vr && vr[0] ? strtoll(vr[0], NULL, 10) : 0;
        s->is_called = 0; /* SETVAL(seq, next_not_cached_value, 0) */
        mysql_free_result(v);
    }
    return CAIRN_OK;
}

static int list_sequences(MYSQL *my, cairn_unit *u, cairn_error *err)
{
    char *lit = my_literal(my, u->name);
    char *sql = cairn_xasprintf("SELECT TABLE_NAME FROM information_schema.TABLES "
                                "WHERE TABLE_SCHEMA = %s AND TABLE_TYPE = 'SEQUENCE' "
                                "ORDER BY TABLE_NAME",
                                lit);
    free(lit);
    MYSQL_RES *res = NULL;
    int rc = my_query(my, sql, &res, err);
    free(sql);
    if (rc != CAIRN_OK)
        return rc;
    u->sequences = cairn_xcalloc(mysql_num_rows(res) + 1, sizeof *u->sequences);
    MYSQL_ROW row;
    while ((row = mysql_fetch_row(res))) {
        cairn_sequence *s = &u->sequences[u->nsequences++];
        s->schema = cairn_xstrdup(u->name);
        s->name = cairn_xstrdup(row[0]);
    }
    mysql_free_result(res);
    return my_read_sequence_values(my, u, err);
}

/* A database the role may not read (it sees its name, not its tables)
 * fails alone, rather than being backed up as empty. */
static int denied(MYSQL *my, cairn_unit *u)
{
    char *q = my_ident(u->name);
    char *sql = cairn_xasprintf("SHOW CREATE DATABASE %s", q);
    free(q);
    MYSQL_RES *res = NULL;
    cairn_error e = {0};
    int rc = my_query(my, sql, &res, &e);
    free(sql);
    mysql_free_result(res);
    unsigned code = mysql_errno(my);
    if (rc == CAIRN_OK || (code != 1044 && code != 1142 && code != 1227))
        return 0; /* readable, or another failure the next query reports */
    cairn_unit_fail(u, e.message);
    return 1;
}

int my_list_units(cairn_conn *conn, const cairn_snapshot *snap, const cairn_tenant_filter *tenants,
                  cairn_unit **units, size_t *count, cairn_error *err)
{
    char **names = NULL;
    size_t n = 0;
    *units = NULL;
    *count = 0;
    if (my_list_databases(conn->my, snap->source.database, &names, &n, err) != CAIRN_OK) {
        cairn_strv_free(names);
        return err->code;
    }
    cairn_unit *u = cairn_xcalloc(n + 1, sizeof *u);
    *units = u;
    for (size_t i = 0; i < n; i++) {
        u[i].name = names[i];
        u[i].kind = cairn_xstrdup(cairn_tenant_match(tenants, names[i]) ? "tenant" : "database");
        u[i].status = cairn_xstrdup("complete");
        u[i].position = cairn_xstrdup(snap->position);
        (*count)++;
        if (denied(conn->my, &u[i]))
            continue;
        if (list_tables(conn->my, &u[i], err) != CAIRN_OK ||
            list_sequences(conn->my, &u[i], err) != CAIRN_OK) {
            for (size_t k = i + 1; k < n; k++)
                free(names[k]);
            free(names);
            return cairn_error_prefix(err, "database %s", u[i].name);
        }
    }
    free(names);
    return CAIRN_OK;
}
