/* PostgreSQL connections and error reporting. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "postgres/pg_int.h"
#include "util/text.h"
#include "util/uri.h"

static void connect_hint(PGconn *pg, cairn_error *err)
{
    const char *msg = PQerrorMessage(pg);
    if (strstr(msg, "password authentication failed") || strstr(msg, "no password supplied"))
        cairn_error_hint(err, "check the user and password (in the URI, PGPASSWORD or ~/.pgpass)");
    else if (strstr(msg, "does not exist") && strstr(msg, "database"))
        cairn_error_hint(err, "check the database name in the URI");
    else if (strstr(msg, "role") && strstr(msg, "does not exist"))
        cairn_error_hint(err, "check the user name in the URI");
    else if (strstr(msg, "Connection refused") || strstr(msg, "could not connect") ||
             strstr(msg, "timeout") || strstr(msg, "could not translate host name"))
        cairn_error_hint(err, "is the server running and accepting TCP/IP connections on that "
                              "host and port?");
    else if (strstr(msg, "pg_hba.conf"))
        cairn_error_hint(err, "the server's pg_hba.conf does not admit this user from this host");
}

/* libpq messages end with a newline and may span lines; keep one line. */
static void one_line(const char *in, char *out, size_t cap)
{
    size_t o = 0;
    while (*in == ' ' || *in == '\n')
        in++;
    for (; *in && o + 1 < cap; in++) {
        if (*in == '\n') {
            while (in[1] == '\n' || in[1] == ' ' || in[1] == '\t')
                in++;
            if (!in[1])
                break;
            if (o + 2 < cap) {
                out[o++] = ';';
                out[o++] = ' ';
            }
            continue;
        }
        out[o++] = *in;
    }
    out[o] = '\0';
}

int pg_connect(const char *uri, const char *const *keys, const char *const *values, PGconn **out,
               cairn_error *err)
{
    *out = NULL;
    char shown[512];
    cairn_uri_redact(uri, shown, sizeof shown);
    char *perr = NULL;
    PQconninfoOption *opts = PQconninfoParse(uri, &perr);
    if (!opts) {
        char line[512];
        one_line(perr ? perr : "unparsable", line, sizeof line);
        PQfreemem(perr);
        cairn_error_set(err, CAIRN_EUSAGE, "malformed URI \"%s\": %s", shown, line);
        return cairn_error_hint(err, "write it as postgresql://user@host:port/database");
    }
    PQconninfoFree(opts);

    const char *k[16], *v[16];
    int n = 0;
    k[n] = "connect_timeout", v[n++] = "15";
    k[n] = "dbname", v[n++] = uri;
    k[n] = "fallback_application_name", v[n++] = "cairn";
    for (int i = 0; keys && keys[i] && n < 15; i++)
        k[n] = keys[i], v[n++] = values[i];
    k[n] = NULL, v[n] = NULL;
    PGconn *pg = PQconnectdbParams(k, v, 1);
    if (!pg)
        return cairn_error_set(err, CAIRN_ERR, "out of memory connecting to %s", shown);
    if (PQstatus(pg) != CONNECTION_OK) {
        char line[600];
        one_line(PQerrorMessage(pg), line, sizeof line);
        cairn_error_set(err, CAIRN_ERR, "cannot connect to %s: %s", shown, line);
        connect_hint(pg, err);
        PQfinish(pg);
        return err->code;
    }
    *out = pg;
    return CAIRN_OK;
}

int pg_error(PGconn *pg, const PGresult *res, cairn_error *err, const char *what)
{
    char line[600];
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    one_line(res ? PQresultErrorMessage(res) : PQerrorMessage(pg), line, sizeof line);
    if (!line[0])
        one_line(PQerrorMessage(pg), line, sizeof line);
    /* "ERROR:  " is libpq's prefix; the message says it already */
    const char *text = strncmp(line, "ERROR:  ", 8) == 0 ? line + 8 : line;
    cairn_error_set(err, CAIRN_ERR, "%s: %s", what, text);
    cairn_strlcpy(err->sqlstate, state ? state : "", sizeof err->sqlstate);
    if (state && strcmp(state, "42501") == 0 && strstr(text, "row-level security"))
        cairn_error_hint(err, "row-level security would hide rows from this role, and cairn "
                              "refuses to back up part of a table: connect as the table owner, "
                              "a superuser or a role with BYPASSRLS");
    else if (state && strcmp(state, "42501") == 0)
        cairn_error_hint(err, "the role lacks a privilege: grant it, or connect as a role that "
                              "has it (a backup needs SELECT on every table and sequence)");
    else if (state && strcmp(state, "55P03") == 0)
        cairn_error_hint(err, "another session requested an exclusive lock (DDL) on it during "
                              "the backup; retry when that is done");
    else if (PQstatus(pg) == CONNECTION_BAD)
        cairn_error_hint(err, "the connection to the server was lost");
    return err->code;
}

