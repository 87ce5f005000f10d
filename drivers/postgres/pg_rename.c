/* restore --tenant NAME --as NEW: a tenant schema under another name.
 *
 * A schema cannot be renamed inside a pg_dump archive, and rewriting its
 * SQL text would miss what the server tracks by reference.  So the server
 * renames it: the archive's schema -- every schema but the other tenants,
 * so that what the tenant refers to is there -- is restored into a scratch
 * database on the target's server (no data: it takes seconds), the tenant
 * is renamed there with ALTER SCHEMA, which carries its views, defaults,
 * foreign keys, indexes and triggers along, and pg_dump writes the renamed
 * schema alone into a new archive.  The scratch database is dropped.
 *
 * Before that, what the tenant refers to outside itself (a table its
 * foreign keys point at, a type, a function, an extension) is reported,
 * and each must exist on the target: the restore is refused otherwise,
 * before anything is touched.  Function bodies are text, not references:
 * one that still names the old schema is reported. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "postgres/pg_int.h"
#include "util/log.h"
#include "util/text.h"
#include "util/uri.h"

/* Objects outside schema $1 (an oid) that objects in it depend on: the
 * schema's tables, functions and types, and its tables' constraints,
 * defaults, triggers, rules and policies.  Built-in objects are left out. */
static const char *const refers_sql =
    "WITH inside AS ("
    "  SELECT 'pg_catalog.pg_class'::pg_catalog.regclass AS cls, c.oid FROM pg_catalog.pg_class c "
    "    WHERE c.relnamespace = $1::pg_catalog.oid "
    "  UNION ALL SELECT 'pg_catalog.pg_proc'::pg_catalog.regclass, p.oid FROM pg_catalog.pg_proc p "
    "    WHERE p.pronamespace = $1::pg_catalog.oid "
    "  UNION ALL SELECT 'pg_catalog.pg_type'::pg_catalog.regclass, t.oid FROM pg_catalog.pg_type t "
    "    WHERE t.typnamespace = $1::pg_catalog.oid "
    "  UNION ALL SELECT 'pg_catalog.pg_constraint'::pg_catalog.regclass, k.oid "
    "    FROM pg_catalog.pg_constraint k WHERE k.connamespace = $1::pg_catalog.oid "
    "  UNION ALL SELECT 'pg_catalog.pg_attrdef'::pg_catalog.regclass, a.oid "
    "    FROM pg_catalog.pg_attrdef a JOIN pg_catalog.pg_class c ON c.oid = a.adrelid "
    "    WHERE c.relnamespace = $1::pg_catalog.oid "
    "  UNION ALL SELECT 'pg_catalog.pg_trigger'::pg_catalog.regclass, g.oid "
    "    FROM pg_catalog.pg_trigger g JOIN pg_catalog.pg_class c ON c.oid = g.tgrelid "
    "    WHERE c.relnamespace = $1::pg_catalog.oid "
    "  UNION ALL SELECT 'pg_catalog.pg_rewrite'::pg_catalog.regclass, r.oid "
    "    FROM pg_catalog.pg_rewrite r JOIN pg_catalog.pg_class c ON c.oid = r.ev_class "
    "    WHERE c.relnamespace = $1::pg_catalog.oid "
    "  UNION ALL SELECT 'pg_catalog.pg_policy'::pg_catalog.regclass, y.oid "
    "    FROM pg_catalog.pg_policy y JOIN pg_catalog.pg_class c ON c.oid = y.polrelid "
    "    WHERE c.relnamespace = $1::pg_catalog.oid) "
    "SELECT DISTINCT a.type, a.object_names::text, a.object_args::text, "
    "  pg_catalog.pg_describe_object(d.refclassid, d.refobjid, 0) "
    "FROM pg_catalog.pg_depend d JOIN inside i ON d.classid = i.cls AND d.objid = i.oid "
    "CROSS JOIN LATERAL pg_catalog.pg_identify_object(d.refclassid, d.refobjid, 0) o "
    "CROSS JOIN LATERAL pg_catalog.pg_identify_object_as_address(d.refclassid, d.refobjid, 0) a "
    "WHERE d.deptype IN ('n', 'a') AND d.refobjid >= 16384 "
    "  AND NOT (d.refclassid = 'pg_catalog.pg_namespace'::pg_catalog.regclass "
    "           AND d.refobjid = $1::pg_catalog.oid) "
    "  AND o.schema IS DISTINCT FROM $2 "
    "  AND NOT EXISTS (SELECT 1 FROM inside j WHERE j.cls = d.refclassid AND j.oid = d.refobjid) "
    "ORDER BY 4";

