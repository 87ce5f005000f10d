/* PostgreSQL driver internals: the connection and shared helpers.
 * Nothing outside drivers/postgres/ includes libpq. */
#ifndef CAIRN_PG_INT_H
#define CAIRN_PG_INT_H

#include <libpq-fe.h>

#include "cairn/driver.h"

struct cairn_conn {
    PGconn *pg;
    char encoding[64]; /* client_encoding set for COPY */
};

/* Connects with the URI plus extra keyword/value pairs (NULL-terminated
 * arrays, applied after the URI: they win).  Errors name the server and
 * give a hint for the usual causes (refused, wrong password, no database). */
int pg_connect(const char *uri, const char *const *keys, const char *const *values, PGconn **out,
               cairn_error *err);
/* Runs a command that returns no rows. */
int pg_exec(PGconn *pg, const char *sql, cairn_error *err);
/* Runs a query; *out owns the result (PQclear). */
int pg_query(PGconn *pg, const char *sql, PGresult **out, cairn_error *err);
/* A query with text parameters ($1, ...), rows or none; *out owns the
 * result (NULL out: discarded).  `what` says what failed. */
int pg_query_params(PGconn *pg, const char *sql, int nparams, const char *const *params,
                    PGresult **out, cairn_error *err, const char *what);
/* Fills err from a failed result (or the connection when res is NULL),
 * with SQLSTATE and a hint where one helps.  Returns err->code. */
int pg_error(PGconn *pg, const PGresult *res, cairn_error *err, const char *what);
/* "schema"."name", quoted for SQL; caller frees. */
char *pg_qualified(PGconn *pg, const char *schema, const char *name);
/* Session settings shared by dump and load, so values read and written
 * agree (search_path empty, ISO dates, full float precision, UTC). */
int pg_session_setup(PGconn *pg, const char *encoding, cairn_error *err);

/* A connection string for a child program: every parameter of the URI
 * except the password, which goes to *password (caller frees; NULL when
 * none).  `dbname`, when given, replaces the database. */
char *pg_child_conninfo(const char *uri, const char *dbname, char **password, cairn_error *err);

/* Driver entries, one file per phase. */
int pg_drv_connect(const char *uri, cairn_conn **out, cairn_error *err);
void pg_drv_close(cairn_conn *conn);
int pg_snapshot_open(const char *uri, const cairn_snapshot_opts *opts, cairn_snapshot *snap,
                     cairn_error *err);
void pg_snapshot_close(cairn_snapshot *snap);
int pg_snapshot_join(cairn_conn *conn, const cairn_snapshot *snap, char *identity, size_t cap,
                     cairn_error *err);
int pg_slot_drop(const char *uri, const char *slot, cairn_error *err);
int pg_slot_status(const char *uri, const char *slot, uint64_t *retained_bytes, char *status,
                   size_t status_cap, cairn_error *err);
int pg_list_units(cairn_conn *conn, const cairn_snapshot *snap, const cairn_tenant_filter *tenants,
                  cairn_unit **units, size_t *count, cairn_error *err);
int pg_dump_schema(const char *uri, const cairn_snapshot *snap, const cairn_unit *units,
                   size_t nunits, int jobs, cairn_sink *sink, cairn_error *err);
int pg_dump_chunk(cairn_conn *conn, const cairn_object *obj, const cairn_chunk *chunk,
                  cairn_sink *sink, uint64_t *rows, cairn_error *err);
int pg_log_distance(const char *uri, const char *from, char *current, size_t cap, uint64_t *bytes,
                    cairn_error *err);
int pg_drop_database(const char *uri, const char *name, cairn_error *err);
int pg_target_prepare(const char *uri, const cairn_identity *source, const cairn_unit *units,
                      size_t nunits, const cairn_restore_flags *flags, cairn_error *err);
int pg_list_databases(const char *uri, char ***names, cairn_error *err);

/* Tenant restores (pg_tenant.c). */
int pg_prepare_tenants(PGconn *pg, const char *dbname, const cairn_unit *units, size_t nunits,
                       const cairn_restore_flags *flags, cairn_error *err);
int pg_tenant_list(const char *archive, const char *const *schemas, const char *list_path,
                   cairn_error *err);
/* Entries of every schema but `others`, leaving out what a scratch
 * database must not run (event triggers, publications, subscriptions). */
int pg_tenant_list_except(const char *archive, const char *const *others, const char *list_path,
                          cairn_error *err);
int pg_tenant_rename(const char *target_uri, const char *archive_path, const char *tenant,
                     const char *as, const char *const *others, const cairn_restore_flags *flags,
                     const char *out_path, cairn_error *err);
/* Runs a client program: PROGRAM ARGS... --dbname CONNINFO [POSITIONAL],
 * the connection string without its password, which travels in PGPASSWORD. */
int pg_run_tool(const char *name, const char *uri, const char *const *args, const char *positional,
                cairn_sink *out, cairn_error *err);
/* A pg_dump pattern option that matches name exactly: double-quoted, with
 * quotes doubled (inside quotes nothing is a wildcard).  Caller frees. */
char *pg_exact_pattern(const char *option, const char *name);
int pg_restore_schema(const char *uri, const char *archive_path, const char *section,
                      const cairn_restore_flags *flags, cairn_error *err);
int pg_load_begin(cairn_conn *conn, const cairn_identity *source, cairn_error *err);
int pg_load_chunk(cairn_conn *conn, const cairn_object *obj, cairn_source *src, uint64_t *rows,
                  cairn_error *err);
/* Server version, database, encoding, system identifier, timeline. */
int pg_read_identity(PGconn *pg, cairn_identity *id, cairn_error *err);
int pg_list_sequences(cairn_conn *conn, cairn_unit *unit, cairn_error *err);
/* A digest of the user's schema (md5 hex, caller frees). */
int pg_schema_fingerprint(PGconn *pg, char **out, cairn_error *err);
/* Tables whose UPDATE/DELETE the log cannot identify: (schema, name) rows. */
extern const char *const pg_unreplayable_sql;
/* Increments (pg_log.c: capture; pg_apply.c: replay and restore progress). */
int pg_position_cmp(const char *a, const char *b, int *cmp, cairn_error *err);
int pg_log_capture(const char *uri, const cairn_log_request *req, cairn_sink *sink,
                   cairn_log_result *res, cairn_error *err);
int pg_log_confirm(const char *uri, const char *slot, const char *end, cairn_error *err);
int pg_log_apply(cairn_conn *conn, const cairn_identity *source, cairn_log_open open,
                 void *open_arg, const cairn_apply_opts *opts, cairn_apply_result *res,
                 cairn_error *err);
int pg_progress_read(const char *uri, char *chain, size_t chain_cap, char *phase, size_t phase_cap,
                     char *position, size_t position_cap, cairn_error *err);
int pg_progress_write(cairn_conn *conn, const char *chain, const char *phase, const char *position,
                      cairn_error *err);
int pg_progress_drop(cairn_conn *conn, cairn_error *err);
int pg_restore_sequences(cairn_conn *conn, const cairn_unit *unit, cairn_error *err);

#endif
