/* Restoring tenant schemas alone (restore --tenant).
 *
 * The target database may hold other tenants; they are not touched.  A
 * tenant schema the target already has is refused, or with --clean
 * dropped -- after checking that nothing outside it depends on it, so the
 * drop cannot cascade into another tenant.  The schema archive is one
 * pg_dump of the whole database; pg_restore applies the tenant's part
 * through a list file: every entry pg_restore -n puts in the schema, plus
 * the schema itself, its comment and its privileges (which -n leaves
 * out). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "postgres/pg_int.h"
#include "util/child.h"
#include "util/log.h"
#include "util/text.h"

/* Objects outside the schema that depend on objects inside it: what a
 * DROP SCHEMA ... CASCADE would take with it. */
static const char *const dependents_sql =
    "WITH inside AS ("
    "  SELECT 'pg_catalog.pg_class'::pg_catalog.regclass AS cls, c.oid FROM pg_catalog.pg_class c "
    "    WHERE c.relnamespace = $1::pg_catalog.oid "
    "  UNION ALL SELECT 'pg_catalog.pg_proc'::pg_catalog.regclass, p.oid FROM pg_catalog.pg_proc p "
    "    WHERE p.pronamespace = $1::pg_catalog.oid "
    "  UNION ALL SELECT 'pg_catalog.pg_type'::pg_catalog.regclass, t.oid FROM pg_catalog.pg_type t "
    "    WHERE t.typnamespace = $1::pg_catalog.oid), "
    /* the schema of a table's rule, default, trigger or policy is the table's */
    "rel AS (SELECT d.classid, d.objid, CASE d.classid "
    "    WHEN 'pg_catalog.pg_rewrite'::pg_catalog.regclass THEN "
    "      (SELECT ev_class FROM pg_catalog.pg_rewrite WHERE oid = d.objid) "
    "    WHEN 'pg_catalog.pg_attrdef'::pg_catalog.regclass THEN "
    "      (SELECT adrelid FROM pg_catalog.pg_attrdef WHERE oid = d.objid) "
    "    WHEN 'pg_catalog.pg_trigger'::pg_catalog.regclass THEN "
    "      (SELECT tgrelid FROM pg_catalog.pg_trigger WHERE oid = d.objid) "
    "    WHEN 'pg_catalog.pg_policy'::pg_catalog.regclass THEN "
    "      (SELECT polrelid FROM pg_catalog.pg_policy WHERE oid = d.objid) END AS relid "
    "  FROM pg_catalog.pg_depend d JOIN inside i ON d.refclassid = i.cls AND d.refobjid = i.oid "
    "  WHERE d.deptype IN ('n', 'a')) "
    "SELECT DISTINCT pg_catalog.pg_describe_object(r.classid, r.objid, 0) FROM rel r "
    "CROSS JOIN LATERAL pg_catalog.pg_identify_object(r.classid, r.objid, 0) o "
    "WHERE COALESCE(o.schema, (SELECT n.nspname FROM pg_catalog.pg_class c "
    "  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = r.relid)) "
    "  IS DISTINCT FROM $2 "
    "ORDER BY 1 LIMIT 5";

/* Drops schema (oid) for --clean, refusing when something outside it
 * depends on it. */
static int drop_tenant(PGconn *pg, const char *schema, const char *oid, cairn_error *err)
{
    const char *params[2] = {oid, schema};
    PGresult *res = NULL;
    if (pg_query_params(pg, dependents_sql, 2, params, &res, err,
                        "cannot read what depends on the tenant") != CAIRN_OK)
        return err->code;
    if (PQntuples(res) > 0) {
        cairn_error_set(err, CAIRN_ERR,
                        "--clean would drop objects outside schema \"%s\" that depend on it: %s%s",
                        schema, PQgetvalue(res, 0, 0), PQntuples(res) > 1 ? ", ..." : "");
        PQclear(res);
        return cairn_error_hint(err, "drop or change those objects first; cairn replaces a "
                                     "tenant only when that leaves the others untouched");
    }
    PQclear(res);
    char *q = PQescapeIdentifier(pg, schema, strlen(schema));
    char *sql = cairn_xasprintf("DROP SCHEMA %s CASCADE", q);
    PQfreemem(q);
    int rc = pg_exec(pg, sql, err);
    free(sql);
    if (rc != CAIRN_OK)
        return cairn_error_prefix(err, "dropping schema \"%s\" for --clean", schema);
    cairn_info("dropped schema \"%s\" (--clean)", schema);
    return CAIRN_OK;
}

/* The target database exists (made by the caller when missing); every unit
 * is a tenant; each one the target holds is refused, or with clean
 * dropped -- all checked before the first drop. */
