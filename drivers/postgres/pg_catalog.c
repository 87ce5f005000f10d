/* Listing what a PostgreSQL database holds, under the snapshot: tables,
 * partitions and materialized views with their sizes and columns, and the
 * values of its sequences. */
#include <stdlib.h>
#include <string.h>

#include "postgres/pg_int.h"
#include "util/log.h"
#include "util/text.h"

/* User relations that hold data (extension members and temporary tables
 * excluded), ordered by oid so the column query can be merged in. */
static const char *const objects_sql =
    "SELECT c.oid, n.nspname, c.relname, c.relkind, c.relispartition, "
    "  COALESCE(pg_catalog.pg_table_size(c.oid), 0), "
    "  COALESCE(pg_catalog.pg_relation_size(c.oid), 0) / "
    "    pg_catalog.current_setting('block_size')::bigint, "
    "  pg_catalog.has_schema_privilege(n.oid, 'USAGE') "
    "    AND pg_catalog.has_table_privilege(c.oid, 'SELECT') "
    "FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
    "WHERE c.relkind IN ('r', 'm') AND c.relpersistence <> 't' "
    "  AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
    "  AND n.nspname !~ '^pg_(toast|temp_)' "
    "  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d "
    "    WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass "
    "      AND d.objid = c.oid AND d.deptype = 'e') "
    "ORDER BY c.oid";

/* COPY carries every live column but generated ones, in attnum order. */
static const char *const columns_sql =
    "SELECT a.attrelid, a.attname FROM pg_catalog.pg_attribute a "
    "JOIN pg_catalog.pg_class c ON c.oid = a.attrelid "
    "WHERE c.relkind IN ('r', 'm') AND a.attnum > 0 AND NOT a.attisdropped "
    "  AND a.attgenerated = '' "
    "ORDER BY a.attrelid, a.attnum";

static const char *const sequences_sql =
    "SELECT n.nspname, c.relname, pg_catalog.has_schema_privilege(n.oid, 'USAGE') "
    "  AND pg_catalog.has_sequence_privilege(c.oid, 'SELECT') "
    "FROM pg_catalog.pg_class c "
    "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
    "WHERE c.relkind = 'S' AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
    "  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d "
    "    WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass "
    "      AND d.objid = c.oid AND d.deptype = 'e') "
    "ORDER BY n.nspname, c.relname";

/* What the backup's role may not read: one entry per schema, the first
 * object denied in it, so the unit holding it fails alone. */
typedef struct {
    char **schema;
    char **object;
    size_t n;
} denied_list;

static void deny(denied_list *d, PGconn *pg, const char *kind, const char *schema, const char *name)
{
    for (size_t i = 0; i < d->n; i++)
        if (strcmp(d->schema[i], schema) == 0)
            return;
    d->schema = cairn_xrealloc(d->schema, (d->n + 1) * sizeof *d->schema);
    d->object = cairn_xrealloc(d->object, (d->n + 1) * sizeof *d->object);
    char *q = pg_qualified(pg, schema, name);
    d->schema[d->n] = cairn_xstrdup(schema);
    d->object[d->n] = cairn_xasprintf("permission denied for %s %s", kind, q);
    d->n++;
    free(q);
}

static void denied_free(denied_list *d)
{
    for (size_t i = 0; i < d->n; i++) {
        free(d->schema[i]);
        free(d->object[i]);
    }
    free(d->schema);
    free(d->object);
}

