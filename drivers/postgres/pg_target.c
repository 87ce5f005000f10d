/* The restore target: create the database when missing, refuse one that
 * already holds tables, and set sequence values after the data. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "postgres/pg_int.h"
#include "util/log.h"
#include "util/text.h"
#include "util/uri.h"

static int target_dbname(const char *uri, char **dbname, cairn_error *err)
{
    char *perr = NULL;
    PQconninfoOption *opts = PQconninfoParse(uri, &perr);
    *dbname = NULL;
    if (!opts) {
        PQfreemem(perr);
        return cairn_error_set(err, CAIRN_EUSAGE, "malformed target URI");
    }
    for (PQconninfoOption *o = opts; o->keyword; o++)
        if (strcmp(o->keyword, "dbname") == 0 && o->val && *o->val)
            *dbname = cairn_xstrdup(o->val);
    PQconninfoFree(opts);
    if (!*dbname) {
        cairn_error_set(err, CAIRN_EUSAGE, "the target URI names no database");
        return cairn_error_hint(err, "add the database to restore into: "
                                     "postgresql://user@host:port/newdb");
    }
    return CAIRN_OK;
}

/* A connection to the server's maintenance database (postgres, else
 * template1), for CREATE and DROP DATABASE. */
static int connect_maintenance(const char *uri, PGconn **out, cairn_error *err)
{
    static const char *const maint[] = {"postgres", "template1"};
    cairn_error e = {0};
    *out = NULL;
    for (int i = 0; i < 2 && !*out; i++) {
        char *password = NULL;
        char *conninfo = pg_child_conninfo(uri, maint[i], &password, &e);
        if (!conninfo)
            break;
        const char *k[] = {"dbname", password ? "password" : NULL, NULL};
        const char *v[] = {conninfo, password, NULL};
        PGconn *pg = PQconnectdbParams(k, v, 1);
        if (PQstatus(pg) == CONNECTION_OK)
            *out = pg;
        else {
            pg_error(pg, NULL, &e, "cannot connect to the server's maintenance database");
            PQfinish(pg);
        }
        free(conninfo);
        free(password);
    }
    if (*out)
        return CAIRN_OK;
    *err = e;
    return cairn_error_hint(err, "create the target database first, or give a role that may "
                                 "connect to the postgres database");
}

static int create_database(const char *uri, const char *dbname, const cairn_identity *source,
                           cairn_error *err)
{
    PGconn *pg = NULL;
    if (connect_maintenance(uri, &pg, err) != CAIRN_OK)
        return err->code;
    const char *encoding = source->encoding[0] ? source->encoding : "UTF8";
    char *q = PQescapeIdentifier(pg, dbname, strlen(dbname));
    char *enc = PQescapeLiteral(pg, encoding, strlen(encoding));
    char *sql = cairn_xasprintf("CREATE DATABASE %s TEMPLATE template0 ENCODING %s", q, enc);
    int rc = pg_exec(pg, sql, err);
    free(sql);
    if (rc != CAIRN_OK && strcmp(err->sqlstate, "22023") == 0) {
        /* the server's default locale does not fit that encoding */
        sql =
            cairn_xasprintf("CREATE DATABASE %s TEMPLATE template0 ENCODING %s LOCALE 'C'", q, enc);
        rc = pg_exec(pg, sql, err);
        free(sql);
    }
    PQfreemem(q);
    PQfreemem(enc);
    PQfinish(pg);
    if (rc != CAIRN_OK) {
        cairn_error_prefix(err, "creating database \"%s\"", dbname);
        if (strcmp(err->sqlstate, "42501") == 0)
            cairn_error_hint(err, "create it first, or use a role with CREATEDB");
        return rc;
    }
    cairn_info("created database \"%s\"", dbname);
    return CAIRN_OK;
}

/* --clean: the whole target database is replaced.  Refused while other
 * sessions use it, rather than killing them. */
static int drop_database(const char *uri, const char *dbname, int if_exists, cairn_error *err)
{
    PGconn *pg = NULL;
    if (connect_maintenance(uri, &pg, err) != CAIRN_OK)
        return err->code;
    char *q = PQescapeIdentifier(pg, dbname, strlen(dbname));
    char *sql = cairn_xasprintf("DROP DATABASE %s%s", if_exists ? "IF EXISTS " : "", q);
    PQfreemem(q);
    int rc = pg_exec(pg, sql, err);
    free(sql);
    PQfinish(pg);
    if (rc != CAIRN_OK) {
        cairn_error_prefix(err, "dropping database \"%s\"%s", dbname,
                           if_exists ? "" : " for --clean");
        if (strcmp(err->sqlstate, "55006") == 0)
            cairn_error_hint(err, "other sessions are connected to it; disconnect them first");
        return rc;
    }
    cairn_info("dropped database \"%s\"%s", dbname, if_exists ? "" : " (--clean)");
    return CAIRN_OK;
}

