/* Restoring a MariaDB backup's schema and preparing the target server. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mariadb/my_int.h"
#include "util/log.h"
#include "util/text.h"

static int exists_database(MYSQL *my, const char *db, int *exists, cairn_error *err)
{
    char *lit = my_literal(my, db);
    char *sql = cairn_xasprintf("SELECT COUNT(*) FROM information_schema.SCHEMATA "
                                "WHERE SCHEMA_NAME = %s",
                                lit);
    free(lit);
    MYSQL_RES *res = NULL;
    int rc = my_query(my, sql, &res, err);
    free(sql);
    if (rc == CAIRN_OK) {
        MYSQL_ROW row = mysql_fetch_row(res);
        *exists = row && atoi(row[0]) > 0;
        mysql_free_result(res);
    }
    return rc;
}

int my_target_prepare(const char *uri, const cairn_identity *source, const cairn_unit *units,
                      size_t nunits, const cairn_restore_flags *flags, cairn_error *err)
{
    (void)source;
    char *wanted = my_uri_database(uri);
    if (wanted && (nunits != 1 || strcmp(wanted, units[0].name) != 0)) {
        cairn_error_set(err, CAIRN_EUSAGE,
                        "the target URI names database \"%s\", but the backup holds %s%s%s", wanted,
                        nunits == 1 ? "\"" : "several databases", nunits == 1 ? units[0].name : "",
                        nunits == 1 ? "\"" : "");
        free(wanted);
        return cairn_error_hint(err, "restoring under another name is not available yet: give "
                                     "the target without a database (mariadb://user@host:port/)");
    }
    free(wanted);
    MYSQL *my = NULL;
    if (my_connect(uri, &my, err) != CAIRN_OK)
        return err->code;
    int rc = CAIRN_OK;
    for (size_t i = 0; rc == CAIRN_OK && i < nunits; i++) {
        int exists = 0;
        rc = exists_database(my, units[i].name, &exists, err);
        if (rc != CAIRN_OK || !exists)
            continue;
        if (!flags->clean) {
            cairn_error_set(err, CAIRN_ERR, "the target already holds a database \"%s\"",
                            units[i].name);
            rc = cairn_error_hint(err, "restore to another server, drop it first, or add --clean "
                                       "to drop and recreate it");
            break;
        }
        char *q = my_ident(units[i].name);
        char *sql = cairn_xasprintf("DROP DATABASE %s", q);
        free(q);
        rc = my_exec(my, sql, err);
        free(sql);
        if (rc == CAIRN_OK)
            cairn_info("dropped database \"%s\" (--clean)", units[i].name);
    }
    mysql_close(my);
    return rc;
}

int my_drop_database(const char *uri, const char *name, cairn_error *err)
{
    MYSQL *my = NULL;
    if (my_connect(uri, &my, err) != CAIRN_OK)
        return err->code;
    char *q = my_ident(name);
    char *sql = cairn_xasprintf("DROP DATABASE IF EXISTS %s", q);
    free(q);
    int rc = my_exec(my, sql, err);
    free(sql);
    mysql_close(my);
    if (rc != CAIRN_OK)
        return cairn_error_prefix(err, "dropping database \"%s\"", name);
    cairn_info("dropped database \"%s\"", name);
    return CAIRN_OK;
}

/* Secondary indexes are built after the data: a sorted bulk build is
 * faster than maintaining them row by row.  SHOW CREATE TABLE puts each
 * key on its own line; the plain, FULLTEXT and SPATIAL keys are taken out
 * of the CREATE and returned as one "ALTER TABLE ... ADD ..." (NULL when
 * there is nothing to defer).  Tables with foreign keys keep their indexes:
 * InnoDB needs an index for each constraint when it is created. */
static char *defer_keys(const char *table, char **create)
{
    if (strstr(*create, " FOREIGN KEY ") || strstr(*create, "\n  PRIMARY KEY") == NULL)
        return NULL;
    size_t n = strlen(*create);
    char *kept = cairn_xmalloc(n + 1), *adds = cairn_xstrdup("");
    size_t kl = 0, al = 0;
    const char *p = *create;
    while (*p) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        int key = (len > 6 && strncmp(p, "  KEY ", 6) == 0) ||
                  (len > 15 && strncmp(p, "  FULLTEXT KEY ", 15) == 0) ||
                  (len > 14 && strncmp(p, "  SPATIAL KEY ", 14) == 0);
        if (key) {
            size_t body = len - 2 - (p[len - 1] == ',');
            adds = cairn_xrealloc(adds, al + body + 8);
            al += (size_t)snprintf(adds + al, body + 8, "%sADD %.*s", al ? ", " : "", (int)body,
                                   p + 2);
        } else {
            memcpy(kept + kl, p, len);
            kl += len;
            if (eol)
                kept[kl++] = '\n';
        }
        p += len + (eol ? 1 : 0);
    }
    kept[kl] = '\0';
    if (!al) {
        free(kept);
        free(adds);
        return NULL;
    }
    /* the line before the first removed key may now end the list with a comma */
    for (char *c = strstr(kept, ",\n)"); c; c = strstr(c + 1, ",\n)"))
        *c = ' ';
    free(*create);
    *create = kept;
    char *alter = cairn_xasprintf("ALTER TABLE %s %s", table, adds);
    free(adds);
    return alter;
}

