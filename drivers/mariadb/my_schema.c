/* MariaDB schema: SHOW CREATE output of every object, as one JSON archive.
 *
 * The archive holds, per database: its CREATE DATABASE, tables, sequences,
 * views, procedures, functions, triggers and events, each with the
 * sql_mode (and character set) it was created under, so it is recreated
 * exactly.  It is read while the backup barrier blocks DDL, so it matches
 * the data.  Restore applies it in two sections: "pre-data" (databases,
 * tables, sequences) before the data, "post-data" (views in dependency
 * order, routines, triggers, events) after it. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mariadb/my_int.h"
#include "util/log.h"
#include "util/pool.h"
#include "util/text.h"

/* Runs a SHOW CREATE and returns the columns wanted as a JSON object. */
static int show_create(MYSQL *my, const char *what, const char *db, const char *name,
                       const char *const *want, json_t *into, cairn_error *err)
{
    char *qd = my_ident(db), *qn = name ? my_ident(name) : NULL;
    char *sql = name ? cairn_xasprintf("SHOW CREATE %s %s.%s", what, qd, qn)
                     : cairn_xasprintf("SHOW CREATE %s %s", what, qd);
    free(qd);
    free(qn);
    MYSQL_RES *res = NULL;
    int rc = my_query(my, sql, &res, err);
    free(sql);
    if (rc != CAIRN_OK)
        return cairn_error_prefix(err, "%s %s.%s", what, db, name ? name : "");
    MYSQL_ROW row = mysql_fetch_row(res);
    unsigned long *len = mysql_fetch_lengths(res);
    MYSQL_FIELD *fields = mysql_fetch_fields(res);
    unsigned nf = mysql_num_fields(res);
    int bad_text = 0;
    for (unsigned i = 0; row && i < nf; i++)
        for (int w = 0; want[w]; w += 2)
            if (strcmp(fields[i].name, want[w]) == 0) {
                json_t *v = row[i] ? json_stringn(row[i], len[i]) : json_null();
                bad_text |= !v;
                json_object_set_new(into, want[w + 1], v ? v : json_null());
            }
    mysql_free_result(res);
    if (bad_text)
        return cairn_error_set(err, CAIRN_ERR, "%s %s.%s: its definition is not valid UTF-8", what,
                               db, name ? name : "");
    if (!row)
        return cairn_error_set(err, CAIRN_ERR, "SHOW CREATE %s %s.%s returned nothing", what, db,
                               name ? name : "");
    return CAIRN_OK;
}

/* Names of a kind of object in db, from an information_schema query. */
static int names(MYSQL *my, const char *sql_fmt, const char *db, json_t **out, cairn_error *err)
{
    /* the query holds one "%s" where the database literal goes */
    char *lit = my_literal(my, db);
    const char *at = strstr(sql_fmt, "%s");
    char *sql = cairn_xasprintf("%.*s%s%s", (int)(at - sql_fmt), sql_fmt, lit, at + 2);
    free(lit);
    MYSQL_RES *res = NULL;
    int rc = my_query(my, sql, &res, err);
    free(sql);
    if (rc != CAIRN_OK)
        return rc;
    *out = json_array();
    MYSQL_ROW row;
    while ((row = mysql_fetch_row(res)))
        json_array_append_new(*out, json_pack("{s:s, s:s}", "name", row[0], "type",
                                              mysql_num_fields(res) > 1 ? row[1] : ""));
    mysql_free_result(res);
    return CAIRN_OK;
}

static const char *const want_table[] = {"Create Table",         "create",  "Create View", "create",
                                         "character_set_client", "charset", NULL};
static const char *const want_seq[] = {"Create Table", "create", NULL};
static const char *const want_routine[] = {"Create Procedure",
                                           "create",
                                           "Create Function",
                                           "create",
                                           "sql_mode",
                                           "sql_mode",
                                           "character_set_client",
                                           "charset",
                                           NULL};
static const char *const want_trigger[] = {
    "SQL Original Statement", "create",  "sql_mode", "sql_mode",
    "character_set_client",   "charset", NULL};
static const char *const want_event[] = {
    "Create Event",         "create",  "sql_mode", "sql_mode", "time_zone", "time_zone",
    "character_set_client", "charset", NULL};
static const char *const want_db[] = {"Create Database", "create", NULL};

typedef struct {
    const char *key;  /* in the archive */
    const char *list; /* information_schema query, %s = the database literal */
    const char *show; /* SHOW CREATE what; "ROUTINE" takes the type column */
    const char *const *want;
} kind;

