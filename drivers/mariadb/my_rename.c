/* restore --tenant NAME --as NEW on MariaDB: a tenant database under
 * another name.
 *
 * The schema archive's part for the tenant is written out again with the
 * database renamed: its CREATE DATABASE, and every qualified reference to
 * it in tables, views, routines, triggers and events (my_rename.h).  What
 * the tenant refers to in the backup's other databases is reported, and
 * each must exist on the target -- checked before anything is touched.
 * Its rows load into the new database; increments replay into it through
 * mariadb-binlog --rewrite-db. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "mariadb/my_int.h"
#include "mariadb/my_rename.h"
#include "util/log.h"
#include "util/text.h"

static const char *const object_keys[] = {"tables",   "sequences", "views",
                                          "routines", "triggers",  "events"};

static json_t *find_database(json_t *doc, const char *name)
{
    size_t i;
    json_t *db;
    json_array_foreach(json_object_get(doc, "databases"), i, db)
    {
        const char *n = json_string_value(json_object_get(db, "name"));
        if (n && strcmp(n, name) == 0)
            return db;
    }
    return NULL;
}

/* Every "create" of db renamed; what they refer to elsewhere gathered. */
static void rename_objects(json_t *db, const char *tenant, const char *as, my_rename_report *report)
{
    for (size_t k = 0; k < sizeof object_keys / sizeof *object_keys; k++) {
        size_t i;
        json_t *item;
        json_array_foreach(json_object_get(db, object_keys[k]), i, item)
        {
            const char *create = json_string_value(json_object_get(item, "create"));
            if (!create)
                continue;
            int before = report->in_string;
            report->in_string = 0;
            char *renamed = my_sql_rename_db(create, tenant, as, report);
            if (report->in_string)
                cairn_warn("%s `%s` mentions \"%s\" in a string: restored as %s, it may still "
                           "refer to the original database",
                           object_keys[k], json_string_value(json_object_get(item, "name")), tenant,
                           as);
            report->in_string |= before;
            json_object_set_new(item, "create", json_string(renamed));
            free(renamed);
        }
    }
}

/* The backup's other databases the tenant refers to must be on the
 * target.  (A first part that names no database of the backup is an alias
 * or a table, not a database.) */
static int check_references(MYSQL *my, json_t *doc, const char *tenant, char **others,
                            cairn_error *err)
{
    cairn_buf all = {0}, missing = {0};
    size_t n = 0, nmissing = 0;
    for (size_t i = 0; others && others[i]; i++) {
        if (!find_database(doc, others[i]))
            continue;
        cairn_buf_printf(&all, "%s%s", n++ ? ", " : "", others[i]);
        char *lit = my_literal(my, others[i]);
        char *sql = cairn_xasprintf(
            "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s", lit);
        free(lit);
        MYSQL_RES *res = NULL;
        int rc = my_query(my, sql, &res, err);
        free(sql);
        if (rc != CAIRN_OK) {
            free(all.data);
            free(missing.data);
            return rc;
        }
        MYSQL_ROW row = mysql_fetch_row(res);
        if (!row || !row[0] || strcmp(row[0], "0") == 0)
            cairn_buf_printf(&missing, "%s%s", nmissing++ ? ", " : "", others[i]);
        mysql_free_result(res);
    }
    if (n)
        cairn_info("tenant %s refers to database%s outside it: %s", tenant, n == 1 ? "" : "s",
                   all.data);
    else
        cairn_info("tenant %s refers to no other database", tenant);
    int rc = CAIRN_OK;
    if (nmissing) {
        cairn_error_set(err, CAIRN_ERR, "the target lacks the databases tenant %s refers to: %s",
                        tenant, missing.data);
        rc = cairn_error_hint(err, "restore them first (cairn restore --tenant NAME), or restore "
                                   "the whole backup");
    }
    free(all.data);
    free(missing.data);
    return rc;
}

int my_tenant_rename(const char *target_uri, const char *archive_path, const char *tenant,
                     const char *as, const char *const *others, const cairn_restore_flags *flags,
                     const char *out_path, cairn_error *err)
{
    (void)others, (void)flags;
    json_error_t jerr;
    json_t *doc = json_load_file(archive_path, 0, &jerr);
    if (!doc)
        return cairn_error_set(err, CAIRN_EVERIFY, "schema archive is not readable: %s", jerr.text);
    json_t *db = find_database(doc, tenant);
    const char *create = db ? json_string_value(json_object_get(db, "create")) : NULL;
    char *created = create ? my_create_database_renamed(create, as) : NULL;
    if (!created) {
        json_decref(doc);
        return cairn_error_set(err, CAIRN_ERR,
                               "database %s is not in the schema archive as "
                               "expected",
                               tenant);
    }
    json_t *mine = json_deep_copy(db);
    json_object_set_new(mine, "name", json_string(as));
    json_object_set_new(mine, "create", json_string(created));
    free(created);
    my_rename_report report = {0};
    rename_objects(mine, tenant, as, &report);
    MYSQL *my = NULL;
    int rc = my_connect(target_uri, &my, err);
    if (rc == CAIRN_OK)
        rc = check_references(my, doc, tenant, report.others, err);
    if (my)
        mysql_close(my);
    if (rc == CAIRN_OK) {
        json_t *out = json_object(), *value;
        const char *key;
        json_object_foreach(doc, key, value) /* the archive's header, this database alone */
            if (strcmp(key, "databases") != 0) json_object_set(out, key, value);
        json_object_set_new(out, "databases", json_pack("[O]", mine));
        if (json_dump_file(out, out_path, JSON_COMPACT) != 0)
            rc = cairn_error_set(err, CAIRN_ERR, "cannot write the renamed schema %s", out_path);
        json_decref(out);
    }
    cairn_strv_free(report.others);
    json_decref(mine);
    json_decref(doc);
    return rc;
}