int pg_exec(PGconn *pg, const char *sql, cairn_error *err)
{
    PGresult *res = PQexec(pg, sql);
    if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK) {
        pg_error(pg, res, err, "query failed");
        PQclear(res);
        return err->code;
    }
    PQclear(res);
    return CAIRN_OK;
}

int pg_query(PGconn *pg, const char *sql, PGresult **out, cairn_error *err)
{
    PGresult *res = PQexec(pg, sql);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        pg_error(pg, res, err, "query failed");
        PQclear(res);
        *out = NULL;
        return err->code;
    }
    *out = res;
    return CAIRN_OK;
}

int pg_query_params(PGconn *pg, const char *sql, int nparams, const char *const *params,
                    PGresult **out, cairn_error *err, const char *what)
{
    PGresult *res = PQexecParams(pg, sql, nparams, NULL, params, NULL, NULL, 0);
    ExecStatusType s = PQresultStatus(res);
    if (s != PGRES_TUPLES_OK && s != PGRES_COMMAND_OK) {
        int rc = pg_error(pg, res, err, what);
        PQclear(res);
        if (out)
            *out = NULL;
        return rc;
    }
    if (out)
        *out = res;
    else
        PQclear(res);
    return CAIRN_OK;
}

char *pg_qualified(PGconn *pg, const char *schema, const char *name)
{
    char *s = PQescapeIdentifier(pg, schema, strlen(schema));
    char *n = PQescapeIdentifier(pg, name, strlen(name));
    char *q = cairn_xasprintf("%s.%s", s ? s : "\"?\"", n ? n : "\"?\"");
    PQfreemem(s);
    PQfreemem(n);
    return q;
}

int pg_session_setup(PGconn *pg, const char *encoding, cairn_error *err)
{
    if (encoding && *encoding && PQsetClientEncoding(pg, encoding) != 0)
        return cairn_error_set(err, CAIRN_ERR, "cannot set client encoding %s", encoding);
    return pg_exec(pg,
                   "SELECT pg_catalog.set_config('search_path', '', false);"
                   "SET DateStyle = ISO; SET IntervalStyle = postgres;"
                   "SET extra_float_digits = 3; SET TimeZone = 'UTC';"
                   "SET statement_timeout = 0; SET lock_timeout = 0;"
                   "SET idle_in_transaction_session_timeout = 0; SET row_security = off",
                   err);
}

int pg_drv_connect(const char *uri, cairn_conn **out, cairn_error *err)
{
    PGconn *pg = NULL;
    *out = NULL;
    if (pg_connect(uri, NULL, NULL, &pg, err) != CAIRN_OK)
        return err->code;
    cairn_conn *c = cairn_xcalloc(1, sizeof *c);
    c->pg = pg;
    *out = c;
    return CAIRN_OK;
}

void pg_drv_close(cairn_conn *conn)
{
    if (!conn)
        return;
    PQfinish(conn->pg);
    free(conn);
}

static void append_quoted(char **buf, size_t *len, size_t *cap, const char *key, const char *val)
{
    size_t need = strlen(key) + 2 * strlen(val) + 8;
    if (*len + need >= *cap) {
        *cap = (*len + need) * 2;
        *buf = cairn_xrealloc(*buf, *cap);
    }
    char *p = *buf + *len;
    if (*len)
        *p++ = ' ';
    size_t klen = strlen(key);
    memcpy(p, key, klen);
    p += klen;
    *p++ = '=';
    *p++ = '\'';
    for (const char *c = val; *c; c++) {
        if (*c == '\'' || *c == '\\')
            *p++ = '\\';
        *p++ = *c;
    }
    *p++ = '\'';
    *p = '\0';
    *len = (size_t)(p - *buf);
}

char *pg_child_conninfo(const char *uri, const char *dbname, char **password, cairn_error *err)
{
    char *perr = NULL;
    *password = NULL;
    PQconninfoOption *opts = PQconninfoParse(uri, &perr);
    if (!opts) {
        PQfreemem(perr);
        cairn_error_set(err, CAIRN_EUSAGE, "malformed URI");
        return NULL;
    }
    size_t len = 0, cap = 256;
    char *buf = cairn_xmalloc(cap);
    buf[0] = '\0';
    for (PQconninfoOption *o = opts; o->keyword; o++) {
        if (!o->val)
            continue;
        if (strcmp(o->keyword, "password") == 0) {
            *password = cairn_xstrdup(o->val);
            continue;
        }
        if (strcmp(o->keyword, "dbname") == 0 && dbname)
            continue;
        append_quoted(&buf, &len, &cap, o->keyword, o->val);
    }
    if (dbname)
        append_quoted(&buf, &len, &cap, "dbname", dbname);
    PQconninfoFree(opts);
    return buf;
}