static int list_objects(cairn_conn *conn, cairn_unit *unit, denied_list *denied, cairn_error *err)
{
    PGresult *res = NULL, *cols = NULL;
    if (pg_query(conn->pg, objects_sql, &res, err) != CAIRN_OK)
        return cairn_error_prefix(err, "listing tables");
    if (pg_query(conn->pg, columns_sql, &cols, err) != CAIRN_OK) {
        PQclear(res);
        return cairn_error_prefix(err, "listing columns");
    }
    int n = PQntuples(res), ncols = PQntuples(cols), ci = 0;
    unit->objects = cairn_xcalloc((size_t)n, sizeof *unit->objects);
    unit->nobjects = 0;
    for (int i = 0; i < n; i++) {
        cairn_object *o = &unit->objects[unit->nobjects++];
        unsigned long oid = strtoul(PQgetvalue(res, i, 0), NULL, 10);
        o->number = (uint32_t)unit->nobjects;
        o->schema = cairn_xstrdup(PQgetvalue(res, i, 1));
        o->name = cairn_xstrdup(PQgetvalue(res, i, 2));
        char kind = PQgetvalue(res, i, 3)[0];
        int part = PQgetvalue(res, i, 4)[0] == 't';
        o->kind = kind == 'm' ? CAIRN_OBJ_MATVIEW : part ? CAIRN_OBJ_PARTITION : CAIRN_OBJ_TABLE;
        o->bytes = strtoull(PQgetvalue(res, i, 5), NULL, 10);
        o->pages = strtoull(PQgetvalue(res, i, 6), NULL, 10);
        if (denied && PQgetvalue(res, i, 7)[0] != 't')
            deny(denied, conn->pg, kind == 'm' ? "materialized view" : "table", o->schema, o->name);
        while (ci < ncols && strtoul(PQgetvalue(cols, ci, 0), NULL, 10) < oid)
            ci++;
        int first = ci;
        while (ci < ncols && strtoul(PQgetvalue(cols, ci, 0), NULL, 10) == oid)
            ci++;
        o->ncolumns = (size_t)(ci - first);
        o->columns = cairn_xcalloc(o->ncolumns, sizeof *o->columns);
        for (int k = first; k < ci; k++)
            o->columns[k - first] = cairn_xstrdup(PQgetvalue(cols, k, 1));
    }
    PQclear(res);
    PQclear(cols);
    return CAIRN_OK;
}

static int list_sequences(cairn_conn *conn, cairn_unit *unit, denied_list *denied, cairn_error *err)
{
    PGresult *res = NULL;
    if (pg_query(conn->pg, sequences_sql, &res, err) != CAIRN_OK)
        return cairn_error_prefix(err, "listing sequences");
    int n = PQntuples(res);
    unit->sequences = cairn_xcalloc((size_t)n, sizeof *unit->sequences);
    unit->nsequences = 0;
    for (int i = 0; i < n; i++) {
        cairn_sequence *s = &unit->sequences[unit->nsequences++];
        s->schema = cairn_xstrdup(PQgetvalue(res, i, 0));
        s->name = cairn_xstrdup(PQgetvalue(res, i, 1));
        if (denied && PQgetvalue(res, i, 2)[0] != 't') {
            deny(denied, conn->pg, "sequence", s->schema, s->name);
            continue; /* the unit holding it fails */
        }
        char *q = pg_qualified(conn->pg, s->schema, s->name);
        char *sql = cairn_xasprintf("SELECT last_value, is_called FROM %s", q);
        PGresult *v = NULL;
        int rc = pg_query(conn->pg, sql, &v, err);
        free(sql);
        if (rc != CAIRN_OK) {
            cairn_error_prefix(err, "sequence %s", q);
            free(q);
            PQclear(res);
            return err->code;
        }
        free(q);
        s->last_value = strtoll(PQgetvalue(v, 0, 0), NULL, 10);
        s->is_called = PQgetvalue(v, 0, 1)[0] == 't';
        PQclear(v);
    }
    PQclear(res);
    return CAIRN_OK;
}

int pg_list_sequences(cairn_conn *conn, cairn_unit *unit, cairn_error *err)
{
    return list_sequences(conn, unit, NULL, err);
}

/* Everything a restore could not rebuild from row changes alone: tables
 * and their columns, types, constraints, indexes, views, functions,
 * triggers and sequences of the user's schemas, as one digest.  cairn's
 * own restore bookkeeping (schema _cairn) is left out. */