/* Runs one definition under the sql_mode (and time zone) it was made with. */
static int apply_sql(MYSQL *my, json_t *item, const char *create, cairn_error *err)
{
    const char *mode = json_string_value(json_object_get(item, "sql_mode"));
    const char *tz = json_string_value(json_object_get(item, "time_zone"));
    if (!create)
        return cairn_error_set(err, CAIRN_EVERIFY, "schema archive: an object has no definition");
    char *lit = my_literal(my, mode ? mode : "");
    char *tzl = my_literal(my, tz ? tz : "+00:00");
    char *set = cairn_xasprintf("SET SESSION sql_mode = %s, time_zone = %s", lit, tzl);
    free(lit);
    free(tzl);
    int rc = my_exec(my, set, err);
    free(set);
    if (rc == CAIRN_OK && mysql_real_query(my, create, (unsigned long)strlen(create)) != 0)
        rc = my_error(my, err, "create failed");
    return rc;
}

static int apply(MYSQL *my, json_t *item, cairn_error *err)
{
    return apply_sql(my, item, json_string_value(json_object_get(item, "create")), err);
}

static int use_database(MYSQL *my, const char *db, cairn_error *err)
{
    char *q = my_ident(db);
    char *sql = cairn_xasprintf("USE %s", q);
    free(q);
    int rc = my_exec(my, sql, err);
    free(sql);
    return rc;
}

/* A table's CREATE without its deferrable keys (*create, caller frees)
 * and the ALTER that adds them back (NULL when none). */
static char *split_table(json_t *item, char **create)
{
    const char *name = json_string_value(json_object_get(item, "name"));
    *create = cairn_xstrdup(json_string_value(json_object_get(item, "create")));
    char *q = my_ident(name ? name : "");
    char *alter = *create ? defer_keys(q, create) : NULL;
    free(q);
    return alter;
}

/* pre-data: the tables, without their deferrable keys. */
static int apply_tables(MYSQL *my, json_t *db, cairn_error *err)
{
    size_t i;
    json_t *item;
    json_array_foreach(json_object_get(db, "tables"), i, item)
    {
        char *create = NULL;
        free(split_table(item, &create));
        int rc = apply_sql(my, item, create, err);
        free(create);
        if (rc != CAIRN_OK)
            return cairn_error_prefix(err, "table %s",
                                      json_string_value(json_object_get(item, "name")));
    }
    return CAIRN_OK;
}

/* post-data: the keys taken out of the tables. */
static int build_deferred_keys(MYSQL *my, json_t *db, cairn_error *err)
{
    size_t i;
    json_t *item;
    json_array_foreach(json_object_get(db, "tables"), i, item)
    {
        char *create = NULL;
        char *alter = split_table(item, &create);
        free(create);
        if (!alter)
            continue;
        int rc = my_exec(my, alter, err);
        free(alter);
        if (rc != CAIRN_OK)
            return cairn_error_prefix(err, "indexes of table %s",
                                      json_string_value(json_object_get(item, "name")));
    }
    return CAIRN_OK;
}

static int apply_all(MYSQL *my, json_t *db, const char *key, cairn_error *err)
{
    size_t i;
    json_t *item;
    json_array_foreach(json_object_get(db, key), i, item)
    {
        if (apply(my, item, err) != CAIRN_OK)
            return cairn_error_prefix(err, "%s %s", key,
                                      json_string_value(json_object_get(item, "name")));
    }
    return CAIRN_OK;
}

/* Views may read other views: create what can be created, then retry the
 * rest, until everything exists or a round makes no progress. */
