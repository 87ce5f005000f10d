/* Table data: a streaming SELECT written in LOAD DATA's escaped format,
 * and LOAD DATA LOCAL INFILE fed straight from the backup stream.
 *
 * Results come as raw bytes (character_set_results = binary) and load with
 * CHARACTER SET binary, so no character set conversion happens on either
 * side: utf8mb4, latin1 and binary columns come back byte for byte.  NULL
 * is \N; a backslash, tab, newline and NUL are escaped; so NULL, the empty
 * string and the string 'NULL' stay three different things. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mariadb/my_escape.h"
#include "mariadb/my_int.h"
#include "util/text.h"

/* The DATA_TYPE of each of the object's columns, in obj->columns order
 * ("" for one the table lacks); free with cairn_strv_free. */
static int column_types(MYSQL *my, const cairn_object *obj, char ***types, cairn_error *err)
{
    char *db = my_literal(my, obj->schema), *t = my_literal(my, obj->name);
    char *sql = cairn_xasprintf("SELECT COLUMN_NAME, DATA_TYPE FROM information_schema.COLUMNS "
                                "WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s",
                                db, t);
    free(db);
    free(t);
    MYSQL_RES *res = NULL;
    int rc = my_query(my, sql, &res, err);
    free(sql);
    if (rc != CAIRN_OK)
        return rc;
    *types = cairn_xcalloc(obj->ncolumns + 1, sizeof **types);
    for (size_t i = 0; i < obj->ncolumns; i++) {
        MYSQL_ROW row;
        mysql_data_seek(res, 0);
        while ((row = mysql_fetch_row(res)) && strcmp(row[0], obj->columns[i]) != 0)
            ;
        (*types)[i] = cairn_xstrdup(row && row[1] ? row[1] : "");
    }
    mysql_free_result(res);
    return CAIRN_OK;
}

/* FLOAT is printed with 6 significant digits, which loses bits (1/3 stored
 * as a FLOAT reads back as 0.333333); as a DOUBLE its text has every digit,
 * and loading that text into the FLOAT column gives back the same value. */
void my_read_list_add(char **list, const char *column, const char *data_type)
{
    char *q = my_ident(column);
    char *item = data_type && strcmp(data_type, "float") == 0
                     ? cairn_xasprintf("CAST(%s AS DOUBLE)", q)
                     : cairn_xstrdup(q);
    char *joined = *list ? cairn_xasprintf("%s, %s", *list, item) : cairn_xstrdup(item);
    free(*list);
    *list = joined;
    free(item);
    free(q);
}

/* The SELECT list for a dump: the catalog's, or else from the column
 * types (an object not listed by this run's catalog). */
static int select_list(MYSQL *my, const cairn_object *obj, char **out, cairn_error *err)
{
    if (obj->read_list) {
        *out = cairn_xstrdup(obj->read_list);
        return CAIRN_OK;
    }
    char **types = NULL;
    if (column_types(my, obj, &types, err) != CAIRN_OK)
        return err->code;
    *out = NULL;
    for (size_t i = 0; i < obj->ncolumns; i++)
        my_read_list_add(out, obj->columns[i], types[i]);
    if (!*out)
        *out = cairn_xstrdup("");
    cairn_strv_free(types);
    return CAIRN_OK;
}

static char *table_name(const cairn_object *obj)
{
    char *db = my_ident(obj->schema), *t = my_ident(obj->name);
    char *q = cairn_xasprintf("%s.%s", db, t);
    free(db);
    free(t);
    return q;
}

/* Rows are gathered into batches of about this size before they go down
 * the stream: at least the writer's buffer, which then passes them on
 * without copying them again. */
#define BATCH_BYTES (128 * 1024)