static const kind kinds[] = {
    {"tables",
     "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s "
     "AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME",
     "TABLE", want_table},
    {"sequences",
     "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s "
     "AND TABLE_TYPE = 'SEQUENCE' ORDER BY TABLE_NAME",
     "SEQUENCE", want_seq},
    {"views",
     "SELECT TABLE_NAME FROM information_schema.VIEWS WHERE TABLE_SCHEMA = %s "
     "ORDER BY TABLE_NAME",
     "VIEW", want_table},
    {"routines",
     "SELECT ROUTINE_NAME, ROUTINE_TYPE FROM information_schema.ROUTINES "
     "WHERE ROUTINE_SCHEMA = %s ORDER BY ROUTINE_TYPE, ROUTINE_NAME",
     "ROUTINE", want_routine},
    /* a trigger is always in its table's database; filtering on the table's
     * (EVENT_OBJECT_SCHEMA) lets the server read one database's tables rather
     * than every database's (9 ms a query with 2,000 tables, against 1 ms) */
    {"triggers",
     "SELECT TRIGGER_NAME FROM information_schema.TRIGGERS WHERE EVENT_OBJECT_SCHEMA = %s "
     "ORDER BY EVENT_OBJECT_TABLE, ACTION_ORDER",
     "TRIGGER", want_trigger},
    {"events",
     "SELECT EVENT_NAME FROM information_schema.EVENTS WHERE EVENT_SCHEMA = %s "
     "ORDER BY EVENT_NAME",
     "EVENT", want_event},
};

static int dump_database(MYSQL *my, const char *db, json_t *out, cairn_error *err)
{
    json_object_set_new(out, "name", json_string(db));
    if (show_create(my, "DATABASE", db, NULL, want_db, out, err) != CAIRN_OK)
        return err->code;
    for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++) {
        json_t *list = NULL;
        if (names(my, kinds[k].list, db, &list, err) != CAIRN_OK)
            return err->code;
        json_object_set_new(out, kinds[k].key, list);
        size_t i;
        json_t *item;
        json_array_foreach(list, i, item)
        {
            const char *name = json_string_value(json_object_get(item, "name"));
            const char *show = kinds[k].show;
            if (strcmp(show, "ROUTINE") == 0)
                show = json_string_value(json_object_get(item, "type")); /* PROCEDURE/FUNCTION */
            if (show_create(my, show, db, name, kinds[k].want, item, err) != CAIRN_OK)
                return err->code;
        }
    }
    return CAIRN_OK;
}

/* Databases are read on up to `jobs` connections at once (a pool worker
 * each); the archive lists them in the units' order whatever worker read
 * them. */
typedef struct {
    const char *uri;
    const cairn_unit *units;
    json_t **out; /* per unit: its object, NULL for a failed unit */
} schema_run;

/* utf8 results for the archive (it is JSON), a plain sql_mode so SHOW
 * CREATE quotes with backticks */
static int reader_init(void *shared, int worker, void **state, cairn_error *err)
{
    (void)worker;
    const schema_run *r = shared;
    MYSQL *my = NULL;
    if (my_connect(r->uri, &my, err) != CAIRN_OK)
        return err->code;
    if (my_exec(my,
                "SET SESSION character_set_results = utf8mb4, sql_mode = '', "
                "sql_quote_show_create = 1",
                err) != CAIRN_OK) {
        mysql_close(my);
        return err->code;
    }
    *state = my;
    return CAIRN_OK;
}

static int reader_run(void *shared, void *state, size_t i, cairn_error *err)
{
    schema_run *r = shared;
    if (cairn_unit_failed(&r->units[i]))
        return CAIRN_OK;
    json_t *d = json_object();
    if (dump_database(state, r->units[i].name, d, err) != CAIRN_OK) {
        json_decref(d);
        return err->code;
    }
    r->out[i] = d;
    return CAIRN_OK;
}

static void reader_done(void *shared, void *state)
{
    (void)shared;
    mysql_close(state);
}

static const cairn_pool_ops schema_readers = {reader_init, reader_run, reader_done};

int my_dump_schema(const char *uri, const cairn_snapshot *snap, const cairn_unit *units,
                   size_t nunits, int jobs, cairn_sink *sink, cairn_error *err)
{
    schema_run r = {.uri = uri, .units = units};
    r.out = cairn_xcalloc(nunits + 1, sizeof *r.out);
    int workers = jobs < 1 ? 1 : jobs;
    if (nunits > 0 && (size_t)workers > nunits)
        workers = (int)nunits; /* no connection without a database to read */
    int rc = cairn_pool_run(workers, nunits, &schema_readers, &r, err);
    json_t *dbs = json_array();
    for (size_t i = 0; i < nunits; i++)
        if (r.out[i])
            json_array_append_new(dbs, r.out[i]);
    free(r.out);
    if (rc != CAIRN_OK) {
        json_decref(dbs);
        return cairn_error_prefix(err, "dumping the schema");
    }
    json_t *doc = json_pack("{s:i, s:s, s:o}", "format", 1, "server", snap->source.server_version,
                            "databases", dbs);
    char *text = json_dumps(doc, JSON_INDENT(1));
    json_decref(doc);
    if (cairn_sink_write(sink, text, strlen(text)) != 0) {
        *err = *cairn_sink_error(sink);
        rc = err->code ? err->code : CAIRN_ERR;
    }
    free(text);
    return rc;
}