static int schema_oid(PGconn *pg, const char *schema, char *oid, size_t cap, cairn_error *err)
{
    const char *params[1] = {schema};
    PGresult *res = NULL;
    if (pg_query_params(pg, "SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = $1", 1, params,
                        &res, err, "cannot look for the tenant") != CAIRN_OK)
        return err->code;
    int found = PQntuples(res) == 1;
    if (found)
        cairn_strlcpy(oid, PQgetvalue(res, 0, 0), cap);
    PQclear(res);
    if (!found)
        return cairn_error_set(err, CAIRN_ERR, "schema \"%s\" is not in the backup's archive",
                               schema);
    return CAIRN_OK;
}

/* Reports what the tenant refers to outside itself, and checks that the
 * target has each (by its address: type, names, arguments). */
static int check_references(PGconn *scratch, PGconn *target, const char *tenant, const char *oid,
                            cairn_error *err)
{
    const char *params[2] = {oid, tenant};
    PGresult *res = NULL;
    /* with no search path, every description names its schema */
    if (pg_exec(scratch, "SELECT pg_catalog.set_config('search_path', '', false)", err) !=
            CAIRN_OK ||
        pg_query_params(scratch, refers_sql, 2, params, &res, err,
                        "cannot read what the tenant refers to") != CAIRN_OK)
        return err->code;
    int n = PQntuples(res);
    cairn_buf all = {0}, missing = {0};
    size_t nmissing = 0;
    for (int i = 0; i < n; i++) {
        const char *what = PQgetvalue(res, i, 3);
        cairn_buf_printf(&all, "%s%s", i ? ", " : "", what);
        if (!target)
            continue;
        const char *addr[3] = {PQgetvalue(res, i, 0), PQgetvalue(res, i, 1), PQgetvalue(res, i, 2)};
        PGresult *r = PQexecParams(target,
                                   "SELECT pg_catalog.pg_get_object_address($1, $2::text[], "
                                   "$3::text[])",
                                   3, NULL, addr, NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_TUPLES_OK) {
            cairn_buf_printf(&missing, "%s%s", nmissing ? ", " : "", what);
            nmissing++;
        }
        PQclear(r);
    }
    PQclear(res);
    if (n > 0)
        cairn_info("tenant %s refers to %d object%s outside it: %s", tenant, n, n == 1 ? "" : "s",
                   all.data);
    else
        cairn_info("tenant %s refers to nothing outside it", tenant);
    int rc = CAIRN_OK;
    if (nmissing) {
        cairn_error_set(err, CAIRN_ERR, "the target lacks what tenant %s refers to: %s", tenant,
                        missing.data);
        rc = cairn_error_hint(err, "create those objects on the target first (the backup "
                                   "holds them in the database's unit), or restore the whole "
                                   "backup into a new database");
    }
    free(all.data);
    free(missing.data);
    return rc;
}

/* Functions whose body or settings still name the old schema. */
static void report_bodies(PGconn *scratch, const char *oid, const char *tenant, const char *as)
{
    const char *params[2] = {oid, tenant};
    PGresult *res = NULL;
    cairn_error e = {0};
    if (pg_query_params(scratch,
                        "SELECT p.oid::pg_catalog.regprocedure::text FROM pg_catalog.pg_proc p "
                        "WHERE p.pronamespace = $1::pg_catalog.oid AND (pg_catalog.strpos("
                        "p.prosrc, $2) > 0 OR pg_catalog.strpos(pg_catalog.array_to_string("
                        "p.proconfig, ' '), $2) > 0) ORDER BY 1",
                        2, params, &res, &e, "cannot read the tenant's functions") != CAIRN_OK) {
        cairn_warn("%s", e.message);
        return;
    }
    for (int i = 0; i < PQntuples(res); i++)
        cairn_warn("function %s names \"%s\" in its body or settings: restored as %s, it may "
                   "still refer to the original tenant",
                   PQgetvalue(res, i, 0), tenant, as);
    PQclear(res);
}

static PGconn *connect_db(const char *uri, const char *dbname, cairn_error *err)
{
    const char *keys[2] = {"dbname", NULL}, *values[2] = {dbname, NULL};
    PGconn *pg = NULL;
    if (pg_connect(uri, dbname ? keys : NULL, dbname ? values : NULL, &pg, err) != CAIRN_OK)
        return NULL;
    return pg;
}

/* In the scratch database: the schema restored, checked, renamed and
 * dumped. */