int my_dump_chunk(cairn_conn *conn, const cairn_object *obj, const cairn_chunk *chunk,
                  cairn_sink *sink, uint64_t *rows, cairn_error *err)
{
    MYSQL *my = conn->my;
    char *cols = NULL;
    if (select_list(my, obj, &cols, err) != CAIRN_OK)
        return err->code;
    char *table = table_name(obj);
    char where[256] = "";
    if (chunk->split == CAIRN_SPLIT_KEY) {
        char *k = my_ident(obj->split_key);
        char lo[96] = "", hi[96] = "";
        if (chunk->has_key_lo)
            snprintf(lo, sizeof lo, "%s >= %lld", k, (long long)chunk->key_lo);
        if (chunk->has_key_hi)
            snprintf(hi, sizeof hi, "%s < %lld", k, (long long)chunk->key_hi);
        snprintf(where, sizeof where, " WHERE %s%s%s", lo, lo[0] && hi[0] ? " AND " : "", hi);
        free(k);
    }
    char *sql = cairn_xasprintf("SELECT %s FROM %s%s", cols, table, where);
    free(cols);
    *rows = 0;
    if (mysql_real_query(my, sql, (unsigned long)strlen(sql)) != 0) {
        free(sql);
        my_error(my, err, "select failed");
        cairn_error_prefix(err, "table %s", table);
        free(table);
        return err->code;
    }
    free(sql);
    MYSQL_RES *res = mysql_use_result(my);
    if (!res) {
        my_error(my, err, "select failed");
        cairn_error_prefix(err, "table %s", table);
        free(table);
        return err->code;
    }
    unsigned nf = mysql_num_fields(res);
    size_t cap = 2 * BATCH_BYTES, len = 0;
    char *buf = cairn_xmalloc(cap);
    int rc = CAIRN_OK;
    MYSQL_ROW row;
    for (;;) {
        row = mysql_fetch_row(res);
        if (row) {
            unsigned long *lengths = mysql_fetch_lengths(res);
            for (unsigned i = 0; i < nf; i++) {
                my_escape_field(&buf, &len, &cap, row[i], lengths[i]);
                buf[len++] = i + 1 < nf ? '\t' : '\n'; /* my_escape_field leaves room for it */
            }
            (*rows)++;
        }
        if ((len >= BATCH_BYTES || (!row && len > 0)) && cairn_sink_write(sink, buf, len) != 0) {
            *err = *cairn_sink_error(sink);
            rc = err->code ? err->code : CAIRN_ERR;
            break;
        }
        if (len >= BATCH_BYTES)
            len = 0;
        if (!row)
            break;
    }
    if (rc == CAIRN_OK && mysql_errno(my))
        rc = my_error(my, err, "reading rows failed");
    mysql_free_result(res); /* drains the rest after an error */
    free(buf);
    if (rc != CAIRN_OK)
        cairn_error_prefix(err, "table %s", table);
    free(table);
    return rc;
}

int my_load_begin(cairn_conn *conn, const cairn_identity *source, cairn_error *err)
{
    (void)source;
    if (my_session_setup(conn->my, err) != CAIRN_OK)
        return err->code;
    /* strict: a value that does not fit is an error, never silently changed;
     * zero dates stay allowed (NO_ZERO_DATE is not set) */
    return my_exec(conn->my,
                   "SET SESSION foreign_key_checks = 0, unique_checks = 0, "
                   "sql_mode = 'STRICT_ALL_TABLES,NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION'",
                   err);
}

typedef struct {
    cairn_source *src;
    int failed;
    cairn_error err;
} infile;

static int infile_init(void **ptr, const char *name, void *userdata)
{
    (void)name;
    *ptr = userdata;
    return 0;
}

static int infile_read(void *ptr, char *buf, unsigned int len)
{
    infile *f = ptr;
    ssize_t n = cairn_source_read(f->src, buf, len);
    if (n < 0) {
        f->failed = 1;
        f->err = *cairn_source_error(f->src);
        return -1;
    }
    return (int)n;
}

static void infile_end(void *ptr)
{
    (void)ptr;
}

static int infile_error(void *ptr, char *msg, unsigned int len)
{
    infile *f = ptr;
    snprintf(msg, len, "%s", f->failed ? f->err.message : "cannot read the backup stream");
    return 2000;
}

/* Types whose input in binary form means their packed bytes (UUID: 16
 * bytes), while the dump holds their text: they load through a variable
 * cast to text. */
static int loads_as_text(const char *type)
{
    return strcmp(type, "uuid") == 0 || strcmp(type, "inet6") == 0 || strcmp(type, "inet4") == 0;
}