static const char *const fingerprint_sql =
    "SELECT pg_catalog.md5(pg_catalog.string_agg(x, E'\\n' ORDER BY x)) FROM ("
    "  SELECT pg_catalog.format('%s.%s %s %s', n.nspname, c.relname, c.relkind, "
    "    c.relreplident) AS x "
    "  FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
    "  WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', '_cairn') "
    "    AND n.nspname !~ '^pg_(toast|temp_)' "
    "  UNION ALL "
    "  SELECT pg_catalog.format('%s.%s.%s %s %s %s %s', n.nspname, c.relname, a.attname, "
    "    pg_catalog.format_type(a.atttypid, a.atttypmod), a.attnotnull, a.attgenerated, "
    "    a.attnum) "
    "  FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid "
    "  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
    "  WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'v', 'm', 'f') "
    "    AND n.nspname NOT IN ('pg_catalog', 'information_schema', '_cairn') "
    "    AND n.nspname !~ '^pg_(toast|temp_)' "
    "  UNION ALL "
    "  SELECT pg_catalog.format('%s.%s constraint %s %s', n.nspname, c.relname, k.conname, "
    "    pg_catalog.pg_get_constraintdef(k.oid)) "
    "  FROM pg_catalog.pg_constraint k JOIN pg_catalog.pg_class c ON c.oid = k.conrelid "
    "  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
    "  WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', '_cairn') "
    "  UNION ALL "
    "  SELECT pg_catalog.format('%s.%s trigger %s', n.nspname, c.relname, t.tgname) "
    "  FROM pg_catalog.pg_trigger t JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid "
    "  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
    "  WHERE NOT t.tgisinternal "
    "  UNION ALL "
    "  SELECT pg_catalog.format('%s.%s(%s) function', n.nspname, p.proname, "
    "    pg_catalog.pg_get_function_identity_arguments(p.oid)) "
    "  FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace "
    "  WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', '_cairn') "
    "  UNION ALL "
    "  SELECT pg_catalog.format('type %s.%s', n.nspname, t.typname) "
    "  FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace "
    "  WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', '_cairn') "
    "    AND n.nspname !~ '^pg_(toast|temp_)' AND t.typtype IN ('e', 'd', 'c', 'r') "
    "    AND (t.typtype <> 'c' OR EXISTS (SELECT 1 FROM pg_catalog.pg_class c "
    "      WHERE c.oid = t.typrelid AND c.relkind = 'c'))"
    ") AS parts";

int pg_schema_fingerprint(PGconn *pg, char **out, cairn_error *err)
{
    PGresult *res = NULL;
    if (pg_query(pg, fingerprint_sql, &res, err) != CAIRN_OK)
        return cairn_error_prefix(err, "reading the schema fingerprint");
    *out = cairn_xstrdup(PQgetisnull(res, 0, 0) ? "empty" : PQgetvalue(res, 0, 0));
    PQclear(res);
    return CAIRN_OK;
}

const char *const pg_unreplayable_sql =
    "SELECT n.nspname, c.relname FROM pg_catalog.pg_class c "
    "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
    "WHERE c.relkind = 'r' AND c.relpersistence = 'p' "
    "  AND n.nspname NOT IN ('pg_catalog', 'information_schema', '_cairn') "
    "  AND n.nspname !~ '^pg_(toast|temp_)' "
    "  AND (c.relreplident = 'n' OR (c.relreplident = 'd' AND NOT EXISTS ("
    "    SELECT 1 FROM pg_catalog.pg_index i WHERE i.indrelid = c.oid AND i.indisprimary))) "
    "ORDER BY 1, 2";

/* Tables whose UPDATEs and DELETEs the log cannot identify: increments
 * will refuse their changes, so say it now, with the fix. */
static void warn_unreplayable(PGconn *pg)
{
    PGresult *res = NULL;
    cairn_error e = {0};
    if (pg_query(pg, pg_unreplayable_sql, &res, &e) != CAIRN_OK)
        return;
    for (int i = 0; i < PQntuples(res); i++) {
        char *q = pg_qualified(pg, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1));
        cairn_warn("table %s has no primary key or replica identity: increments cannot replay "
                   "its UPDATEs and DELETEs (fix: ALTER TABLE %s REPLICA IDENTITY FULL)",
                   q, q);
        free(q);
    }
    PQclear(res);
}

/* Schemas a tenant could be: the user's, not cairn's own. */
static const char *const schemas_sql =
    "SELECT n.nspname FROM pg_catalog.pg_namespace n "
    "WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', '_cairn', '_cairn_restore') "
    "  AND n.nspname !~ '^pg_(toast|temp_)' "
    "  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d "
    "    WHERE d.classid = 'pg_catalog.pg_namespace'::pg_catalog.regclass "
    "      AND d.objid = n.oid AND d.deptype = 'e') "
    "ORDER BY 1";

static void unit_init(cairn_unit *u, const char *name, const char *kind, const char *position)
{
    u->name = cairn_xstrdup(name);
    u->kind = cairn_xstrdup(kind);
    u->status = cairn_xstrdup("complete");
    u->position = cairn_xstrdup(position);
}

/* Moves the objects and sequences of schema from the database unit into
 * tenant unit t. */