static int rename_in(const char *scratch_uri, PGconn *target, const char *archive,
                     const char *tenant, const char *as, const char *const *others,
                     const cairn_restore_flags *flags, const char *out_path, cairn_error *err)
{
    char *list = cairn_xasprintf("%s.scratch-list", out_path);
    unlink(list);
    int rc = pg_tenant_list_except(archive, others, list, err);
    char *use_list = cairn_xasprintf("--use-list=%s", list);
    const char *restore_args[] = {use_list,
                                  "--section=pre-data",
                                  "--section=post-data",
                                  "--exit-on-error",
                                  flags->no_owner ? "--no-owner" : NULL,
                                  flags->no_owner ? "--no-privileges" : NULL,
                                  NULL};
    if (rc == CAIRN_OK &&
        pg_run_tool("pg_restore", scratch_uri, restore_args, archive, NULL, err) != CAIRN_OK)
        rc = cairn_error_prefix(err, "restoring the schema into a scratch database");
    unlink(list);
    free(list);
    free(use_list);
    PGconn *pg = NULL;
    if (rc == CAIRN_OK && !(pg = connect_db(scratch_uri, NULL, err)))
        rc = err->code;
    char oid[32] = "";
    if (rc == CAIRN_OK)
        rc = schema_oid(pg, tenant, oid, sizeof oid, err);
    if (rc == CAIRN_OK)
        rc = check_references(pg, target, tenant, oid, err);
    if (rc == CAIRN_OK) {
        char *from = PQescapeIdentifier(pg, tenant, strlen(tenant));
        char *to = PQescapeIdentifier(pg, as, strlen(as));
        char *sql = cairn_xasprintf("ALTER SCHEMA %s RENAME TO %s", from, to);
        rc = pg_exec(pg, sql, err);
        free(sql);
        PQfreemem(from);
        PQfreemem(to);
    }
    if (rc == CAIRN_OK)
        report_bodies(pg, oid, tenant, as);
    if (pg)
        PQfinish(pg);
    if (rc != CAIRN_OK)
        return rc;
    char *pattern = pg_exact_pattern("--schema", as);
    char *file = cairn_xasprintf("--file=%s", out_path);
    const char *dump_args[] = {
        "--format=custom", "--compress=0", "--schema-only", "--no-sync", pattern, file, NULL};
    rc = pg_run_tool("pg_dump", scratch_uri, dump_args, NULL, NULL, err);
    if (rc != CAIRN_OK)
        cairn_error_prefix(err, "dumping the renamed schema");
    free(file);
    free(pattern);
    return rc;
}

int pg_tenant_rename(const char *target_uri, const char *archive_path, const char *tenant,
                     const char *as, const char *const *others, const cairn_restore_flags *flags,
                     const char *out_path, cairn_error *err)
{
    /* the target database may not exist yet: then nothing can be checked
     * on it, and the scratch database is made from the server's own */
    cairn_error ignore = {0};
    PGconn *target = connect_db(target_uri, NULL, &ignore);
    PGconn *admin = target ? target : connect_db(target_uri, "postgres", err);
    if (!admin)
        return cairn_error_prefix(err, "connecting to the target's server");
    char scratch[64];
    snprintf(scratch, sizeof scratch, "_cairn_as_%ld_%ld", (long)getpid(), (long)time(NULL));
    const char *encoding = PQparameterStatus(admin, "server_encoding");
    char *lit =
        PQescapeLiteral(admin, encoding ? encoding : "UTF8", strlen(encoding ? encoding : "UTF8"));
    char *sql = cairn_xasprintf("CREATE DATABASE %s TEMPLATE template0 ENCODING %s", scratch, lit);
    PQfreemem(lit);
    int rc = pg_exec(admin, sql, err);
    free(sql);
    if (rc != CAIRN_OK) {
        cairn_error_hint(err, "restore --as renames the tenant in a scratch database: the "
                              "target's user needs CREATEDB");
        if (admin != target)
            PQfinish(admin);
        if (target)
            PQfinish(target);
        return rc;
    }
    cairn_debug("scratch database %s", scratch);
    char *scratch_uri = cairn_uri_with_database(target_uri, scratch);
    rc = rename_in(scratch_uri, target, archive_path, tenant, as, others, flags, out_path, err);
    free(scratch_uri);
    sql = cairn_xasprintf("DROP DATABASE IF EXISTS %s", scratch);
    cairn_error e = {0};
    if (pg_exec(admin, sql, &e) != CAIRN_OK)
        cairn_warn("cannot drop the scratch database %s: %s", scratch, e.message);
    free(sql);
    if (admin != target)
        PQfinish(admin);
    if (target)
        PQfinish(target);
    return rc;
}