int pg_drop_database(const char *uri, const char *name, cairn_error *err)
{
    return drop_database(uri, name, 1, err);
}

/* The whole backup goes into the database the URI names; restore
 * --tenant puts tenant schemas into it beside what it holds. */
int pg_target_prepare(const char *uri, const cairn_identity *source, const cairn_unit *units,
                      size_t nunits, const cairn_restore_flags *flags, cairn_error *err)
{
    char *dbname = NULL;
    if (target_dbname(uri, &dbname, err) != CAIRN_OK)
        return err->code;
    PGconn *pg = NULL;
    cairn_error e = {0};
    int rc = pg_connect(uri, NULL, NULL, &pg, &e);
    if (rc != CAIRN_OK) {
        if (!strstr(e.message, "does not exist") || !strstr(e.message, "database")) {
            *err = e;
            free(dbname);
            return err->code;
        }
        rc = create_database(uri, dbname, source, err);
        if (rc == CAIRN_OK && flags->tenants)
            rc = pg_connect(uri, NULL, NULL, &pg, err);
        if (rc != CAIRN_OK || !flags->tenants) {
            free(dbname);
            return rc;
        }
    }
    if (flags->tenants) {
        rc = pg_prepare_tenants(pg, dbname, units, nunits, flags, err);
        PQfinish(pg);
        free(dbname);
        return rc;
    }
    PGresult *res = NULL;
    rc = pg_query(pg,
                  "SELECT count(*) FROM pg_catalog.pg_class c "
                  "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
                  "WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') "
                  "AND n.nspname !~ '^pg_(toast|temp_)' AND c.relkind IN ('r','p','v','m','S','f')",
                  &res, err);
    if (rc == CAIRN_OK) {
        long n = strtol(PQgetvalue(res, 0, 0), NULL, 10);
        PQclear(res);
        if (n > 0 && flags->clean) {
            PQfinish(pg);
            pg = NULL;
            rc = drop_database(uri, dbname, 0, err);
            if (rc == CAIRN_OK)
                rc = create_database(uri, dbname, source, err);
        } else if (n > 0) {
            cairn_error_set(err, CAIRN_ERR,
                            "target database \"%s\" is not empty (%ld tables, views or sequences)",
                            dbname, n);
            cairn_error_hint(err, "restore into a new database (cairn creates it) or an empty "
                                  "one, or add --clean to drop and recreate this one");
            rc = err->code;
        }
    }
    PQfinish(pg);
    free(dbname);
    return rc;
}

int pg_restore_sequences(cairn_conn *conn, const cairn_unit *unit, cairn_error *err)
{
    for (size_t i = 0; i < unit->nsequences; i++) {
        const cairn_sequence *s = &unit->sequences[i];
        char *q = pg_qualified(conn->pg, s->schema, s->name);
        char *lit = PQescapeLiteral(conn->pg, q, strlen(q));
        char *sql = cairn_xasprintf("SELECT pg_catalog.setval(%s, %lld, %s)", lit,
                                    (long long)s->last_value, s->is_called ? "true" : "false");
        PQfreemem(lit);
        int rc = pg_exec(conn->pg, sql, err);
        free(sql);
        if (rc != CAIRN_OK) {
            cairn_error_prefix(err, "sequence %s", q);
            free(q);
            return rc;
        }
        free(q);
    }
    return CAIRN_OK;
}

int pg_list_databases(const char *uri, char ***names, cairn_error *err)
{
    PGconn *pg = NULL;
    *names = NULL;
    if (connect_maintenance(uri, &pg, err) != CAIRN_OK)
        return err->code;
    PGresult *res = NULL;
    int rc = pg_query(pg,
                      "SELECT datname FROM pg_catalog.pg_database "
                      "WHERE datallowconn AND NOT datistemplate ORDER BY 1",
                      &res, err);
    if (rc == CAIRN_OK) {
        int n = PQntuples(res);
        *names = cairn_xcalloc((size_t)n + 1, sizeof **names);
        for (int i = 0; i < n; i++)
            (*names)[i] = cairn_xstrdup(PQgetvalue(res, i, 0));
        PQclear(res);
    }
    PQfinish(pg);
    return rc;
}