static void move_schema(cairn_unit *db, cairn_unit *t)
{
    t->objects = cairn_xcalloc(db->nobjects ? db->nobjects : 1, sizeof *t->objects);
    t->sequences = cairn_xcalloc(db->nsequences ? db->nsequences : 1, sizeof *t->sequences);
    size_t keep = 0;
    for (size_t i = 0; i < db->nobjects; i++)
        if (strcmp(db->objects[i].schema, t->name) == 0)
            t->objects[t->nobjects++] = db->objects[i];
        else
            db->objects[keep++] = db->objects[i];
    db->nobjects = keep;
    keep = 0;
    for (size_t i = 0; i < db->nsequences; i++)
        if (strcmp(db->sequences[i].schema, t->name) == 0)
            t->sequences[t->nsequences++] = db->sequences[i];
        else
            db->sequences[keep++] = db->sequences[i];
    db->nsequences = keep;
}

/* The tenant schemas become units of their own, after the database's. */
static int split_tenants(cairn_conn *conn, const cairn_snapshot *snap,
                         const cairn_tenant_filter *tenants, cairn_unit **units, size_t *count,
                         cairn_error *err)
{
    PGresult *res = NULL;
    if (pg_query(conn->pg, schemas_sql, &res, err) != CAIRN_OK)
        return cairn_error_prefix(err, "listing schemas");
    int n = PQntuples(res);
    *units = cairn_xrealloc(*units, (size_t)(n + 1) * sizeof **units);
    for (int i = 0; i < n; i++) {
        const char *name = PQgetvalue(res, i, 0);
        if (!cairn_tenant_match(tenants, name))
            continue;
        cairn_unit *t = &(*units)[(*count)++];
        memset(t, 0, sizeof *t);
        unit_init(t, name, "tenant", snap->position);
        move_schema(&(*units)[0], t);
    }
    PQclear(res);
    return CAIRN_OK;
}

/* A tenant with something the role may not read fails alone; anything
 * else unreadable fails the backup. */
static int fail_denied(cairn_unit *units, size_t count, const denied_list *denied, cairn_error *err)
{
    for (size_t i = 0; i < denied->n; i++) {
        size_t t = 1;
        while (t < count && strcmp(units[t].name, denied->schema[i]) != 0)
            t++;
        if (t == count) {
            cairn_error_set(err, CAIRN_ERR, "%s", denied->object[i]);
            return cairn_error_hint(err, "grant the backup's role SELECT on it (and USAGE on its "
                                         "schema); a tenant schema it cannot read is left out "
                                         "with exit 3 instead, when --tenant-pattern names it");
        }
        cairn_unit_fail(&units[t], denied->object[i]);
    }
    return CAIRN_OK;
}

/* A PostgreSQL backup has one unit for the database the snapshot belongs
 * to, and one per tenant schema the filter matches. */
int pg_list_units(cairn_conn *conn, const cairn_snapshot *snap, const cairn_tenant_filter *tenants,
                  cairn_unit **units, size_t *count, cairn_error *err)
{
    cairn_unit *u = cairn_xcalloc(1, sizeof *u);
    unit_init(u, snap->source.database, "database", snap->position);
    *units = u;
    *count = 1;
    denied_list denied = {0};
    int rc = list_objects(conn, u, &denied, err);
    if (rc == CAIRN_OK)
        rc = list_sequences(conn, u, &denied, err);
    if (rc == CAIRN_OK)
        rc = pg_schema_fingerprint(conn->pg, &u->fingerprint, err);
    if (rc == CAIRN_OK && tenants && tenants->include)
        rc = split_tenants(conn, snap, tenants, units, count, err);
    if (rc == CAIRN_OK)
        rc = fail_denied(*units, *count, &denied, err);
    denied_free(&denied);
    if (rc != CAIRN_OK)
        return rc;
    if (strcmp(snap->mode, "none") != 0) /* a drill reads a copy: nothing to warn about */
        warn_unreplayable(conn->pg);
    PGresult *res = NULL;
    if (pg_query(conn->pg, "SELECT count(*) FROM pg_catalog.pg_largeobject_metadata", &res, err) ==
        CAIRN_OK) {
        long n = strtol(PQgetvalue(res, 0, 0), NULL, 10);
        PQclear(res);
        if (n > 0) {
            cairn_error_set(err, CAIRN_ERR,
                            "the database holds %ld large objects, which cairn does not back up "
                            "yet",
                            n);
            return cairn_error_hint(err, "store them in bytea columns, or back them up with "
                                         "pg_dump --blobs");
        }
    }
    return CAIRN_OK;
}