static int apply_views(MYSQL *my, json_t *db, cairn_error *err)
{
    json_t *views = json_object_get(db, "views");
    size_t n = json_array_size(views), left = n;
    char *done = cairn_xcalloc(n + 1, 1);
    int rc = CAIRN_OK;
    while (left > 0 && rc == CAIRN_OK) {
        size_t made = 0;
        cairn_error last = {0};
        for (size_t i = 0; i < n; i++) {
            if (done[i])
                continue;
            cairn_error e = {0};
            if (apply(my, json_array_get(views, i), &e) == CAIRN_OK) {
                done[i] = 1;
                made++;
                left--;
            } else {
                last = e;
                cairn_error_prefix(
                    &last, "view %s",
                    json_string_value(json_object_get(json_array_get(views, i), "name")));
            }
        }
        if (made == 0) {
            *err = last;
            rc = err->code ? err->code : CAIRN_ERR;
        }
    }
    free(done);
    return rc;
}

/* Skips a backquoted identifier (doubled backquotes inside); returns the
 * position after it, or NULL when p does not start one. */
static const char *skip_ident(const char *p)
{
    if (*p != '`')
        return NULL;
    for (p++; *p; p++)
        if (*p == '`') {
            if (p[1] != '`')
                return p + 1;
            p++;
        }
    return NULL;
}

/* Removes "DEFINER=`user`@`host` " from a definition, in place. */
static void strip_definer(char *sql)
{
    char *d = strstr(sql, "DEFINER=`");
    if (!d)
        return;
    const char *user_end = skip_ident(d + 8);
    if (!user_end || *user_end != '@')
        return;
    const char *host_end = skip_ident(user_end + 1);
    if (!host_end)
        return;
    if (*host_end == ' ')
        host_end++;
    memmove(d, host_end, strlen(host_end) + 1);
}

/* --no-owner: objects are created with the restoring user as definer. */
static void strip_definers(json_t *doc)
{
    static const char *const keys[] = {"views", "routines", "triggers", "events"};
    size_t i, k;
    json_t *db, *item;
    json_array_foreach(json_object_get(doc, "databases"), i, db)
    {
        for (size_t kk = 0; kk < 4; kk++)
            json_array_foreach(json_object_get(db, keys[kk]), k, item)
            {
                const char *create = json_string_value(json_object_get(item, "create"));
                if (!create)
                    continue;
                char *copy = cairn_xstrdup(create);
                strip_definer(copy);
                json_object_set_new(item, "create", json_string(copy));
                free(copy);
            }
    }
}

int my_restore_schema(const char *uri, const char *archive_path, const char *section,
                      const cairn_restore_flags *flags, cairn_error *err)
{
    json_error_t jerr;
    json_t *doc = json_load_file(archive_path, 0, &jerr);
    if (!doc)
        return cairn_error_set(err, CAIRN_EVERIFY, "schema archive is not readable: %s", jerr.text);
    if (flags->no_owner)
        strip_definers(doc);
    MYSQL *my = NULL;
    int rc = my_connect(uri, &my, err);
    if (rc == CAIRN_OK)
        rc = my_exec(my, "SET NAMES utf8mb4; ", err) == CAIRN_OK
                 ? my_exec(my, "SET SESSION foreign_key_checks = 0", err)
                 : err->code;
    int pre = strcmp(section, "pre-data") == 0;
    size_t i;
    json_t *db;
    json_array_foreach(json_object_get(doc, "databases"), i, db)
    {
        if (rc != CAIRN_OK)
            break;
        const char *name = json_string_value(json_object_get(db, "name"));
        if (flags->tenants && (!name || !cairn_strv_contains(flags->tenants, name)))
            continue; /* restore --tenant: the databases named alone */
        if (pre) {
            rc = apply(my, db, err);
            if (rc == CAIRN_OK)
                rc = use_database(my, name, err);
            if (rc == CAIRN_OK)
                rc = apply_tables(my, db, err);
            if (rc == CAIRN_OK)
                rc = apply_all(my, db, "sequences", err);
        } else {
            rc = use_database(my, name, err);
            if (rc == CAIRN_OK)
                rc = build_deferred_keys(my, db, err);
            if (rc == CAIRN_OK)
                rc = apply_views(my, db, err);
            if (rc == CAIRN_OK)
                rc = apply_all(my, db, "routines", err);
            if (rc == CAIRN_OK)
                rc = apply_all(my, db, "triggers", err);
            if (rc == CAIRN_OK)
                rc = apply_all(my, db, "events", err);
        }
        if (rc != CAIRN_OK)
            cairn_error_prefix(err, "database %s", name);
    }
    if (my)
        mysql_close(my);
    json_decref(doc);
    if (rc != CAIRN_OK)
        cairn_error_prefix(err, "restoring the schema (%s)", section);
    return rc;
}