int pg_prepare_tenants(PGconn *pg, const char *dbname, const cairn_unit *units, size_t nunits,
                       const cairn_restore_flags *flags, cairn_error *err)
{
    char **oids = cairn_xcalloc(nunits ? nunits : 1, sizeof *oids);
    int rc = CAIRN_OK;
    for (size_t i = 0; rc == CAIRN_OK && i < nunits; i++) {
        if (!units[i].kind || strcmp(units[i].kind, "tenant") != 0) {
            cairn_error_set(err, CAIRN_EUSAGE,
                            "unit \"%s\" is the database itself, not a tenant schema",
                            units[i].name);
            rc = cairn_error_hint(err, "restore the whole backup without --tenant");
            break;
        }
        const char *params[1] = {units[i].name};
        PGresult *res = NULL;
        rc = pg_query_params(pg, "SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = $1", 1,
                             params, &res, err, "cannot look for the tenant on the target");
        if (rc != CAIRN_OK)
            break;
        if (PQntuples(res) > 0)
            oids[i] = cairn_xstrdup(PQgetvalue(res, 0, 0));
        PQclear(res);
        if (oids[i] && !flags->clean) {
            cairn_error_set(err, CAIRN_ERR,
                            "the target database \"%s\" already holds schema \"%s\"", dbname,
                            units[i].name);
            rc = cairn_error_hint(err, "add --clean to replace that tenant alone (other schemas "
                                       "are left untouched), or restore into another database");
        }
    }
    for (size_t i = 0; rc == CAIRN_OK && i < nunits; i++)
        if (oids[i])
            rc = drop_tenant(pg, units[i].name, oids[i], err);
    for (size_t i = 0; i < nunits; i++)
        free(oids[i]);
    free(oids);
    return rc;
}

static char *program(const char *name)
{
    const char *dir = cairn_child_pg_bindir();
    return *dir ? cairn_xasprintf("%s/%s", dir, name) : cairn_xstrdup(name);
}

/* pg_restore --list of the archive, with "-n NAME" for each name given. */
static int toc(const char *archive, const char *const *schemas, char **out, cairn_error *err)
{
    size_t n = 0;
    for (const char *const *s = schemas; s && *s; s++)
        n++;
    const char **argv = cairn_xcalloc(2 * n + 4, sizeof *argv);
    char *prog = program("pg_restore");
    size_t a = 0;
    argv[a++] = prog;
    argv[a++] = "--list";
    for (size_t i = 0; i < n; i++) {
        argv[a++] = "--schema";
        argv[a++] = schemas[i];
    }
    argv[a++] = archive;
    cairn_sink *mem = cairn_memory_sink_new();
    int rc = cairn_child_run(argv, NULL, mem, err);
    if (rc == CAIRN_OK) {
        size_t len = 0;
        const char *data = cairn_memory_sink_data(mem, &len);
        *out = cairn_xmalloc(len + 1);
        memcpy(*out, data, len);
        (*out)[len] = '\0';
    }
    cairn_sink_free(mem);
    free(prog);
    free(argv);
    return rc;
}

/* Whether rest is FORM, a space, and one more word (the owner). */
static int form_then_owner(const char *rest, const char *form)
{
    size_t n = strlen(form);
    return strncmp(rest, form, n) == 0 && rest[n] == ' ' && rest[n + 1] &&
           !strchr(rest + n + 1, ' ');
}

/* The same, with the name bare or double-quoted: pg_dump quotes a name in
 * a tag unless it is a plain lower-case identifier. */
static int names_then_owner(const char *rest, const char *name)
{
    if (form_then_owner(rest, name))
        return 1;
    cairn_buf quoted = {0};
    cairn_buf_puts(&quoted, "\"");
    for (const char *q = name; *q; q++)
        cairn_buf_puts(&quoted, *q == '"' ? "\"\"" : (char[2]){*q, '\0'});
    cairn_buf_puts(&quoted, "\"");
    int yes = form_then_owner(rest, quoted.data);
    free(quoted.data);
    return yes;
}

/* What a pg_restore --list line describes ("TABLE public t owner"),
 * past its id and catalog oids; NULL for a line that is no entry. */
static const char *entry_desc(const char *line)
{
    const char *p = strchr(line, ';');
    if (!p)
        return NULL;
    p++;
    for (int field = 0; field < 2; field++) { /* catalog oids */
        while (*p == ' ')
            p++;
        while (*p && *p != ' ')
            p++;
    }
    while (*p == ' ')
        p++;
    return p;
}

/* The schema entry itself, and its comment, security label and
 * privileges: entries pg_restore -n leaves out. */