/* The LOAD DATA target list, and the SET clause for columns that need one,
 * from the target table's column types. */
static int load_columns(MYSQL *my, const cairn_object *obj, char **targets, char **sets,
                        cairn_error *err)
{
    char **types = NULL;
    if (column_types(my, obj, &types, err) != CAIRN_OK)
        return err->code;
    size_t tl = 0, sl = 0;
    *targets = cairn_xstrdup("");
    *sets = cairn_xstrdup("");
    for (size_t i = 0; i < obj->ncolumns; i++) {
        int text = loads_as_text(types[i]);
        char *q = my_ident(obj->columns[i]);
        char var[32];
        snprintf(var, sizeof var, "@c%zu", i);
        const char *target = text ? var : q;
        *targets = cairn_xrealloc(*targets, tl + strlen(target) + 3);
        tl += (size_t)snprintf(*targets + tl, strlen(target) + 3, "%s%s", i ? ", " : "", target);
        if (text) {
            char *one = cairn_xasprintf("%s%s = CAST(%s AS CHAR)", sl ? ", " : " SET ", q, var);
            *sets = cairn_xrealloc(*sets, sl + strlen(one) + 1);
            memcpy(*sets + sl, one, strlen(one) + 1);
            sl += strlen(one);
            free(one);
        }
        free(q);
    }
    cairn_strv_free(types);
    return CAIRN_OK;
}

int my_load_chunk(cairn_conn *conn, const cairn_object *obj, cairn_source *src, uint64_t *rows,
                  cairn_error *err)
{
    MYSQL *my = conn->my;
    char *table = table_name(obj), *targets = NULL, *sets = NULL;
    if (load_columns(my, obj, &targets, &sets, err) != CAIRN_OK) {
        free(table);
        return err->code;
    }
    char *sql = cairn_xasprintf("LOAD DATA LOCAL INFILE 'cairn-stream' INTO TABLE %s "
                                "CHARACTER SET binary FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' "
                                "LINES TERMINATED BY '\\n' (%s)%s",
                                table, targets, sets);
    free(targets);
    free(sets);
    infile f = {.src = src};
    mysql_set_local_infile_handler(my, infile_init, infile_read, infile_end, infile_error, &f);
    int rc = CAIRN_OK;
    *rows = 0;
    if (mysql_real_query(my, sql, (unsigned long)strlen(sql)) != 0) {
        if (f.failed) {
            *err = f.err;
            rc = err->code ? err->code : CAIRN_ERR;
        } else {
            rc = my_error(my, err, "load failed");
        }
    } else {
        *rows = (uint64_t)mysql_affected_rows(my);
        unsigned warnings = mysql_warning_count(my);
        if (warnings > 0) {
            MYSQL_RES *res = NULL;
            cairn_error e = {0};
            char first[512] = "?";
            if (my_query(my, "SHOW WARNINGS LIMIT 1", &res, &e) == CAIRN_OK) {
                MYSQL_ROW row = mysql_fetch_row(res);
                if (row && row[2])
                    cairn_strlcpy(first, row[2], sizeof first);
                mysql_free_result(res);
            }
            cairn_error_set(err, CAIRN_ERR, "load changed data: %u warnings, the first: %s",
                            warnings, first);
            rc = err->code;
        }
    }
    mysql_set_local_infile_default(my);
    free(sql);
    if (rc != CAIRN_OK)
        cairn_error_prefix(err, "table %s", table);
    free(table);
    return rc;
}

int my_restore_sequences(cairn_conn *conn, const cairn_unit *unit, cairn_error *err)
{
    for (size_t i = 0; i < unit->nsequences; i++) {
        const cairn_sequence *s = &unit->sequences[i];
        char *db = my_ident(s->schema), *t = my_ident(s->name);
        char *sql = cairn_xasprintf("SELECT SETVAL(%s.%s, %lld, %d)", db, t,
                                    (long long)s->last_value, s->is_called);
        free(db);
        free(t);
        int rc = my_exec(conn->my, sql, err);
        free(sql);
        if (rc != CAIRN_OK)
            return cairn_error_prefix(err, "sequence %s.%s", s->schema, s->name);
    }
    return CAIRN_OK;
}