static int schema_entry(const char *line, const char *const *schemas)
{
    const char *p = entry_desc(line);
    if (!p)
        return 0;
    static const char *const heads[] = {"SCHEMA - ", "COMMENT - SCHEMA ", "ACL - SCHEMA ",
                                        "SECURITY LABEL - SCHEMA "};
    for (size_t h = 0; h < sizeof heads / sizeof *heads; h++) {
        size_t hl = strlen(heads[h]);
        if (strncmp(p, heads[h], hl) != 0)
            continue;
        /* the schema entry's name is never quoted; the others' tags are */
        for (const char *const *s = schemas; *s; s++)
            if (h == 0 ? form_then_owner(p + hl, *s) : names_then_owner(p + hl, *s))
                return 1;
    }
    return 0;
}

static int wanted_id(const char *ids, long id)
{
    char key[32];
    snprintf(key, sizeof key, "\n%ld;", id);
    return strstr(ids, key) != NULL;
}

/* "\nID;" for every entry of a pg_restore --list, so lookups are exact. */
static void collect_ids(const char *listing, cairn_buf *ids)
{
    cairn_buf_add(ids, "\n", 1);
    for (const char *line = listing; line && *line;) {
        const char *eol = strchr(line, '\n');
        if (*line >= '0' && *line <= '9')
            cairn_buf_printf(ids, "\n%ld;", strtol(line, NULL, 10));
        line = eol ? eol + 1 : NULL;
    }
    cairn_buf_add(ids, "\n", 2);
}

static int write_list(const char *path, const cairn_buf *out, cairn_error *err)
{
    FILE *f = fopen(path, "wxe");
    int rc = CAIRN_OK;
    if (!f || fwrite(out->data ? out->data : "", 1, out->len, f) != out->len)
        rc = cairn_error_set(err, CAIRN_ERR, "cannot write the restore list %s", path);
    if (f && fclose(f) != 0 && rc == CAIRN_OK)
        rc = cairn_error_set(err, CAIRN_ERR, "cannot write the restore list %s", path);
    return rc;
}

/* Writes list_path: the archive's entries for the schemas, in the
 * archive's order. */
int pg_tenant_list(const char *archive, const char *const *schemas, const char *list_path,
                   cairn_error *err)
{
    char *all = NULL, *mine = NULL;
    if (toc(archive, NULL, &all, err) != CAIRN_OK)
        return cairn_error_prefix(err, "listing the schema archive");
    if (toc(archive, schemas, &mine, err) != CAIRN_OK) {
        free(all);
        return cairn_error_prefix(err, "listing the schema archive");
    }
    cairn_buf ids = {0};
    collect_ids(mine, &ids);
    cairn_buf out = {0};
    size_t kept = 0;
    for (char *line = all; line && *line;) {
        char *eol = strchr(line, '\n');
        if (eol)
            *eol = '\0';
        if (*line >= '0' && *line <= '9' &&
            (wanted_id(ids.data, strtol(line, NULL, 10)) || schema_entry(line, schemas))) {
            cairn_buf_printf(&out, "%s\n", line);
            kept++;
        }
        line = eol ? eol + 1 : NULL;
    }
    int rc = write_list(list_path, &out, err);
    cairn_debug("tenant restore list: %zu of the archive's entries", kept);
    free(out.data);
    free(ids.data);
    free(all);
    free(mine);
    return rc;
}

/* What a scratch database must not run: an event trigger needs a
 * superuser and fires on everything after it; a subscription connects. */
static int scratch_unsafe(const char *line)
{
    const char *p = entry_desc(line);
    return p && (strncmp(p, "EVENT TRIGGER ", 14) == 0 || strncmp(p, "SUBSCRIPTION ", 13) == 0 ||
                 strncmp(p, "PUBLICATION ", 12) == 0);
}

int pg_tenant_list_except(const char *archive, const char *const *others, const char *list_path,
                          cairn_error *err)
{
    char *all = NULL, *theirs = NULL;
    if (toc(archive, NULL, &all, err) != CAIRN_OK)
        return cairn_error_prefix(err, "listing the schema archive");
    if (others && others[0] && toc(archive, others, &theirs, err) != CAIRN_OK) {
        free(all);
        return cairn_error_prefix(err, "listing the schema archive");
    }
    cairn_buf ids = {0};
    collect_ids(theirs, &ids);
    cairn_buf out = {0};
    for (char *line = all; line && *line;) {
        char *eol = strchr(line, '\n');
        if (eol)
            *eol = '\0';
        if (*line >= '0' && *line <= '9' && !wanted_id(ids.data, strtol(line, NULL, 10)) &&
            !(others && others[0] && schema_entry(line, others)) && !scratch_unsafe(line))
            cairn_buf_printf(&out, "%s\n", line);
        line = eol ? eol + 1 : NULL;
    }
    int rc = write_list(list_path, &out, err);
    free(out.data);
    free(ids.data);
    free(all);
    free(theirs);
    return rc;
}
